// One bar chart per metric across the chosen versions; the data comes from the page's json_script block.
(function () {
  var charts = JSON.parse(document.getElementById("chart-data").textContent);
  charts.forEach(function (chart) {
    Plotly.newPlot(chart.id, [{ type: "bar", x: chart.x, y: chart.y, text: chart.y.map(function (v) { return v === null ? "" : v.toPrecision(4); }), textposition: "auto" }],
      { title: { text: chart.title }, margin: { t: 40, r: 10, b: 40, l: 50 }, yaxis: { zeroline: true } },
      { displaylogo: false, responsive: true });
  });
})();
