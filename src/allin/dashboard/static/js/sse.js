// Server-Sent Events over a POST: EventSource can only GET, so this reads fetch()'s body as a
// stream and parses it per the HTML standard's event-stream format (event/data/id lines, a
// blank line ends an event, ':' lines are comments such as keep-alive pings).

import { ApiError, accessToken } from "./api.js";

export async function* postStream(path, body, { signal } = {}) {
  const response = await open(path, body, signal);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = { event: "message", data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop(); // an unfinished line waits for the next chunk
    for (const line of lines) {
      if (line === "") {
        if (event.data.length) yield { event: event.event, data: JSON.parse(event.data.join("\n")) };
        event = { event: "message", data: [] };
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event.event = text;
        else if (field === "data") event.data.push(text);
      }
    }
  }
}

// The request; refusals before the stream starts (out of credits, bad input) are JSON envelopes.
async function open(path, body, signal) {
  for (let attempt = 0; ; attempt += 1) {
    const token = await accessToken({ force: attempt > 0 });
    if (!token) throw new ApiError(401, "SIGNED_OUT", "Please sign in again");
    const response = await fetch(path, {
      method: "POST",
      headers: { Accept: "text/event-stream", "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
    if (response.status === 401 && attempt === 0) continue;
    if (response.ok && (response.headers.get("content-type") || "").includes("text/event-stream")) return response;
    let error = {};
    try {
      error = (await response.json()).error || {};
    } catch {
      // not JSON: the status says enough
    }
    throw new ApiError(response.status, error.code || `HTTP_${response.status}`, error.message || response.statusText, error.details);
  }
}
