// What happened to the user's posts (published, failed, needs a reconnect), newest first, and
// whether a failed post is also mailed.

import { api } from "../api.js";
import { emptyState, errorState, pageHeader } from "../components.js";
import { hasFeature } from "../config.js";
import { busy, clear, h, nextId, toast } from "../dom.js";
import { dateTime, relative } from "../format.js";
import { refreshUnread } from "../unread.js";

export async function render(ctx) {
  const { main, setTitle } = ctx;
  setTitle("Notifications");
  const list = h("section", { class: "card", "aria-label": "Notifications", "aria-live": "polite" });
  const settings = hasFeature("posts") ? mailSetting() : null;
  const readAll = h("button", { class: "button button-small", type: "button", hidden: true }, "Mark all as read");
  main.append(h("div", { class: "page" }, pageHeader("Notifications", readAll), settings, list));
  const load = async () => {
    try {
      const { data } = await api("/api/notifications", { query: { limit: 100 } });
      if (!ctx.alive()) return;
      readAll.hidden = !data.some((note) => !note.read_at);
      clear(list);
      if (!data.length) return list.append(emptyState("Nothing new.", "You hear here when a post is published or fails."));
      list.append(h("ul", { class: "watch-list" }, data.map((n) => item(n, load))));
    } catch (error) {
      clear(list).append(errorState(error, load));
    }
  };
  readAll.addEventListener("click", async () => {
    busy(readAll, true, "Marking…");
    try {
      const { data } = await api("/api/notifications/read-all", { method: "POST" });
      toast(data.marked === 1 ? "1 notification marked read" : `${data.marked} notifications marked read`, "success");
    } catch (error) {
      toast(error.message, "error");
    } finally {
      busy(readAll, false);
    }
    refreshUnread();
    await load();
    main.focus();
  });
  await load();
}

function item(note, load) {
  const read = async () => {
    try {
      await api(`/api/notifications/${note.id}/read`, { method: "POST" });
      refreshUnread();
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

// The mail-on-failure switch: shows the stored choice, saves each change at once.
function mailSetting() {
  const id = nextId("mail-on-failure");
  const box = h("input", { id, type: "checkbox", role: "switch", disabled: true, "aria-describedby": `${id}-hint` });
  const status = h("p", { class: "field-hint", id: `${id}-hint`, role: "status" }, "Loading…");
  const describe = (on) => (on ? "On: a failed post is also mailed to you." : "Off: failures show here only.");
  const card = h(
    "section",
    { class: "card", "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, "Settings"),
    h("div", { class: "check" }, box, h("label", { for: id }, "Email me when a post fails")),
    status,
  );
  api("/api/posts/preferences/email")
    .then(({ data }) => {
      box.checked = data;
      box.disabled = false;
      status.textContent = describe(data);
    })
    .catch((error) => {
      status.textContent = error.message;
    });
  box.addEventListener("change", async () => {
    const wanted = box.checked;
    box.disabled = true;
    try {
      const { data } = await api("/api/posts/preferences/email", { method: "PUT", query: { enabled: wanted } });
      box.checked = data;
      status.textContent = `Saved. ${describe(data)}`;
    } catch (error) {
      box.checked = !wanted;
      status.textContent = error.message;
      toast(error.message, "error");
    } finally {
      box.disabled = false;
      box.focus();
    }
  });
  return card;
}
