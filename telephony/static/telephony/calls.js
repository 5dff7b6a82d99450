// The incoming-call pop-up and click-to-call (loaded on every page when telephony is on).
// htmx polls #call-popup; an answer identical to what is shown is not swapped in, so a name
// being typed into the "new caller" form is not wiped by the next poll.
(function () {
  "use strict";
  var box = document.getElementById("call-popup");
  if (!box) { return; }
  var csrf = box.getAttribute("data-csrf");

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Content-Type": "application/x-www-form-urlencoded" },
      body: body || ""
    });
  }

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target !== box) { return; }
    if (event.detail.xhr.status === 204) { event.detail.shouldSwap = false; return; }
    var shown = box.querySelector("[data-popup-version]");
    var match = /data-popup-version="([^"]*)"/.exec(event.detail.serverResponse || "");
    if (shown && match && shown.getAttribute("data-popup-version") === match[1]) {
      event.detail.shouldSwap = false;
    }
  });

  box.addEventListener("click", function (event) {
    if (!event.target.closest("[data-popup-close]")) { return; }
    box.innerHTML = "";
    post(box.getAttribute("data-close-url"));
  });

  var status = document.getElementById("call-dial-status");
  function say(text) {
    status.textContent = text;
    window.setTimeout(function () { status.textContent = ""; }, 6000);
  }

  function addDialButtons(root) {
    var links = root.querySelectorAll('main a[href^="tel:"]');
    Array.prototype.forEach.call(links, function (link) {
      if (link.hasAttribute("data-dial-ready") || link.closest("#call-popup")) { return; }
      link.setAttribute("data-dial-ready", "");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "call-dial";
      button.textContent = box.getAttribute("data-dial-label");
      button.setAttribute("data-number", link.getAttribute("href").slice(4));
      link.insertAdjacentElement("afterend", button);
    });
  }

  document.body.addEventListener("click", function (event) {
    var button = event.target.closest("button.call-dial");
    if (!button) { return; }
    button.disabled = true;
    post(box.getAttribute("data-dial-url"), "number=" + encodeURIComponent(button.getAttribute("data-number")))
      .then(function (response) { return response.text(); })
      .then(say)
      .catch(function () { say("…"); })
      .finally(function () { button.disabled = false; });
  });

  addDialButtons(document);
  document.body.addEventListener("htmx:afterSettle", function () { addDialButtons(document); });
})();
