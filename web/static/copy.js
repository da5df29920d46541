// The tokens page's "Copy" button: the field is selectable without it.
(function () {
  "use strict";
  var b = document.getElementById("copy");
  if (!b || !navigator.clipboard) return;
  var field = document.getElementById(b.dataset.copy);
  b.hidden = false;
  b.addEventListener("click", function () {
    navigator.clipboard.writeText(field.value).then(function () { b.textContent = b.dataset.done || b.textContent; });
  });
  field.addEventListener("focus", function () { field.select(); });
})();
