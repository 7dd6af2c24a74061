// The first page: camera roster and counts, the event list with its detail, and cases.
import { api, download } from "./api.js";
import { $, esc, say } from "./dom.js";
import { t, timeHtml } from "./i18n.js";

export const EVENT_TYPES = ["red_light", "stop_line", "speeding", "wrong_way", "solid_line", "bus_lane", "blocked_junction", "failure_to_yield", "no_stopping", "stopped_vehicle", "pedestrian_on_roadway", "congestion", "camera_tamper", "stream_lost", "stream_restored"];

export function initOverview() {
  EVENT_TYPES.forEach((type) => $("f-type").insertAdjacentHTML("beforeend", `<option>${type}</option>`));
  // The shown filters' violations and incidents, as the review queue's CSV has them.
  $("csv").addEventListener("click", () => download(`/events.csv?${filters()}`, "events.csv").catch((e) => say($("msg"), e.message, true)));
}

function filters() {
  const q = new URLSearchParams();
  if ($("f-type").value) q.set("type", $("f-type").value);
  if ($("f-camera").value.trim()) q.set("camera_id", $("f-camera").value.trim());
  return q;
}

/** Counts and the roster; returns the cameras for the other views. */
export async function loadCameras() {
  const cams = (await api("/cameras?limit=500")).items;
  $("n-cams").textContent = cams.filter((c) => c.kind === "street_camera").length;
  $("n-enf").textContent = cams.filter((c) => c.kind === "enforcement_unit").length;
  $("n-lapsed").textContent = cams.filter((c) => c.verification_lapsed).length;
  $("cams").classList.remove("muted");
  $("cams").removeAttribute("data-i18n");
  $("cams").innerHTML = cams.map((c) => `<div><span>${esc(c.id)}${c.verification_lapsed ? ` <span class="pill violation">${esc(t("lapsed"))}</span>` : ""}</span><span class="muted">${esc(c.district)} · ${esc(c.status)} · <span class="h-${esc(c.health)}">${esc(t(c.health))}</span></span></div>`).join("");
  return cams;
}

export async function loadEvents() {
  const q = filters();
  q.set("limit", "200");
  const page = await api(`/events?${q}`);
  $("n-events").textContent = page.total;
  $("events").innerHTML = page.items.map((e) => `<tr class="ev" data-id="${esc(e.id)}"><td>${timeHtml(e.time)}</td><td>${esc(e.camera_id)}</td><td><span class="pill ${esc(e.category)}">${esc(e.type)}</span></td><td>${esc(e.gost_code || "")}</td><td>${(e.confidence * 100).toFixed(0)}%</td></tr>`).join("") || `<tr><td colspan="5" class="muted">${esc(t("noEvents"))}</td></tr>`;
  document.querySelectorAll("tr.ev").forEach((tr) => tr.addEventListener("click", () => showEvent(tr.dataset.id)));
}

export async function loadCases() {
  let page;
  try { page = await api("/cases?limit=100"); } catch { return; } // not every role may see cases
  $("n-cases").textContent = page.total;
  $("cases").innerHTML = page.items.map((c) => `<tr><td>${timeHtml(c.created_at)}</td><td>${esc(c.camera_id)}</td><td class="muted">${esc(c.event_id.slice(0, 8))}…</td><td>${c.enforceable ? `<span class="ok">${esc(t("yes"))}</span>` : `<span class="err">${esc(t("no"))}</span> <span class="muted">${esc(c.reason)}</span>`}</td><td>${c.delivered_at ? timeHtml(c.delivered_at) : '<span class="muted">—</span>'}</td></tr>`).join("") || `<tr><td colspan="5" class="muted">${esc(t("noCases"))}</td></tr>`;
}

async function verify(id) {
  const out = $("verify-out");
  out.textContent = t("verifying"); out.className = "muted";
  try {
    const r = await api(`/events/${encodeURIComponent(id)}/verify`);
    out.className = r.ok ? "ok" : "err";
    out.innerHTML = r.ok ? `✔ ${r.checked.length} · ${esc(r.key_id.slice(0, 16))}…` : `✘ ${r.problems.map(esc).join("<br>")}`;
  } catch (e) { out.className = "err"; out.textContent = e.message; }
}

async function showEvent(id) {
  const d = await api(`/events/${encodeURIComponent(id)}`);
  const img = (role) => d.evidence.find((l) => l.role === role && l.url);
  const ov = img("overview"), cr = img("crop"), pl = img("plate"), clip = img("clip");
  const others = ["before", "after"].map(img).filter(Boolean);
  const m = d.event.data.measured, p = d.event.data.params;
  $("detail").hidden = false;
  $("detail").innerHTML = `<h2>${esc(d.type)} · ${esc(d.camera_id)}</h2>
    <div class="imgs">${ov ? `<img alt="overview" src="${esc(ov.url)}">` : `<p class="muted">${esc(t("imagesRoles"))}</p>`}<div>${cr ? `<img alt="vehicle close-up" src="${esc(cr.url)}">` : ""}${pl ? `<img alt="plate" src="${esc(pl.url)}">` : ""}${m.plate ? `<p>${esc(t("plate"))} <b>${esc(m.plate)}</b></p>` : ""}</div></div>
    ${others.length ? `<div class="frames">${others.map((o) => `<img alt="${esc(o.role)}" title="${esc(o.role)}" src="${esc(o.url)}">`).join("")}</div>` : ""}
    ${clip ? `<video controls muted preload="metadata" src="${esc(clip.url)}"></video>` : ""}
    ${ov ? `<p><button id="verify-btn">${esc(t("verify"))}</button> <span id="verify-out" class="muted"></span></p>` : ""}
    <dl><dt>${esc(t("eventId"))}</dt><dd>${esc(d.id)}</dd><dt>${esc(t("time"))}</dt><dd>${timeHtml(d.time)}</dd><dt>${esc(t("gost"))}</dt><dd>${esc(d.gost_code || "—")}</dd>
    <dt>${esc(t("track"))}</dt><dd>${esc(d.event.data.track_id)} (${esc(d.event.data.object_class)})</dd><dt>${esc(t("sceneVersion"))}</dt><dd>${esc(d.scene_version)}</dd>
    <dt>${esc(t("measured"))}</dt><dd>${esc(JSON.stringify(m))}</dd><dt>${esc(t("params"))}</dt><dd>${esc(JSON.stringify(p))}</dd>
    <dt>${esc(t("model"))}</dt><dd>${esc(d.event.data.detector.model_name)} · sha256 ${esc(d.event.data.detector.model_sha256.slice(0, 16))}…</dd>
    <dt>${esc(t("evidence"))}</dt><dd>${d.evidence.map((l) => `${esc(l.role)}: ${esc(l.sha256.slice(0, 16))}… (${l.size} B)`).join("<br>")}</dd></dl>`;
  if (ov) $("verify-btn").addEventListener("click", () => verify(id));
}
