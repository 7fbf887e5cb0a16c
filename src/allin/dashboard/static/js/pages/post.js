// One post: its text, and per target account the status, the link on the platform, the
// error in words and a retry; it follows the publishing as it happens.

import { api } from "../api.js";
import { errorState, pageHeader } from "../components.js";
import { hasFeature } from "../config.js";
import { busy, clear, confirmDialog, h, toast } from "../dom.js";
import { dateTime } from "../format.js";
import { targetBadge } from "../posts-ui.js";
import { platformIcon, platformName } from "../social.js";

const FOLLOW_MS = 1500;
const MOVING = new Set(["PUBLISHING", "UNCONFIRMED", "SCHEDULED"]);

export async function render(ctx) {
  const { main, params, setTitle } = ctx;
  setTitle("Post");
  const page = h("div", { class: "page" });
  main.append(page);
  const names = await accountNames();
  let timer = null;
  const load = async () => {
    try {
      const { data } = await api(`/api/posts/${params.id}`);
      if (!ctx.alive()) return;
      show(page, data, names, load, ctx);
      if (data.targets.some((t) => MOVING.has(t.status))) timer = setTimeout(load, FOLLOW_MS);
    } catch (error) {
      clear(page).append(pageHeader("Post"), errorState(error));
    }
  };
  await load();
  return () => clearTimeout(timer);
}

async function accountNames() {
  if (!hasFeature("social_accounts")) return {};
  try {
    const { data } = await api("/api/social/accounts");
    return Object.fromEntries(data.map((a) => [a.id, a.username ? `@${a.username}` : a.display_name || a.platform_name]));
  } catch {
    return {};
  }
}

function show(page, post, names, reload, ctx) {
  const editable = post.targets.every((t) => t.status === "DRAFT" || t.status === "SCHEDULED");
  const failed = post.targets.some((t) => t.status === "FAILED");
  const retry = h("button", { class: "button button-primary", type: "button" }, "Retry the failed");
  retry.onclick = () => act(retry, `/api/posts/${post.id}/retry`, "Sending again", reload);
  const cancel = h("button", { class: "button button-quiet", type: "button" }, "Cancel");
  cancel.onclick = async () => {
    const yes = await confirmDialog({ title: "Cancel this post?", message: "Targets not yet sent are cancelled.", confirm: "Cancel the post" });
    if (yes) act(cancel, `/api/posts/${post.id}/cancel`, "Cancelled", reload);
  };
  clear(page).append(
    pageHeader(
      "Post",
      failed ? retry : null,
      editable ? h("a", { class: "button", href: `/app/compose?post=${post.id}`, "data-link": true }, "Edit") : null,
      editable ? cancel : null,
    ),
    h("section", { class: "card", "aria-labelledby": "post-text-title" }, h("h2", { id: "post-text-title" }, "Text"), h("p", { class: "preview-text" }, post.content || h("span", { class: "muted" }, "(no text)"))),
    h(
      "section",
      { class: "card", "aria-labelledby": "targets-title" },
      h("h2", { id: "targets-title" }, "Where it goes"),
      h("ul", { class: "watch-list" }, post.targets.map((target) => targetItem(target, names))),
    ),
  );
}

function targetItem(target, names) {
  const when = target.published_at || target.scheduled_local || target.scheduled_at;
  const link = target.platform_url
    ? h("a", { class: "button button-small", href: target.platform_url, target: "_blank", rel: "noopener noreferrer" }, `View on ${platformName(target.platform)}`)
    : null;
  return h(
    "li",
    { class: "watch-item target-item", dataset: { target: target.id, platform: target.platform, status: target.status } },
    platformIcon(target.platform),
    h(
      "div",
      { class: "watch-main" },
      h("strong", {}, `${platformName(target.platform)} ${names[target.account_id] || ""}`.trim()),
      when ? h("span", { class: "muted small" }, target.published_at ? "Published " : "Due ", h("time", { datetime: when }, dateTime(when))) : null,
      target.attempts > 1 ? h("span", { class: "muted small" }, `${target.attempts} attempts`) : null,
      target.last_error ? h("span", { class: "small account-error target-error" }, target.last_error, target.last_error_code ? ` (${target.last_error_code})` : "") : null,
    ),
    targetBadge(target.status),
    link,
  );
}

async function act(button, path, done, reload) {
  busy(button, true);
  try {
    await api(path, { method: "POST" });
    toast(done, "success");
  } catch (error) {
    toast(error.message, "error");
  } finally {
    busy(button, false);
  }
  await reload();
}
