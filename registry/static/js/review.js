// The review queue: confirm or reject each violation and incident with a reason, by mouse
// or keyboard (j/k move, c confirm, r reject), filtered by camera, type, state and time;
// the filtered events as CSV.
import { api, download } from "./api.js";
import { $, esc, say } from "./dom.js";
import { t, timeHtml, zonedToIso } from "./i18n.js";
import { EVENT_TYPES } from "./overview.js";

const STATES = ["pending", "confirmed", "rejected", "withdrawn"];
const CASE_TEXT = { none: "caseNone", held: "caseHeld", published: "casePublished", delivered: "caseDelivered", withdrawn: "caseWithdrawn" };
let items = [];
let selected = 0;

export function initReview() {
  $("review-queue").innerHTML = `<h2><span data-i18n="reviewTitle"></span> <span class="muted small" data-i18n="reviewKeys"></span></h2>
    <div class="filters">
      <input id="r-camera" data-i18n-ph="cameraId" size="20">
      <select id="r-type"><option value="" data-i18n="allTypes"></option>${EVENT_TYPES.map((x) => `<option>${x}</option>`).join("")}</select>
      <select id="r-state"><option value="" data-i18n="allStates"></option>${STATES.map((s) => `<option value="${s}" data-i18n="${s}"></option>`).join("")}</select>
      <label><span data-i18n="since"></span> <input id="r-since" type="datetime-local"></label>
      <label><span data-i18n="until"></span> <input id="r-until" type="datetime-local"></label>
      <button id="r-refresh" data-i18n="refresh"></button>
      <button id="r-csv" data-i18n="csv"></button>
    </div>
    <div class="filters"><input id="review-reason" data-i18n-ph="reason" size="60" maxlength="500"><span id="r-msg" class="muted"></span></div>
    <table><thead><tr><th data-i18n="time"></th><th data-i18n="camera"></th><th data-i18n="type"></th><th data-i18n="state"></th><th data-i18n="case"></th><th data-i18n="reason"></th><th></th></tr></thead><tbody id="review-rows"></tbody></table>`;
  ["r-type", "r-state", "r-since", "r-until"].forEach((id) => $(id).addEventListener("change", loadReview));
  $("r-refresh").addEventListener("click", loadReview);
  $("r-csv").addEventListener("click", () => download(`/events.csv?${filters()}`, "events.csv").catch((e) => say($("r-msg"), e.message, true)));
  document.addEventListener("keydown", keys);
}

function filters() {
  const q = new URLSearchParams();
  if ($("r-camera").value.trim()) q.set("camera_id", $("r-camera").value.trim());
  if ($("r-type").value) q.set("type", $("r-type").value);
  if ($("r-state").value) q.set("state", $("r-state").value);
  if ($("r-since").value) q.set("since", zonedToIso($("r-since").value));
  if ($("r-until").value) q.set("until", zonedToIso($("r-until").value));
  return q;
}

function row(it, i) {
  return `<tr class="rv${i === selected ? " selected" : ""}" data-event-id="${esc(it.event_id)}" data-index="${i}">
    <td>${timeHtml(it.time)}</td><td>${esc(it.camera_id)}</td><td><span class="pill ${esc(it.category)}">${esc(it.type)}</span></td>
    <td class="state" data-state="${esc(it.state)}">${esc(t(it.state))}</td><td class="case" data-case="${esc(it.case)}">${esc(t(CASE_TEXT[it.case]))}</td>
    <td class="muted">${esc(it.reason || "")}</td>
    <td><button data-act="confirm">${esc(t("confirm"))}</button> <button data-act="reject">${esc(t("reject"))}</button></td></tr>`;
}

export function renderReview() {
  $("review-rows").innerHTML = items.map(row).join("") || `<tr><td colspan="7" class="muted">${esc(t("noReview"))}</td></tr>`;
  $("review-rows").querySelectorAll("tr.rv").forEach((tr) => {
    const i = Number(tr.dataset.index);
    tr.addEventListener("click", (e) => {
      select(i);
      if (e.target.dataset.act) decide(e.target.dataset.act);
    });
  });
}

let loads = 0;

export async function loadReview() {
  const mine = ++loads;
  try {
    const page = await api(`/review?limit=200&${filters()}`);
    if (mine !== loads) return; // filters changed meanwhile: a newer answer is on its way
    items = page.items;
    selected = Math.min(selected, Math.max(items.length - 1, 0));
    renderReview();
  } catch (e) { say($("r-msg"), e.message, true); }
}

function select(i) {
  if (!items.length) return;
  selected = Math.max(0, Math.min(items.length - 1, i));
  $("review-rows").querySelectorAll("tr.rv").forEach((tr) => tr.classList.toggle("selected", Number(tr.dataset.index) === selected));
  $("review-rows").querySelector("tr.selected")?.scrollIntoView({ block: "nearest" });
}

async function decide(decision) {
  const it = items[selected];
  const reason = $("review-reason").value.trim();
  if (!it) return;
  if (!reason) { say($("r-msg"), t("reasonNeeded"), true); $("review-reason").focus(); return; }
  try {
    items[selected] = await api(`/review/${encodeURIComponent(it.event_id)}`, { method: "POST", json: { decision, reason } });
    say($("r-msg"), "");
    renderReview();
    select(selected + 1); // on to the next one
  } catch (e) { say($("r-msg"), e.message, true); }
}

function keys(e) {
  if ($("tab-review").hidden || e.ctrlKey || e.metaKey || e.altKey) return;
  if (["INPUT", "SELECT", "TEXTAREA"].includes(e.target.tagName)) {
    if (e.key === "Escape") e.target.blur(); // back to the list's keys
    return;
  }
  const act = { j: () => select(selected + 1), k: () => select(selected - 1), c: () => decide("confirm"), r: () => decide("reject") }[e.key];
  if (act) { e.preventDefault(); act(); }
}
