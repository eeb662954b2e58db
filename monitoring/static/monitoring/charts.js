// Draws each plotly figure embedded with {{ figure|json_script:"<target>-figure" }} into the element <target>.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll('script[type="application/json"][id$="-figure"]').forEach(function (element) {
    var figure = JSON.parse(element.textContent);
    var target = element.id.slice(0, -"-figure".length);
    Plotly.newPlot(target, figure.data, figure.layout, {displaylogo: false, responsive: true});
  });
});
