// The article editor's pictures: an uploaded picture's Markdown goes where the cursor is in
// the text (and the preview follows); "Insert" puts an earlier one there again.
(function () {
  "use strict";
  function insert(markdown) {
    var text = document.getElementById("id_draft_body");
    if (!text || !markdown) { return; }
    var start = text.selectionStart || 0;
    var end = text.selectionEnd || start;
    var before = text.value.slice(0, start);
    var piece = (before && !before.endsWith("\n") ? "\n\n" : "") + markdown + "\n";
    text.value = before + piece + text.value.slice(end);
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
