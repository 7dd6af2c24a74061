// The units on a Leaflet map, coloured by state. Tiles only from the configured URL: with
// none, a plain background and no request at all (circle markers need no icon images).
import * as L from "/static/vendor/leaflet/leaflet-src.esm.js";
import { api } from "./api.js";
import { $, esc } from "./dom.js";
import { t } from "./i18n.js";

const COLOURS = { online: "#4cd18a", degraded: "#ffb347", offline: "#8b9bb0" };
let map = null;
const markers = new Map();
let picked = () => {};

/** Called with a unit's id when its marker is clicked. */
export const onPick = (fn) => { picked = fn; };

export function initMap(config) {
  map = L.map("map", { attributionControl: Boolean(config.map_tile_url), zoomControl: true });
  map.setView([48.708, 44.513], 11);
  if (config.map_tile_url) {
    L.tileLayer(config.map_tile_url, { attribution: config.map_attribution || "", maxZoom: 19 }).addTo(map);
  } else {
    $("map-note").dataset.i18n = "noTiles";
    $("map-note").textContent = t("noTiles");
  }
}

function style(state, kind) {
  const colour = COLOURS[state] || COLOURS.offline;
  return { radius: kind === "enforcement_unit" ? 6 : 4, color: "#0b0f14", weight: 1, fillColor: colour, fillOpacity: 0.9 };
}

export async function loadMap() {
  const fc = await api("/cameras.geojson");
  markers.forEach((m) => m.remove());
  markers.clear();
  const bounds = [];
  for (const f of fc.features) {
    const [lon, lat] = f.geometry.coordinates;
    const p = f.properties;
    const m = L.circleMarker([lat, lon], style(p.health, p.kind))
      .bindTooltip(`${esc(f.id)} ${esc(p.name)} · ${esc(t(p.health))}`)
      .addTo(map);
    m.feature = f;
    m.on("click", () => picked(f.id));
    markers.set(f.id, m);
    bounds.push([lat, lon]);
  }
  if (bounds.length) map.fitBounds(bounds, { padding: [12, 12] });
}

/** A state change from the live feed recolours the unit. */
export function setState(cameraId, state) {
  const m = markers.get(cameraId);
  if (m) m.setStyle(style(state, m.feature.properties.kind));
}

/** Leaflet measures its box when shown: call after the overview becomes visible. */
export const resizeMap = () => map && map.invalidateSize();
