// The JSON API client: the `{success, data, error, meta}` envelope, the access token and
// its renewal. The refresh token lives in an HttpOnly cookie (path /api/auth) that scripts
// cannot read; the short-lived access token is shared by every tab. Refresh tokens rotate and
// a reused one revokes the whole session, so tabs renew one at a time (Web Locks), and a tab
// that waited takes the token the other one just got. It reads it from IndexedDB: another
// tab's localStorage writes reach this tab asynchronously, IndexedDB's are there at once.

import { config } from "./config.js";

const STORE_KEY = "allin.auth";
const EARLY_MS = 30_000; // renew this long before the access token expires

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function load() {
  try {
    return JSON.parse(localStorage.getItem(STORE_KEY) || "null");
  } catch {
    return null;
  }
}

function save(auth) {
  if (auth) localStorage.setItem(STORE_KEY, JSON.stringify(auth));
  else localStorage.removeItem(STORE_KEY);
  return shared.write(auth);
}

// The authoritative copy for renewals (see above); every failure falls back to localStorage.
const shared = {
  db: null,
  open() {
    this.db ||= new Promise((resolve, reject) => {
      const request = indexedDB.open("allin", 1);
      request.onupgradeneeded = () => request.result.createObjectStore("kv");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return this.db;
  },
  async read() {
    try {
      const db = await this.open();
      return await new Promise((resolve, reject) => {
        const request = db.transaction("kv").objectStore("kv").get(STORE_KEY);
        request.onsuccess = () => resolve(request.result ?? null);
        request.onerror = () => reject(request.error);
      });
    } catch {
      return load();
    }
  },
  async write(auth) {
    try {
      const db = await this.open();
      await new Promise((resolve, reject) => {
        const tx = db.transaction("kv", "readwrite");
        if (auth) tx.objectStore("kv").put(auth, STORE_KEY);
        else tx.objectStore("kv").delete(STORE_KEY);
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
      });
    } catch {
      // localStorage still has it
    }
  },
};

function fresh(auth) {
  return auth && auth.access_token && auth.expires_at - EARLY_MS > Date.now();
}

export function currentUser() {
  return load()?.user || null;
}

export function hasSession() {
  return Boolean(load());
}

export async function storeTokens(tokens) {
  const auth = {
    access_token: tokens.access_token,
    expires_at: Date.now() + tokens.expires_in * 1000,
    user: tokens.user,
  };
  // Without the cookie (ALLIN_REFRESH_COOKIE=false) the page must keep the refresh token.
  if (!config.refresh_cookie) auth.refresh_token = tokens.refresh_token;
  await save(auth);
  return auth;
}

export function forgetSession() {
  return save(null);
}

const listeners = new Set();
export function onSignedOut(callback) {
  listeners.add(callback);
}

function signedOut() {
  forgetSession();
  for (const callback of listeners) callback();
}

async function withRefreshLock(task) {
  if (navigator.locks) return navigator.locks.request("allin-refresh", task);
  return task(); // insecure contexts (plain http on a LAN address) have no Web Locks
}

let pending = null;

// A valid access token, renewed if needed; null when there is no session any more.
export async function accessToken({ force = false } = {}) {
  const auth = load();
  if (!auth) return null;
  if (!force && fresh(auth)) return auth.access_token;
  const stale = auth.access_token;
  pending ||= withRefreshLock(async () => {
    const latest = await shared.read();
    if (!latest || !load()) return null; // signed out meanwhile
    if (fresh(latest) && latest.access_token !== stale) {
      localStorage.setItem(STORE_KEY, JSON.stringify(latest)); // another tab renewed it
      return latest.access_token;
    }
    return renew(latest);
  }).finally(() => {
    pending = null;
  });
  return pending;
}

async function renew(auth) {
  const body = auth.refresh_token ? { refresh_token: auth.refresh_token } : undefined;
  const response = await fetch("/api/auth/refresh", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body || {}),
  });
  const envelope = await readEnvelope(response);
  if (!envelope.success) {
    if (response.status === 401 || response.status === 403) {
      signedOut();
      return null;
    }
    throw toError(response, envelope);
  }
  // Stored (IndexedDB included) before the lock is released, for the next tab in line.
  return (await storeTokens(envelope.data)).access_token;
}

async function readEnvelope(response) {
  const type = response.headers.get("content-type") || "";
  if (!type.includes("json")) {
    return { success: response.ok, data: null, error: { code: `HTTP_${response.status}` } };
  }
  try {
    return await response.json();
  } catch {
    return { success: false, error: { code: "BAD_RESPONSE", message: "Unreadable response" } };
  }
}

function toError(response, envelope) {
  const error = envelope.error || {};
  const message = error.message || response.statusText || "Request failed";
  return new ApiError(response.status, error.code || `HTTP_${response.status}`, message, error.details);
}

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, item);
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

// A 401 about this app's own session (AUTH_ codes, or a bare 401), not a platform's refusal
// relayed by the API (a social account whose grant was withdrawn, say).
function aboutOurSession(envelope) {
  const code = envelope.error?.code || "";
  return !code || code.startsWith("AUTH_") || code.startsWith("HTTP_");
}

// Calls the API; resolves to the envelope ({data, meta}), throws ApiError otherwise.
export async function api(path, { method = "GET", body, query, auth = true, signal } = {}) {
  const url = withQuery(path, query);
  for (let attempt = 0; ; attempt += 1) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth) {
      const token = await accessToken({ force: attempt > 0 });
      if (!token) throw new ApiError(401, "SIGNED_OUT", "Please sign in again");
      headers.Authorization = `Bearer ${token}`;
    }
    const response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
    const envelope = await readEnvelope(response);
    const sessionRefused = response.status === 401 && auth && aboutOurSession(envelope);
    if (sessionRefused && attempt === 0) continue; // renew once, retry
    if (!envelope.success) {
      if (sessionRefused) signedOut();
      throw toError(response, envelope);
    }
    return envelope;
  }
}

// A URL for what the browser fetches itself (EventSource, downloads): those cannot send
// headers, so the API accepts the access token as a query parameter there.
export async function authorisedUrl(path, query = {}) {
  const token = await accessToken();
  if (!token) throw new ApiError(401, "SIGNED_OUT", "Please sign in again");
  return withQuery(path, { ...query, access_token: token });
}

export async function signIn(email, password) {
  const { data } = await api("/api/auth/login", {
    method: "POST",
    body: { email, password },
    auth: false,
  });
  await storeTokens(data);
  return data.user;
}

export async function signOut() {
  try {
    await api("/api/auth/logout", { method: "POST" });
  } catch {
    // The session may already be gone; forgetting it locally is what matters.
  }
  signedOut();
}
