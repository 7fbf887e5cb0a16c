// The composer's posting side: server-side validation while typing (debounced), the schedule
// picker in the user's time zone, and publish now / schedule / add to queue / save as draft.

import { api } from "./api.js";
import { busy, h, nextId, toast } from "./dom.js";

const DEBOUNCE_MS = 350;

export const userZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

// Calls POST /api/posts/validate once typing pauses; only the latest answer is shown.
export function validator(onVerdicts) {
  let timer = null;
  let seq = 0;
  return (body) => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++seq;
      try {
        const { data } = await api("/api/posts/validate", { method: "POST", body });
        if (mine === seq) onVerdicts(data);
      } catch (error) {
        if (mine === seq) onVerdicts(null, error);
      }
    }, DEBOUNCE_MS);
  };
}

// `local` is the picker's value (YYYY-MM-DDTHH:MM, a wall time in the user's zone).
export function schedulePicker() {
  const id = nextId("publish-at");
  const input = h("input", { id, type: "datetime-local", name: "publish_at", "aria-describedby": `${id}-zone` });
  const wrapper = h(
    "div",
    { class: "field schedule-field" },
    h("label", { for: id }, "Publish at"),
    input,
    h("p", { class: "field-hint", id: `${id}-zone` }, `Your time zone: ${userZone()}`),
  );
  return { wrapper, input };
}

// The four ways to send a post; `build(mode)` gives the post body without its schedule, or
// null when something must be fixed first (it says what).
export function publishButtons({ build, picker, postId, onDone }) {
  const send = async (button, schedule, label) => {
    const body = build(schedule.mode);
    if (!body) return;
    busy(button, true, label);
    try {
      const { data } = postId()
        ? await saveExisting(postId(), body, schedule)
        : await api("/api/posts", { method: "POST", body: { ...body, timezone: userZone(), schedule } });
      onDone(data, schedule.mode);
    } catch (error) {
      toast(error.message, "error");
    } finally {
      busy(button, false);
    }
  };
  const button = (text, mode, label, tone = "") =>
    h("button", { class: `button ${tone}`, type: "button", dataset: { mode } }, text);
  const now = button("Publish now", "now", "Publishing…", "button-primary");
  const at = button("Schedule", "at", "Scheduling…");
  const queue = button("Add to queue", "queue", "Adding…");
  const draft = button("Save draft", "draft", "Saving…", "button-quiet");
  now.onclick = () => send(now, { mode: "now" }, "Publishing…");
  at.onclick = () => {
    if (!picker.input.value) {
      picker.input.setAttribute("aria-invalid", "true");
      picker.input.focus();
      toast("Pick a date and time first", "error");
      return;
    }
    picker.input.removeAttribute("aria-invalid");
    send(at, { mode: "at", local_time: picker.input.value, timezone: userZone() }, "Scheduling…");
  };
  queue.onclick = () => send(queue, { mode: "queue" }, "Adding…");
  draft.onclick = () => send(draft, { mode: "draft" }, "Saving…");
  return h("div", { class: "button-row publish-actions" }, now, at, queue, draft);
}

async function saveExisting(postId, body, schedule) {
  const { account_ids: _, ...changes } = body;
  await api(`/api/posts/${postId}`, { method: "PATCH", body: { ...changes, timezone: userZone() } });
  return api(`/api/posts/${postId}/schedule`, { method: "POST", body: schedule });
}
