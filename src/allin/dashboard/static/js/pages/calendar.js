// The schedule as a month or a week in the user's time zone, coloured by status. A scheduled
// post moves to another day (month) or hour (week) by dragging it, or from the keyboard: arrow
// keys carry its chip, Enter confirms, Escape puts it back. Each entry links to its post.

import { api } from "../api.js";
import { errorState, pageHeader } from "../components.js";
import { alertBox, h, toast } from "../dom.js";
import { feedPanel } from "../feed-url.js";
import { TARGET_STATUS, excerpt } from "../posts-ui.js";
import { userZone } from "../publish.js";
import { platformIcon } from "../social.js";

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const KEYS_HELP_ID = "cal-keys-help";
const pad = (n) => String(n).padStart(2, "0");
const dayKey = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const addDays = (d, n) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
const monday = (d) => addDays(d, -((d.getDay() + 6) % 7));
const spoken = (d) => d.toLocaleDateString(undefined, { weekday: "long", day: "numeric", month: "long" });

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
  const announcer = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite", id: "cal-announce" });
  const problem = alertBox();
  const feed = feedPanel();
  main.append(
    h(
      "div",
      { class: "page" },
      pageHeader("Calendar", feed.button, h("div", { class: "chips", role: "group", "aria-label": "View" }, toggle("month", "Month"), toggle("week", "Week"))),
      feed.panel,
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
      h("p", { class: "visually-hidden", id: KEYS_HELP_ID }, `Scheduled post: arrow keys move it by day${view === "week" ? " or hour" : " or week"}, Enter confirms the new time, Escape cancels.`),
      problem.el,
      body,
      announcer,
    ),
  );
  const say = (text) => {
    announcer.textContent = text;
  };

  const load = async (focusPost) => {
    try {
      const { data } = await api("/api/calendar", { query: { from: start.toISOString(), to: end.toISOString(), tz: userZone() } });
      if (!ctx.alive()) return;
      const grid = view === "week" ? weekGrid(start, data, reschedule) : monthGrid(start, anchor.getMonth(), data, reschedule);
      body.replaceChildren(grid);
      keyboardMoves(grid, view, { reschedule, say });
      if (focusPost) body.querySelector(`.cal-entry[data-post="${focusPost}"]`)?.focus();
    } catch (error) {
      body.replaceChildren(errorState(error, () => load()));
    }
  };
  // Sends the new wall time; the grid is then read again (a refused move shows where it was).
  async function reschedule(entry, localTime) {
    const words = localTime.replace("T", " ");
    try {
      await api(`/api/posts/${entry.post_id}/schedule`, { method: "POST", body: { mode: "at", local_time: localTime, timezone: userZone() } });
      problem.hide();
      toast(`Moved to ${words}`, "success");
      say(`Moved to ${spoken(new Date(localTime))}, ${localTime.slice(11, 16)}.`);
    } catch (error) {
      problem.show(`Could not move the post to ${words}: ${error.message}`);
      say(`Not moved: ${error.message}`);
    }
    await load(entry.post_id);
  }
  await load();
}

function legend() {
  const shown = ["SCHEDULED", "PUBLISHING", "PUBLISHED", "FAILED", "CANCELLED"];
  return h("ul", { class: "calendar-legend", "aria-label": "Colours" }, shown.map((s) => h("li", { class: `cal-status-${s}` }, TARGET_STATUS[s][0])));
}

function entryChip(entry) {
  const when = new Date(entry.local_time);
  const movable = entry.status === "SCHEDULED";
  const status = TARGET_STATUS[entry.status]?.[0] || entry.status;
  const chip = h(
    "a",
    {
      class: `cal-entry cal-status-${entry.status}`,
      href: `/app/posts/${entry.post_id}`,
      "data-link": true,
      draggable: movable ? "true" : "false",
      dataset: { post: entry.post_id, status: entry.status },
      title: `${status}: ${entry.preview}`,
      "aria-label": `${status} at ${pad(when.getHours())}:${pad(when.getMinutes())} on ${spoken(when)}: ${excerpt(entry.preview, 60)}`,
      "aria-describedby": movable ? KEYS_HELP_ID : null,
    },
    platformIcon(entry.platform),
    h("span", { class: "cal-time" }, `${pad(when.getHours())}:${pad(when.getMinutes())}`),
    h("span", { class: "cal-text" }, excerpt(entry.preview, 40)),
  );
  chip.entry = entry;
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
  cell.when = when;
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
    cell.day = day;
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
      cell.day = day;
      cell.hour = hour;
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

// The key steps per view: [days, hours] for each arrow.
const STEPS = {
  month: { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [-7, 0], ArrowDown: [7, 0] },
  week: { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] },
};

// Keyboard moves on one grid: a scheduled chip travels with the arrows (the cell it would land
// in is shown, and said), Enter sends the new time, Escape or leaving the chip puts it back.
function keyboardMoves(grid, view, { reschedule, say }) {
  let move = null; // { chip, home, next, cell, label }
  let relocating = false;
  const cellFor = (day, hour) =>
    grid.querySelector(view === "week" ? `.cal-slot[data-slot="${dayKey(day)}T${pad(hour)}"]` : `.cal-day[data-day="${dayKey(day)}"]`);
  const place = (chip, cell, before = null) => {
    relocating = true;
    cell.insertBefore(chip, before);
    chip.focus();
    relocating = false;
  };
  const cancel = (words) => {
    if (!move) return;
    const { chip, home, next, label } = move;
    move = null;
    chip.classList.remove("cal-moving");
    chip.querySelector(".cal-time").textContent = label;
    if (chip.parentElement !== home) place(chip, home, next && next.parentElement === home ? next : null);
    if (words) say(words);
  };
  grid.addEventListener("keydown", (event) => {
    const chip = event.target.closest?.(".cal-entry");
    if (!chip || chip.dataset.status !== "SCHEDULED") return;
    if (event.key === "Escape" && move?.chip === chip) {
      event.preventDefault();
      cancel("Move cancelled.");
      return;
    }
    if (event.key === "Enter" && move?.chip === chip) {
      event.preventDefault(); // not the link
      if (move.cell === move.home) return cancel("Not moved: it is where it was.");
      const { cell } = move;
      const when = cell.when(chip.entry);
      move = null;
      chip.classList.remove("cal-moving");
      reschedule(chip.entry, when);
      return;
    }
    const delta = STEPS[view][event.key];
    if (!delta || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    if (move && move.chip !== chip) cancel();
    if (!move) {
      move = { chip, home: chip.parentElement, next: chip.nextElementSibling, cell: chip.parentElement, label: chip.querySelector(".cal-time").textContent };
      chip.classList.add("cal-moving");
    }
    const from = move.cell;
    const target = cellFor(addDays(from.day, delta[0]), (from.hour ?? 0) + delta[1]);
    if (!target || (view === "week" && (from.hour + delta[1] < 0 || from.hour + delta[1] > 23))) {
      say(`That is outside this ${view}: confirm here, then move on from the next ${view}.`);
      return;
    }
    move.cell = target;
    place(chip, target);
    const when = target.when(chip.entry);
    chip.querySelector(".cal-time").textContent = when.slice(11, 16);
    const back = target === move.home ? " (where it is now)" : "";
    say(`${spoken(target.day)}, ${when.slice(11, 16)}${back}. Enter to move it here, Escape to cancel.`);
  });
  grid.addEventListener("focusout", (event) => {
    if (!relocating && move && event.target === move.chip) cancel("Move cancelled.");
  });
}
