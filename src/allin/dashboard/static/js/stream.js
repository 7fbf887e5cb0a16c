// A session's real-time events over Server-Sent Events, with no gap across reconnects.
//
// The browser's EventSource reconnects by itself after a network blip and sends
// Last-Event-ID, so the server resumes exactly after the last event we saw. It gives up for
// good on an HTTP error, typically a 401 once the access token in the URL has expired: then
// we renew the token and reopen with `last_event_id`, again with no gap.

import { accessToken, authorisedUrl } from "./api.js";

const FLUSH_MS = 150; // events are handed over in small batches, not one DOM update each
const MAX_BACKOFF_MS = 15_000;

export class SessionStream {
  constructor(sessionId, { onSession, onEvents, onStatus, onState, path = "stream", query = {} }) {
    this.sessionId = sessionId;
    this.handlers = { onSession, onEvents, onStatus, onState };
    this.path = path;
    this.query = query;
    this.lastId = null;
    this.opened = 0;
    this.failures = 0;
    this.batch = [];
    this.timer = null;
    this.retry = null;
    this.source = null;
    this.closed = false;
  }

  async open() {
    if (this.closed) return;
    const query = { ...this.query };
    if (this.lastId !== null) query.last_event_id = this.lastId;
    let url;
    try {
      url = await authorisedUrl(`/api/sessions/${this.sessionId}/${this.path}`, query);
    } catch {
      this.state("signed-out");
      return;
    }
    if (this.closed) return;
    const source = new EventSource(url);
    this.source = source;
    this.state("connecting");
    source.addEventListener("open", () => {
      this.failures = 0;
      this.state("open");
    });
    source.addEventListener("session", (message) => {
      this.handlers.onSession?.(JSON.parse(message.data), { resumed: this.opened > 0 });
      this.opened += 1;
    });
    source.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      this.lastId = event.id;
      this.batch.push(event);
      this.timer ||= setTimeout(() => this.flush(), FLUSH_MS);
    });
    source.addEventListener("status", (message) => {
      this.flush();
      const status = JSON.parse(message.data);
      this.handlers.onStatus?.(status);
      if (status.status === "ended") this.close("ended");
    });
    source.addEventListener("end", () => {
      this.flush(); // replays finish with a named "end" event
      this.close("ended");
    });
    source.addEventListener("error", () => this.onError(source));
  }

  onError(source) {
    if (this.closed || source !== this.source) return;
    if (source.readyState !== EventSource.CLOSED) {
      this.state("reconnecting"); // the browser retries by itself, sending Last-Event-ID
      return;
    }
    source.close();
    this.failures += 1;
    this.state("reconnecting");
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.failures - 1, 5));
    this.retry = setTimeout(async () => {
      await accessToken({ force: this.failures > 1 }).catch(() => null);
      this.open();
    }, delay);
  }

  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.batch.length) return;
    const events = this.batch;
    this.batch = [];
    this.handlers.onEvents?.(events);
  }

  state(value) {
    this.handlers.onState?.(value);
  }

  close(reason = "closed") {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearTimeout(this.retry);
    if (this.source) this.source.close();
    this.state(reason);
  }
}
