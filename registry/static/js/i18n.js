import { esc } from "./dom.js";

// Page texts in Russian (the operators' language, the default) and English, and times in
// the cameras' time zone (from /ui-config) with UTC on hover.

const TEXTS = {
  ru: {
    title: "ДОЗОР · центр организации дорожного движения",
    cameras: "камеры", units: "комплексы", events: "события", lapsed: "поверка истекла", cases: "дела",
    token: "API-токен", signIn: "Войти",
    tabOverview: "Обзор", tabWall: "Стена камер", tabEditor: "Редактор сцен", tabReview: "Проверка",
    roster: "Камеры Волгограда", signInFirst: "Войдите, чтобы загрузить камеры.",
    signInHint: "Войдите с токеном (dozor registry token --role operator).",
    eventsTitle: "События", allTypes: "все типы", cameraId: "камера, напр. VLG-ENF-001",
    refresh: "Обновить", csv: "CSV", time: "время", camera: "камера", type: "тип", gost: "ГОСТ",
    confidence: "уверенность", noEvents: "Событий нет.",
    casesTitle: "Дела для ЦАФАП", created: "создано", event: "событие", enforceable: "к исполнению",
    delivered: "доставлено", yes: "да", no: "нет", noCases: "Дел нет.",
    casesRoles: "Дела видят операторы, администраторы и ЦАФАП.",
    imagesRoles: "Снимки доказательств видят только операторы, администраторы и ЦАФАП.",
    verify: "Проверить доказательства", verifying: "проверка…",
    eventId: "id события", track: "трек", sceneVersion: "версия сцены", measured: "измерено",
    params: "параметры", model: "модель", evidence: "доказательства", plate: "номер",
    wallTitle: "Стена камер", online: "в сети", degraded: "с перебоями", offline: "не в сети",
    fps: "кадр/с", lastEvent: "последнее событие", none: "—", live: "обновляется вживую",
    mapTitle: "Карта", noTiles: "Подложка карты не настроена (DOZOR_MAP_TILE_URL).",
    reviewTitle: "Очередь проверки", reviewKeys: "j/k — вниз/вверх, c — подтвердить, r — отклонить",
    allStates: "все состояния", pending: "ожидает", confirmed: "подтверждено", rejected: "отклонено", withdrawn: "отозвано",
    since: "с", until: "по", reason: "причина", reasonNeeded: "Укажите причину.",
    confirm: "Подтвердить", reject: "Отклонить", state: "состояние", case: "дело",
    caseNone: "нет", caseHeld: "задержано", casePublished: "отправлено", caseDelivered: "доставлено",
    caseWithdrawn: "отозвано", noReview: "Нечего проверять.",
    editorTitle: "Редактор сцен", pickCamera: "камера", frameFrom: "кадр",
    recording: "запись", atSecond: "секунда", takeFrame: "Взять кадр", upload: "Загрузить",
    liveFrame: "Живой кадр", noFrame: "Сначала возьмите кадр: из записи, загрузкой или с потока.",
    tool: "инструмент", select: "выбор", stopLine: "стоп-линия", solidLine: "сплошная",
    speedStart: "начало замера", speedEnd: "конец замера", signal: "светофор", zone: "зона",
    laneDir: "направление полосы", calib: "калибровка", approach: "точка подъезда",
    zoneKind: "вид зоны", finishZone: "Замкнуть зону", del: "Удалить", controls: "управляет",
    groundXY: "земля x,y (м)", save: "Сохранить версию", saved: "Сохранена версия",
    valid: "Сцена корректна.", validation: "Проверка сцены", history: "История версий", diff: "Сравнить",
    added: "добавлено", removed: "удалено", changed: "изменено", version: "версия",
    preview: "Предпросмотр", runPreview: "Проверить на записи", previewRunning: "идёт проверка…",
    previewDone: "Готово", previewEvents: "событий", previewFailed: "ошибка",
    loadCurrent: "Текущая сцена", blank: "Пустая сцена", drawHint: "Щёлкайте по кадру: линия — 2 точки, рамка — 2 угла, зона — точки и «Замкнуть».",
    language: "Язык",
    zk_carriageway: "проезжая часть", zk_intersection: "перекрёсток", zk_lane: "полоса",
    zk_crosswalk: "пешеходный переход", zk_no_stopping: "остановка запрещена",
    zk_no_parking: "стоянка запрещена", zk_bus_lane: "автобусная полоса",
    zk_junction_box: "вафельная разметка", zk_parking: "парковка", zk_bus_stop: "остановка ОТ",
  },
  en: {
    title: "DOZOR · traffic-management centre",
    cameras: "cameras", units: "enforcement units", events: "events", lapsed: "lapsed verification", cases: "cases",
    token: "API token", signIn: "Sign in",
    tabOverview: "Overview", tabWall: "Camera wall", tabEditor: "Scene editor", tabReview: "Review",
    roster: "Volgograd roster", signInFirst: "Sign in to load cameras.",
    signInHint: "Sign in with a token (dozor registry token --role operator).",
    eventsTitle: "Events", allTypes: "all types", cameraId: "camera id, e.g. VLG-ENF-001",
    refresh: "Refresh", csv: "CSV", time: "time", camera: "camera", type: "type", gost: "GOST",
    confidence: "confidence", noEvents: "No events.",
    casesTitle: "Cases for enforcement centres", created: "created", event: "event",
    enforceable: "enforceable", delivered: "delivered", yes: "yes", no: "no", noCases: "No cases.",
    casesRoles: "Cases are shown to operators, administrators and enforcement.",
    imagesRoles: "Evidence images are shown to operators, administrators and enforcement only.",
    verify: "Verify evidence", verifying: "verifying…",
    eventId: "event id", track: "track", sceneVersion: "scene version", measured: "measured",
    params: "parameters", model: "model", evidence: "evidence", plate: "plate",
    wallTitle: "Camera wall", online: "online", degraded: "degraded", offline: "offline",
    fps: "fps", lastEvent: "last event", none: "—", live: "live",
    mapTitle: "Map", noTiles: "No map tiles configured (DOZOR_MAP_TILE_URL).",
    reviewTitle: "Review queue", reviewKeys: "j/k down/up, c confirm, r reject",
    allStates: "all states", pending: "pending", confirmed: "confirmed", rejected: "rejected", withdrawn: "withdrawn",
    since: "from", until: "to", reason: "reason", reasonNeeded: "Give a reason.",
    confirm: "Confirm", reject: "Reject", state: "state", case: "case",
    caseNone: "none", caseHeld: "held", casePublished: "published", caseDelivered: "delivered",
    caseWithdrawn: "withdrawn", noReview: "Nothing to review.",
    editorTitle: "Scene editor", pickCamera: "camera", frameFrom: "frame",
    recording: "recording", atSecond: "second", takeFrame: "Take frame", upload: "Upload",
    liveFrame: "Live frame", noFrame: "Take a frame first: from a recording, an upload or the stream.",
    tool: "tool", select: "select", stopLine: "stop line", solidLine: "solid line",
    speedStart: "speed start", speedEnd: "speed end", signal: "signal", zone: "zone",
    laneDir: "lane direction", calib: "calibration", approach: "approach point",
    zoneKind: "zone kind", finishZone: "Close zone", del: "Delete", controls: "controls",
    groundXY: "ground x,y (m)", save: "Save version", saved: "Saved version",
    valid: "The scene is valid.", validation: "Validation", history: "Version history", diff: "Compare",
    added: "added", removed: "removed", changed: "changed", version: "version",
    preview: "Preview", runPreview: "Run on recording", previewRunning: "preview running…",
    previewDone: "Done", previewEvents: "events", previewFailed: "failed",
    loadCurrent: "Current scene", blank: "Blank scene", drawHint: "Click on the frame: a line is 2 points, a box 2 corners, a zone its points then “Close zone”.",
    language: "Language",
    zk_carriageway: "carriageway", zk_intersection: "intersection", zk_lane: "lane",
    zk_crosswalk: "crosswalk", zk_no_stopping: "no stopping", zk_no_parking: "no parking",
    zk_bus_lane: "bus lane", zk_junction_box: "box junction", zk_parking: "parking",
    zk_bus_stop: "bus stop",
  },
};

const KEY = "dozor-lang";
let lang = localStorage.getItem(KEY) || "ru";
let timeZone = "Europe/Volgograd";
const listeners = [];

export const language = () => lang;

export function t(key) {
  return TEXTS[lang][key] ?? TEXTS.en[key] ?? key;
}

/** Fill every [data-i18n] element's text (and [data-i18n-ph] placeholders) in `root`. */
export function translate(root = document) {
  document.documentElement.lang = lang;
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-ph]").forEach((el) => { el.placeholder = t(el.dataset.i18nPh); });
}

export function setLanguage(next) {
  lang = TEXTS[next] ? next : "ru";
  localStorage.setItem(KEY, lang);
  translate();
  listeners.forEach((fn) => fn(lang));
}

/** Called after every language switch (lists re-render their own texts). */
export const onLanguage = (fn) => listeners.push(fn);

export function setTimeZone(tz) { if (tz) timeZone = tz; }

/** An ISO time as HTML: shown in the configured zone, UTC in the title (hover). */
export function timeHtml(iso) {
  if (!iso) return `<span class="muted">${esc(t("none"))}</span>`;
  const d = new Date(iso);
  const local = new Intl.DateTimeFormat("ru-RU", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).format(d);
  const utc = d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  return `<time datetime="${esc(d.toISOString())}" title="${esc(utc)}">${esc(local)}</time>`;
}

export const zoneName = () => timeZone;

/** A wall-clock time typed in the configured zone ("2026-11-20T16:42") as UTC ISO. */
export function zonedToIso(local) {
  const guess = new Date(`${local}:00Z`);
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
    timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(guess).map((p) => [p.type, p.value]));
  const shown = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return new Date(guess.getTime() - (shown - guess.getTime())).toISOString();
}

// The registry words a camera's state reasons in English (registry/health.py); these are
// the known shapes in Russian. An unknown one is shown as it came.
const REASONS_RU = [
  [/^no heartbeat received$/, () => "нет сигналов от обработчика"],
  [/^last heartbeat (\d+)s ago, over ([\d.]+)s$/, (a, b) => `последний сигнал ${a} с назад, порог ${b} с`],
  [/^no frame decoded yet$/, () => "ещё нет ни одного кадра"],
  [/^last frame (\d+)s old, over ([\d.]+)s$/, (a, b) => `последний кадр ${a} с назад, порог ${b} с`],
  [/^analysed ([\d.]+) fps, below ([\d.]+)$/, (a, b) => `анализ ${a} кадр/с, ниже ${b}`],
  [/^(\d+) errors since the previous heartbeat$/, (a) => `ошибок с прошлого сигнала: ${a}`],
];

export function reasonText(reason) {
  if (lang !== "ru") return reason;
  for (const [re, ru] of REASONS_RU) {
    const m = reason.match(re);
    if (m) return ru(...m.slice(1));
  }
  return reason;
}
