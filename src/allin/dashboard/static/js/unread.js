// The count of unread notifications beside "Notifications" in the menu: read on each page
// change, every minute, and at once when a notification is marked read.

import { api, hasSession } from "./api.js";
import { hasFeature } from "./config.js";
import { h } from "./dom.js";

const EVERY_MS = 60_000;
let timer = null;
let seq = 0;

function badge() {
  const link = document.querySelector('[data-nav="notifications"]');
  if (!link) return null;
  let el = link.querySelector(".nav-badge");
  if (!el) {
    el = h("span", { class: "nav-badge", hidden: true }, h("span", { class: "nav-badge-count", "aria-hidden": "true" }), h("span", { class: "visually-hidden" }));
    link.append(el);
  }
  return el;
}

function show(count) {
  const el = badge();
  if (!el) return;
  el.hidden = count <= 0;
  el.dataset.unread = String(count);
  el.firstChild.textContent = count > 99 ? "99+" : String(count);
  el.lastChild.textContent = count > 0 ? ` (${count} unread)` : "";
}

export async function refreshUnread() {
  if (!hasFeature("notifications") || !hasSession()) return;
  const mine = ++seq;
  try {
    const { data } = await api("/api/notifications/unread-count");
    if (mine === seq) show(data.unread);
  } catch {
    // The menu keeps the last count; the notifications page shows its own errors.
  }
}

// Called whenever the signed-in chrome is shown.
export function watchUnread() {
  refreshUnread();
  if (timer === null) {
    timer = setInterval(() => {
      if (document.visibilityState === "visible") refreshUnread();
    }, EVERY_MS);
  }
}
