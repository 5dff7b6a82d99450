// The pipeline editor: reorder stages by dragging their handle (pointer events: mouse, touch
// and pen alike), saved at once as the new order of ids. The arrow buttons beside each stage do
// the same for a keyboard, and without JavaScript.
(function () {
  "use strict";
  const list = document.querySelector("[data-stage-editor]");
  if (!list) return;
  const notice = document.querySelector("[data-order-error]");
  let drag = null;

  function rows() {
    return Array.prototype.slice.call(list.querySelectorAll("[data-stage-id]"));
  }

  function clearMarks() {
    rows().forEach(function (row) { row.classList.remove("drop-before", "drop-after"); });
  }

  // Where the dragged row would land: before the first row whose middle is below the pointer.
  function target(y) {
    const others = rows().filter(function (row) { return row !== drag.row; });
    for (let i = 0; i < others.length; i += 1) {
      const box = others[i].getBoundingClientRect();
      if (y < box.top + box.height / 2) return { row: others[i], before: true };
    }
    return others.length ? { row: others[others.length - 1], before: false } : null;
  }

  function save(previous) {
    const order = rows().map(function (row) { return row.dataset.stageId; });
    return fetch(list.dataset.orderUrl, {
      method: "POST",
      headers: { "X-CSRFToken": list.dataset.csrf, "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ order: order }),
      credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) throw new Error("refused");
      refreshArrows();
      if (notice) notice.hidden = true;
    }).catch(function () {
      // Put the rows back as the server still has them, and say so.
      previous.forEach(function (row) { list.appendChild(row); });
      refreshArrows();
      if (notice) {
        notice.textContent = list.dataset.failed || "";
        notice.hidden = false;
      }
    });
  }

  function refreshArrows() {
    const all = rows();
    all.forEach(function (row, index) {
      const up = row.querySelector("button[value=left]");
      const down = row.querySelector("button[value=right]");
      if (up) up.disabled = index === 0;
      if (down) down.disabled = index === all.length - 1;
    });
  }

  list.addEventListener("pointerdown", function (event) {
    const grip = event.target.closest("[data-grip]");
    if (!grip || event.button !== 0) return;
    const row = grip.closest("[data-stage-id]");
    event.preventDefault();
    grip.setPointerCapture(event.pointerId);
    drag = { row: row, grip: grip, id: event.pointerId, y: event.clientY, before: rows(), moved: false, over: null };
    row.classList.add("dragging");
  });

  list.addEventListener("pointermove", function (event) {
    if (!drag || event.pointerId !== drag.id) return;
    drag.moved = true;
    drag.row.style.setProperty("--dy", event.clientY - drag.y + "px");
    clearMarks();
    drag.over = target(event.clientY);
    if (drag.over) drag.over.row.classList.add(drag.over.before ? "drop-before" : "drop-after");
  });

  function finish(event, cancelled) {
    if (!drag || event.pointerId !== drag.id) return;
    const state = drag;
    drag = null;
    clearMarks();
    state.row.classList.remove("dragging");
    state.row.style.removeProperty("--dy");
    if (cancelled || !state.moved || !state.over) return;
    const place = state.over.before ? state.over.row : state.over.row.nextSibling;
    list.insertBefore(state.row, place);
    const changed = rows().some(function (row, index) { return row !== state.before[index]; });
    if (changed) save(state.before);
  }

  list.addEventListener("pointerup", function (event) { finish(event, false); });
  list.addEventListener("pointercancel", function (event) { finish(event, true); });
})();
