/*
 * Site-wide behaviour, loaded on every page by base.html (an external file: the CSP forbids
 * inline scripts). Pages work without it; it only adds feedback.
 *
 * A form being sent (a PDF upload can take several seconds) shows a spinner on the button
 * that sent it, tells assistive technologies the form is busy, and ignores a second click.
 * Forms whose own script handles the submit (fetch) call preventDefault, so they are left
 * alone; a form can also opt out with data-no-busy.
 */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented || "noBusy" in form.dataset) {
      return;
    }
    if (form.getAttribute("aria-busy") === "true") {
      event.preventDefault();
      return;
    }
    form.setAttribute("aria-busy", "true");
    var button = event.submitter || form.querySelector("[type=submit]");
    if (button) {
      button.classList.add("is-busy");
      button.setAttribute("aria-busy", "true");
    }
  });

  // Coming back with the browser's Back button restores the page from the cache: undo the busy state.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[aria-busy=true]").forEach(function (form) {
      form.removeAttribute("aria-busy");
      form.querySelectorAll(".is-busy").forEach(function (button) {
        button.classList.remove("is-busy");
        button.removeAttribute("aria-busy");
      });
    });
  });
})();
