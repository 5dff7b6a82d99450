// The lists: tick rows (or all matching the filter) and act on them; confirm before deleting.
(function () {
  "use strict";
  // Which inputs each bulk action needs (the rest are hidden while it is chosen).
  var NEEDS = {
    reassign: ["responsible"],
    stage: ["stage", "lost_reason", "close_tasks"],
    tag_add: ["tag"],
    tag_remove: ["tag"],
    task: ["title", "deadline"],
  };
  function setUp() {
    var form = document.getElementById("bulk-form");
    if (!form) return;
    form.classList.add("js");
    var action = form.querySelector("[name=bulk-action]");
    var all = form.querySelector("[name=bulk-all_matching]");
    var selected = document.getElementById("bulk-selected");
    var banner = document.getElementById("bulk-all");
    var page = document.getElementById("bulk-page");
    var rows = Array.prototype.slice.call(document.querySelectorAll(".bulk-row"));
    var template = selected.getAttribute("data-ticked") || "";
    var idle = selected.textContent;

    function showFields() {
      var wanted = NEEDS[action.value] || [];
      form.querySelectorAll(".bulk-field[data-for]").forEach(function (field) {
        // Another part's list says on the field which of its actions need it.
        var serves = (field.getAttribute("data-actions") || "").split(" ");
        field.classList.toggle(
          "shown",
          wanted.indexOf(field.getAttribute("data-for")) >= 0 || serves.indexOf(action.value) >= 0
        );
      });
    }
    function count() {
      var ticked = rows.filter(function (row) { return row.checked; }).length;
      if (all.checked) return;
      selected.textContent = ticked ? template + " " + ticked : idle;
      page.checked = ticked > 0 && ticked === rows.length;
      banner.hidden = !page.checked;
    }
    rows.forEach(function (row) {
      row.addEventListener("change", function () {
        if (!row.checked && all.checked) {
          all.checked = false;
          allButton.hidden = false;
          document.getElementById("bulk-all-text").textContent = banner.getAttribute("data-page");
        }
        count();
      });
    });
    page.addEventListener("change", function () {
      rows.forEach(function (row) { row.checked = page.checked; });
      if (!page.checked) all.checked = false;
      count();
    });
    var allButton = document.getElementById("bulk-all-button");
    allButton.addEventListener("click", function () {
      all.checked = true;
      allButton.hidden = true;
      fetch(form.getAttribute("data-count-url"), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then(function (answer) { return answer.text(); })
        .then(function (text) {
          document.getElementById("bulk-all-text").textContent = text.trim();
          selected.textContent = text.trim();
        });
    });
    action.addEventListener("change", showFields);
    showFields();
    count();
  }
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
