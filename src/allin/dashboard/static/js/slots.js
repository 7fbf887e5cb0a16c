// An account's weekly posting times ("add to queue" takes the next free one), opened on
// demand from its card on the Accounts page. Each change is saved at once: the API replaces
// the whole week, in one time zone (the one the times were set in, else the user's).

import { api } from "./api.js";
import { errorState } from "./components.js";
import { clear, disclosure, h, nextId, toast } from "./dom.js";
import { userZone } from "./publish.js";

// The API's weekdays: Monday = 0.
const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

// The disclosure button and its panel; `panels` keeps them across re-renders of the list.
export function slotsDisclosure(account, name, panels) {
  const key = `slots:${account.id}`;
  if (panels.has(key)) return panels.get(key);
  const panel = h("div", { class: "slots-panel", id: nextId("slots"), hidden: true, role: "region", "aria-label": `Posting times of ${name}` });
  const button = h("button", { class: "button button-small button-quiet", type: "button", "aria-expanded": "false", "aria-controls": panel.id, "aria-label": `Posting times of ${name}` }, "Posting times");
  disclosure(button, panel, { onFirstOpen: () => load(account.id, panel) });
  const parts = { button, panel };
  panels.set(key, parts);
  return parts;
}

async function load(accountId, panel) {
  clear(panel).append(h("p", { class: "muted small" }, "Loading…"));
  try {
    const { data } = await api(`/api/posts/slots/${accountId}`);
    const week = { timezone: data.timezone || userZone(), slots: data.slots };
    clear(panel);
    editor(accountId, panel, week);
  } catch (error) {
    clear(panel).append(errorState(error, () => load(accountId, panel)));
    throw error;
  }
}

const byTime = (a, b) => a.weekday - b.weekday || a.time.localeCompare(b.time);

function editor(accountId, panel, week) {
  const status = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  const days = h("div", { class: "slot-week" });
  const save = async (slots, said) => {
    try {
      const { data } = await api(`/api/posts/slots/${accountId}`, { method: "PUT", body: { timezone: week.timezone, slots } });
      week.slots = data.slots;
      draw();
      status.textContent = said;
      return true;
    } catch (error) {
      toast(error.message, "error");
      status.textContent = error.message;
      return false;
    }
  };
  const draw = () => {
    days.replaceChildren(
      ...DAYS.map((day, weekday) => {
        const times = week.slots.filter((s) => s.weekday === weekday).sort(byTime);
        return h(
          "section",
          { class: "slot-day", dataset: { weekday } },
          h("h4", {}, day),
          times.length
            ? h(
                "ul",
                { class: "slot-times" },
                times.map((slot) =>
                  h(
                    "li",
                    { class: "slot", dataset: { slot: `${weekday}-${slot.time}` } },
                    h("span", {}, slot.time),
                    h(
                      "button",
                      {
                        class: "slot-remove",
                        type: "button",
                        "aria-label": `Remove ${day} ${slot.time}`,
                        onclick: () => save(week.slots.filter((s) => s !== slot), `${day} ${slot.time} removed`).then(() => add.focus()),
                      },
                      "×",
                    ),
                  ),
                ),
              )
            : h("p", { class: "muted small" }, "No time"),
        );
      }),
    );
  };
  const dayId = nextId("slot-day");
  const timeId = nextId("slot-time");
  const daySelect = h("select", { id: dayId }, DAYS.map((day, i) => h("option", { value: String(i) }, day)));
  const timeInput = h("input", { id: timeId, type: "time", step: 60 });
  const add = h("button", { class: "button button-small", type: "submit" }, "Add time");
  const form = h(
    "form",
    { class: "slot-add", novalidate: true },
    h("div", { class: "field" }, h("label", { for: dayId }, "Day"), daySelect),
    h("div", { class: "field" }, h("label", { for: timeId }, "Time"), timeInput),
    add,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const weekday = Number(daySelect.value);
    const time = timeInput.value.slice(0, 5);
    if (!/^\d\d:\d\d$/.test(time)) {
      timeInput.setAttribute("aria-invalid", "true");
      toast("Pick a time first", "error");
      timeInput.focus();
      return;
    }
    timeInput.removeAttribute("aria-invalid");
    if (week.slots.some((s) => s.weekday === weekday && s.time === time)) {
      status.textContent = `${DAYS[weekday]} ${time} is already there`;
      return;
    }
    const slots = [...week.slots, { weekday, time }].sort(byTime);
    if (await save(slots, `${DAYS[weekday]} ${time} added`)) timeInput.value = "";
  });
  const zoneNote = h("p", { class: "muted small slot-zone" });
  const drawZone = () => {
    const mine = week.timezone === userZone();
    zoneNote.replaceChildren(
      "“Add to queue” in the composer takes the next free time. ",
      mine ? `Times in your time zone (${week.timezone}).` : `Times in ${week.timezone}, the zone they were set in (yours is ${userZone()}). `,
      mine
        ? null
        : h(
            "button",
            {
              class: "button button-small",
              type: "button",
              onclick: async () => {
                const before = week.timezone;
                week.timezone = userZone();
                if (!(await save(week.slots, `The same times now in ${week.timezone}`))) week.timezone = before;
                drawZone();
                add.focus();
              },
            },
            `Use my time zone (${userZone()})`,
          ),
    );
  };
  panel.append(zoneNote, days, form, status);
  drawZone();
  draw();
}
