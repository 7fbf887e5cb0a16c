// Sign-service usage (issue 6). This page is the dashboard's hook for the sign service: it
// lights up when the server mounts the routes below, and says so plainly until then.
//
//   GET /api/sign/usage?hours=N  (envelope) -> data: {
//     window_hours, limits: {anonymous_per_hour, plan, key_per_hour|null},
//     keys: [{id, name, prefix, hours: [{hour: ISO, requests, limited}]}] }
//   GET /webcast/rate_limits     (EulerStream shape) -> {day|hour|minute: {max, remaining, reset_at}}

import { api } from "../api.js";
import { emptyState, errorState, pageHeader } from "../components.js";
import { chartFigure, drawSeries, purge } from "../charts.js";
import { clear, h } from "../dom.js";
import { dateTime, num } from "../format.js";
import { hasFeature } from "../config.js";

const WINDOW_HOURS = 48;

export async function render(ctx) {
  const { main, setTitle } = ctx;
  setTitle("Sign usage");
  const page = h("div", { class: "page" }, pageHeader("Sign usage"));
  main.append(page);
  const charts = [];

  if (!hasFeature("sign_usage") && !hasFeature("rate_limits")) {
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

  if (hasFeature("rate_limits")) page.append(await limitsCard());
  if (hasFeature("sign_usage")) {
    try {
      const { data } = await api("/api/sign/usage", { query: { hours: WINDOW_HOURS } });
      if (!ctx.alive()) return null;
      page.append(planCard(data.limits || {}));
      if (!data.keys?.length) page.append(h("section", { class: "card" }, emptyState("No key has signed anything yet.")));
      for (const key of data.keys || []) {
        const chart = chartFigure(`${key.name} (${key.prefix}…): requests per hour`, `chart-key-${key.id}`);
        charts.push(chart);
        page.append(chart.figure);
        const hours = key.hours || [];
        const total = hours.reduce((n, p) => n + (p.requests || 0), 0);
        const limited = hours.reduce((n, p) => n + (p.limited || 0), 0);
        drawSeries(chart, {
          x: hours.map((p) => new Date(p.hour)),
          y: hours.map((p) => p.requests),
          kind: "bar",
          yTitle: "requests",
          label: `${num(total)} requests, ${num(limited)} rate-limited, in the last ${WINDOW_HOURS} hours.`,
        });
        chart.figure.append(h("p", { class: "muted small" }, `${num(total)} requests · ${num(limited)} answered 429`));
      }
    } catch (error) {
      page.append(errorState(error));
    }
  }
  return () => purge(...charts);
}

function planCard(limits) {
  return h(
    "section",
    { class: "card", "aria-labelledby": "plan-title" },
    h("h2", { id: "plan-title" }, "Your limits"),
    h(
      "dl",
      { class: "facts" },
      h("div", {}, h("dt", {}, "Plan"), h("dd", {}, limits.plan || "—")),
      h("div", {}, h("dt", {}, "With a key"), h("dd", {}, limits.key_per_hour == null ? "unlimited" : `${num(limits.key_per_hour)} / hour`)),
      h("div", {}, h("dt", {}, "Without a key"), h("dd", {}, limits.anonymous_per_hour == null ? "—" : `${num(limits.anonymous_per_hour)} / hour per IP`)),
    ),
  );
}

async function limitsCard() {
  const card = h("section", { class: "card", "aria-labelledby": "limits-title" }, h("h2", { id: "limits-title" }, "Rate limits now (this address, no key)"));
  try {
    const response = await fetch("/webcast/rate_limits", { headers: { Accept: "application/json" }, credentials: "same-origin" });
    const body = await response.json();
    const windows = ["minute", "hour", "day"].filter((w) => body[w]);
    clear(card).append(
      h("h2", { id: "limits-title" }, "Rate limits now (this address, no key)"),
      h(
        "dl",
        { class: "facts" },
        windows.map((w) =>
          h("div", {}, h("dt", {}, `Per ${w}`), h("dd", {}, `${num(body[w].remaining)} of ${num(body[w].max)} left`, body[w].reset_at ? h("span", { class: "muted small" }, ` · resets ${dateTime(body[w].reset_at)}`) : null)),
        ),
      ),
    );
  } catch (error) {
    card.append(errorState(error));
  }
  return card;
}
