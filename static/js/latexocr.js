/*
 * The conversion page (an external file: the CSP forbids inline scripts).
 *
 * While a conversion is queued or running, poll its status every few seconds, update the
 * progress bar (then say the compile check is running), and reload the page once it is done
 * or failed (the server then renders the result or the error). The "Copy" button copies the
 * LaTeX source to the clipboard.
 */
(function () {
  "use strict";

  var POLL_MS = 2000;
  var MAX_POLL_MS = 15000;

  var progress = document.getElementById("conversion-progress");
  if (progress) {
    var url = progress.dataset.statusUrl;
    var delay = POLL_MS;
    var bar = document.getElementById("conversion-progress-bar");
    var pages = document.getElementById("conversion-pages");
    var badge = document.getElementById("conversion-status");
    var statusText = document.getElementById("conversion-status-text");

    var poll = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (state) {
          if (state.status === "done" || state.status === "failed") {
            window.location.reload();
            return;
          }
          delay = POLL_MS;
          bar.value = state.progress;
          bar.textContent = state.progress + " %";
          pages.textContent = state.pages_done + " / " + state.page_count;
          if (state.status === "running" && state.pages_done >= state.page_count) {
            // Every page is converted: the worker is compiling (and maybe repairing) it.
            statusText.textContent = statusText.dataset.checkingLabel;
          }
          badge.textContent = state.status_label;
          badge.className = "badge badge-" + state.status;
          window.setTimeout(poll, delay);
        })
        .catch(function () {
          // Network hiccup or server restart: keep trying, less often.
          delay = Math.min(delay * 2, MAX_POLL_MS);
          window.setTimeout(poll, delay);
        });
    };
    window.setTimeout(poll, POLL_MS);
  }

  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.dataset.copyTarget);
      if (!source || !navigator.clipboard) {
        return;
      }
      var label = button.textContent;
      navigator.clipboard.writeText(source.textContent).then(function () {
        button.textContent = button.dataset.copiedLabel;
        window.setTimeout(function () {
          button.textContent = label;
        }, 2000);
      });
    });
  });
})();
