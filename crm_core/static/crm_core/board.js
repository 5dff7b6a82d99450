// The deal board: moving cards between stages by mouse, touch or keyboard, and the cards' quick
// actions dialog. Plain JavaScript on pointer events (one code path for mouse, touch and pen).
//
// A move POSTs to the card's move URL with the deal's version; the server refuses a move that
// would overwrite someone else's change (409), and the card goes back where it was. A move to a
// "lost" stage first asks why (the server refuses a lost deal without a reason); a move to a
// won or lost stage of a deal with open tasks offers to close them too (close_tasks=1).
(function () {
  "use strict";
  const board = document.querySelector("[data-board]");
  if (!board) return;
  const csrf = board.dataset.csrf;
  const lang = document.documentElement.lang || "ru";
  const dialog = document.getElementById("board-dialog");
  const dialogBody = document.getElementById("board-dialog-body");
  const lostDialog = document.getElementById("lost-dialog");
  const wonDialog = document.getElementById("won-dialog");

  function money(value) {
    const whole = Math.round(value * 100) % 100 === 0;
    return value.toLocaleString(lang, {
      minimumFractionDigits: whole ? 0 : 2,
      maximumFractionDigits: whole ? 0 : 2,
    });
  }

  function columnFigures(column) {
    const count = column.querySelector("[data-count]");
    const sum = column.querySelector("[data-sum]");
    return {
      count: parseInt(count.dataset.value || "0", 10),
      sum: parseFloat(sum.dataset.value || "0"),
      probability: parseInt(column.dataset.probability || "0", 10),
    };
  }

  // A column shows only its newest cards, so its head (count and sum of all its deals, from the
  // server) moves by the dragged card alone rather than being recounted from the cards on screen.
  function shift(column, card, sign) {
    const figures = columnFigures(column);
    const count = figures.count + sign;
    const sum = Math.round((figures.sum + sign * parseFloat(card.dataset.amount || "0")) * 100) / 100;
    const countEl = column.querySelector("[data-count]");
    const sumEl = column.querySelector("[data-sum]");
    countEl.dataset.value = String(count);
    countEl.textContent = String(count);
    sumEl.dataset.value = String(sum);
    sumEl.textContent = money(sum);
    const forecast = column.querySelector("[data-forecast]");
    if (forecast) forecast.textContent = money(Math.round(sum * figures.probability) / 100);
  }

  // The board's foot: every column's deals and sums; the forecast of the open stages only.
  function updateTotal() {
    let count = 0;
    let sum = 0;
    let forecast = 0;
    board.querySelectorAll("[data-stage]").forEach(function (column) {
      const figures = columnFigures(column);
      count += figures.count;
      sum += figures.sum;
      if (column.dataset.outcome === "open") forecast += Math.round(figures.sum * figures.probability) / 100;
    });
    const set = function (selector, text) {
      const el = document.querySelector(selector);
      if (el) el.textContent = text;
    };
    set("[data-total-count]", String(count));
    set("[data-total-sum]", money(Math.round(sum * 100) / 100));
    set("[data-total-forecast]", money(Math.round(forecast * 100) / 100));
  }

  function place(card, fromColumn, toColumn) {
    toColumn.querySelector("[data-cards]").prepend(card);
    shift(fromColumn, card, -1);
    shift(toColumn, card, +1);
    updateTotal();
  }

  function showError(text) {
    const notice = document.querySelector("[data-board-error]");
    if (notice) {
      notice.textContent = text;
      notice.hidden = false;
    }
  }

  // "Also close 2 open tasks" (the card carries the text in the page's language), ticked;
  // hidden when the deal has no open task. Returns the checkbox.
  function offerClosingTasks(dialogEl, card) {
    const box = dialogEl.querySelector("[name=close_tasks]");
    const row = box.closest("label");
    const text = card.dataset.closeTasks || "";
    row.querySelector("[data-close-tasks-text]").textContent = text;
    row.hidden = !text;
    box.checked = Boolean(text);
    return box;
  }

  // Resolves with { reason, closeTasks } or null when the person cancels.
  function askLostReason(card) {
    return new Promise(function (resolve) {
      if (!lostDialog) return resolve(null);
      const reason = lostDialog.querySelector("textarea");
      const closeBox = offerClosingTasks(lostDialog, card);
      reason.value = "";
      lostDialog.returnValue = "";
      lostDialog.addEventListener("close", function onClose() {
        lostDialog.removeEventListener("close", onClose);
        const ok = lostDialog.returnValue === "ok" && reason.value.trim();
        resolve(ok ? { reason: reason.value.trim(), closeTasks: closeBox.checked } : null);
      });
      lostDialog.showModal();
      reason.focus();
    });
  }

  // A won stage asks only when the deal has open tasks: close them too?
  function askWon(card) {
    return new Promise(function (resolve) {
      if (!wonDialog || !card.dataset.closeTasks) return resolve({ reason: "", closeTasks: false });
      const closeBox = offerClosingTasks(wonDialog, card);
      const title = card.querySelector(".card-title");
      wonDialog.querySelector("[data-won-deal]").textContent = title ? title.textContent : "";
      wonDialog.returnValue = "";
      wonDialog.addEventListener("close", function onClose() {
        wonDialog.removeEventListener("close", onClose);
        resolve(wonDialog.returnValue === "ok" ? { reason: "", closeTasks: closeBox.checked } : null);
      });
      wonDialog.showModal();
      wonDialog.querySelector("#won-confirm").focus();
    });
  }

  // The deal's tasks were closed with it: the card shows no next task any more.
  function tasksClosed(card) {
    card.dataset.openTasks = "0";
    delete card.dataset.closeTasks;
    const task = card.querySelector("[data-next-task]");
    if (task) task.remove();
  }

  // Move a card to a column: asks for the reason first when the stage is "lost" (and, for won
  // or lost, whether to close the deal's open tasks); shows the move at once and takes it back
  // if the server refuses it.
  function moveTo(card, toColumn) {
    const fromColumn = card.closest("[data-stage]");
    if (!fromColumn || fromColumn === toColumn) return Promise.resolve(false);
    const outcome = toColumn.dataset.outcome;
    const asked = outcome === "lost" ? askLostReason(card)
      : outcome === "won" ? askWon(card) : Promise.resolve({ reason: "", closeTasks: false });
    return asked.then(function (answer) {
      if (answer === null) return false;
      const reason = answer.reason;
      place(card, fromColumn, toColumn);
      const body = new URLSearchParams({ stage: toColumn.dataset.stage, version: card.dataset.version });
      if (reason) body.set("lost_reason", reason);
      if (answer.closeTasks) body.set("close_tasks", "1");
      return fetch(card.dataset.moveUrl, {
        method: "POST",
        headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
        body: body,
        credentials: "same-origin",
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (result) {
        if (result.ok) {
          card.dataset.version = String(result.data.version);
          const age = card.querySelector(".card-age");
          if (age && board.dataset.ageZero) age.textContent = board.dataset.ageZero;
          if (answer.closeTasks) tasksClosed(card);
          return true;
        }
        place(card, toColumn, fromColumn);
        showError(result.data.error);
        return false;
      }).catch(function () {
        place(card, toColumn, fromColumn);
        showError(board.dataset.offline || "");
        return false;
      });
    });
  }

  // --- Dragging, by pointer events: a mouse drags from anywhere on the card, a finger or pen
  // from the card's grip (elsewhere a finger scrolls the board, as on any phone).
  let drag = null;
  let suppressClick = false;

  // The column under the pointer — or, below a short column's last card, the column whose
  // strip the pointer is in (a drop anywhere down the strip counts).
  function columnAt(x, y) {
    const under = document.elementFromPoint(x, y);
    const column = under ? under.closest("[data-stage]") : null;
    if (column || !under || !board.contains(under)) return column;
    return Array.prototype.find.call(board.querySelectorAll("[data-stage]"), function (c) {
      const box = c.getBoundingClientRect();
      return x >= box.left && x <= box.right;
    }) || null;
  }

  // The card under the pointer; its column scrolls with the board, so the board's scroll since
  // the drag began is added back.
  function follow() {
    const dx = drag.lastX - drag.x + (board.scrollLeft - drag.scroll0);
    drag.card.style.setProperty("--dx", dx + "px");
    drag.card.style.setProperty("--dy", drag.lastY - drag.y + "px");
  }

  function hover(x, y) {
    const column = columnAt(x, y);
    if (column !== drag.over) {
      if (drag.over) drag.over.classList.remove("drop-here");
      if (column) column.classList.add("drop-here");
      drag.over = column;
    }
  }

  // Held near the board's left or right edge, a card scrolls the board (every frame, so a
  // pointer that stays still there keeps scrolling).
  function edgeScroll() {
    if (!drag || !drag.moving) return;
    const box = board.getBoundingClientRect();
    const step = drag.lastX < box.left + 40 ? -12 : drag.lastX > box.right - 40 ? 12 : 0;
    if (step) {
      board.scrollLeft += step;
      follow();
      hover(drag.lastX, drag.lastY);
    }
    requestAnimationFrame(edgeScroll);
  }

  board.addEventListener("pointerdown", function (event) {
    const card = event.target.closest("[data-deal]");
    if (!card || event.button !== 0) return;
    if (event.target.closest("button, select, input, textarea")) return;
    const fromGrip = Boolean(event.target.closest("[data-grip]"));
    if (event.pointerType !== "mouse" && !fromGrip) return;
    drag = { card: card, id: event.pointerId, x: event.clientX, y: event.clientY, moving: false, over: null };
    if (fromGrip) event.preventDefault();
  });

  document.addEventListener("pointermove", function (event) {
    if (!drag || event.pointerId !== drag.id) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (!drag.moving) {
      if (Math.abs(dx) + Math.abs(dy) < 5) return;
      drag.moving = true;
      drag.card.classList.add("dragging");
      board.classList.add("is-dragging");
      drag.scroll0 = board.scrollLeft;
      requestAnimationFrame(edgeScroll);
    }
    event.preventDefault();
    drag.lastX = event.clientX;
    drag.lastY = event.clientY;
    follow();
    hover(event.clientX, event.clientY);
  });

  function endDrag(event, cancelled) {
    if (!drag || event.pointerId !== drag.id) return;
    const current = drag;
    drag = null;
    if (!current.moving) return;
    current.card.classList.remove("dragging");
    current.card.style.removeProperty("--dx");
    current.card.style.removeProperty("--dy");
    board.classList.remove("is-dragging");
    if (current.over) current.over.classList.remove("drop-here");
    suppressClick = true;
    setTimeout(function () { suppressClick = false; }, 0);
    if (!cancelled && current.over) moveTo(current.card, current.over);
  }
  document.addEventListener("pointerup", function (event) { endDrag(event, false); });
  document.addEventListener("pointercancel", function (event) { endDrag(event, true); });
  // Escape lets go of a card where it was.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && drag && drag.moving) endDrag({ pointerId: drag.id }, true);
  });
  // A drag that ends on the card's title must not also open the deal.
  board.addEventListener("click", function (event) {
    if (suppressClick) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);
  // The browser's own drag of a link or text would fight ours.
  board.addEventListener("dragstart", function (event) { event.preventDefault(); });

  // --- The quick actions dialog (its content comes from the server through htmx).
  if (dialog && dialogBody) {
    // htmx fires afterSwap on every element it swapped in (also the redrawn card, swapped out of
    // band), so only the dialog's own swap counts here.
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.target !== dialogBody) return;
      if (dialogBody.querySelector("[data-board-done]")) {
        dialog.close();
        dialogBody.textContent = "";
        return;
      }
      if (!dialog.open) dialog.showModal();
    });
    dialog.addEventListener("click", function (event) {
      if (event.target.closest("[data-dialog-close]") || event.target === dialog) dialog.close();
    });
    dialog.addEventListener("submit", function (event) {
      const form = event.target.closest("[data-move-form]");
      if (!form) return;
      event.preventDefault();
      const quick = form.closest("[data-quick-for]");
      const card = quick && document.getElementById("deal-card-" + quick.dataset.quickFor);
      const column = board.querySelector('[data-stage="' + form.querySelector("[data-move-select]").value + '"]');
      dialog.close();
      if (card && column) {
        moveTo(card, column).then(function () {
          const title = card.querySelector(".card-title");
          if (title) title.focus();
        });
      }
    });
  }
})();
