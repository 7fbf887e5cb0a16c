// Platform names, marks and the words for what the connect flow reports back.

import { h } from "./dom.js";

export const PLATFORMS = {
  tiktok: { name: "TikTok", mark: "T" },
  x: { name: "X", mark: "X" },
  linkedin: { name: "LinkedIn", mark: "in" },
  facebook: { name: "Facebook", mark: "f" },
  instagram: { name: "Instagram", mark: "IG" },
};

export function platformName(platform) {
  return PLATFORMS[platform]?.name || platform;
}

// A letter mark in the platform's colour (no logos from elsewhere; the name is always beside it).
export function platformIcon(platform) {
  return h("span", { class: `platform-mark platform-${platform}`, "aria-hidden": "true" }, PLATFORMS[platform]?.mark || "?");
}

const CONNECT_ERRORS = {
  SOCIAL_006: "The connection link expired or was already used. Please connect again.",
  SOCIAL_007: "The platform did not grant access: consent was declined or failed.",
  SOCIAL_008: "The connection was started in another browser. Please connect again from this one.",
  SOCIAL_012: "The platform returned no account this login can post as.",
};

// The callback sends the browser back with ?platform=&social=connected|error|cancelled.
export function alertFromQuery(query) {
  const outcome = query.get("social");
  if (!outcome) return null;
  const name = platformName(query.get("platform") || "");
  if (outcome === "connected") {
    return h("div", { class: "alert alert-success", role: "status" }, `${name} connected.`);
  }
  if (outcome === "cancelled") {
    return h("div", { class: "alert alert-info", role: "status" }, `Connecting ${name} was cancelled.`);
  }
  const code = query.get("code") || "";
  const words = CONNECT_ERRORS[code] || "The platform could not be connected. Please try again.";
  return h("div", { class: "alert alert-error", role: "alert" }, `${name}: ${words}`, code ? h("span", { class: "muted small" }, ` (${code})`) : null);
}
