// Home: connect to a streamer's LIVE, and the captures running now.

import { ApiError, api } from "../api.js";
import { emptyState, errorState, sessionTable } from "../components.js";
import { config, hasFeature } from "../config.js";
import { alertBox, busy, clear, field, h } from "../dom.js";
import { normaliseUsername } from "../username.js";

export async function render(ctx) {
  const { main, setTitle } = ctx;
  setTitle("Connect");
  const active = h("section", { class: "card", "aria-labelledby": "active-title" });
  const recent = h("section", { class: "card", "aria-labelledby": "recent-title" });
  const live = hasFeature("live");
  main.append(
    h("div", { class: "page" }, connectCard(ctx), live ? h("div", { class: "grid-2" }, active, recent) : null),
  );
  if (!live) return;
  await Promise.all([
    loadSessions(active, "active-title", "Live captures", { status: "active", limit: 10 }, "Nothing is being captured right now."),
    loadSessions(recent, "recent-title", "Recent sessions", { limit: 5 }, "Sessions you capture show up here."),
  ]);
}

function connectCard({ navigate, query }) {
  const input = field({
    label: "TikTok username or LIVE link",
    name: "username",
    value: query.get("username") || "",
    hint: "For example @name, name or https://www.tiktok.com/@name/live",
    attrs: {
      autocomplete: "off",
      autocapitalize: "none",
      spellcheck: "false",
      placeholder: config.demo_username ? `@${config.demo_username}` : "@username",
      maxlength: 200,
    },
  });
  const preview = h("p", { class: "username-preview", "aria-live": "polite" });
  const alert = alertBox();
  const submit = h("button", { class: "button button-primary", type: "submit" }, "Connect");
  const form = h(
    "form",
    { class: "connect-form", novalidate: true, "aria-label": "Connect to a LIVE" },
    h("div", { class: "connect-row" }, input.wrapper, submit),
    preview,
    alert.el,
  );
  if (config.demo_username) {
    preview.before(
      h(
        "p",
        { class: "demo-hint" },
        "Demo stream: ",
        h(
          "button",
          {
            class: "chip",
            type: "button",
            onclick: () => {
              input.control.value = config.demo_username;
              update();
              submit.focus();
            },
          },
          `@${config.demo_username}`,
        ),
      ),
    );
  }

  function update() {
    const raw = input.control.value;
    const result = normaliseUsername(raw);
    if (!raw.trim()) {
      preview.textContent = "";
      input.setError("");
    } else if (result.ok) {
      preview.textContent = `Will connect to @${result.username}`;
      input.setError("");
    } else {
      preview.textContent = "";
    }
    return result;
  }

  input.control.addEventListener("input", update);
  input.control.addEventListener("blur", () => {
    const result = normaliseUsername(input.control.value);
    if (input.control.value.trim() && !result.ok) input.setError(result.error);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.hide();
    const result = update();
    if (!result.ok) {
      input.setError(result.error);
      input.control.focus();
      return;
    }
    busy(submit, true, "Connecting…");
    try {
      const { data } = await api("/api/sessions", { method: "POST", body: { username: result.username } });
      navigate(`/app/live/${data.id}`);
    } catch (error) {
      await explain(error, result.username, alert, navigate);
    } finally {
      busy(submit, false);
    }
  });
  update();

  return h(
    "section",
    { class: "card connect-card", "aria-labelledby": "connect-title" },
    h("h1", { id: "connect-title" }, "Connect to a LIVE"),
    h("p", { class: "muted" }, "AllIN records every chat, gift, like and join while you watch, and keeps the session for later."),
    hasFeature("live") ? form : h("p", { class: "alert alert-info" }, "LIVE capture is not enabled on this server."),
  );
}

async function explain(error, username, alert, navigate) {
  if (!(error instanceof ApiError)) {
    alert.show(String(error.message || error));
    return;
  }
  if (error.code === "LIVE_ALREADY_CAPTURING") {
    const found = await api("/api/sessions", { query: { status: "active", streamer: username, limit: 1 } }).catch(() => null);
    const session = found?.data?.[0];
    if (session) {
      navigate(`/app/live/${session.id}`);
      return;
    }
  }
  const messages = {
    LIVE_USER_OFFLINE: `@${username} is not live right now.`,
    LIVE_USER_NOT_FOUND: `There is no TikTok user @${username}.`,
    LIVE_AGE_RESTRICTED: `@${username}'s LIVE is age-restricted.`,
  };
  alert.show(messages[error.code] || error.message);
  if (error.code === "LIVE_USER_OFFLINE" && hasFeature("watchlist")) {
    alert.el.append(
      " ",
      h(
        "button",
        {
          class: "button button-small",
          type: "button",
          onclick: async () => {
            try {
              await api("/api/watchlist", { method: "POST", body: { username } });
              alert.show(`Watching @${username}: AllIN starts capturing when they go live.`, "info");
            } catch (watchError) {
              alert.show(watchError.message);
            }
          },
        },
        "Capture when they go live",
      ),
    );
  }
}

async function loadSessions(section, titleId, title, query, emptyText) {
  clear(section).append(h("h2", { id: titleId }, title), h("p", { class: "muted" }, "Loading…"));
  try {
    const { data } = await api("/api/sessions", { query });
    clear(section).append(
      h("div", { class: "card-header" }, h("h2", { id: titleId }, title), h("a", { href: "/app/sessions", "data-link": true }, "All sessions")),
      data.length ? sessionTable(data, title, { compact: true }) : emptyState(emptyText),
    );
  } catch (error) {
    clear(section).append(h("h2", { id: titleId }, title), errorState(error));
  }
}
