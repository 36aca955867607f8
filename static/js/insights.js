// The insights pages: draws each chart (a <canvas data-chart-url>) from its JSON with Chart.js, again after htmx
// swaps the page body, and keeps the period form in step (typing a date picks "Custom"; the dates show the period
// the server chose). A day without a figure is null in the JSON and stays a gap in the line (spanGaps: false).
(function () {
  "use strict";

  var COLORS = ["#0a58ca", "#d63384", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#dc3545", "#6c757d", "#0dcaf0", "#ffc107"];

  function color(i, alpha) {
    var hex = COLORS[i % COLORS.length];
    if (!alpha) return hex;
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  function config(type, data) {
    var doughnut = type === "doughnut";
    var datasets = data.datasets.map(function (d, i) {
      var set = { label: d.label, data: d.data };
      if (doughnut) {
        set.backgroundColor = d.data.map(function (_, j) { return color(j); });
      } else if (type === "bar") {
        set.backgroundColor = color(i, 0.75);
        set.borderColor = color(i);
      } else {
        set.borderColor = color(i);
        set.backgroundColor = color(i, 0.15);
        set.spanGaps = false;
        set.pointRadius = data.labels.length > 60 ? 0 : 2;
        set.borderWidth = 2;
        set.tension = 0.2;
      }
      return set;
    });
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: datasets.length > 1 || doughnut } },
    };
    if (!doughnut) {
      options.interaction = { mode: "index", intersect: false };
      options.scales = {
        x: { ticks: { autoSkip: true, maxRotation: 0 } },
        y: { beginAtZero: type === "bar", title: { display: !!data.unit, text: data.unit } },
      };
    }
    return { type: type, data: { labels: data.labels, datasets: datasets }, options: options };
  }

  function draw(canvas) {
    if (!window.Chart || canvas.dataset.chartState) return;
    canvas.dataset.chartState = "loading";
    fetch(canvas.dataset.chartUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        if (!canvas.isConnected) return;
        var existing = window.Chart.getChart(canvas);
        if (existing) existing.destroy();
        new window.Chart(canvas, config(canvas.dataset.chartType || "line", data));
        canvas.setAttribute("role", "img");
        canvas.setAttribute("aria-label", data.title + " (chart; the same figures are in the table below)");
        canvas.dataset.chartState = "drawn";
        canvas.dataset.chartReady = "1";
      })
      .catch(function () {
        canvas.dataset.chartState = "failed";
        var note = document.createElement("p");
        note.className = "small text-danger-emphasis";
        note.textContent = "The chart could not be loaded; its figures are in the table below.";
        canvas.parentNode.after(note);
      });
  }

  function init(root) {
    (root || document).querySelectorAll("canvas[data-chart-url]").forEach(draw);
    var body = document.getElementById("insights-body");
    var form = document.getElementById("insights-filters");
    if (body && form && body.dataset.periodStart) {
      form.querySelector("[name=start]").value = body.dataset.periodStart;
      form.querySelector("[name=end]").value = body.dataset.periodEnd;
      var preset = form.querySelector("#range-" + (body.dataset.periodPreset || "custom"));
      if (preset) preset.checked = true;
    }
  }

  // Before htmx sees the change (capture phase): a date typed in means a custom range.
  document.addEventListener(
    "change",
    function (event) {
      var input = event.target;
      if (!input.classList || !input.classList.contains("insights-date")) return;
      var custom = document.getElementById("range-custom");
      if (custom) custom.checked = true;
    },
    true
  );
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!window.Chart) return;
    event.detail.target.querySelectorAll("canvas[data-chart-url]").forEach(function (canvas) {
      var chart = window.Chart.getChart(canvas);
      if (chart) chart.destroy();
    });
  });
  document.addEventListener("htmx:afterSwap", function () {
    init(document);
  });
  document.addEventListener("DOMContentLoaded", function () {
    init(document);
  });
})();
