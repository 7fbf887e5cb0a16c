// For operators: the publishing queue's counts, lag, workers, and a clean-up of old failures.

import { api } from "../api.js";
import { errorState, pageHeader, stat } from "../components.js";
import { busy, clear, h, toast } from "../dom.js";
import { num, relative } from "../format.js";
import { TARGET_STATUS } from "../posts-ui.js";

const REFRESH_MS = 5000;

export async function render(ctx) {
  const { main, setTitle } = ctx;
  setTitle("Publishing queue");
  const body = h("div", { class: "stack" });
  const clean = h("button", { class: "button", type: "button" }, "Close failures older than a day");
  main.append(h("div", { class: "page" }, pageHeader("Publishing queue", clean), body));
  const load = async () => {
    try {
      const { data } = await api("/api/admin/queue/status");
      if (ctx.alive()) show(body, data);
    } catch (error) {
      clear(body).append(errorState(error, load));
    }
  };
  clean.onclick = async () => {
    busy(clean, true);
    try {
      const { data } = await api("/api/admin/queue/clean", { method: "POST", body: {} });
      toast(`${num(data.cancelled)} closed, ${num(data.swept)} reconciled`, "success");
    } catch (error) {
      toast(error.message, "error");
    } finally {
      busy(clean, false);
    }
    await load();
  };
  await load();
  const timer = setInterval(load, REFRESH_MS);
  return () => clearInterval(timer);
}

function show(body, q) {
  clear(body).append(
    h(
      "section",
      { class: "stats", "aria-label": "Now" },
      stat("Due now", num(q.due), { id: "stat-due" }),
      stat("Lag", `${Math.round(q.lag_seconds)} s`, { id: "stat-lag", hint: q.oldest_due_at ? `oldest due ${relative(q.oldest_due_at)}` : "nothing waiting" }),
      stat("Published, last hour", num(q.published_last_hour), { id: "stat-published" }),
      stat("Failed, last hour", num(q.failed_last_hour), { id: "stat-failed" }),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "counts-title" },
      h("h2", { id: "counts-title" }, `Targets by status (${q.mode})`),
      h("dl", { class: "facts" }, Object.keys(TARGET_STATUS).map((s) => h("div", { dataset: { count: s } }, h("dt", {}, TARGET_STATUS[s][0]), h("dd", {}, num(q.counts[s] || 0))))),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "workers-title" },
      h("h2", { id: "workers-title" }, "Workers"),
      q.workers.length
        ? h(
            "div",
            { class: "table-wrap" },
            h(
            "table",
            { class: "table" },
            h("thead", {}, h("tr", {}, ["Worker", "Kind", "Host", "Heartbeat", "Published", "State"].map((c) => h("th", { scope: "col" }, c)))),
            h(
              "tbody",
              {},
              q.workers.map((w) =>
                h("tr", {}, h("td", {}, w.id), h("td", {}, w.kind), h("td", {}, `${w.hostname} (${w.pid})`), h("td", {}, relative(w.heartbeat_at)), h("td", { class: "num" }, num(w.published)), h("td", {}, h("span", { class: `badge badge-${w.alive ? "ok" : "danger"}` }, w.alive ? "alive" : "silent"))),
              ),
            ),
          ),
          )
        : h("p", { class: "muted" }, "No worker has reported yet."),
    ),
    rateWindows(q.rate_windows || []),
  );
}

// The platforms' rate limits in force: nothing is sent for the account (or the whole app) until they end.
function rateWindows(windows) {
  return h(
    "section",
    { class: "card", "aria-labelledby": "windows-title" },
    h("h2", { id: "windows-title" }, "Rate limits"),
    windows.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "table", id: "rate-windows" },
            h("thead", {}, h("tr", {}, ["Platform", "Holds", "Until", "Platform's words"].map((c) => h("th", { scope: "col" }, c)))),
            h(
              "tbody",
              {},
              windows.map((w) =>
                h("tr", {}, h("td", {}, w.platform), h("td", {}, w.scope === "app" ? "every account (app limit)" : `account ${w.key}`), h("td", { title: w.until }, relative(w.until)), h("td", {}, w.reason || "")),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, "No platform is limiting us right now."),
  );
}
