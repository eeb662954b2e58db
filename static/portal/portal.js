// Small behaviours the templates ask for with data attributes, so that no page needs an inline script or an
// onclick/onchange attribute: the Content-Security-Policy (script-src 'self') would refuse to run those.
//   <select data-autosubmit>   submits its form when the choice changes
//   <a href="#" data-print>    prints the page
"use strict";

document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-autosubmit]");
  if (field && field.form) {
    field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
  }
});

document.addEventListener("click", (event) => {
  const trigger = event.target.closest("[data-print]");
  if (trigger) {
    event.preventDefault();
    window.print();
  }
});
