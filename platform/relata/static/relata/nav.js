// On a phone the main menu scrolls sideways: bring the current page's entry into view, so the
// person sees where they are without scrolling the menu.
(function () {
  var row = document.querySelector(".crm-nav-row");
  var current = row && row.querySelector('[aria-current="page"]');
  if (!current || row.scrollWidth <= row.clientWidth) return;
  row.scrollLeft = current.offsetLeft - row.offsetLeft - (row.clientWidth - current.offsetWidth) / 2;
})();
