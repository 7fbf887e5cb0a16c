// The live view of a capture: counters, viewers and events-per-minute charts, top gifters
// and the event feed, all updated as events arrive over SSE.
//
// Counters, charts and rankings come from the analytics endpoint (counted from the stored
// events, so exact), re-read every few seconds, plus every event received since. The
// stream's own summary (its first message) gives the counters until the first read: the
// session's stored totals may trail its events by a second.

import { ApiError, api } from "../api.js";
import { avatar, errorState, exportButtons, stat, statusBadge } from "../components.js";
import { chartFigure, drawSeries, purge } from "../charts.js";
import { busy, clear, confirmDialog, diamond, h, toast } from "../dom.js";
import { EventFeed } from "../feed.js";
import { duration, num, short, usd } from "../format.js";
import { SessionStream } from "../stream.js";

const ANALYTICS_EVERY_MS = 10_000;
const BIG_SESSION = 200_000; // events: analytics cost more, re-read them less often
const BIG_ANALYTICS_EVERY_MS = 60_000;
const CHARTS_EVERY_MS = 2_000;
const HISTORY = 100;

const COUNTERS = [
  ["viewers", "Viewers"],
  ["peak", "Peak viewers"],
  ["likes", "Likes"],
  ["diamonds", "Diamonds"],
  ["chat", "Chats"],
  ["gift", "Gifts"],
  ["follow", "Follows"],
  ["share", "Shares"],
  ["join", "Joins"],
  ["events", "Events"],
];

const CONNECTION_LABELS = {
  connecting: "Connecting…",
  open: "Receiving events",
  reconnecting: "Reconnecting…",
  ended: "Stream ended",
  closed: "Disconnected",
  "signed-out": "Signed out",
};

const minuteOf = (iso) => Math.floor(new Date(iso).getTime() / 60_000) * 60_000;

function emptyLocal() {
  return { minutes: new Map(), viewers: [], gifters: new Map() };
}

function addLocal(local, event) {
  const minute = minuteOf(event.timestamp);
  local.minutes.set(minute, (local.minutes.get(minute) || 0) + 1);
  if (event.type === "room_user" && event.viewer_count != null) {
    local.viewers.push([new Date(event.timestamp).getTime(), event.viewer_count]);
  }
  if (event.type === "gift" && event.diamonds > 0 && event.user_id) {
    const gifter = local.gifters.get(event.user_id) || {
      user_id: event.user_id,
      unique_id: event.unique_id,
      nickname: event.nickname,
      diamonds: 0,
      gifts: 0,
    };
    gifter.diamonds += event.diamonds;
    gifter.gifts += event.gift_count || 0;
    local.gifters.set(event.user_id, gifter);
  }
}

function mergeLocal(into, from) {
  for (const [minute, count] of from.minutes) into.minutes.set(minute, (into.minutes.get(minute) || 0) + count);
  into.viewers.unshift(...from.viewers);
  for (const [id, g] of from.gifters) {
    const target = into.gifters.get(id);
    if (target) {
      target.diamonds += g.diamonds;
      target.gifts += g.gifts;
    } else into.gifters.set(id, { ...g });
  }
}

// The analytics' ranking plus the gifts received since it was read.
function topGifters(ranked, local, size = 10) {
  const merged = new Map(ranked.map((g) => [g.user_id, { ...g }]));
  for (const [id, g] of local) {
    const target = merged.get(id);
    if (target) {
      target.diamonds += g.diamonds;
      target.gifts += g.gifts;
    } else merged.set(id, { ...g });
  }
  return [...merged.values()].sort((a, b) => b.diamonds - a.diamonds).slice(0, size);
}

export async function render(ctx) {
  const { main, params, setTitle, navigate } = ctx;
  const id = params.id;
  let session;
  try {
    session = (await api(`/api/sessions/${id}`)).data;
  } catch (error) {
    if (!ctx.alive()) return null;
    setTitle("Session");
    main.append(h("section", { class: "page" }, h("h1", {}, "Live view"), errorState(error)));
    return null;
  }
  if (!ctx.alive()) return null;
  setTitle(`@${session.streamer_username} live`);

  const view = new LiveView(session, navigate);
  main.append(view.el);
  view.start();
  return () => view.stop();
}

class LiveView {
  constructor(session, navigate) {
    this.session = session;
    this.navigate = navigate;
    this.totals = { counters: {}, events: 0, likes: 0, diamonds: 0, viewers: 0, peak: 0 };
    this.local = emptyLocal(); // what arrived since the last analytics read
    this.analytics = null;
    this.dirty = false; // charts need a redraw
    this.timers = [];
    this.feed = new EventFeed({ label: `Events of @${session.streamer_username}` });
    this.viewersChart = chartFigure("Viewers", "chart-viewers");
    this.rateChart = chartFigure("Events per minute", "chart-rate");
    this.gifters = h("ol", { class: "ranking", "aria-label": "Top gifters" });
    this.giftValue = h("p", { class: "muted small gift-value" });
    this.el = this.layout();
    this.applySummary(session);
  }

  layout() {
    const s = this.session;
    const info = s.streamer || {};
    this.statusEl = h("span", {}, statusBadge(s.status));
    this.durationEl = h("span", { class: "duration", "aria-label": "Duration" }, duration(s.duration_seconds));
    this.connectionEl = h("span", { class: "connection", role: "status" }, "");
    this.endButton = h("button", { class: "button button-danger", type: "button", onclick: () => this.end() }, "End capture");
    this.endButton.hidden = s.status !== "active";
    this.banner = h("div", { class: "alert alert-info", hidden: true });
    this.counterEls = {};
    const stats = COUNTERS.map(([key, label]) => {
      const el = stat(label, "0", { id: `stat-${key}` });
      this.counterEls[key] = el.querySelector(".stat-value");
      return el;
    });
    return h(
      "div",
      { class: "page live" },
      h(
        "header",
        { class: "live-header" },
        h(
          "div",
          { class: "live-who" },
          avatar(s.streamer_username),
          h(
            "div",
            {},
            h("h1", {}, `@${s.streamer_username}`),
            h(
              "p",
              { class: "muted" },
              [info.display_name, info.follower_count != null ? `${short(info.follower_count)} followers` : null]
                .filter(Boolean)
                .join(" · "),
            ),
          ),
        ),
        h("div", { class: "live-status" }, this.statusEl, this.durationEl, this.connectionEl),
        h(
          "div",
          { class: "page-actions" },
          exportButtons(s.id),
          h("a", { class: "button", href: `/app/sessions/${s.id}`, "data-link": true }, "Details"),
          this.endButton,
        ),
      ),
      this.banner,
      h("section", { class: "stats", "aria-label": "Counters" }, stats),
      h("div", { class: "grid-2" }, this.viewersChart.figure, this.rateChart.figure),
      h(
        "div",
        { class: "live-main" },
        h("section", { class: "card feed-card", "aria-labelledby": "feed-title" }, h("h2", { id: "feed-title" }, "Event feed"), this.feed.el),
        h(
          "section",
          { class: "card", "aria-labelledby": "gifters-title" },
          h("h2", { id: "gifters-title" }, "Top gifters"),
          this.gifters,
          this.giftValue,
        ),
      ),
    );
  }

  start() {
    this.stream = new SessionStream(this.session.id, {
      onSession: (summary, { resumed }) => {
        if (!resumed) this.applySummary(summary);
        this.setStatus(summary.status, summary.end_reason);
      },
      onEvents: (events) => this.onEvents(events),
      onStatus: (status) => this.setStatus(status.status, status.reason),
      onState: (state) => {
        this.connectionEl.textContent = CONNECTION_LABELS[state] || state;
        this.connectionEl.dataset.state = state;
      },
    });
    this.stream.open().then(() => this.loadHistory());
    this.loadAnalytics();
    this.timers.push(setInterval(() => this.tick(), 1000));
    this.timers.push(setInterval(() => this.drawCharts(), CHARTS_EVERY_MS / 4));
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.nextAnalytics);
    this.stream?.close();
    for (const timer of this.timers) clearInterval(timer);
    purge(this.viewersChart, this.rateChart);
  }

  async loadHistory() {
    try {
      const { data } = await api(`/api/sessions/${this.session.id}/events`, { query: { order: "desc", limit: HISTORY } });
      this.feed.addHistory(data);
    } catch (error) {
      toast(`Could not load earlier events: ${error.message}`, "error");
    }
  }

  async loadAnalytics() {
    if (this.analyticsPending) return;
    this.analyticsPending = true;
    // Events from now on are drawn on top of this read of the analytics.
    const before = this.local;
    this.local = emptyLocal();
    try {
      const { data } = await api(`/api/sessions/${this.session.id}/analytics`, { query: { top: 10 } });
      this.analytics = data;
      this.rebase(data);
      this.renderGifters();
      this.dirty = true;
      this.drawnAt = 0; // fresh analytics: draw now
      this.drawCharts();
    } catch (error) {
      mergeLocal(this.local, before); // nothing is lost: try again next time
      if (!(error instanceof ApiError && error.status === 404)) console.warn("analytics", error);
    } finally {
      this.analyticsPending = false;
      this.scheduleAnalytics();
    }
  }

  scheduleAnalytics() {
    clearTimeout(this.nextAnalytics);
    if (this.stopped || this.session.status === "ended") return;
    const big = this.totals.events > BIG_SESSION;
    this.nextAnalytics = setTimeout(() => this.loadAnalytics(), big ? BIG_ANALYTICS_EVERY_MS : ANALYTICS_EVERY_MS);
  }

  applySummary(summary) {
    const counters = summary.counters || {};
    this.totals = {
      counters: { ...counters },
      events: summary.total_events || 0,
      likes: summary.total_likes || 0,
      diamonds: summary.total_diamonds || 0,
      viewers: summary.current_viewers || 0,
      peak: summary.peak_viewers || 0,
    };
    this.renderCounters();
  }

  // The counters as the analytics counted them; events received from now on add to them.
  rebase(a) {
    this.totals = {
      counters: { ...a.counts },
      events: a.total_events,
      likes: a.likes,
      diamonds: a.diamonds,
      // The latest reading wins over the stored one, which may trail it.
      viewers: this.sawViewers ? this.totals.viewers : a.current_viewers,
      peak: Math.max(a.peak_viewers, this.totals.peak),
    };
    this.renderCounters();
  }

  onEvents(events) {
    const t = this.totals;
    for (const event of events) {
      t.counters[event.type] = (t.counters[event.type] || 0) + 1;
      t.events += 1;
      t.likes += event.like_count || 0;
      t.diamonds += event.diamonds || 0;
      if (event.type === "room_user" && event.viewer_count != null) {
        this.sawViewers = true;
        t.viewers = event.viewer_count;
        t.peak = Math.max(t.peak, event.viewer_count);
      }
      addLocal(this.local, event);
    }
    this.feed.add(events);
    this.renderCounters();
    this.dirty = true;
  }

  renderCounters() {
    const t = this.totals;
    const values = {
      viewers: t.viewers,
      peak: t.peak,
      likes: t.likes,
      diamonds: t.diamonds,
      chat: t.counters.chat || 0,
      gift: t.counters.gift || 0,
      follow: t.counters.follow || 0,
      share: t.counters.share || 0,
      join: t.counters.join || 0,
      events: t.events,
    };
    for (const [key, value] of Object.entries(values)) {
      const el = this.counterEls[key];
      const text = num(value);
      if (el.textContent !== text) el.textContent = text;
    }
  }

  renderGifters() {
    const gifters = topGifters(this.analytics?.top_gifters || [], this.local.gifters);
    clear(this.gifters);
    if (!gifters.length) {
      this.gifters.append(h("li", { class: "muted" }, "No gifts yet."));
    }
    gifters.forEach((g, i) => {
      const name = g.unique_id ? `@${g.unique_id}` : g.nickname || g.user_id;
      this.gifters.append(
        h(
          "li",
          { class: "ranking-item" },
          h("span", { class: "rank" }, String(i + 1)),
          h("span", { class: "ranking-name", title: g.nickname || "" }, name),
          h("span", { class: "ranking-value" }, num(g.diamonds), diamond(g.diamonds)),
        ),
      );
    });
    // The analytics know what a diamond is worth on this server.
    const a = this.analytics;
    const perDiamond = a && a.diamonds ? a.estimated_usd / a.diamonds : null;
    const diamonds = this.totals.diamonds;
    this.giftValue.textContent = perDiamond && diamonds ? `${num(diamonds)} diamonds ≈ ${usd(diamonds * perDiamond)} for the creator` : "";
  }

  drawCharts() {
    // At most one redraw per CHARTS_EVERY_MS, soon after something changed.
    const a = this.analytics;
    if (!a || !this.dirty || document.hidden) return;
    if (Date.now() - (this.drawnAt || 0) < CHARTS_EVERY_MS) return;
    this.drawnAt = Date.now();
    this.dirty = false;
    this.renderGifters();
    // Per-minute peaks from the analytics, then every reading received since; a minute's
    // point never sits before the session started.
    const started = new Date(this.session.started_at).getTime();
    const firstLocal = this.local.viewers.length ? this.local.viewers[0][0] : Infinity;
    const viewers = a.viewers_timeline
      .map((p) => [Math.max(started, new Date(p.minute).getTime()), p.value])
      .filter(([ms]) => ms < firstLocal)
      .concat(this.local.viewers);
    if (!viewers.length && this.totals.viewers) viewers.push([Date.now(), this.totals.viewers]);
    viewers.sort((p, q) => p[0] - q[0]);
    const minutes = new Map(a.events_per_minute.map((p) => [new Date(p.minute).getTime(), p.value]));
    for (const [minute, count] of this.local.minutes) minutes.set(minute, (minutes.get(minute) || 0) + count);
    const rate = [...minutes.entries()].sort((p, q) => p[0] - q[0]);
    const peak = viewers.reduce((m, p) => Math.max(m, p[1]), 0);
    drawSeries(this.viewersChart, {
      x: viewers.map((p) => new Date(p[0])),
      y: viewers.map((p) => p[1]),
      yTitle: "viewers",
      label: `Viewers over time, peak ${num(peak)}.`,
    });
    drawSeries(this.rateChart, {
      x: rate.map((p) => new Date(p[0])),
      y: rate.map((p) => p[1]),
      kind: "bar",
      yTitle: "events / min",
      color: getComputedStyle(document.documentElement).getPropertyValue("--accent-2").trim() || undefined,
      label: `Events per minute, latest ${num(rate.at(-1)?.[1] || 0)}.`,
    });
  }

  tick() {
    if (this.session.status !== "active") return;
    const seconds = (Date.now() - new Date(this.session.started_at).getTime()) / 1000;
    this.durationEl.textContent = duration(seconds);
  }

  setStatus(status, reason) {
    if (!status || status === this.session.status) return;
    this.session.status = status;
    this.statusEl.replaceChildren(statusBadge(status));
    this.endButton.hidden = status !== "active";
    if (status === "ended") {
      this.banner.hidden = false;
      this.banner.replaceChildren(
        `This session has ended${reason ? ` (${reason.replaceAll("_", " ")})` : ""}. `,
        h("a", { href: `/app/sessions/${this.session.id}`, "data-link": true }, "See its analytics"),
      );
      this.loadAnalytics();
    } else if (status === "interrupted") {
      this.banner.hidden = false;
      this.banner.textContent = "The capture was interrupted; AllIN resumes it when the server is back.";
    } else {
      this.banner.hidden = true;
    }
  }

  async end() {
    const yes = await confirmDialog({
      title: "End this capture?",
      message: `AllIN stops recording @${this.session.streamer_username}. Everything captured so far is kept.`,
      confirm: "End capture",
    });
    if (!yes) return;
    busy(this.endButton, true, "Ending…");
    try {
      const { data } = await api(`/api/sessions/${this.session.id}`, { method: "DELETE" });
      this.setStatus(data.status, data.end_reason);
      toast("Capture ended", "success");
    } catch (error) {
      toast(error.message, "error");
    } finally {
      busy(this.endButton, false);
    }
  }
}
