// The article editor's pictures: an uploaded picture's Markdown goes where the cursor is in
// the text (and the preview follows); "Insert" puts an earlier one there again.
(function () {
  "use strict";
  // Where the writer last put the cursor; a picture uploaded before that goes at the end.
  var placed = false;
  document.addEventListener("focusin", function (event) {
    if (event.target && event.target.id === "id_draft_body") { placed = true; }
  });
  function insert(markdown) {
    var text = document.getElementById("id_draft_body");
    if (!text || !markdown) { return; }
    var start = placed ? text.selectionStart || 0 : text.value.length;
    var end = placed ? text.selectionEnd || start : start;
    var before = text.value.slice(0, start);
    var after = text.value.slice(end);
    // A paragraph of its own: a blank line before and after.
    var lead = before === "" || before.endsWith("\n\n") ? "" : before.endsWith("\n") ? "\n" : "\n\n";
    var tail = after === "" ? "\n" : after.startsWith("\n\n") ? "" : after.startsWith("\n") ? "\n" : "\n\n";
    var piece = lead + markdown + tail;
    text.value = before + piece + after;
    text.selectionStart = text.selectionEnd = start + piece.length;
    text.dispatchEvent(new Event("input", { bubbles: true }));
    text.focus();
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".kb-insert-image");
    if (button) { insert(button.getAttribute("data-markdown")); }
  });
  document.addEventListener("htmx:afterSwap", function () {
    var list = document.getElementById("kb-images");
    if (list && list.hasAttribute("data-inserted")) {
      insert(list.getAttribute("data-inserted"));
      list.removeAttribute("data-inserted");
      var field = document.getElementById("kb-image");
      if (field) { field.value = ""; }
    }
  });
}());
