// The registry API with the signed-in token. The token comes from the sign-in form or once
// from the address (#token=...), which is then cleared from the address bar.

const KEY = "dozor-token";
let token = sessionStorage.getItem(KEY) || "";
const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromHash) {
  token = fromHash;
  sessionStorage.setItem(KEY, token);
  history.replaceState(null, "", location.pathname);
}

export const getToken = () => token;

export function setToken(value) {
  token = value;
  sessionStorage.setItem(KEY, token);
}

async function failure(r) {
  const body = await r.json().catch(() => ({}));
  const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("; ") : body.detail;
  return new Error(`${r.status}: ${detail || r.statusText}`);
}

/** The raw response of an authorised request; throws on a non-2xx answer. */
export async function call(path, { method = "GET", json, body } = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  if (json !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: json !== undefined ? JSON.stringify(json) : body });
  if (!r.ok) throw await failure(r);
  return r;
}

export const api = async (path, opts) => (await call(path, opts)).json();

/** An image behind the token (img src cannot send headers) as an object URL. */
export async function imageUrl(path) {
  return URL.createObjectURL(await (await call(path)).blob());
}

/** Download a response behind the token as a file. */
export async function download(path, name) {
  const url = URL.createObjectURL(await (await call(path)).blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** The page's settings (time zone, map tiles); public, read before signing in. */
export async function uiConfig() {
  const r = await fetch("/ui-config");
  return r.ok ? r.json() : {};
}
