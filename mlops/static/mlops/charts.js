// Line charts over time (PSI per feature, live metrics, champion against challenger); data from json_script.
(function () {
  var charts = JSON.parse(document.getElementById("chart-data").textContent);
  charts.forEach(function (chart) {
    var traces = chart.series.map(function (series) {
      return { type: "scatter", mode: "lines+markers", name: series.name, x: series.x, y: series.y };
    });
    var shapes = chart.threshold === null ? [] : [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: chart.threshold,
      y1: chart.threshold, line: { dash: "dot", color: "#c0392b" } }];
    Plotly.newPlot(chart.id, traces, { title: { text: chart.title }, margin: { t: 40, r: 10, b: 40, l: 50 },
      shapes: shapes, showlegend: chart.series.length > 1 }, { displaylogo: false, responsive: true });
  });
})();
