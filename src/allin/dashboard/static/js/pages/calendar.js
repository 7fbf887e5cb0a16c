// The schedule as a month or a week in the user's time zone, coloured by status. Drag a post
// to another day (month) or hour (week) to reschedule it; each entry is a link to the post.

import { api } from "../api.js";
import { errorState, pageHeader } from "../components.js";
import { h, toast } from "../dom.js";
import { TARGET_STATUS, excerpt } from "../posts-ui.js";
import { userZone } from "../publish.js";
import { platformIcon } from "../social.js";

const DAY_MS = 86_400_000;
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const pad = (n) => String(n).padStart(2, "0");
const dayKey = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const addDays = (d, n) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
const monday = (d) => addDays(d, -((d.getDay() + 6) % 7));

export async function render(ctx) {
  const { main, query, setTitle } = ctx;
  setTitle("Calendar");
  const view = query.get("view") === "week" ? "week" : "month";
  const parsed = query.get("date") ? new Date(`${query.get("date")}T00:00:00`) : new Date();
  const anchor = Number.isNaN(parsed.getTime()) ? new Date() : parsed;
  const [start, days] = view === "week" ? [monday(anchor), 7] : [monday(new Date(anchor.getFullYear(), anchor.getMonth(), 1)), 42];
  const end = addDays(start, days);
  const go = (v, d) => ctx.navigate(`/app/calendar?view=${v}&date=${dayKey(d)}`);
  const step = view === "week" ? (n) => addDays(anchor, 7 * n) : (n) => new Date(anchor.getFullYear(), anchor.getMonth() + n, 1);
  const title = view === "week"
    ? `Week of ${start.toLocaleDateString(undefined, { day: "numeric", month: "long", year: "numeric" })}`
    : anchor.toLocaleDateString(undefined, { month: "long", year: "numeric" });
  const toggle = (v, label) => h("button", { class: "chip view-toggle", type: "button", "aria-pressed": String(view === v), onclick: () => go(v, anchor) }, label);
  const body = h("div", { class: "calendar-body" });
  main.append(
    h(
      "div",
      { class: "page" },
      pageHeader("Calendar", h("div", { class: "chips", role: "group", "aria-label": "View" }, toggle("month", "Month"), toggle("week", "Week"))),
      h(
        "div",
        { class: "calendar-nav" },
        h("button", { class: "button button-small", type: "button", "aria-label": `Previous ${view}`, onclick: () => go(view, step(-1)) }, "‹"),
        h("button", { class: "button button-small", type: "button", onclick: () => go(view, new Date()) }, "Today"),
        h("button", { class: "button button-small", type: "button", "aria-label": `Next ${view}`, onclick: () => go(view, step(1)) }, "›"),
        h("h2", { class: "calendar-title", "aria-live": "polite" }, title),
        h("span", { class: "muted small" }, userZone()),
      ),
      legend(),
      body,
    ),
  );
  try {
    const { data } = await api("/api/calendar", { query: { from: start.toISOString(), to: end.toISOString(), tz: userZone() } });
    if (!ctx.alive()) return;
    const reschedule = (entry, when) => move(entry, when, () => ctx.navigate(location.pathname + location.search, { replace: true }));
    body.append(view === "week" ? weekGrid(start, data, reschedule) : monthGrid(start, anchor.getMonth(), data, reschedule));
  } catch (error) {
    body.append(errorState(error));
  }
}

function legend() {
  const shown = ["SCHEDULED", "PUBLISHING", "PUBLISHED", "FAILED", "CANCELLED"];
  return h("ul", { class: "calendar-legend", "aria-label": "Colours" }, shown.map((s) => h("li", { class: `cal-status-${s}` }, TARGET_STATUS[s][0])));
}

function entryChip(entry) {
  const when = new Date(entry.local_time);
  const chip = h(
    "a",
    {
      class: `cal-entry cal-status-${entry.status}`,
      href: `/app/posts/${entry.post_id}`,
      "data-link": true,
      draggable: entry.status === "SCHEDULED" ? "true" : "false",
      dataset: { post: entry.post_id, status: entry.status },
      title: `${TARGET_STATUS[entry.status]?.[0] || entry.status}: ${entry.preview}`,
    },
    platformIcon(entry.platform),
    h("span", { class: "cal-time" }, `${pad(when.getHours())}:${pad(when.getMinutes())}`),
    h("span", { class: "cal-text" }, excerpt(entry.preview, 40)),
  );
  chip.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData("text/plain", entry.post_id);
    event.dataTransfer.effectAllowed = "move";
    dragged = entry;
  });
  return chip;
}

let dragged = null;

// A cell takes a dropped entry; `when(entry)` is the new local time for it.
function dropTarget(cell, when, reschedule) {
  cell.addEventListener("dragover", (event) => {
    if (!dragged) return;
    event.preventDefault();
    cell.classList.add("cal-drop");
  });
  cell.addEventListener("dragleave", () => cell.classList.remove("cal-drop"));
  cell.addEventListener("drop", (event) => {
    event.preventDefault();
    cell.classList.remove("cal-drop");
    if (dragged) reschedule(dragged, when(dragged));
    dragged = null;
  });
  return cell;
}

function monthGrid(start, month, entries, reschedule) {
  const byDay = group(entries, (e) => dayKey(new Date(e.local_time)));
  const cells = [];
  for (let i = 0; i < 42; i += 1) {
    const day = addDays(start, i);
    const key = dayKey(day);
    const cell = h(
      "div",
      { class: `cal-day${day.getMonth() === month ? "" : " cal-outside"}${key === dayKey(new Date()) ? " cal-today" : ""}`, role: "gridcell", dataset: { day: key } },
      h("span", { class: "cal-date" }, String(day.getDate())),
      (byDay[key] || []).map(entryChip),
    );
    cells.push(dropTarget(cell, (entry) => withTime(day, new Date(entry.local_time).getHours(), new Date(entry.local_time).getMinutes()), reschedule));
  }
  return h("div", { class: "cal-month", role: "grid", "aria-label": "Month" }, WEEKDAYS.map((d) => h("div", { class: "cal-head", role: "columnheader" }, d)), cells);
}

function weekGrid(start, entries, reschedule) {
  const byHour = group(entries, (e) => {
    const d = new Date(e.local_time);
    return `${dayKey(d)}T${pad(d.getHours())}`;
  });
  const heads = [h("div", { class: "cal-head" }), ...Array.from({ length: 7 }, (_, i) => h("div", { class: "cal-head", role: "columnheader" }, `${WEEKDAYS[i]} ${addDays(start, i).getDate()}`))];
  const rows = [];
  for (let hour = 0; hour < 24; hour += 1) {
    rows.push(h("div", { class: "cal-hour", role: "rowheader" }, `${pad(hour)}:00`));
    for (let i = 0; i < 7; i += 1) {
      const day = addDays(start, i);
      const key = `${dayKey(day)}T${pad(hour)}`;
      const cell = h("div", { class: "cal-slot", role: "gridcell", dataset: { slot: key } }, (byHour[key] || []).map(entryChip));
      rows.push(dropTarget(cell, (entry) => withTime(day, hour, new Date(entry.local_time).getMinutes()), reschedule));
    }
  }
  return h("div", { class: "cal-week", role: "grid", "aria-label": "Week" }, heads, rows);
}

function group(entries, keyOf) {
  const out = {};
  for (const entry of entries) (out[keyOf(entry)] ||= []).push(entry);
  return out;
}

// A wall time in the user's zone, as the schedule API takes it (no offset).
function withTime(day, hours, minutes) {
  return `${dayKey(day)}T${pad(hours)}:${pad(minutes)}`;
}

async function move(entry, localTime, refresh) {
  try {
    await api(`/api/posts/${entry.post_id}/schedule`, { method: "POST", body: { mode: "at", local_time: localTime, timezone: userZone() } });
    toast(`Moved to ${localTime.replace("T", " ")}`, "success");
  } catch (error) {
    toast(error.message, "error");
  }
  refresh();
}
