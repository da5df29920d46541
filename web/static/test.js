// The test result page updates itself while a test delivery is pending:
// it asks for the page again every two seconds and puts its results in
// place, and stops once every delivery has its result. Without
// JavaScript, a refresh tag reloads the page instead (test.html).
(function () {
  "use strict";
  var box = document.getElementById("test");
  if (!box || box.dataset.waiting !== "true" || !window.fetch || !window.DOMParser) return;
  var delay = 2000, tries = 0;
  function poll() {
    tries++;
    fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (res) {
        if (!res.ok) throw new Error(String(res.status));
        return res.text();
      })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("test");
        if (!next) throw new Error("no results in the page");
        box.innerHTML = next.innerHTML;
        box.dataset.waiting = next.dataset.waiting;
        delay = 2000;
        if (next.dataset.waiting === "true") setTimeout(poll, delay);
      })
      .catch(function () {
        // The server is away for a moment: ask again, less often.
        delay = Math.min(delay * 2, 30000);
        if (tries < 500) setTimeout(poll, delay);
      });
  }
  setTimeout(poll, delay);
})();
