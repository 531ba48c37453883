/*
 * The code generator's pages (an external file: the CSP forbids inline scripts).
 *
 * The question form is sent with fetch to the JSON API, so the page stays put during the
 * 10–60 s the model takes: the button is disabled and a status line, announced by screen
 * readers (aria-live), says the answer is being written. The answer's HTML (code highlighted
 * and explanation sanitised, both by the server) is then shown; an error is shown as text,
 * with a button to send the failed question again; the "questions left today" line follows
 * the count the server sends back. Without JavaScript the form posts to the
 * page itself and the server redirects to the answer. "Copy" buttons copy a code block.
 */
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function setupCopyButtons(root) {
    root.querySelectorAll("[data-copy-target]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copyTarget);
        if (!source || !navigator.clipboard) {
          return;
        }
        var label = button.textContent;
        navigator.clipboard.writeText(source.textContent.replace(/\s+$/, "")).then(function () {
          button.textContent = button.dataset.copiedLabel;
          window.setTimeout(function () {
            button.textContent = label;
          }, 2000);
        });
      });
    });
  }

  setupCopyButtons(document);

  var form = document.getElementById("question-form");
  if (!form) {
    return;
  }
  var textarea = form.querySelector("textarea");
  var submit = document.getElementById("question-submit");
  var status = document.getElementById("question-status");
  var errorBox = document.getElementById("question-error");
  var errorText = document.getElementById("question-error-text");
  var retryForm = document.getElementById("question-retry-form");
  var result = document.getElementById("question-result");

  function setBusy(busy) {
    submit.disabled = busy;
    form.setAttribute("aria-busy", busy ? "true" : "false");
    submit.classList.toggle("is-busy", busy);
    status.replaceChildren();
    if (busy) {
      var spinner = document.createElement("span");
      spinner.className = "spinner";
      spinner.setAttribute("aria-hidden", "true");
      var text = document.createElement("span");
      text.textContent = status.dataset.waitingLabel;
      status.append(spinner, text);
    }
  }

  function showError(message, answer) {
    errorText.textContent = message;
    errorBox.hidden = false;
    if (answer && answer.retry_url) {
      retryForm.action = answer.retry_url;
      retryForm.hidden = false;
    } else {
      retryForm.hidden = true;
    }
    status.textContent = status.dataset.failedLabel;
  }

  function showQuota(answer) {
    var quota = document.getElementById("codegen-quota");
    if (quota && answer && typeof answer.quota_text === "string") {
      quota.textContent = answer.quota_text;
    }
  }

  function showAnswer(answer) {
    document.getElementById("question-code").innerHTML = answer.code_html;
    document.getElementById("question-explanation").innerHTML = answer.explanation_html;
    var download = document.getElementById("question-download");
    var tools = document.getElementById("question-tools");
    tools.querySelector("[data-copy-target]").hidden = !answer.code;
    download.hidden = !answer.download_url;
    download.href = answer.download_url || "";
    download.setAttribute("download", "question-" + answer.id + ".py");
    document.getElementById("question-detail").href = answer.detail_url;
    var syntax = document.getElementById("question-syntax");
    if (!answer.code) {
      syntax.textContent = syntax.dataset.noCodeLabel;
      syntax.className = "syntax syntax-error";
    } else if (answer.syntax_valid) {
      syntax.textContent = syntax.dataset.okLabel;
      syntax.className = "syntax syntax-ok";
    } else {
      syntax.textContent = syntax.dataset.errorLabel
        .replace("%(line)s", answer.syntax_error_line === null ? "?" : answer.syntax_error_line)
        .replace("%(message)s", answer.syntax_error_message);
      syntax.className = "syntax syntax-error";
    }
    result.hidden = false;
    status.textContent = status.dataset.doneLabel;
    document.getElementById("question-result-title").focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (submit.disabled) {
      return;
    }
    errorBox.hidden = true;
    result.hidden = true;
    setBusy(true);
    fetch(form.dataset.sendUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(form),
      },
      body: JSON.stringify({ message: textarea.value }),
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return { error: "HTTP " + response.status };
          })
          .then(function (answer) {
            return { ok: response.ok, answer: answer };
          });
      })
      .then(function (outcome) {
        setBusy(false);
        showQuota(outcome.answer);
        if (outcome.ok) {
          showAnswer(outcome.answer);
        } else {
          showError(outcome.answer.error || "", outcome.answer);
        }
      })
      .catch(function (error) {
        setBusy(false);
        showError(String(error), null);
      });
  });
})();
