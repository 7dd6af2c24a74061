// The few DOM helpers every part of the page uses.

export const $ = (id) => document.getElementById(id);

export const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

/** Show a message in an element; `err` marks it as an error. */
export function say(el, text, err = false) {
  el.textContent = text;
  el.className = err ? "err" : "muted";
}
