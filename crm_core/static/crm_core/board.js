// Drag and drop of deal cards between stages on the board (plain JavaScript, no library).
// A drop POSTs to the card's move URL with the deal's version; the server refuses a move that
// would overwrite someone else's change (409), and the card goes back where it was.
(function () {
  "use strict";
  const board = document.querySelector("[data-board]");
  if (!board) return;
  const csrf = board.dataset.csrf;
  let dragged = null;

  // A column shows only its newest cards, so its head (count and sum of all its deals, from the
  // server) moves by the dragged card alone rather than being recounted from the cards on screen.
  function shift(column, card, sign) {
    const count = column.querySelector("[data-count]");
    const sum = column.querySelector("[data-sum]");
    const amount = parseFloat(card.dataset.amount || "0");
    if (count) {
      count.dataset.value = String(parseInt(count.dataset.value || count.textContent.replace(/\D/g, ""), 10) + sign);
      count.textContent = count.dataset.value;
    }
    if (sum) {
      sum.dataset.value = String(parseFloat(sum.dataset.value || "0") + sign * amount);
      sum.textContent = parseFloat(sum.dataset.value).toLocaleString(document.documentElement.lang || "ru", { maximumFractionDigits: 2 });
    }
  }

  function moveCard(card, fromList, toList) {
    toList.prepend(card);
    shift(fromList.closest("[data-stage]"), card, -1);
    shift(toList.closest("[data-stage]"), card, +1);
  }

  board.addEventListener("dragstart", function (event) {
    const card = event.target.closest("[data-deal]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.deal);
    card.classList.add("dragging");
  });
  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
  });
  board.addEventListener("dragover", function (event) {
    if (event.target.closest("[data-stage]")) event.preventDefault();
  });
  board.addEventListener("drop", function (event) {
    const column = event.target.closest("[data-stage]");
    if (!column || !dragged) return;
    event.preventDefault();
    const card = dragged;
    const from = card.parentElement;
    const list = column.querySelector("[data-cards]");
    if (list === from) return;
    moveCard(card, from, list);
    const body = new URLSearchParams({ stage: column.dataset.stage, version: card.dataset.version });
    fetch(card.dataset.moveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
      body: body,
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      if (result.ok) {
        card.dataset.version = String(result.data.version);
        return;
      }
      moveCard(card, list, from);
      const notice = document.querySelector("[data-board-error]");
      if (notice) { notice.textContent = result.data.error; notice.hidden = false; }
    }).catch(function () {
      moveCard(card, list, from);
    });
  });
})();
