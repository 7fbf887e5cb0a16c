// The schedule as an iCalendar feed (RFC 5545) for Google Calendar, Apple Calendar or Outlook.
// The secret URL is the credential and only its hash is stored, so it is shown once, when made;
// a new URL stops the old one.

import { api } from "./api.js";
import { busy, confirmDialog, disclosure, h, nextId, toast } from "./dom.js";

export function feedPanel() {
  const id = nextId("feed");
  const titleId = `${id}-title`;
  const urlId = `${id}-url`;
  const panel = h("section", { class: "card feed-card", id, hidden: true, "aria-labelledby": titleId });
  const button = h("button", { class: "button button-small", type: "button", "aria-expanded": "false", "aria-controls": id }, "Calendar feed");
  const state = h("p", { class: "small", role: "status" });
  const url = h("input", { id: urlId, type: "text", readonly: true, class: "feed-url-input", spellcheck: "false" });
  const copy = h("button", { class: "button button-small", type: "button" }, "Copy");
  const urlRow = h("div", { class: "field feed-url", hidden: true }, h("label", { for: urlId }, "Feed URL"), h("div", { class: "feed-url-row" }, url, copy));
  const make = h("button", { class: "button button-small button-primary", type: "button" }, "Get the feed URL");
  let active = false;
  panel.append(
    h("h2", { id: titleId }, "Calendar feed"),
    h("p", { class: "muted small" }, "Subscribe to your schedule from Google Calendar, Apple Calendar or Outlook. Anyone with the URL sees your posts' times and texts: keep it secret."),
    state,
    urlRow,
    h("div", { class: "button-row" }, make),
  );
  const show = () => {
    make.textContent = active ? "New URL" : "Get the feed URL";
    if (urlRow.hidden) {
      state.textContent = active
        ? "You have a feed URL. It is shown only when made: a new URL shows one to copy, and the current one stops working."
        : "No feed URL yet.";
    }
  };
  const read = async () => {
    try {
      active = (await api("/api/calendar/feed")).data.active;
      show();
    } catch (error) {
      state.textContent = error.message;
    }
  };
  make.addEventListener("click", async () => {
    if (active) {
      const yes = await confirmDialog({
        title: "Make a new feed URL?",
        message: "The current URL stops working at once: calendars subscribed to it must subscribe to the new one.",
        confirm: "Make a new URL",
      });
      if (!yes) return make.focus();
    }
    busy(make, true, "Making…");
    try {
      const { data } = await api("/api/calendar/feed", { method: "POST" });
      const replaced = active;
      active = true;
      url.value = data.url;
      urlRow.hidden = false;
      state.textContent = replaced ? "New feed URL made; the previous one no longer works." : "Feed URL made.";
    } catch (error) {
      toast(error.message, "error");
      state.textContent = error.message;
    } finally {
      busy(make, false);
      show();
    }
    url.focus();
    url.select();
  });
  copy.addEventListener("click", async () => {
    url.focus();
    url.select();
    try {
      await navigator.clipboard.writeText(url.value);
      state.textContent = "Feed URL copied.";
    } catch {
      // No clipboard access (an insecure address, or refused): the URL is selected to copy by hand.
      state.textContent = "Copy the selected URL with Ctrl+C (⌘C on a Mac).";
    }
  });
  disclosure(button, panel, { onFirstOpen: read, onOpen: () => make.focus() });
  return { button, panel };
}
