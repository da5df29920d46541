// Live updates of the watch page from the release's event stream. The page
// is whole without it: a reload shows the same counts.
(function () {
  "use strict";
  var box = document.getElementById("watch");
  if (!box || !window.EventSource || box.dataset.final === "true") return;
  var src = new EventSource(box.dataset.events);
  // The chart (chart.go draws it): a point more at each counts event,
  // redrawn with the server's scales; times on the server's clock.
  var fig = document.getElementById("chart"), chart = null;
  if (fig && fig.dataset.chart) {
    try {
      chart = JSON.parse(fig.dataset.chart);
      chart.skew = Number(fig.dataset.now) - Date.now();
    } catch (e) { chart = null; }
  }
  function chartAdd(byCh) {
    if (!chart) return;
    var sent = 0, failed = 0, total = 0;
    Object.keys(byCh).forEach(function (ch) {
      var c = byCh[ch];
      sent += c.sent || 0; failed += (c.failed || 0) + (c.uncertain || 0); total += c.total || 0;
    });
    chart.total = Math.max(chart.total, total, 1);
    chart.pts.push([Date.now() + chart.skew, sent, failed]);
    if (chart.pts.length > 600) chart.pts.splice(1, 1);
    var svg = fig.querySelector("svg"), plot = fig.querySelector(".plot");
    var L = Number(plot.getAttribute("x")), T = Number(plot.getAttribute("y"));
    var W = Number(plot.getAttribute("width")), H = Number(plot.getAttribute("height"));
    var t0 = chart.pts[0][0], span = Math.max(chart.pts[chart.pts.length - 1][0] - t0, 1);
    function line(i) {
      var out = [];
      chart.pts.forEach(function (p, k) {
        var x = (L + (p[0] - t0) / span * W).toFixed(1);
        if (k > 0) out.push(x + "," + (T + H - chart.pts[k - 1][i] / chart.total * H).toFixed(1));
        out.push(x + "," + (T + H - p[i] / chart.total * H).toFixed(1));
      });
      return out.join(" ");
    }
    svg.getElementById("line-sent").setAttribute("points", line(1));
    svg.getElementById("line-failed").setAttribute("points", line(2));
  }
  var statusEl = document.getElementById("rel-status");
  function set(id, v) { var el = document.getElementById(id); if (el) el.textContent = String(v); }
  src.addEventListener("counts", function (ev) {
    var d = JSON.parse(ev.data);
    var byCh = (d.counts && d.counts.by_channel) || {};
    var missing = false;
    Object.keys(byCh).forEach(function (ch) {
      var c = byCh[ch];
      var bar = document.getElementById("bar-" + ch);
      if (!bar) { missing = true; return; }
      Object.keys(c).forEach(function (st) { set("n-" + ch + "-" + st, c[st]); });
      bar.max = c.total || 0;
      bar.value = (c.total || 0) - (c.queued || 0) - (c.sending || 0) - (c.retrying || 0);
    });
    if (statusEl && d.status) statusEl.dataset.status = d.status;
    chartAdd(byCh);
    if (missing) location.reload();
  });
  src.addEventListener("failure", function () { box.dataset.failures = "1"; });
  src.addEventListener("final", function () { src.close(); location.reload(); });
  src.onerror = function () { if (src.readyState === EventSource.CLOSED) setTimeout(function () { location.reload(); }, 5000); };
})();
