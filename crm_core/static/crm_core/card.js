// The record cards (deal, client, contact): small helpers around htmx. No inline scripts (CSP).
(function () {
  "use strict";

  // A refusal (400: bad input, 409: someone else saved first) is shown in place, like a success.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    // Every form on the card carries the record's version: after a save, all of them move on,
    // so the next field saved is not refused as someone else's change.
    var version = xhr && xhr.getResponseHeader("X-Record-Version");
    if (version && event.detail.successful) {
      document.querySelectorAll("input[data-record-version]").forEach(function (input) {
        input.value = version;
      });
    }
    // A composer post that went through: empty the form for the next entry.
    var form = event.detail.elt;
    if (event.detail.successful && form && form.matches && form.matches("[data-composer-form]")) {
      var keep = form.querySelector("#id_task-title");
      var title = keep ? keep.defaultValue : null;
      form.reset();
      if (keep) { keep.value = title; }
      // The next entry is a new submission: a new one-time token (crm_core/services/once.py).
      var token = form.querySelector("input[name=form_token]");
      if (token) {
        if (window.crypto && window.crypto.randomUUID) { token.value = window.crypto.randomUUID(); }
        else { token.remove(); }
      }
    }
  });

  // A date typed for a task means "a date", not one of the quick choices.
  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "id_task-deadline") {
      var dateChoice = document.getElementById("due-date");
      if (dateChoice) { dateChoice.checked = true; }
    }
  });
})();
