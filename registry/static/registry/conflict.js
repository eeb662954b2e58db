// After a refused card save: typing in a section's merge box chooses "Merge" for that section.
(function () {
  document.querySelectorAll("fieldset.conflict").forEach(function (fieldset) {
    var box = fieldset.querySelector("textarea");
    var merge = fieldset.querySelector('input[type=radio][value="merged"]');
    if (box && merge) {
      box.addEventListener("input", function () { merge.checked = true; });
    }
  });
})();
