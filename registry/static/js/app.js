// The page's entry: language, settings, sign-in, tabs, and loading each view.
import { getToken, setToken, uiConfig } from "./api.js";
import { $, say } from "./dom.js";
import { language, onLanguage, setLanguage, setTimeZone, t, translate } from "./i18n.js";
import { editCamera, initEditor, showEditor } from "./editor.js";
import { initMap, loadMap, onPick, resizeMap, setState } from "./map.js";
import { initOverview, loadCameras, loadCases, loadEvents } from "./overview.js";
import { initReview, loadReview, renderReview } from "./review.js";
import { onCameraState, renderWall, startWall } from "./wall.js";

const TABS = ["overview", "wall", "editor", "review"];
let cameras = [];

function showTab(name) {
  if (!TABS.includes(name)) name = "overview";
  TABS.forEach((tab) => { $(`tab-${tab}`).hidden = tab !== name; });
  document.querySelectorAll("nav .tab").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  if (name === "overview") resizeMap();
  if (name === "editor") showEditor(cameras);
  if (name === "review") loadReview();
}

async function refresh() {
  say($("msg"), "");
  if (!getToken()) { say($("msg"), t("signInHint")); return; }
  try {
    cameras = await loadCameras();
    await Promise.all([loadEvents(), loadCases(), loadMap()]);
    startWall();
  } catch (e) { say($("msg"), e.message, true); }
}

async function main() {
  const config = await uiConfig();
  setTimeZone(config.time_zone);
  $("lang").value = language();
  initOverview();
  initMap(config);
  initReview();
  initEditor();
  translate();
  onCameraState(setState);
  onPick((id) => { showTab("editor"); editCamera(id); });
  onLanguage(() => {
    renderWall(); renderReview();
    if (getToken()) { loadEvents().catch(() => {}); loadCases(); loadCameras().catch(() => {}); }
  });
  $("lang").addEventListener("change", () => setLanguage($("lang").value));
  document.querySelectorAll("nav .tab").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
  $("login").addEventListener("submit", (ev) => { ev.preventDefault(); setToken($("token").value.trim()); refresh(); });
  $("refresh").addEventListener("click", refresh);
  $("f-type").addEventListener("change", refresh);
  showTab("overview");
  await refresh();
  setInterval(() => getToken() && !$("tab-overview").hidden && loadEvents().catch(() => {}), 10000);
}

main();
