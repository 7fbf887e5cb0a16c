// One session: who, when, the analytics (charts and rankings) and a searchable event list.

import { api } from "../api.js";
import { avatar, errorState, exportButtons, stat, statusBadge } from "../components.js";
import { chartFigure, drawBars, drawSeries, purge } from "../charts.js";
import { clear, diamond, field, h } from "../dom.js";
import { CATEGORIES, categoryOf, describe, gained } from "../feed.js";
import { dateTime, duration, handle, num, short, usd } from "../format.js";
import { hasFeature } from "../config.js";
import { recapButton } from "../recap.js";

const EVENTS_PAGE = 50;

export async function render(ctx) {
  const { main, params, setTitle } = ctx;
  let session;
  let analytics;
  try {
    [session, analytics] = await Promise.all([
      api(`/api/sessions/${params.id}`).then((r) => r.data),
      api(`/api/sessions/${params.id}/analytics`, { query: { top: 10 } }).then((r) => r.data),
    ]);
  } catch (error) {
    if (!ctx.alive()) return null;
    setTitle("Session");
    main.append(h("section", { class: "page" }, h("h1", {}, "Session"), errorState(error)));
    return null;
  }
  if (!ctx.alive()) return null;
  setTitle(`@${session.streamer_username} · session`);
  const charts = {
    viewers: chartFigure("Viewers", "chart-viewers"),
    rate: chartFigure("Events per minute", "chart-rate"),
    types: chartFigure("Events by type", "chart-types"),
  };
  main.append(
    h(
      "div",
      { class: "page" },
      header(session),
      h("section", { class: "stats", "aria-label": "Summary" }, summaryStats(session, analytics)),
      h("div", { class: "grid-2" }, charts.viewers.figure, charts.rate.figure),
      h(
        "div",
        { class: "grid-3" },
        charts.types.figure,
        ranking("Top gifters", analytics.top_gifters, (g) => [num(g.diamonds), diamond(g.diamonds)], "No gifts."),
        ranking("Top chatters", analytics.top_chatters, (c) => `${num(c.messages)} message${c.messages === 1 ? "" : "s"}`, "No chat."),
      ),
      topGifts(analytics.top_gifts),
      eventBrowser(session.id),
    ),
  );
  const started = new Date(session.started_at).getTime();
  drawSeries(charts.viewers, {
    x: analytics.viewers_timeline.map((p) => new Date(Math.max(started, new Date(p.minute).getTime()))),
    y: analytics.viewers_timeline.map((p) => p.value),
    yTitle: "viewers",
    label: `Viewers per minute, peak ${num(analytics.peak_viewers)}.`,
  });
  drawSeries(charts.rate, {
    x: analytics.events_per_minute.map((p) => new Date(p.minute)),
    y: analytics.events_per_minute.map((p) => p.value),
    kind: "bar",
    yTitle: "events / min",
    color: getComputedStyle(document.documentElement).getPropertyValue("--accent-2").trim() || undefined,
    label: `Events per minute, ${num(analytics.average_events_per_minute)} on average.`,
  });
  const types = Object.entries(analytics.counts).sort((a, b) => b[1] - a[1]);
  drawBars(charts.types, { labels: types.map(([t]) => t.replaceAll("_", " ")), values: types.map(([, n]) => n) });
  return () => purge(charts.viewers, charts.rate, charts.types);
}

function header(session) {
  const info = session.streamer || {};
  const recap = hasFeature("ai_recap") && session.status !== "active" ? recapButton(session.id) : null;
  const facts = [
    ["Started", dateTime(session.started_at)],
    ["Ended", session.ended_at ? dateTime(session.ended_at) : "—"],
    ["Duration", duration(session.duration_seconds)],
    ["End reason", session.end_reason ? session.end_reason.replaceAll("_", " ") : "—"],
    ["Room", session.room_id || "—"],
  ];
  return h(
    "header",
    { class: "session-header card" },
    h(
      "div",
      { class: "live-who" },
      avatar(session.streamer_username),
      h(
        "div",
        {},
        h("h1", {}, `@${session.streamer_username} `, statusBadge(session.status)),
        h(
          "p",
          { class: "muted" },
          [info.display_name, info.follower_count != null ? `${short(info.follower_count)} followers` : null].filter(Boolean).join(" · "),
        ),
        info.bio ? h("p", { class: "bio" }, info.bio) : null,
      ),
    ),
    h("dl", { class: "facts" }, facts.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))),
    h(
      "div",
      { class: "page-actions" },
      exportButtons(session.id),
      session.status === "active" ? h("a", { class: "button button-primary", href: `/app/live/${session.id}`, "data-link": true }, "Watch live") : null,
      recap?.button,
    ),
    recap?.out,
  );
}

function summaryStats(session, a) {
  return [
    stat("Events", num(a.total_events), { id: "stat-events" }),
    stat("Unique users", num(a.unique_users), { id: "stat-users" }),
    stat("Peak viewers", num(a.peak_viewers), { id: "stat-peak" }),
    stat("Likes", num(a.likes), { id: "stat-likes" }),
    stat("Diamonds", num(a.diamonds), { id: "stat-diamonds", hint: `≈ ${usd(a.estimated_usd)}` }),
    // A rate over less than a minute says little: wait for the first full minute.
    stat("Events / min", a.duration_seconds >= 60 ? num(a.average_events_per_minute) : "—", {
      id: "stat-rate",
      hint: a.duration_seconds >= 60 ? null : "after a minute",
    }),
    stat("Chats", num(a.counts.chat || 0), { id: "stat-chat" }),
    stat("Gifts", num(a.counts.gift || 0), { id: "stat-gift" }),
    stat("Follows", num(a.counts.follow || 0), { id: "stat-follow" }),
    stat("Shares", num(a.counts.share || 0), { id: "stat-share" }),
  ];
}

function ranking(title, items, value, empty) {
  const id = `rank-${title.toLowerCase().replaceAll(" ", "-")}`;
  return h(
    "section",
    { class: "card", "aria-labelledby": id },
    h("h2", { id }, title),
    items.length
      ? h(
          "ol",
          { class: "ranking" },
          items.map((item, i) =>
            h(
              "li",
              { class: "ranking-item" },
              h("span", { class: "rank" }, String(i + 1)),
              h("span", { class: "ranking-name", title: item.nickname || "" }, item.unique_id ? `@${item.unique_id}` : item.nickname || item.user_id),
              h("span", { class: "ranking-value" }, value(item)),
            ),
          ),
        )
      : h("p", { class: "muted" }, empty),
  );
}

function topGifts(gifts) {
  if (!gifts.length) return null;
  return h(
    "section",
    { class: "card", "aria-labelledby": "gifts-title" },
    h("h2", { id: "gifts-title" }, "Gifts received"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "table" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Gift"), h("th", { scope: "col", class: "num" }, "Count"), h("th", { scope: "col", class: "num" }, "Diamonds"))),
        h(
          "tbody",
          {},
          gifts.map((g) =>
            h("tr", {}, h("td", {}, g.gift_name || `#${g.gift_id}`), h("td", { class: "num" }, num(g.gifts)), h("td", { class: "num" }, num(g.diamonds))),
          ),
        ),
      ),
    ),
  );
}

function localToIso(value) {
  return value ? new Date(value).toISOString() : undefined;
}

function eventBrowser(sessionId) {
  const type = field({ label: "Event type", name: "type", type: "select" });
  type.control.append(h("option", { value: "" }, "All types"), ...CATEGORIES.filter((c) => c.types.length).map((c) => h("option", { value: c.types.join(",") }, c.label)));
  const user = field({ label: "User", name: "user", attrs: { placeholder: "@handle or user id" } });
  const text = field({ label: "Text", name: "q", type: "search", attrs: { placeholder: "Words in the message" } });
  const since = field({ label: "From", name: "since", type: "datetime-local", attrs: { step: 1 } });
  const until = field({ label: "To", name: "until", type: "datetime-local", attrs: { step: 1 } });
  const body = h("tbody");
  const status = h("p", { class: "muted", "aria-live": "polite" });
  const more = h("button", { class: "button", type: "button", hidden: true }, "Load more");
  let cursor = null;
  let filters = {};

  async function load(reset) {
    if (reset) {
      cursor = null;
      clear(body);
    }
    more.disabled = true;
    status.textContent = "Loading…";
    try {
      const { data, meta } = await api(`/api/sessions/${sessionId}/events`, {
        query: { ...filters, cursor: cursor ?? undefined, limit: EVENTS_PAGE },
      });
      body.append(...data.map(eventRow));
      cursor = meta?.next_cursor ?? null;
      more.hidden = cursor === null;
      status.textContent = body.childElementCount ? `${num(body.childElementCount)} events shown` : "No event matches.";
    } catch (error) {
      status.textContent = error.message;
    } finally {
      more.disabled = false;
    }
  }

  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter events" },
    type.wrapper,
    user.wrapper,
    text.wrapper,
    since.wrapper,
    until.wrapper,
    h("div", { class: "filters-actions" }, h("button", { class: "button button-primary", type: "submit" }, "Filter")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    filters = {
      type: type.control.value || undefined,
      user: user.control.value.trim().replace(/^@/, "") || undefined,
      q: text.control.value.trim() || undefined,
      since: localToIso(since.control.value),
      until: localToIso(until.control.value),
    };
    load(true);
  });
  type.control.addEventListener("change", () => form.requestSubmit());
  more.addEventListener("click", () => load(false));
  load(true);

  return h(
    "section",
    { class: "card", "aria-labelledby": "events-title" },
    h("h2", { id: "events-title" }, "Events"),
    form,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "table table-events" },
        h("caption", { class: "visually-hidden" }, "Events of this session"),
        h("thead", {}, h("tr", {}, ["Time", "Type", "User", "What"].map((c) => h("th", { scope: "col" }, c)))),
        body,
      ),
    ),
    status,
    more,
  );
}

function eventRow(event) {
  const when = new Date(event.timestamp);
  return h(
    "tr",
    { dataset: { type: event.type } },
    h("td", { class: "nowrap" }, h("time", { datetime: event.timestamp }, when.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" }))),
    h("td", {}, h("span", { class: `event-kind kind-${categoryOf(event.type)}` }, event.type.replaceAll("_", " "))),
    h("td", {}, event.type === "room_user" ? "" : handle(event)),
    h("td", {}, describe(event), gained(event)),
  );
}
