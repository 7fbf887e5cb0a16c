// Pieces shared by several pages.

import { ApiError, authorisedUrl } from "./api.js";
import { h, toast } from "./dom.js";
import { dateTime, duration, num } from "./format.js";

export const EXPORT_FORMATS = [
  { format: "csv", label: "CSV", hint: "spreadsheets" },
  { format: "json", label: "JSON", hint: "one document" },
  { format: "ndjson", label: "NDJSON", hint: "one event per line" },
];

const STATUS_LABELS = { active: "Live", ended: "Ended", interrupted: "Interrupted" };

export function statusBadge(status) {
  return h("span", { class: `badge badge-${status}` }, STATUS_LABELS[status] || status);
}

export function avatar(name) {
  // Initials instead of the TikTok avatar URL: the dashboard loads nothing from elsewhere.
  const text = (name || "?").replace(/^@/, "").slice(0, 2).toUpperCase();
  return h("span", { class: "avatar", "aria-hidden": "true" }, text);
}

export function pageHeader(title, ...extra) {
  return h("header", { class: "page-header" }, h("h1", {}, title), extra.length ? h("div", { class: "page-actions" }, extra) : null);
}

export function emptyState(title, text, action) {
  return h("div", { class: "empty" }, h("p", { class: "empty-title" }, title), text ? h("p", { class: "muted" }, text) : null, action || null);
}

export function errorState(error, retry) {
  const message = error instanceof ApiError ? error.message : String(error?.message || error);
  return h(
    "div",
    { class: "alert alert-error", role: "alert" },
    message,
    retry ? h("button", { class: "button button-quiet", type: "button", onclick: retry }, "Try again") : null,
  );
}

export function stat(label, value, { id, hint } = {}) {
  return h(
    "div",
    { class: "stat", id },
    h("span", { class: "stat-label" }, label),
    h("span", { class: "stat-value", dataset: { stat: id || label } }, value),
    hint ? h("span", { class: "stat-hint" }, hint) : null,
  );
}

export async function downloadExport(sessionId, format) {
  try {
    const href = await authorisedUrl(`/api/sessions/${sessionId}/export`, { format });
    const link = h("a", { href, download: "", hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (error) {
    toast(error.message || "Export failed", "error");
  }
}

export function exportButtons(sessionId) {
  return h(
    "div",
    { class: "button-group", role: "group", "aria-label": "Export this session" },
    h("span", { class: "button-group-label", "aria-hidden": "true" }, "Export"),
    EXPORT_FORMATS.map(({ format, label, hint }) =>
      h(
        "button",
        {
          class: "button button-small",
          type: "button",
          title: `Download every event as ${label} (${hint})`,
          "aria-label": `Export as ${label}`,
          dataset: { export: format },
          onclick: () => downloadExport(sessionId, format),
        },
        label,
      ),
    ),
  );
}

// Every column, or (compact) the few that fit half a page.
const COLUMNS = ["Streamer", "Status", "Started", "Duration", "Events", "Likes", "Diamonds", "Peak viewers"];
const COMPACT = new Set(["Streamer", "Status", "Events"]);

export function sessionRow(session, compact = false) {
  const href = session.status === "active" ? `/app/live/${session.id}` : `/app/sessions/${session.id}`;
  const info = session.streamer || {};
  const cells = [
    h(
      "td",
      { "data-label": "Streamer" },
      h(
        "a",
        { class: "streamer-link", href: `/app/sessions/${session.id}`, "data-link": true },
        avatar(session.streamer_username),
        h("span", {}, h("strong", {}, `@${session.streamer_username}`), info.display_name ? h("span", { class: "muted small" }, info.display_name) : null),
      ),
    ),
    h("td", { "data-label": "Status" }, statusBadge(session.status)),
    h("td", { "data-label": "Started" }, h("time", { datetime: session.started_at }, dateTime(session.started_at))),
    h("td", { "data-label": "Duration", class: "num" }, duration(session.duration_seconds)),
    h("td", { "data-label": "Events", class: "num" }, num(session.total_events)),
    h("td", { "data-label": "Likes", class: "num" }, num(session.total_likes)),
    h("td", { "data-label": "Diamonds", class: "num" }, num(session.total_diamonds)),
    h("td", { "data-label": "Peak viewers", class: "num" }, num(session.peak_viewers)),
  ].filter((_, i) => !compact || COMPACT.has(COLUMNS[i]));
  return h(
    "tr",
    { dataset: { session: session.id } },
    cells,
    h(
      "td",
      { class: "row-actions" },
      session.status === "active"
        ? h("a", { class: "button button-small button-primary", href, "data-link": true }, "Watch live")
        : h("a", { class: "button button-small", href, "data-link": true }, "Details"),
    ),
  );
}

export function sessionTable(sessions, caption, { compact = false } = {}) {
  const columns = COLUMNS.filter((label) => !compact || COMPACT.has(label));
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "table table-cards" },
      h("caption", { class: "visually-hidden" }, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          columns.map((label) => h("th", { scope: "col", class: COLUMNS.indexOf(label) >= 3 ? "num" : null }, label)),
          h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
        ),
      ),
      h("tbody", {}, sessions.map((session) => sessionRow(session, compact))),
    ),
  );
}
