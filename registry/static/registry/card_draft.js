// The card editor keeps what is typed in this browser (localStorage) until it is saved, so closing the tab loses
// nothing; on the next visit it offers to restore the draft. Cleared when the form is submitted.
"use strict";

(function () {
  const form = document.querySelector("[data-draft-key]");
  if (!form) return;
  const key = form.dataset.draftKey;
  // The prose and the boxes beside it (facts, the assumption and the user being added); not the lists to choose from.
  const fields = () => [...form.querySelectorAll("textarea, input[type=text], input[type=date], input[type=number]")];
  const notice = form.querySelector("[data-draft-notice]");

  function read() {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); } catch (error) { return null; }
  }

  const draft = read();
  if (draft && fields().some((field) => field.name in draft && draft[field.name] !== field.value) && notice) {
    notice.hidden = false;
  }
  form.addEventListener("click", (event) => {
    if (event.target.closest("[data-draft-restore]")) {
      const saved = read() || {};
      fields().forEach((field) => {
        if (field.name in saved) {
          field.value = saved[field.name];
          field.dispatchEvent(new Event("input", { bubbles: true }));
        }
      });
      notice.hidden = true;
    } else if (event.target.closest("[data-draft-discard]")) {
      window.localStorage.removeItem(key);
      notice.hidden = true;
    }
  });
  form.addEventListener("input", () => {
    const values = {};
    fields().forEach((field) => { values[field.name] = field.value; });
    window.localStorage.setItem(key, JSON.stringify(values));
  });
  // Once saving, the meter waits no more: a meter request sent while the page leaves would only be cut off.
  let submitting = false;
  form.addEventListener("submit", () => {
    submitting = true;
    window.localStorage.removeItem(key);
  });
  form.addEventListener("htmx:beforeRequest", (event) => {
    if (submitting && event.detail.elt === form) event.preventDefault();
  });
})();
