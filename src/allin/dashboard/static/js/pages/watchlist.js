// The watchlist: streamers AllIN captures automatically whenever they go live.

import { ApiError, api } from "../api.js";
import { avatar, emptyState, errorState, pageHeader } from "../components.js";
import { alertBox, busy, clear, confirmDialog, field, h, toast } from "../dom.js";
import { relative } from "../format.js";
import { normaliseUsername } from "../username.js";

const REFRESH_MS = 15_000;

export async function render(ctx) {
  const { main, setTitle } = ctx;
  setTitle("Watchlist");
  const input = field({
    label: "TikTok username or profile link",
    name: "username",
    hint: "AllIN checks regularly and starts a capture when they go live.",
    attrs: { autocomplete: "off", autocapitalize: "none", spellcheck: "false", placeholder: "@username", maxlength: 200 },
  });
  const alert = alertBox();
  const submit = h("button", { class: "button button-primary", type: "submit" }, "Watch");
  const form = h("form", { class: "connect-form", novalidate: true, "aria-label": "Add to the watchlist" }, h("div", { class: "connect-row" }, input.wrapper, submit), alert.el);
  const list = h("section", { class: "card", "aria-labelledby": "watched-title", "aria-live": "polite" });
  main.append(
    h(
      "div",
      { class: "page" },
      pageHeader("Watchlist"),
      h("section", { class: "card" }, h("h2", {}, "Watch a streamer"), form),
      list,
    ),
  );

  async function refresh() {
    try {
      const { data } = await api("/api/watchlist");
      if (!ctx.alive()) return;
      renderList(list, data, refresh);
    } catch (error) {
      clear(list).append(h("h2", { id: "watched-title" }, "Watched streamers"), errorState(error, refresh));
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.hide();
    const result = normaliseUsername(input.control.value);
    input.setError(result.ok ? "" : result.error);
    if (!result.ok) {
      input.control.focus();
      return;
    }
    busy(submit, true, "Adding…");
    try {
      await api("/api/watchlist", { method: "POST", body: { username: result.username } });
      input.control.value = "";
      toast(`Watching @${result.username}`, "success");
      await refresh();
    } catch (error) {
      alert.show(error instanceof ApiError ? error.message : String(error));
    } finally {
      busy(submit, false);
    }
  });

  await refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  return () => clearInterval(timer);
}

function renderList(section, entries, refresh) {
  clear(section).append(h("h2", { id: "watched-title" }, "Watched streamers"));
  if (!entries.length) {
    section.append(emptyState("Nobody is watched yet.", "Add a streamer above: their next LIVE is captured without you."));
    return;
  }
  section.append(
    h(
      "ul",
      { class: "watch-list" },
      entries.map((entry) =>
        h(
          "li",
          { class: "watch-item", dataset: { username: entry.username } },
          avatar(entry.username),
          h(
            "div",
            { class: "watch-main" },
            h("strong", {}, `@${entry.username}`),
            h(
              "span",
              { class: "muted small" },
              entry.last_checked_at ? `checked ${relative(entry.last_checked_at)}` : "not checked yet",
            ),
          ),
          h("span", { class: `badge ${entry.is_live ? "badge-active" : "badge-ended"}` }, entry.is_live ? "Live" : "Offline"),
          entry.last_session_id
            ? h("a", { class: "button button-small", href: `/app/sessions/${entry.last_session_id}`, "data-link": true }, "Last session")
            : null,
          h(
            "button",
            {
              class: "button button-small button-quiet",
              type: "button",
              "aria-label": `Stop watching @${entry.username}`,
              onclick: async () => {
                const yes = await confirmDialog({
                  title: `Stop watching @${entry.username}?`,
                  message: "Captures already made are kept.",
                  confirm: "Stop watching",
                });
                if (!yes) return;
                try {
                  await api(`/api/watchlist/${encodeURIComponent(entry.username)}`, { method: "DELETE" });
                  toast(`No longer watching @${entry.username}`);
                  await refresh();
                } catch (error) {
                  toast(error.message, "error");
                }
              },
            },
            "Remove",
          ),
        ),
      ),
    ),
  );
}
