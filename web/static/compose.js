// The compose page, enhanced: a live preview of each version's Markdown,
// the recipients each audience adds as boxes are ticked, and the draft
// saved as it is written: to the server (PATCH of the version the page
// holds: a newer one saved by someone else is shown, never overwritten)
// and to this browser's localStorage, brought back if the tab was closed
// before the server had it. A draft is saved on the server from its title
// on: its text and audience may come later. Without this script the
// form's buttons do the same on the server.
(function () {
  "use strict";
  var form = document.getElementById("compose");
  if (!form || !window.fetch || !window.FormData) return;
  var t = form.dataset;
  var status = document.getElementById("autosave");
  var csrf = form.elements.csrf.value;
  var conflict = false, dirty = false, saving = false, timer = 0;
  var waiting = null; // a button pressed while an autosave was under way

  function fmt(s, args) { var i = 0; return s.replace(/%[ds]/g, function () { return String(args[i++]); }); }
  function say(msg) { if (status) status.textContent = msg; }
  function version() { return form.elements.version ? form.elements.version.value : ""; }
  function storeKey() { return "pregon-draft:" + (form.dataset.id || "new"); }

  // The fields a person writes or ticks (not the file, the token, the version).
  function fields() {
    var out = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.type === "hidden" || el.type === "submit" || el.tagName === "BUTTON") return;
      out.push(el);
    });
    return out;
  }
  function snapshot() {
    var d = {};
    fields().forEach(function (el) {
      if (el.type === "checkbox") d[el.name + "=" + el.value] = el.checked;
      else d[el.name] = el.value;
    });
    return d;
  }
  function apply(d) {
    fields().forEach(function (el) {
      if (el.type === "checkbox") { var k = el.name + "=" + el.value; if (k in d) el.checked = d[k]; }
      else if (el.name in d) el.value = d[el.name];
    });
  }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
  function keep() {
    try { localStorage.setItem(storeKey(), JSON.stringify({ base: version(), dirty: dirty, at: Date.now(), fields: snapshot() })); } catch (e) { /* full or off */ }
  }
  function load() { try { return JSON.parse(localStorage.getItem(storeKey()) || "null"); } catch (e) { return null; } }

  // Bring back what this browser kept and the server did not get.
  var kept = load(), box = document.getElementById("restored");
  if (kept && kept.dirty && kept.fields && !same(kept.fields, snapshot())) {
    var text = document.getElementById("restored-text");
    if (kept.base === version()) {
      apply(kept.fields);
      dirty = true;
      text.textContent = t.tRestored;
      schedule(500);
    } else {
      text.textContent = t.tOlder;
      var again = document.getElementById("restore-local");
      again.hidden = false;
      again.addEventListener("click", function () { apply(kept.fields); dirty = true; box.hidden = true; refresh(); schedule(100); });
    }
    box.hidden = false;
    document.getElementById("discard-local").addEventListener("click", function () {
      try { localStorage.removeItem(storeKey()); } catch (e) { /* off */ }
      box.hidden = true;
      if (kept.base === version()) location.reload();
    });
  }

  function schedule(ms) { clearTimeout(timer); timer = setTimeout(save, ms); }

  function body() {
    var fd = new FormData(form);
    fd.delete("file");
    fd.delete("remove");
    fd.delete("action");
    return fd;
  }

  function save() {
    if (!dirty || conflict) return;
    if (saving) { schedule(1000); return; }
    // A draft needs a title and nothing else (not its text, nor its
    // audience): until it has one, only this browser keeps it.
    if (!form.dataset.id && !form.elements.title.value.trim()) { say(t.tNeedsTitle); return; }
    saving = true;
    var sent = JSON.stringify(snapshot());
    say(t.tSaving);
    fetch(form.dataset.autosave, { method: "POST", body: body(), credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (res) { return res.json().then(function (j) { return { ok: res.ok, status: res.status, j: j }; }); })
      .then(function (a) {
        saving = false;
        setTimeout(resubmit, 0);
        if (!a.ok) {
          if (a.status === 409) conflict = true;
          say(fmt(t.tUnsaved, [a.j.detail || a.status]));
          if (a.status === 409 && status) status.setAttribute("role", "alert");
          return;
        }
        if (!form.dataset.id) { // the first save made the draft: this page edits it now
          try { localStorage.removeItem(storeKey()); } catch (e) { /* off */ }
          form.dataset.id = a.j.id;
          form.dataset.autosave = "/app/releases/" + encodeURIComponent(a.j.id) + "/autosave";
          form.action = a.j.edit;
          var v = document.createElement("input");
          v.type = "hidden"; v.name = "version";
          form.appendChild(v);
          history.replaceState(null, "", a.j.edit);
        }
        form.elements.version.value = String(a.j.version);
        dirty = JSON.stringify(snapshot()) !== sent;
        keep();
        say(fmt(t.tSaved, [new Date().toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" }), a.j.version]));
        if (dirty) schedule(2000);
      })
      .catch(function () { saving = false; say(t.tOffline); schedule(15000); resubmit(); });
  }

  // Live preview of a version (debounced), rendered by the server with the
  // pipeline of the emails.
  var previews = Array.prototype.slice.call(form.querySelectorAll(".mdpreview"));
  var ptimers = [];
  function preview(sec) {
    var el = function (n) { return form.elements[sec.dataset[n]]; };
    var fd = new FormData();
    fd.append("csrf", csrf);
    fd.append("language", el("lang").value);
    fd.append("title", el("title").value);
    fd.append("summary", el("summary").value);
    fd.append("body", el("body").value);
    var out = sec.querySelector(".mdout");
    if (!el("title").value && !el("body").value) { out.textContent = ""; return; }
    sec.setAttribute("aria-busy", "true");
    fetch("/app/markdown", { method: "POST", body: fd, credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.text() : Promise.reject(res.status); })
      .then(function (html) { out.innerHTML = html; sec.removeAttribute("aria-busy"); }) // sanitised by the server (bluemonday)
      .catch(function () { sec.removeAttribute("aria-busy"); });
  }
  function refresh() { previews.forEach(preview); counts(); }

  // What each audience ticked adds, and the total.
  var ctimer = 0;
  function counts() {
    var q = new URLSearchParams();
    ["lists", "early_lists", "channels"].forEach(function (n) {
      form.querySelectorAll('input[name="' + n + '"]:checked').forEach(function (el) { q.append(n, el.value); });
    });
    var f = form.querySelector('input[name="followers"]:checked');
    if (f) q.append("followers", "on");
    fetch("/app/audiences/count?" + q.toString(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (res) { return res.ok ? res.json() : Promise.reject(res.status); })
      .then(function (c) {
        var seen = {};
        (c.items || []).forEach(function (it) {
          var key = it.audience + ":" + (it.id || "");
          seen[key] = true;
          var span = form.querySelector('[data-count="' + key + '"]');
          if (span) span.textContent = it.unavailable ? t.tInactive : fmt(t.tAdds, [it.adds]);
        });
        form.querySelectorAll("[data-count]").forEach(function (span) { if (!seen[span.dataset.count]) span.textContent = ""; });
        document.getElementById("audience-total").textContent = fmt(t.tTotal, [c.total, c.emails, c.channels, c.followers]);
      })
      .catch(function () { /* the counts stay as they were */ });
  }

  form.addEventListener("input", function (ev) {
    if (ev.target.type === "file") return;
    dirty = true;
    keep();
    schedule(2000);
    var sec = ev.target.closest("fieldset") && ev.target.closest("fieldset").querySelector(".mdpreview");
    // One timer per version: typing in the translation right after the
    // original must not cancel the original's preview.
    if (sec) { var i = previews.indexOf(sec); clearTimeout(ptimers[i]); ptimers[i] = setTimeout(function () { preview(sec); }, 300); }
  });
  form.addEventListener("change", function (ev) {
    if (ev.target.type === "file") return;
    dirty = true;
    keep();
    schedule(2000);
    if (ev.target.type === "checkbox") { clearTimeout(ctimer); ctimer = setTimeout(counts, 200); }
  });
  // Saving with a button: this browser's copy is not needed once sent. A
  // button pressed while an autosave is under way waits for it, so that it
  // posts to the draft the autosave made, with the version it saved.
  form.addEventListener("submit", function (ev) {
    if (saving) { ev.preventDefault(); waiting = ev.submitter || null; return; }
    clearTimeout(timer);
    dirty = false;
    keep();
  });
  function resubmit() {
    if (!waiting) return;
    var b = waiting;
    waiting = null;
    if (form.requestSubmit) form.requestSubmit(b); else b.click();
  }
  // Leaving: one last save the server may take (a newer version refuses it).
  window.addEventListener("pagehide", function () {
    keep();
    if (dirty && !conflict && form.dataset.id && navigator.sendBeacon) navigator.sendBeacon(form.dataset.autosave, body());
  });
  setInterval(function () { if (dirty) save(); }, 20000);
  refresh();
})();
