// Live updates of the watch page from the release's event stream. The page
// is whole without it: a reload shows the same counts.
(function () {
  "use strict";
  var box = document.getElementById("watch");
  if (!box || !window.EventSource || box.dataset.final === "true") return;
  var src = new EventSource(box.dataset.events);
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
    if (missing) location.reload();
  });
  src.addEventListener("failure", function () { box.dataset.failures = "1"; });
  src.addEventListener("final", function () { src.close(); location.reload(); });
  src.onerror = function () { if (src.readyState === EventSource.CLOSED) setTimeout(function () { location.reload(); }, 5000); };
})();
