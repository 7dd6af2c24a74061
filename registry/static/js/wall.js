// The camera wall: every camera's state and why, snapshot, analysed fps and last event,
// kept current by the registry's Server-Sent Events (/stream). EventSource cannot send
// headers, so the token goes as ?access_token=.
import { getToken, imageUrl } from "./api.js";
import { $, esc } from "./dom.js";
import { reasonText, t, timeHtml } from "./i18n.js";

const cams = new Map();
let source = null;
const listeners = [];

/** Called with (camera_id, state) on every state the feed reports. */
export const onCameraState = (fn) => listeners.push(fn);

function card(c) {
  const ev = c.last_event;
  return `<div class="cam-head"><b>${esc(c.camera_id)}</b> <span class="h-${esc(c.state)} state">${esc(t(c.state))}</span></div>
    <img alt="" data-snap="${esc(c.camera_id)}" hidden>
    <div class="why">${c.reasons.map((r) => esc(reasonText(r))).join("; ")}</div>
    <div><span class="muted">${esc(t("fps"))}</span> <span class="fps">${c.fps == null ? "—" : esc(c.fps.toFixed(1))}</span></div>
    <div><span class="muted">${esc(t("lastEvent"))}</span> ${ev ? `${esc(ev.type)} ${timeHtml(ev.time)}` : "—"}</div>`;
}

const snaps = new Map(); // camera id -> object URL of its latest snapshot (or a pending fetch)

function snapshot(c, el) {
  const img = el.querySelector("img");
  const shown = (url) => { if (url) { img.src = url; img.hidden = false; } };
  // Only cameras whose worker reports frames have a stream worth grabbing from.
  if (!snaps.has(c.camera_id) && c.state !== "offline") {
    snaps.set(c.camera_id, imageUrl(c.snapshot_url).catch(() => null)); // no frame: the state says why
  }
  snaps.get(c.camera_id)?.then(shown);
}

function show(c) {
  cams.set(c.camera_id, c);
  let el = $("wall").querySelector(`[data-camera="${CSS.escape(c.camera_id)}"]`);
  if (!el) {
    el = document.createElement("div");
    el.dataset.camera = c.camera_id;
    $("wall").append(el);
  }
  el.className = `cam ${c.state}`;
  el.innerHTML = card(c);
  snapshot(c, el);
  listeners.forEach((fn) => fn(c.camera_id, c.state));
}

export function renderWall() { cams.forEach((c) => show(c)); }

export function startWall() {
  if (source) source.close();
  source = new EventSource(`/stream?access_token=${encodeURIComponent(getToken())}`);
  source.addEventListener("snapshot", (e) => {
    $("wall").innerHTML = "";
    cams.clear();
    JSON.parse(e.data).cameras.forEach(show);
    $("wall-live").textContent = `· ${t("live")}`;
  });
  source.addEventListener("camera", (e) => show(JSON.parse(e.data)));
  source.onerror = () => { $("wall-live").textContent = ""; };
}
