// Drawing a scene on a canvas, in the frame's own pixels: the editor's view and the visual
// diff between two versions. Colours follow `dozor scene show` (detectors/scene_draw.py).

const ZONE_FILL = {
  carriageway: "rgba(90,169,255,.15)", intersection: "rgba(180,120,255,.2)", lane: "rgba(90,200,255,.2)",
  crosswalk: "rgba(255,255,255,.3)", no_stopping: "rgba(255,92,92,.25)", no_parking: "rgba(255,140,92,.25)",
  bus_lane: "rgba(255,220,90,.25)", junction_box: "rgba(255,179,71,.3)", parking: "rgba(76,209,138,.25)",
  bus_stop: "rgba(76,209,138,.35)",
};
const LINE_COLOUR = { stop_line: "#ff3b3b", solid_line: "#ffffff", speed_start: "#5aa9ff", speed_end: "#5aa9ff" };
const BAD = "#ff00ff";

function arrow(ctx, [x1, y1], [x2, y2], colour) {
  const a = Math.atan2(y2 - y1, x2 - x1), h = 9;
  ctx.strokeStyle = colour; ctx.fillStyle = colour; ctx.lineWidth = 2;
  ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
  ctx.beginPath(); ctx.moveTo(x2, y2);
  ctx.lineTo(x2 - h * Math.cos(a - 0.4), y2 - h * Math.sin(a - 0.4));
  ctx.lineTo(x2 - h * Math.cos(a + 0.4), y2 - h * Math.sin(a + 0.4));
  ctx.closePath(); ctx.fill();
}

function label(ctx, text, x, y, colour) {
  ctx.font = "12px system-ui, sans-serif";
  ctx.lineWidth = 3; ctx.strokeStyle = "rgba(0,0,0,.7)"; ctx.strokeText(text, x + 4, y - 4);
  ctx.fillStyle = colour; ctx.fillText(text, x + 4, y - 4);
}

const mid = (pts) => [(pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2];

function zone(ctx, z, stroke, fill, dashed) {
  ctx.setLineDash(dashed ? [6, 4] : []);
  ctx.beginPath();
  z.polygon.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
  ctx.closePath();
  if (fill) { ctx.fillStyle = fill; ctx.fill(); }
  ctx.strokeStyle = stroke; ctx.lineWidth = 2; ctx.stroke();
  ctx.setLineDash([]);
  if (z.direction) arrow(ctx, z.direction[0], z.direction[1], "#5ad7ff");
  label(ctx, z.id, z.polygon[0][0], z.polygon[0][1], stroke);
}

function line(ctx, l, colour, dashed) {
  ctx.setLineDash(dashed ? [6, 4] : []);
  ctx.strokeStyle = colour; ctx.lineWidth = 3;
  ctx.beginPath(); ctx.moveTo(...l.points[0]); ctx.lineTo(...l.points[1]); ctx.stroke();
  ctx.setLineDash([]);
  if (l.approach) {
    ctx.fillStyle = colour; ctx.beginPath(); ctx.arc(...l.approach, 4, 0, 2 * Math.PI); ctx.fill();
    arrow(ctx, l.approach, mid(l.points), colour);
  }
  label(ctx, l.id, ...l.points[0], colour);
}

function signal(ctx, g, lines, colour, dashed) {
  const [x1, y1, x2, y2] = g.bbox;
  ctx.setLineDash(dashed ? [4, 3] : []);
  ctx.strokeStyle = colour; ctx.lineWidth = 2; ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
  ctx.setLineDash([2, 4]); ctx.lineWidth = 1;
  for (const id of g.controls) {
    const l = lines.find((x) => x.id === id);
    if (l) { ctx.beginPath(); ctx.moveTo((x1 + x2) / 2, y2); ctx.lineTo(...mid(l.points)); ctx.stroke(); }
  }
  ctx.setLineDash([]);
  label(ctx, g.id, x2, y1, colour);
}

function handle(ctx, [x, y], colour) {
  ctx.fillStyle = colour; ctx.fillRect(x - 3, y - 3, 6, 6);
}

/** The editor's view: geometry with a problem in magenta, the selected item's handles,
 *  the points of the geometry being drawn. */
export function drawScene(ctx, s, { bad = new Set(), selected = null, pending = [], tool = "" } = {}) {
  s.zones.forEach((z) => zone(ctx, z, bad.has(`zones[${z.id}]`) ? BAD : "#c8d6e5", ZONE_FILL[z.kind], false));
  s.lines.forEach((l) => line(ctx, l, bad.has(`lines[${l.id}]`) ? BAD : LINE_COLOUR[l.kind], false));
  s.signals.forEach((g) => signal(ctx, g, s.lines, bad.has(`signals[${g.id}]`) ? BAD : "#ffd23f", false));
  if (s.calibration) {
    const colour = bad.has("calibration") ? BAD : "#3ff0ff";
    s.calibration.image_points.forEach((p, i) => {
      handle(ctx, p, colour);
      label(ctx, `${i + 1}: ${s.calibration.ground_points[i].join(", ")} m`, ...p, colour);
    });
  }
  if (selected) {
    const g = s[selected.list]?.[selected.index];
    const pts = selected.list === "zones" ? g.polygon : selected.list === "lines" ? g.points
      : selected.list === "signals" ? [[g.bbox[0], g.bbox[1]], [g.bbox[2], g.bbox[3]]]
        : [s.calibration.image_points[selected.index]];
    pts.forEach((p) => handle(ctx, p, "#ffffff"));
  }
  if (pending.length) {
    ctx.strokeStyle = "#ffffff"; ctx.setLineDash([3, 3]); ctx.lineWidth = 1;
    ctx.beginPath(); pending.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    if (tool === "signal" && pending.length === 1) ctx.rect(pending[0][0] - 1, pending[0][1] - 1, 2, 2);
    ctx.stroke(); ctx.setLineDash([]);
    pending.forEach((p) => handle(ctx, p, "#ffffff"));
  }
}

/** Two versions over one frame: removed geometry dashed red, added green, changed amber
 *  (before dashed, after solid), unchanged grey. */
export function drawDiff(ctx, image, before, after, diff) {
  const c = ctx.canvas;
  ctx.clearRect(0, 0, c.width, c.height);
  if (image) ctx.drawImage(image, 0, 0);
  ctx.fillStyle = "rgba(0,0,0,.35)"; ctx.fillRect(0, 0, c.width, c.height);
  const status = new Map();
  diff.added.forEach((x) => status.set(x.geometry, "added"));
  diff.removed.forEach((x) => status.set(x.geometry, "removed"));
  diff.changed.forEach((x) => status.set(x.geometry, "changed"));
  const colour = { added: "#4cd18a", removed: "#ff5c5c", changed: "#ffb347" };
  const draw = (s, which) => {
    for (const [list, fn] of [["zones", (g, col, d) => zone(ctx, g, col, null, d)], ["lines", (g, col, d) => line(ctx, g, col, d)], ["signals", (g, col, d) => signal(ctx, g, s.lines, col, d)]]) {
      for (const g of s[list]) {
        const st = status.get(`${list}[${g.id}]`);
        if (which === "before" && st !== "removed" && st !== "changed") continue;
        if (which === "after" && st === "removed") continue;
        fn(g, st ? colour[st] : "#8b9bb0", which === "before");
      }
    }
  };
  draw(before, "before");
  draw(after, "after");
}
