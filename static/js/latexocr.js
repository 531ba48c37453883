/*
 * The conversion page (an external file: the CSP forbids inline scripts).
 *
 * While a conversion is queued or running, poll its status every few seconds, update the
 * progress bar (then say the compile check is running), and reload the page once it is done
 * or failed (the server then renders the result or the error). The "Copy" button copies the
 * LaTeX source to the clipboard.
 *
 * On the review page: while the current version compiles (or Gemini repairs it), poll its
 * status and reload once it is done (the server renders the badge, errors and PDF); on
 * narrow screens, show the uploaded and compiled PDFs as tabs; a click on an error's line
 * puts the editor (CodeMirror, or the plain textarea) on that line.
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
      // A textarea (the editor's saved version) gives its value, anything else its text.
      var text = "value" in source ? source.value : source.textContent;
      navigator.clipboard.writeText(text).then(function () {
        button.textContent = button.dataset.copiedLabel;
        window.setTimeout(function () {
          button.textContent = label;
        }, 2000);
      });
    });
  });

  var versionStatus = document.getElementById("version-status");
  if (versionStatus && versionStatus.dataset.statusUrl) {
    // A compile takes a second or two: look every 300 ms for 15 s, then less often.
    var versionDelay = 300;
    var versionPolls = 0;
    var pollVersion = function () {
      fetch(versionStatus.dataset.statusUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (state) {
          if ((!state.compiling && !state.repair_pending) || state.newest !== state.number) {
            window.location.reload();
            return;
          }
          versionPolls += 1;
          versionDelay = versionPolls < 50 ? 300 : Math.min(versionDelay * 1.5, 3000);
          window.setTimeout(pollVersion, versionDelay);
        })
        .catch(function () {
          versionDelay = Math.min(versionDelay * 2, MAX_POLL_MS);
          window.setTimeout(pollVersion, versionDelay);
        });
    };
    window.setTimeout(pollVersion, versionDelay);
  }

  // Side by side on wide screens; tabs below 60rem (the CSS hides the unselected pane).
  var compare = document.querySelector("[data-compare]");
  if (compare) {
    var tabs = Array.prototype.slice.call(compare.querySelectorAll('[role="tab"]'));
    var select = function (tab, focus) {
      tabs.forEach(function (other) {
        var selected = other === tab;
        other.setAttribute("aria-selected", selected ? "true" : "false");
        other.tabIndex = selected ? 0 : -1;
        document.getElementById(other.getAttribute("aria-controls")).classList.toggle(
          "is-selected",
          selected
        );
      });
      if (focus) {
        tab.focus();
      }
    };
    tabs.forEach(function (tab, index) {
      tab.addEventListener("click", function () {
        select(tab, false);
      });
      tab.addEventListener("keydown", function (event) {
        var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
        if (step) {
          event.preventDefault();
          select(tabs[(index + step + tabs.length) % tabs.length], true);
        }
      });
    });
    compare.querySelector('[role="tablist"]').hidden = false;
    compare.classList.add("is-tabbed");
    select(tabs[tabs.length - 1], false);
  }

  var editor = document.getElementById("latex-editor");
  document.querySelectorAll("[data-editor-line]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (!editor) {
        return;
      }
      event.preventDefault();
      var line = parseInt(link.dataset.editorLine, 10);
      if (editor.dataset.enhanced) {
        editor.dispatchEvent(new CustomEvent("latex-editor:goto", { detail: { line: line } }));
        return;
      }
      // The plain textarea: select that line.
      var lines = editor.value.split("\n");
      var start = 0;
      for (var i = 0; i < Math.min(line - 1, lines.length); i++) {
        start += lines[i].length + 1;
      }
      var end = start + (lines[line - 1] || "").length;
      editor.focus();
      editor.setSelectionRange(start, end);
      var lineHeight = editor.scrollHeight / Math.max(lines.length, 1);
      editor.scrollTop = Math.max(0, (line - 5) * lineHeight);
    });
  });
})();
