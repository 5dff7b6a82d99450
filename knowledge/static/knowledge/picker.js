// The reply picker (knowledge/_reply_picker.html): a click on a found article or saved answer
// puts its text into the reply where the cursor is, and hands the cursor back to the reply.
(function () {
  if (window.relataReplyPicker) return;
  window.relataReplyPicker = true;
  document.addEventListener("click", function (event) {
    var choice = event.target.closest("[data-insert-text]");
    if (!choice) return;
    var box = document.getElementById(choice.dataset.insertTarget);
    if (!box) return;
    var text = choice.dataset.insertText;
    var start = box.selectionStart != null ? box.selectionStart : box.value.length;
    var end = box.selectionEnd != null ? box.selectionEnd : start;
    var before = box.value.slice(0, start);
    if (before && !/\n$/.test(before)) text = "\n" + text;
    box.value = before + text + box.value.slice(end);
    box.selectionStart = box.selectionEnd = before.length + text.length;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  });
})();
