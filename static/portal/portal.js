// Small behaviours the templates ask for with data attributes, so that no page needs an inline script or an
// onclick/onchange attribute: the Content-Security-Policy (script-src 'self') would refuse to run those.
//   <select data-autosubmit>   submits its form when the choice changes
//   <a href="#" data-print>    prints the page
//   [data-testid=error-summary] takes the focus when a refused form comes back
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

// A refused form: the summary of its problems takes the focus, so a screen reader reads it first and a keyboard
// user tabs straight to the links that lead to each field.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-testid=error-summary]");
  if (summary) summary.focus();
});
