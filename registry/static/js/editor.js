// The scene editor: a reference frame (recording, upload or live), the scene drawn over it
// with the mouse, the registry's validation after every change, preview on a recording,
// save as a new version with its frame, version history and a visual diff.
import { api, imageUrl } from "./api.js";
import { $, esc, say } from "./dom.js";
import { language, t, timeHtml } from "./i18n.js";
import { drawScene, drawDiff } from "./scene_draw.js";

const ZONE_KINDS = ["carriageway", "intersection", "lane", "crosswalk", "no_stopping", "no_parking", "bus_lane", "junction_box", "parking", "bus_stop"];
const LINE_TOOLS = { stop_line: "stopLine", solid_line: "solidLine", speed_start: "speedStart", speed_end: "speedEnd" };
const TOOLS = ["select", ...Object.keys(LINE_TOOLS), "signal", "zone", "lane_dir", "calib"];
const TOOL_TEXT = { select: "select", ...LINE_TOOLS, signal: "signal", zone: "zone", lane_dir: "laneDir", calib: "calib" };

const ed = {
  camera: null, frame: null, image: null, scene: null, tool: "select",
  pending: [], // points of the geometry being drawn
  awaitingApproach: null, // a stop line just drawn: the next click is its approach point
  selected: null, // {list: "zones"|"lines"|"signals"|"calibration", index}
  drag: null, problems: [], hints: null, validating: 0,
};

const blank = (w, h) => ({ frame_width: w, frame_height: h, zones: [], lines: [], signals: [], calibration: null });

export function initEditor() {
  $("scene-editor").innerHTML = `<h2 data-i18n="editorTitle"></h2>
  <div class="filters">
    <label><span data-i18n="pickCamera"></span> <select id="ed-camera"></select></label>
    <button id="ed-load" data-i18n="loadCurrent"></button>
    <span class="muted">|</span>
    <label><span data-i18n="recording"></span> <select id="ed-recording"></select></label>
    <label><span data-i18n="atSecond"></span> <input id="ed-t" type="number" min="0" step="0.5" value="0" style="width:70px"></label>
    <button id="ed-take" data-i18n="takeFrame"></button>
    <label class="upload"><span data-i18n="upload"></span> <input id="ed-upload" type="file" accept="image/jpeg,image/png"></label>
    <button id="ed-live" data-i18n="liveFrame"></button>
    <span id="ed-msg" class="muted"></span>
  </div>
  <div class="editor">
    <div>
      <div class="filters" id="ed-tools">${TOOLS.map((x) => `<label><input type="radio" name="ed-tool" value="${x}"${x === "select" ? " checked" : ""}> <span data-i18n="${TOOL_TEXT[x]}"></span></label>`).join("")}
        <select id="ed-zone-kind">${ZONE_KINDS.map((k) => `<option value="${k}" data-i18n="zk_${k}"></option>`).join("")}</select>
        <button id="ed-close-zone" data-i18n="finishZone"></button>
      </div>
      <canvas id="ed-canvas" width="640" height="360"></canvas>
      <p class="muted small" data-i18n="drawHint"></p>
      <div id="ed-test-point" class="hint"></div>
      <h3 data-i18n="preview"></h3>
      <div class="filters"><button id="ed-preview" data-i18n="runPreview"></button><span id="ed-preview-state" class="muted"></span></div>
      <div id="ed-preview-events" class="preview-events"></div>
    </div>
    <div class="side">
      <div id="ed-hint" class="hint"></div>
      <div><h3 data-i18n="validation"></h3><ul id="ed-problems"></ul></div>
      <div><ul id="ed-items" class="items"></ul></div>
      <div id="ed-props"></div>
      <div><button id="ed-save" data-i18n="save"></button> <button id="ed-blank" data-i18n="blank"></button> <span id="ed-saved" class="muted"></span></div>
      <div><h3 data-i18n="history"></h3><ul id="ed-history"></ul>
        <div class="filters"><select id="ed-from"></select>→<select id="ed-to"></select><button id="ed-diff" data-i18n="diff"></button></div>
        <div id="ed-diff-out" class="diff"></div><canvas id="ed-diff-canvas" width="640" height="360" hidden></canvas>
      </div>
    </div>
  </div>`;
  $("ed-camera").addEventListener("change", () => pickCamera($("ed-camera").value));
  $("ed-load").addEventListener("click", loadCurrent);
  $("ed-take").addEventListener("click", () => newFrame({ json: { source: "recording", name: $("ed-recording").value, t: Number($("ed-t").value) || 0 } }));
  $("ed-live").addEventListener("click", () => newFrame({ json: { source: "live" } }));
  $("ed-upload").addEventListener("change", () => {
    const file = $("ed-upload").files[0];
    if (!file) return;
    const body = new FormData();
    body.append("file", file);
    newFrame({ body });
  });
  document.querySelectorAll('input[name="ed-tool"]').forEach((r) => r.addEventListener("change", () => setTool(r.value)));
  $("ed-close-zone").addEventListener("click", closeZone);
  $("ed-zone-kind").addEventListener("change", hint);
  $("ed-save").addEventListener("click", save);
  $("ed-blank").addEventListener("click", () => { if (ed.frame) { ed.scene = blank(ed.frame.width, ed.frame.height); changed(); } });
  $("ed-diff").addEventListener("click", diff);
  $("ed-preview").addEventListener("click", preview);
  const canvas = $("ed-canvas");
  canvas.addEventListener("mousedown", down);
  canvas.addEventListener("mousemove", move);
  window.addEventListener("mouseup", up);
}

/** Shown: fill the camera and recording lists once signed in. */
export async function showEditor(cameras) {
  if (!$("ed-camera").options.length && cameras.length) {
    $("ed-camera").innerHTML = cameras.map((c) => `<option value="${esc(c.id)}">${esc(c.id)} · ${esc(c.name)}</option>`).join("");
    pickCamera(cameras[0].id);
  }
  if (!$("ed-recording").options.length) {
    try {
      const recs = await api("/recordings");
      $("ed-recording").innerHTML = recs.map((r) => `<option value="${esc(r.name)}">${esc(r.name)} (${r.width}×${r.height}, ${r.duration_s ?? "?"} s)</option>`).join("");
    } catch (e) { say($("ed-msg"), e.message, true); }
  }
  if (!ed.hints) ed.hints = await api("/scene-hints").catch(() => null);
  hint();
}

/** Open the editor on one camera (a click on its map marker). */
export function editCamera(id) {
  if ([...$("ed-camera").options].some((o) => o.value === id)) pickCamera(id);
}

function pickCamera(id) {
  ed.camera = id;
  ed.frame = null; ed.image = null; ed.scene = null; ed.pending = []; ed.selected = null;
  $("ed-camera").value = id;
  $("ed-preview-events").innerHTML = "";
  render();
  history();
}

// ---- reference frame ------------------------------------------------------------------

async function useFrame(frame) {
  ed.frame = frame;
  const img = new Image();
  img.src = await imageUrl(frame.url);
  await img.decode();
  ed.image = img;
  if (!ed.scene || ed.scene.frame_width !== frame.width || ed.scene.frame_height !== frame.height) {
    ed.scene = blank(frame.width, frame.height);
  }
  for (const c of [$("ed-canvas"), $("ed-diff-canvas")]) { c.width = frame.width; c.height = frame.height; }
  say($("ed-msg"), `${frame.source}: ${frame.detail || ""} ${frame.width}×${frame.height}`);
  changed();
}

async function newFrame(opts) {
  say($("ed-msg"), "…");
  try {
    await useFrame(await api(`/cameras/${encodeURIComponent(ed.camera)}/frames`, { method: "POST", ...opts }));
  } catch (e) { say($("ed-msg"), e.message, true); }
}

async function loadCurrent() {
  try {
    const cur = await api(`/cameras/${encodeURIComponent(ed.camera)}/scene`);
    ed.scene = cur.config;
    if (cur.reference_frame) {
      const frames = await api(`/cameras/${encodeURIComponent(ed.camera)}/frames`);
      const frame = frames.find((f) => f.frame_id === cur.reference_frame);
      if (frame) { await useFrame(frame); return; }
    }
    changed();
  } catch (e) { say($("ed-msg"), e.message, true); }
}

// ---- drawing --------------------------------------------------------------------------

function setTool(tool) {
  ed.tool = tool;
  ed.pending = [];
  ed.awaitingApproach = null;
  document.querySelectorAll('input[name="ed-tool"]').forEach((r) => { r.checked = r.value === tool; });
  hint();
  render();
}

function at(ev) {
  const c = $("ed-canvas");
  const x = Math.round(ev.offsetX * c.width / c.clientWidth);
  const y = Math.round(ev.offsetY * c.height / c.clientHeight);
  return [Math.max(0, Math.min(c.width, x)), Math.max(0, Math.min(c.height, y))];
}

const nextId = (prefix) => {
  const used = new Set([...ed.scene.zones, ...ed.scene.lines, ...ed.scene.signals].map((g) => g.id));
  let i = 1;
  while (used.has(`${prefix}${i}`)) i += 1;
  return `${prefix}${i}`;
};

/** Every draggable point: [x, y] arrays of the scene, by reference. Lines and boxes first:
 *  where a line's end sits on a zone's corner (a stop line along the junction's edge), a
 *  click takes the line. */
function handles() {
  const s = ed.scene, out = [];
  s.lines.forEach((l, i) => { l.points.forEach((p) => out.push({ p, sel: { list: "lines", index: i } })); if (l.approach) out.push({ p: l.approach, sel: { list: "lines", index: i } }); });
  s.signals.forEach((g, i) => {
    out.push({ bbox: g.bbox, corner: 0, p: [g.bbox[0], g.bbox[1]], sel: { list: "signals", index: i } });
    out.push({ bbox: g.bbox, corner: 2, p: [g.bbox[2], g.bbox[3]], sel: { list: "signals", index: i } });
  });
  if (s.calibration) s.calibration.image_points.forEach((p, i) => out.push({ p, sel: { list: "calibration", index: i } }));
  s.zones.forEach((z, i) => { z.polygon.forEach((p) => out.push({ p, sel: { list: "zones", index: i } })); if (z.direction) z.direction.forEach((p) => out.push({ p, sel: { list: "zones", index: i } })); });
  return out;
}

function down(ev) {
  if (!ed.scene) { say($("ed-msg"), t("noFrame"), true); return; }
  const pt = at(ev), s = ed.scene;
  const tol = 8 * $("ed-canvas").width / $("ed-canvas").clientWidth;
  if (ed.tool === "select") {
    const hit = handles().find((h) => Math.hypot(h.p[0] - pt[0], h.p[1] - pt[1]) <= tol);
    ed.selected = hit ? hit.sel : null;
    ed.drag = hit || null;
    render();
    return;
  }
  if (ed.awaitingApproach !== null) {
    s.lines[ed.awaitingApproach].approach = pt;
    ed.awaitingApproach = null;
    changed();
    return;
  }
  if (LINE_TOOLS[ed.tool]) {
    ed.pending.push(pt);
    if (ed.pending.length === 2) {
      const line = { id: nextId(ed.tool === "stop_line" ? "stop" : ed.tool.replace("_line", "")), kind: ed.tool, points: ed.pending };
      s.lines.push(line);
      ed.selected = { list: "lines", index: s.lines.length - 1 };
      ed.pending = [];
      if (ed.tool === "stop_line") ed.awaitingApproach = s.lines.length - 1;
      changed();
    } else render();
  } else if (ed.tool === "signal") {
    ed.pending.push(pt);
    if (ed.pending.length === 2) {
      const [[x1, y1], [x2, y2]] = ed.pending;
      const controls = s.lines.filter((l) => l.kind === "stop_line").map((l) => l.id);
      s.signals.push({ id: nextId("signal"), bbox: [Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)], controls });
      ed.selected = { list: "signals", index: s.signals.length - 1 };
      ed.pending = [];
      changed();
    } else render();
  } else if (ed.tool === "zone") {
    const first = ed.pending[0];
    if (ed.pending.length >= 3 && Math.hypot(first[0] - pt[0], first[1] - pt[1]) <= tol) closeZone();
    else { ed.pending.push(pt); render(); }
  } else if (ed.tool === "lane_dir") {
    const zi = ed.selected?.list === "zones" ? ed.selected.index : s.zones.findLastIndex((z) => z.kind === "lane");
    if (zi < 0) { say($("ed-msg"), t("laneDir") + ": " + t("zone") + " lane?", true); return; }
    ed.pending.push(pt);
    if (ed.pending.length === 2) { s.zones[zi].direction = ed.pending; ed.pending = []; ed.selected = { list: "zones", index: zi }; changed(); } else render();
  } else if (ed.tool === "calib") {
    s.calibration = s.calibration || { image_points: [], ground_points: [] };
    s.calibration.image_points.push(pt);
    s.calibration.ground_points.push([0, 0]);
    ed.selected = { list: "calibration", index: s.calibration.image_points.length - 1 };
    changed();
  }
}

function move(ev) {
  if (!ed.drag) return;
  const pt = at(ev), h = ed.drag;
  h.p[0] = pt[0]; h.p[1] = pt[1];
  if (h.bbox) { h.bbox[h.corner] = pt[0]; h.bbox[h.corner + 1] = pt[1]; }
  render();
}

function up() {
  if (!ed.drag) return;
  const b = ed.drag.bbox;
  if (b) { const [x1, y1, x2, y2] = b; b.splice(0, 4, Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)); }
  ed.drag = null;
  changed();
}

function closeZone() {
  if (ed.tool !== "zone" || ed.pending.length < 3) return;
  const kind = $("ed-zone-kind").value;
  ed.scene.zones.push({ id: nextId(kind === "carriageway" || kind === "intersection" ? kind : "zone"), kind, polygon: ed.pending });
  ed.selected = { list: "zones", index: ed.scene.zones.length - 1 };
  ed.pending = [];
  changed();
}

// ---- the draft: validation, items, properties --------------------------------------------

/** The draft as the API takes it (no empty calibration). */
function draft() {
  const s = ed.scene;
  const out = { ...s };
  if (!s.calibration || !s.calibration.image_points.length) delete out.calibration;
  return out;
}

function changed() {
  render();
  items();
  props();
  validate();
}

let validateTimer = null;
function validate() {
  clearTimeout(validateTimer);
  validateTimer = setTimeout(async () => {
    if (!ed.scene) return;
    const mine = ++ed.validating;
    try {
      const r = await api(`/cameras/${encodeURIComponent(ed.camera)}/scenes/validate`, { method: "POST", json: draft() });
      if (mine !== ed.validating) return; // a newer draft is being checked
      ed.problems = r.errors;
      $("ed-problems").innerHTML = r.valid ? `<li class="ok" data-valid="true">${esc(t("valid"))}</li>` : r.errors.map((e) => `<li class="bad" data-geometry="${esc(e.geometry || "")}">${esc(e.msg)}</li>`).join("");
      render();
    } catch (e) { say($("ed-msg"), e.message, true); }
  }, 150);
}

function items() {
  const s = ed.scene;
  if (!s) { $("ed-items").innerHTML = ""; return; }
  const li = (list, i, text) => `<li data-list="${list}" data-index="${i}"${ed.selected?.list === list && ed.selected.index === i ? ' class="sel"' : ""}>${text}</li>`;
  $("ed-items").innerHTML = [
    ...s.lines.map((l, i) => li("lines", i, `${esc(l.id)} · ${esc(l.kind)}${l.kind === "stop_line" && !l.approach ? " ⚠" : ""}`)),
    ...s.signals.map((g, i) => li("signals", i, `${esc(g.id)} · ${esc(t("signal"))} → ${esc(g.controls.join(", ") || "—")}`)),
    ...s.zones.map((z, i) => li("zones", i, `${esc(z.id)} · ${esc(t(`zk_${z.kind}`))}${z.direction ? " ➜" : ""}`)),
    ...(s.calibration?.image_points || []).map((p, i) => li("calibration", i, `${esc(t("calib"))} ${i + 1} (${p[0]}, ${p[1]})`)),
  ].join("");
  $("ed-items").querySelectorAll("li").forEach((el) => el.addEventListener("click", () => {
    ed.selected = { list: el.dataset.list, index: Number(el.dataset.index) };
    items(); props(); render();
  }));
}

function props() {
  const s = ed.scene, sel = ed.selected;
  const box = $("ed-props");
  if (!s || !sel) { box.innerHTML = ""; return; }
  const del = `<button id="ed-delete">${esc(t("del"))}</button>`;
  if (sel.list === "lines") {
    const l = s.lines[sel.index];
    box.innerHTML = `<label>id <input id="ed-p-id" value="${esc(l.id)}"></label>
      ${l.kind === "stop_line" ? `<p class="muted small">${esc(t("approach"))}: ${l.approach ? esc(l.approach.join(", ")) : "—"} <button id="ed-p-approach">${esc(t("approach"))}</button></p>` : ""} ${del}`;
    $("ed-p-approach")?.addEventListener("click", () => { ed.tool = l.kind; ed.awaitingApproach = sel.index; });
  } else if (sel.list === "signals") {
    const g = s.signals[sel.index];
    const stops = s.lines.filter((l) => l.kind === "stop_line");
    box.innerHTML = `<label>id <input id="ed-p-id" value="${esc(g.id)}"></label><div>${esc(t("controls"))}: ${stops.map((l) => `<label><input type="checkbox" data-ctl="${esc(l.id)}"${g.controls.includes(l.id) ? " checked" : ""}> ${esc(l.id)}</label>`).join(" ") || "—"}</div> ${del}`;
    box.querySelectorAll("[data-ctl]").forEach((cb) => cb.addEventListener("change", () => {
      g.controls = [...box.querySelectorAll("[data-ctl]:checked")].map((x) => x.dataset.ctl);
      items(); validate(); render();
    }));
  } else if (sel.list === "zones") {
    const z = s.zones[sel.index];
    const num = (f) => `<label>${f} <input data-num="${f}" type="number" min="0" step="any" value="${z[f] ?? ""}" style="width:80px"></label>`;
    box.innerHTML = `<label>id <input id="ed-p-id" value="${esc(z.id)}"></label>
      <label>${esc(t("zoneKind"))} <select id="ed-p-kind">${ZONE_KINDS.map((k) => `<option value="${k}"${k === z.kind ? " selected" : ""}>${esc(t(`zk_${k}`))}</option>`).join("")}</select></label>
      ${num("max_dwell_s")} ${num("speed_limit_kmh")} ${del}`;
    $("ed-p-kind").addEventListener("change", () => { z.kind = $("ed-p-kind").value; changed(); });
    box.querySelectorAll("[data-num]").forEach((inp) => inp.addEventListener("change", () => {
      if (inp.value === "") delete z[inp.dataset.num]; else z[inp.dataset.num] = Number(inp.value);
      validate(); hint();
    }));
  } else if (sel.list === "calibration") {
    const g = s.calibration.ground_points[sel.index];
    box.innerHTML = `<label>${esc(t("groundXY"))} <input id="ed-p-gx" type="number" step="any" value="${g[0]}" style="width:70px"> <input id="ed-p-gy" type="number" step="any" value="${g[1]}" style="width:70px"></label> ${del}`;
    const set = () => { s.calibration.ground_points[sel.index] = [Number($("ed-p-gx").value), Number($("ed-p-gy").value)]; validate(); render(); };
    $("ed-p-gx").addEventListener("change", set);
    $("ed-p-gy").addEventListener("change", set);
  }
  $("ed-p-id")?.addEventListener("change", () => rename(sel, $("ed-p-id").value.trim()));
  $("ed-delete").addEventListener("click", () => remove(sel));
  hint();
}

function rename(sel, id) {
  const g = ed.scene[sel.list][sel.index];
  if (!id) return;
  if (sel.list === "lines") ed.scene.signals.forEach((s) => { s.controls = s.controls.map((c) => (c === g.id ? id : c)); });
  g.id = id;
  changed();
}

function remove(sel) {
  const s = ed.scene;
  if (sel.list === "calibration") {
    s.calibration.image_points.splice(sel.index, 1);
    s.calibration.ground_points.splice(sel.index, 1);
  } else {
    const [gone] = s[sel.list].splice(sel.index, 1);
    if (sel.list === "lines") s.signals.forEach((g) => { g.controls = g.controls.filter((c) => c !== gone.id); });
  }
  ed.selected = null;
  changed();
}

function hint() {
  const h = ed.hints;
  if (!h) return;
  const lang = language();
  $("ed-test-point").textContent = h.test_point[lang];
  let text = "";
  const sel = ed.selected && ed.scene ? ed.scene[ed.selected.list]?.[ed.selected.index] : null;
  const kind = LINE_TOOLS[ed.tool] ? ed.tool : ed.tool === "zone" ? $("ed-zone-kind").value : null;
  if (ed.tool === "signal" || ed.selected?.list === "signals") text = h.signals[lang];
  else if (ed.tool === "calib" || ed.selected?.list === "calibration") text = h.calibration[lang];
  else if (h.lines[kind]) text = h.lines[kind][lang];
  else if (h.zones[kind]) text = h.zones[kind][lang];
  else if (sel?.kind && (h.lines[sel.kind] || h.zones[sel.kind])) text = (h.lines[sel.kind] || h.zones[sel.kind])[lang];
  $("ed-hint").textContent = text;
}

function render() {
  const c = $("ed-canvas"), ctx = c.getContext("2d");
  ctx.clearRect(0, 0, c.width, c.height);
  if (ed.image) ctx.drawImage(ed.image, 0, 0);
  if (ed.scene) {
    const bad = new Set(ed.problems.map((p) => p.geometry));
    drawScene(ctx, ed.scene, { bad, selected: ed.selected, pending: ed.pending, tool: ed.tool });
  }
}

// ---- save, history, diff ------------------------------------------------------------------

async function save() {
  if (!ed.scene || !ed.frame) { say($("ed-saved"), t("noFrame"), true); return; }
  try {
    const out = await api(`/cameras/${encodeURIComponent(ed.camera)}/scenes?reference_frame=${ed.frame.frame_id}`, { method: "POST", json: draft() });
    await history(); // the new version is in the history (and the diff's pickers) first
    say($("ed-saved"), `${t("saved")} ${out.version}`);
    $("ed-saved").dataset.version = out.version;
  } catch (e) { say($("ed-saved"), e.message, true); }
}

async function history() {
  let versions = [];
  try { versions = await api(`/cameras/${encodeURIComponent(ed.camera)}/scenes`); } catch { /* no camera yet */ }
  $("ed-history").innerHTML = versions.map((v) => `<li data-version="${v.version}">${esc(t("version"))} ${v.version} · ${timeHtml(v.created_at)} · ${esc(v.created_by || "")}${v.reference_frame ? " 🖼" : ""}</li>`).join("") || `<li class="muted">—</li>`;
  const opts = versions.map((v) => `<option>${v.version}</option>`).join("");
  $("ed-from").innerHTML = opts; $("ed-to").innerHTML = opts;
  if (versions.length > 1) $("ed-from").value = versions.at(-2).version;
  if (versions.length) $("ed-to").value = versions.at(-1).version;
}

async function diff() {
  const from = $("ed-from").value, to = $("ed-to").value, cam = encodeURIComponent(ed.camera);
  if (!from || !to) return;
  try {
    const d = await api(`/cameras/${cam}/scenes/diff?from=${from}&to=${to}`);
    const li = (cls, x) => `<li class="${cls}" data-change="${cls}" data-geometry="${esc(x.geometry)}">${esc(t(cls))}: ${esc(x.geometry)}</li>`;
    $("ed-diff-out").innerHTML = `<ul>${[...d.added.map((x) => li("added", x)), ...d.removed.map((x) => li("removed", x)), ...d.changed.map((x) => li("changed", x))].join("")}</ul>${d.calibration_changed ? `<p class="changed">${esc(t("calib"))}: ${esc(t("changed"))}</p>` : ""}`;
    const [a, b] = await Promise.all([api(`/cameras/${cam}/scenes/${from}`), api(`/cameras/${cam}/scenes/${to}`)]);
    let image = null;
    if (b.reference_frame) {
      image = new Image();
      image.src = await imageUrl(`/cameras/${cam}/scenes/${to}/frame`);
      await image.decode();
    }
    const c = $("ed-diff-canvas");
    c.width = b.config.frame_width; c.height = b.config.frame_height; c.hidden = false;
    drawDiff(c.getContext("2d"), image, a.config, b.config, d);
  } catch (e) { say($("ed-diff-out"), e.message, true); }
}

// ---- preview ----------------------------------------------------------------------------

async function preview() {
  const state = $("ed-preview-state");
  if (!ed.scene) { say(state, t("noFrame"), true); return; }
  $("ed-preview-events").innerHTML = "";
  let job;
  try {
    job = await api(`/cameras/${encodeURIComponent(ed.camera)}/scenes/preview`, { method: "POST", json: { scene: draft(), recording: $("ed-recording").value } });
  } catch (e) { say(state, e.message, true); return; }
  $("ed-preview").disabled = true;
  while (job.state === "running") {
    say(state, `${t("previewRunning")} ${job.elapsed_s.toFixed(0)} s`);
    await new Promise((r) => setTimeout(r, 2000));
    try { job = await api(`/preview/${job.job_id}`); } catch (e) { say(state, e.message, true); break; }
  }
  $("ed-preview").disabled = false;
  state.dataset.state = job.state;
  if (job.state === "failed") { say(state, `${t("previewFailed")}: ${job.error}`, true); return; }
  say(state, `${t("previewDone")}: ${job.events.length} ${t("previewEvents")} (${job.elapsed_s} s)`);
  $("ed-preview-events").innerHTML = job.events.map((e) => `<div class="pev" data-type="${esc(e.type)}"><img alt="${esc(e.type)}" data-src="${esc(e.image)}">
    <div><span class="pill violation">${esc(e.type)}</span> ${e.time_s.toFixed(2)} s · ${esc(t("track"))} ${esc(e.track_id ?? "—")} ${esc(e.gost_code || "")}</div>
    <div class="muted small">${esc(JSON.stringify(e.measured))}</div></div>`).join("");
  for (const img of $("ed-preview-events").querySelectorAll("img")) {
    img.src = await imageUrl(img.dataset.src).catch(() => "");
  }
}

