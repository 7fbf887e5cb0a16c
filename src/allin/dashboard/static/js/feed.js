// The live event feed: newest first, filterable by kind and by text, bounded in memory and
// in the DOM so a busy stream stays smooth.

import { diamond, h } from "./dom.js";
import { clock, handle, num } from "./format.js";

export const CATEGORIES = [
  { key: "chat", label: "Chat", types: ["chat", "emote_chat", "question"] },
  { key: "gift", label: "Gifts", types: ["gift", "envelope"] },
  { key: "like", label: "Likes", types: ["like"] },
  { key: "join", label: "Joins", types: ["join"] },
  { key: "follow", label: "Follows", types: ["follow"] },
  { key: "share", label: "Shares", types: ["share"] },
  { key: "subscribe", label: "Subs", types: ["subscribe"] },
  { key: "viewers", label: "Viewers", types: ["room_user"] },
  { key: "other", label: "Other", types: [] },
];

const CATEGORY_OF = new Map(CATEGORIES.flatMap((c) => c.types.map((t) => [t, c.key])));

export function categoryOf(type) {
  return CATEGORY_OF.get(type) || "other";
}

// What happened, in words (text only: rendered as text nodes).
export function describe(event) {
  switch (event.type) {
    case "chat":
    case "question":
      return event.message || "";
    case "emote_chat":
      return "sent an emote";
    case "gift": {
      const name = event.gift_name || `gift ${event.gift_id ?? ""}`.trim();
      const count = event.repeat_count || event.gift_count || 1;
      return `sent ${name} ×${num(count)}`;
    }
    case "envelope":
      return "dropped a treasure chest";
    case "like":
      return `liked ×${num(event.like_count || 1)}`;
    case "join":
      return "joined";
    case "follow":
      return "followed the host";
    case "share":
      return "shared the LIVE";
    case "subscribe":
      return "subscribed";
    case "room_user":
      return `${num(event.viewer_count)} watching`;
    case "control":
      return event.message ? `stream: ${event.message}` : "stream status changed";
    default:
      return event.message || event.type.replaceAll("_", " ");
  }
}

function actor(event) {
  if (event.type === "room_user" || event.type === "control") return "";
  return handle(event);
}

export class EventFeed {
  constructor({ max = 400, label = "Events" } = {}) {
    this.max = max;
    this.events = []; // newest first
    this.ids = new Set();
    this.enabled = null; // null: every kind; else the set of kinds shown
    this.text = "";
    this.paused = false;
    this.waiting = 0;
    this.list = h("ol", { class: "feed-list", "aria-label": label, reversed: true });
    this.empty = h("p", { class: "feed-empty muted" }, "Waiting for events…");
    this.pauseButton = h("button", { class: "button button-small", type: "button", "aria-pressed": "false" }, "Pause");
    this.pauseButton.addEventListener("click", () => this.setPaused(!this.paused));
    this.el = h("div", { class: "feed" }, this.toolbar(), h("div", { class: "feed-scroll", tabindex: "0", "aria-label": label, role: "region" }, this.empty, this.list));
  }

  toolbar() {
    this.allChip = h("button", { class: "chip chip-all", type: "button", "aria-pressed": "true", dataset: { filter: "all" } }, "All");
    this.allChip.addEventListener("click", () => this.showAll());
    this.chips = CATEGORIES.map((category) => {
      const chip = h(
        "button",
        { class: `chip chip-${category.key}`, type: "button", "aria-pressed": "false", dataset: { filter: category.key } },
        category.label,
      );
      chip.addEventListener("click", () => this.toggle(category.key));
      return chip;
    });
    const search = h("input", {
      type: "search",
      class: "feed-search",
      placeholder: "Filter by user or text",
      "aria-label": "Filter events by user or text",
    });
    search.addEventListener("input", () => {
      this.text = search.value.trim().toLowerCase();
      this.rerender();
    });
    return h(
      "div",
      { class: "feed-toolbar" },
      h("div", { class: "chips", role: "group", "aria-label": "Show event kinds" }, this.allChip, this.chips),
      h("div", { class: "feed-tools" }, search, this.pauseButton),
    );
  }

  // The first kind picked shows only that kind; more picks add kinds; "All" resets.
  toggle(key) {
    const enabled = new Set(this.enabled || []);
    if (enabled.has(key)) enabled.delete(key);
    else enabled.add(key);
    this.enabled = enabled.size ? enabled : null;
    this.syncChips();
    this.rerender();
  }

  showAll() {
    this.enabled = null;
    this.syncChips();
    this.rerender();
  }

  syncChips() {
    this.allChip.setAttribute("aria-pressed", String(this.enabled === null));
    for (const chip of this.chips) {
      chip.setAttribute("aria-pressed", String(Boolean(this.enabled?.has(chip.dataset.filter))));
    }
  }

  setPaused(paused) {
    this.paused = paused;
    this.pauseButton.setAttribute("aria-pressed", String(paused));
    this.pauseButton.textContent = paused ? "Resume" : "Pause";
    if (!paused) {
      this.waiting = 0;
      this.rerender();
    }
  }

  matches(event) {
    if (this.enabled && !this.enabled.has(categoryOf(event.type))) return false;
    if (!this.text) return true;
    const haystack = `${actor(event)} ${event.nickname || ""} ${describe(event)}`.toLowerCase();
    return haystack.includes(this.text);
  }

  // Live events, oldest first as they arrive.
  add(events) {
    const fresh = events.filter((e) => !this.ids.has(e.id));
    if (!fresh.length) return;
    for (const event of fresh) this.ids.add(event.id);
    this.events.unshift(...fresh.reverse());
    this.trim();
    if (this.paused) {
      this.waiting += fresh.length;
      this.pauseButton.textContent = `Resume (${num(this.waiting)} new)`;
      return;
    }
    const rows = fresh.filter((e) => this.matches(e)).map(row);
    if (rows.length) {
      this.list.prepend(...rows);
      while (this.list.childElementCount > this.max) this.list.lastElementChild.remove();
    }
    this.updateEmpty();
  }

  // Older events (history), newest first, shown below what is already there.
  addHistory(events) {
    const older = events.filter((e) => !this.ids.has(e.id));
    for (const event of older) this.ids.add(event.id);
    this.events.push(...older);
    this.events.sort((a, b) => b.id - a.id);
    this.trim();
    this.rerender();
  }

  trim() {
    while (this.events.length > this.max) this.ids.delete(this.events.pop().id);
  }

  rerender() {
    if (this.paused) return;
    this.list.replaceChildren(...this.events.filter((e) => this.matches(e)).map(row));
    this.updateEmpty();
  }

  updateEmpty() {
    const shown = this.list.childElementCount;
    this.empty.hidden = shown > 0;
    this.empty.textContent = this.events.length ? "No event matches the filter." : "Waiting for events…";
  }
}

function row(event) {
  const category = categoryOf(event.type);
  const who = actor(event);
  return h(
    "li",
    { class: `event event-${category}`, dataset: { type: event.type, category, id: event.id } },
    h("time", { class: "event-time", datetime: event.timestamp }, clock(event.timestamp)),
    h("span", { class: `event-kind kind-${category}` }, kindLabel(event.type)),
    h(
      "span",
      { class: "event-body" },
      who ? h("span", { class: "event-user", title: event.nickname || "" }, who) : null,
      who ? " " : null,
      h("span", { class: "event-text" }, describe(event)),
      gained(event),
    ),
  );
}

// "+5 ◆" on gifts that added diamonds (a streak's later events add only what is new).
export function gained(event) {
  if (!event.diamonds) return null;
  return h("span", { class: "event-diamonds" }, ` +${num(event.diamonds)}`, diamond(event.diamonds));
}

function kindLabel(type) {
  const labels = { room_user: "viewers", emote_chat: "emote", im_delete: "deleted" };
  return labels[type] || type.replaceAll("_", " ");
}
