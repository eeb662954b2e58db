// Every text field with a limit (a maxlength from core/limits.py) gets a live count under it. The hard maxlength
// is lifted once this runs: the browser would otherwise cut a long paste short without a word. Over the limit,
// the count says by how much, and the server refuses the field with an error that keeps the text.
(function () {
  function wire(root) {
    root.querySelectorAll("textarea[maxlength], input[maxlength]").forEach(function (field) {
      if (field.dataset.limit) return;
      var limit = Number(field.getAttribute("maxlength"));
      field.dataset.limit = String(limit);
      field.removeAttribute("maxlength");
      var count = document.createElement("small");
      count.className = "char-count";
      count.setAttribute("aria-live", "polite");
      field.insertAdjacentElement("afterend", count);
      function update() {
        var n = field.value.length;
        var text = n.toLocaleString() + " / " + limit.toLocaleString() + " characters";
        if (n > limit) text += ": " + (n - limit).toLocaleString() + " too many, shorten it before saving";
        count.textContent = text;
        count.classList.toggle("over", n > limit);
      }
      field.addEventListener("input", update);
      update();
    });
  }
  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:load", function (event) { wire(event.target); });
})();
