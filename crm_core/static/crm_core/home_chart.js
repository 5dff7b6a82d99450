// The home page's month chart (Chart.js, vendored under static/vendor/): revenue won day by day,
// added up, beside last month and the target. Figures come in a JSON block the server wrote
// (crm_core/queries/home_chart.py); hovering a day shows each line's amount in the currency.
(function () {
  var block = document.getElementById("month-chart-data");
  var canvas = document.getElementById("month-chart");
  if (!block || !canvas || !window.Chart) return;
  var d = JSON.parse(block.textContent);
  var lang = document.documentElement.lang || "ru";
  var money;
  try {
    money = new Intl.NumberFormat(lang, { style: "currency", currency: d.currency, maximumFractionDigits: 0 });
  } catch (e) {
    money = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  }
  var short = new Intl.NumberFormat(lang, { notation: "compact", maximumFractionDigits: 1 });
  var days = [];
  for (var i = 1; i <= d.days; i++) days.push(String(i));
  var lines = [
    { label: d.thisLabel, data: d["this"], borderColor: "#2457d6", backgroundColor: "rgba(36, 87, 214, 0.12)",
      fill: true, borderWidth: 2, pointRadius: 0, pointHitRadius: 8 },
    { label: d.lastLabel, data: d.last, borderColor: "#8a93a3", borderDash: [4, 4], fill: false,
      borderWidth: 1.5, pointRadius: 0, pointHitRadius: 8 }
  ];
  if (d.target) {
    lines.push({ label: d.targetLabel, data: days.map(function () { return d.target; }), borderColor: "#1a7f37",
      borderWidth: 1, fill: false, pointRadius: 0, pointHitRadius: 0 });
  }
  new window.Chart(canvas, {
    type: "line",
    data: { labels: days, datasets: lines },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        y: { beginAtZero: true, ticks: { callback: function (v) { return short.format(v); } } },
        x: { ticks: { maxTicksLimit: 10, autoSkip: true } }
      },
      plugins: {
        legend: { position: "bottom", labels: { boxWidth: 12 } },
        tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + money.format(c.parsed.y); } } }
      }
    }
  });
})();
