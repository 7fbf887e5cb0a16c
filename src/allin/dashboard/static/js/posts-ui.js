// Shared pieces of the publishing pages: target status badges in words and colours.

import { h } from "./dom.js";

export const TARGET_STATUS = {
  DRAFT: ["Draft", "muted"],
  SCHEDULED: ["Scheduled", "info"],
  PUBLISHING: ["Publishing", "warn"],
  PUBLISHED: ["Published", "ok"],
  FAILED: ["Failed", "danger"],
  UNCONFIRMED: ["Checking with the platform", "warn"],
  CANCELLED: ["Cancelled", "muted"],
};

export function targetBadge(status) {
  const [label, tone] = TARGET_STATUS[status] || [status, "muted"];
  return h("span", { class: `badge badge-${tone}`, dataset: { status } }, label);
}

// A post's overall state: the most telling of its targets'.
const ORDER = ["FAILED", "UNCONFIRMED", "PUBLISHING", "SCHEDULED", "DRAFT", "PUBLISHED", "CANCELLED"];
export function postStatus(post) {
  const statuses = new Set(post.targets.map((t) => t.status));
  return ORDER.find((status) => statuses.has(status)) || "DRAFT";
}

export function excerpt(text, length = 90) {
  const flat = (text || "").replace(/\s+/g, " ").trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat || "(no text)";
}
