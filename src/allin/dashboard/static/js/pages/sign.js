// Sign-service usage: each API key's requests per hour and 429s, and the limits that
// apply. The page lights up as the sign service mounts its routes, and says so until then:
//
//   GET /api/sign/usage?hours=N (envelope) -> data: [{api_key_id, key_name, key_prefix, hour,
//                                                      requests, rate_limited}]   one row per key-hour
//   GET /api/sign/limits        (envelope) -> data: {signer, anonymous_limit, plan, key_limit|null}
//   GET /webcast/rate_limits    (EulerStream) -> {minute|hour|day: {max, remaining, reset_at}|null}

import { api } from "../api.js";
import { emptyState, errorState, pageHeader } from "../components.js";
import { chartFigure, drawHourly, purge } from "../charts.js";
import { hasFeature } from "../config.js";
import { h } from "../dom.js";
import { dateTime, num } from "../format.js";

const WINDOW_HOURS = 48;
const HOUR_MS = 3_600_000;

export async function render(ctx) {
  const { main, setTitle } = ctx;
  setTitle("Sign usage");
  const page = h("div", { class: "page" }, pageHeader("Sign usage"));
  main.append(page);

  if (!hasFeature("sign_usage")) {
    page.append(
      h(
        "section",
        { class: "card", id: "sign-unavailable" },
        emptyState(
          "The signing service is not running on this server yet.",
          "When it is, this page shows each API key's requests per hour, the requests that were rate-limited, and your current limits.",
          h("a", { class: "button", href: "/app/keys", "data-link": true }, "Manage API keys"),
        ),
      ),
    );
    return null;
  }

  const [usage, limits, now] = await Promise.all([
    api("/api/sign/usage", { query: { hours: WINDOW_HOURS } }).then((r) => r.data, (e) => e),
    hasFeature("sign_limits") ? api("/api/sign/limits").then((r) => r.data, (e) => e) : null,
    hasFeature("rate_limits") ? rateLimitsNow() : null,
  ]);
  if (!ctx.alive()) return null;
  page.append(h("div", { class: "grid-2" }, limitsCard(limits), nowCard(now)));
  if (usage instanceof Error) {
    page.append(errorState(usage));
    return null;
  }
  const keys = byKey(usage);
  if (!keys.length) {
    page.append(
      h(
        "section",
        { class: "card" },
        emptyState(
          `No key has signed anything in the last ${WINDOW_HOURS} hours.`,
          "Point TikTokLive or TikTok-Live-Connector at this server with one of your keys.",
          h("a", { class: "button", href: "/app/keys", "data-link": true }, "Your API keys"),
        ),
      ),
    );
    return null;
  }
  const charts = keys.map((key) => {
    const chart = chartFigure(`${key.name} (${key.prefix}…): requests per hour`, `chart-key-${key.id}`);
    page.append(chart.figure);
    const hours = hourSlots(key.rows);
    drawHourly(chart, {
      x: hours.map((slot) => new Date(slot.hour)),
      // `requests` counts every request, the 429s included: stacked, served + 429 = requests.
      served: hours.map((slot) => slot.requests - slot.rate_limited),
      limited: hours.map((slot) => slot.rate_limited),
      label: `${num(key.requests)} requests, ${num(key.limited)} rate-limited, in the last ${WINDOW_HOURS} hours.`,
    });
    chart.figure.append(
      h("p", { class: "muted small", dataset: { keyTotals: key.id } }, `${num(key.requests)} requests · ${num(key.limited)} answered 429`),
    );
    return chart;
  });
  return () => purge(...charts);
}

// Rows (one per key and hour) -> one entry per key, busiest first.
export function byKey(rows) {
  const keys = new Map();
  for (const row of rows) {
    const key = keys.get(row.api_key_id) || {
      id: row.api_key_id,
      name: row.key_name,
      prefix: row.key_prefix,
      rows: [],
      requests: 0,
      limited: 0,
    };
    key.rows.push(row);
    key.requests += row.requests;
    key.limited += row.rate_limited;
    keys.set(row.api_key_id, key);
  }
  return [...keys.values()].sort((a, b) => b.requests - a.requests);
}

// Every hour of the window, zero where the key was idle, so the bars keep their spacing.
function hourSlots(rows) {
  const end = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const seen = new Map(rows.map((row) => [Math.floor(new Date(row.hour).getTime() / HOUR_MS) * HOUR_MS, row]));
  const slots = [];
  for (let t = end - (WINDOW_HOURS - 1) * HOUR_MS; t <= end; t += HOUR_MS) {
    const row = seen.get(t);
    slots.push({ hour: t, requests: row?.requests || 0, rate_limited: row?.rate_limited || 0 });
  }
  return slots;
}

function limitsCard(limits) {
  const card = h("section", { class: "card", "aria-labelledby": "plan-title" }, h("h2", { id: "plan-title" }, "Your limits"));
  if (!limits || limits instanceof Error) {
    card.append(limits ? errorState(limits) : h("p", { class: "muted" }, "Not reported by this server."));
    return card;
  }
  card.append(
    h(
      "dl",
      { class: "facts" },
      fact("Plan", limits.plan),
      fact("With a key", limits.key_limit || "unlimited"),
      fact("Without a key", limits.anonymous_limit ? `${limits.anonymous_limit} per IP` : "—"),
      fact("Signer", limits.signer),
    ),
  );
  return card;
}

function nowCard(now) {
  const card = h("section", { class: "card", "aria-labelledby": "now-title" }, h("h2", { id: "now-title" }, "Right now, from this address"));
  if (!now || now instanceof Error) {
    card.append(now ? errorState(now) : h("p", { class: "muted" }, "Not reported by this server."));
    return card;
  }
  const windows = ["minute", "hour", "day"].filter((w) => now[w]);
  card.append(
    h(
      "dl",
      { class: "facts" },
      windows.map((w) => {
        const q = now[w];
        const text = q.max < 0 ? "unlimited" : `${num(q.remaining)} of ${num(q.max)} left`;
        return fact(`Per ${w}`, text, q.reset_at ? `resets ${dateTime(q.reset_at)}` : null);
      }),
    ),
  );
  return card;
}

function fact(term, value, note) {
  return h("div", {}, h("dt", {}, term), h("dd", {}, value ?? "—", note ? h("span", { class: "muted small" }, ` · ${note}`) : null));
}

async function rateLimitsNow() {
  try {
    // EulerStream's shape, not the envelope; no key sent: what an anonymous client gets here.
    const response = await fetch("/webcast/rate_limits", { headers: { Accept: "application/json" }, credentials: "omit" });
    if (!response.ok) throw new Error(`rate limits: HTTP ${response.status}`);
    return await response.json();
  } catch (error) {
    return error;
  }
}
