// The dashboard's entry point: a small History-API router over page modules.
// Every page module exports `render(ctx)` and may return a cleanup function.

import { api, currentUser, hasSession, onSignedOut, signOut } from "./api.js";
import { hasFeature } from "./config.js";
import { $, $$, clear, h } from "./dom.js";
import { watchUnread } from "./unread.js";

const ROUTES = [
  { path: /^\/(?:app\/?)?$/, page: "connect", nav: "connect" },
  { path: /^\/app\/login$/, page: "login", public: true },
  { path: /^\/app\/setup$/, page: "setup", public: true },
  { path: /^\/verify-email$/, page: "verify", public: true },
  { path: /^\/reset-password$/, page: "reset", public: true },
  { path: /^\/app\/live\/([0-9a-f-]{36})$/, page: "live", nav: "connect", keys: ["id"] },
  { path: /^\/app\/sessions$/, page: "sessions", nav: "sessions" },
  { path: /^\/app\/sessions\/([0-9a-f-]{36})$/, page: "session", nav: "sessions", keys: ["id"] },
  { path: /^\/app\/watchlist$/, page: "watchlist", nav: "watchlist" },
  { path: /^\/app\/keys$/, page: "keys", nav: "keys" },
  { path: /^\/app\/sign$/, page: "sign", nav: "sign" },
  { path: /^\/app\/accounts$/, page: "accounts", nav: "accounts" },
  { path: /^\/app\/compose$/, page: "compose", nav: "compose" },
  { path: /^\/app\/posts$/, page: "posts", nav: "posts" },
  { path: /^\/app\/posts\/([0-9a-f-]{36})$/, page: "post", nav: "posts", keys: ["id"] },
  { path: /^\/app\/calendar$/, page: "calendar", nav: "calendar" },
  { path: /^\/app\/notifications$/, page: "notifications", nav: "notifications" },
  { path: /^\/app\/queue$/, page: "queue", nav: "queue" },
];

const main = document.getElementById("main");
let cleanup = null;
let setupNeeded = null;
let firstRender = true;
let renderSeq = 0;

function match(pathname) {
  for (const route of ROUTES) {
    const found = route.path.exec(pathname);
    if (found) {
      const params = {};
      (route.keys || []).forEach((key, i) => {
        params[key] = found[i + 1];
      });
      return { route, params };
    }
  }
  return { route: { page: "notfound" }, params: {} };
}

function navigate(to, { replace = false } = {}) {
  const url = new URL(to, location.origin);
  if (url.origin !== location.origin) {
    location.assign(to);
    return;
  }
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  render();
}

async function needsSetup() {
  if (setupNeeded === false) return false;
  try {
    const { data } = await api("/api/auth/setup", { auth: false });
    setupNeeded = Boolean(data.needs_setup);
  } catch {
    setupNeeded = false; // no first-run API: sign in as usual
  }
  return setupNeeded;
}

function setupDone() {
  setupNeeded = false;
}

function showChrome(signedIn, navKey) {
  $("#topbar").hidden = !signedIn;
  if (!signedIn) return;
  const user = currentUser();
  $("#account-name").textContent = user ? user.display_name || user.email : "";
  // Pages whose API this server lacks are not offered (any one listed feature will do);
  // operators' pages only to administrators (the API checks again).
  for (const link of $$("[data-feature]")) {
    const offered = link.dataset.feature.split(" ").some(hasFeature);
    link.hidden = !offered || ("admin" in link.dataset && user?.role !== "admin");
  }
  for (const link of $$("[data-nav]")) {
    if (link.dataset.nav === navKey) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  closeMenu();
  watchUnread();
}

async function render() {
  const seq = ++renderSeq;
  const { route, params } = match(location.pathname);
  if (cleanup) {
    try {
      cleanup();
    } catch (error) {
      console.error(error);
    }
    cleanup = null;
  }
  const firstRun = await needsSetup();
  if (seq !== renderSeq) return; // a newer navigation took over
  if (firstRun) {
    if (route.page !== "setup") return navigate("/app/setup", { replace: true });
  } else if (!route.public && !hasSession()) {
    const next = location.pathname + location.search;
    return navigate(`/app/login?next=${encodeURIComponent(next)}`, { replace: true });
  } else if (route.page === "setup" || (route.page === "login" && hasSession())) {
    return navigate("/app", { replace: true });
  }
  showChrome(!route.public, route.nav);
  clear(main);
  const ctx = {
    main,
    params,
    query: new URLSearchParams(location.search),
    navigate,
    alive: () => seq === renderSeq,
    setupDone,
    setTitle: (title) => {
      document.title = title ? `${title} · AllIN` : "AllIN";
    },
  };
  try {
    const module = await import(`./pages/${route.page}.js`);
    if (seq !== renderSeq) return;
    const done = (await module.render(ctx)) || null;
    if (seq !== renderSeq) {
      if (done) done();
      return;
    }
    cleanup = done;
  } catch (error) {
    console.error(error);
    clear(main).append(
      h("section", { class: "page" }, h("h1", {}, "Something went wrong"), h("p", {}, String(error.message || error))),
    );
  }
  if (!firstRender) main.focus({ preventScroll: true });
  firstRender = false;
  window.scrollTo(0, 0);
}

function closeMenu() {
  $("#nav-toggle").setAttribute("aria-expanded", "false");
  document.body.classList.remove("menu-open");
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(link.getAttribute("href"));
});

window.addEventListener("popstate", () => render());

$("#nav-toggle").addEventListener("click", () => {
  const open = $("#nav-toggle").getAttribute("aria-expanded") !== "true";
  $("#nav-toggle").setAttribute("aria-expanded", String(open));
  document.body.classList.toggle("menu-open", open);
});

$("#sign-out").addEventListener("click", async () => {
  await signOut();
});

onSignedOut(() => {
  if (!match(location.pathname).route.public) navigate("/app/login", { replace: true });
});

// Another tab signed out (or in): follow it.
window.addEventListener("storage", (event) => {
  if (event.key === "allin.auth" && !event.newValue) {
    if (!match(location.pathname).route.public) navigate("/app/login", { replace: true });
  }
});

render();
