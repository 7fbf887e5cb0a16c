// What happened to the user's posts (published, failed, needs a reconnect), newest first.

import { api } from "../api.js";
import { emptyState, errorState, pageHeader } from "../components.js";
import { clear, h, toast } from "../dom.js";
import { dateTime, relative } from "../format.js";

export async function render(ctx) {
  const { main, setTitle } = ctx;
  setTitle("Notifications");
  const list = h("section", { class: "card", "aria-label": "Notifications", "aria-live": "polite" });
  main.append(h("div", { class: "page" }, pageHeader("Notifications"), list));
  const load = async () => {
    try {
      const { data } = await api("/api/notifications", { query: { limit: 100 } });
      if (!ctx.alive()) return;
      clear(list);
      if (!data.length) return list.append(emptyState("Nothing new.", "You hear here when a post is published or fails."));
      list.append(h("ul", { class: "watch-list" }, data.map((n) => item(n, load))));
    } catch (error) {
      clear(list).append(errorState(error, load));
    }
  };
  await load();
}

function item(note, load) {
  const read = async () => {
    try {
      await api(`/api/notifications/${note.id}/read`, { method: "POST" });
      await load();
    } catch (error) {
      toast(error.message, "error");
    }
  };
  return h(
    "li",
    { class: `watch-item notification${note.read_at ? "" : " unread"}`, dataset: { kind: note.kind, notification: note.id } },
    h("span", { class: `badge badge-${/fail|reconnect/.test(note.kind) ? "danger" : "ok"}` }, note.kind.replaceAll("_", " ")),
    h(
      "div",
      { class: "watch-main" },
      h("span", {}, note.message),
      h("span", { class: "muted small" }, h("time", { datetime: note.created_at, title: dateTime(note.created_at) }, relative(note.created_at))),
    ),
    note.post_id ? h("a", { class: "button button-small", href: `/app/posts/${note.post_id}`, "data-link": true }, "Open the post") : null,
    note.read_at ? null : h("button", { class: "button button-small button-quiet", type: "button", onclick: read, "aria-label": `Mark as read: ${note.message}` }, "Mark read"),
  );
}
