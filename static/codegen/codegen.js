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
 *
 * When the server streams (the form has data-stream-url: a self-hosted model), the question
 * goes there instead and the answer's text appears as the model writes it: the response is
 * server-sent events read from the fetch body (`token` pieces, then `done` with the same
 * rendered answer as the JSON API, or `error` with its error body). A refusal before the
 * stream starts (quota, bad message) comes back as the JSON API's.
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

  var live = document.getElementById("question-live");

  function finish(outcome) {
    setBusy(false);
    live.hidden = true;
    live.textContent = "";
    showQuota(outcome.answer);
    if (outcome.ok) {
      showAnswer(outcome.answer);
    } else {
      showError(outcome.answer.error || "", outcome.answer);
    }
  }

  // Calls onEvent(name, data) for each complete event in `buffer`; returns what is left.
  function parseEvents(buffer, onEvent) {
    var parts = buffer.split("\n\n");
    var rest = parts.pop();
    parts.forEach(function (block) {
      var name = "message";
      var data = "";
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) {
          name = line.slice(6).trim();
        } else if (line.indexOf("data:") === 0) {
          data += line.slice(5).trim();
        }
      });
      if (data) {
        onEvent(name, JSON.parse(data));
      }
    });
    return rest;
  }

  function sendStreamed() {
    var outcome = null;
    function onEvent(name, data) {
      if (name === "token") {
        if (live.hidden) {
          live.hidden = false;
          status.textContent = status.dataset.streamingLabel;
        }
        live.textContent += data.text;
        live.scrollTop = live.scrollHeight;
      } else if (name === "done") {
        outcome = { ok: true, answer: data };
      } else if (name === "error") {
        outcome = { ok: false, answer: data };
      }
    }
    return fetch(form.dataset.streamUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "text/event-stream, application/json",
        "X-CSRFToken": csrfToken(form),
      },
      body: JSON.stringify({ message: textarea.value }),
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("text/event-stream") !== 0) {
        return response
          .json()
          .catch(function () {
            return { error: "HTTP " + response.status };
          })
          .then(function (answer) {
            finish({ ok: false, answer: answer });
          });
      }
      var done = function () {
        finish(outcome || { ok: false, answer: { error: status.dataset.failedLabel } });
      };
      if (!response.body || !window.TextDecoder) {
        return response.text().then(function (text) {
          parseEvents(text + "\n\n", onEvent);
          done();
        });
      }
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) {
            parseEvents(buffer + decoder.decode() + "\n\n", onEvent);
            done();
            return undefined;
          }
          buffer = parseEvents(buffer + decoder.decode(chunk.value, { stream: true }), onEvent);
          return pump();
        });
      }
      return pump();
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (submit.disabled) {
      return;
    }
    errorBox.hidden = true;
    result.hidden = true;
    setBusy(true);
    if (form.dataset.streamUrl) {
      sendStreamed().catch(function (error) {
        finish({ ok: false, answer: { error: String(error) } });
      });
      return;
    }
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
