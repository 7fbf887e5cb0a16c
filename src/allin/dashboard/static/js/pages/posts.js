// Every post of the user, newest first, with where each stands; filter by status.

import { api } from "../api.js";
import { emptyState, errorState, pageHeader } from "../components.js";
import { clear, h } from "../dom.js";
import { dateTime } from "../format.js";
import { TARGET_STATUS, excerpt, postStatus, targetBadge } from "../posts-ui.js";
import { platformIcon } from "../social.js";

export async function render(ctx) {
  const { main, setTitle, query } = ctx;
  setTitle("Posts");
  const status = query.get("status") || "";
  const select = h(
    "select",
    { id: "posts-status", name: "status" },
    h("option", { value: "" }, "Every status"),
    Object.entries(TARGET_STATUS).map(([value, [label]]) => h("option", { value, selected: value === status }, label)),
  );
  select.addEventListener("change", () => ctx.navigate(select.value ? `/app/posts?status=${select.value}` : "/app/posts"));
  const list = h("section", { class: "card", "aria-label": "Posts" });
  main.append(
    h(
      "div",
      { class: "page" },
      pageHeader("Posts", h("a", { class: "button button-primary", href: "/app/compose", "data-link": true }, "New post")),
      h("div", { class: "filters" }, h("div", { class: "field" }, h("label", { for: "posts-status" }, "Status"), select)),
      list,
    ),
  );
  try {
    const { data } = await api("/api/posts", { query: { status, limit: 100 } });
    if (!ctx.alive()) return;
    if (!data.length) {
      list.append(emptyState(status ? "No post has this status." : "No post yet.", "Write one in the composer."));
      return;
    }
    list.append(h("ul", { class: "watch-list" }, data.map(postItem)));
  } catch (error) {
    clear(list).append(errorState(error));
  }
}

function postItem(post) {
  const when = post.targets.map((t) => t.published_at || t.scheduled_at).find(Boolean) || post.created_at;
  return h(
    "li",
    { class: "watch-item post-item", dataset: { post: post.id } },
    h("span", { class: "post-platforms" }, [...new Set(post.targets.map((t) => t.platform))].map(platformIcon)),
    h(
      "div",
      { class: "watch-main" },
      h("a", { href: `/app/posts/${post.id}`, "data-link": true }, excerpt(post.content)),
      h("span", { class: "muted small" }, h("time", { datetime: when }, dateTime(when))),
    ),
    targetBadge(postStatus(post)),
  );
}
