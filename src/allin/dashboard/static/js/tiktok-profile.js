// A TikTok account's profile, newest videos and stored growth history, opened on demand
// from its card on the Accounts page. Reading the analytics also records today's reading, so
// the history charts gain a point each day someone looks.

import { api } from "./api.js";
import { avatar, emptyState, errorState, stat } from "./components.js";
import { chartFigure, drawSeries } from "./charts.js";
import { clear, disclosure, h, nextId } from "./dom.js";
import { num } from "./format.js";

const BASE = "/api/integrations/tiktok";
const VIDEOS_SHOWN = 5;
const HISTORY_DAYS = 90;

// The disclosure button and its panel; `panels` keeps them across re-renders of the list so an
// open panel stays open (and is not fetched again) when the accounts are re-read.
export function tiktokDisclosure(account, name, panels) {
  if (panels.has(account.id)) return panels.get(account.id);
  const panel = h("div", { class: "tiktok-profile", id: nextId("tiktok-profile"), hidden: true, role: "region", "aria-label": `Profile and analytics of ${name}` });
  const button = h("button", { class: "button button-small button-quiet", type: "button", "aria-expanded": "false", "aria-controls": panel.id }, "Profile & analytics");
  button.setAttribute("aria-label", `Profile & analytics of ${name}`);
  disclosure(button, panel, { onFirstOpen: () => load(account.id, panel) });
  const parts = { button, panel };
  panels.set(account.id, parts);
  return parts;
}

async function load(id, panel) {
  clear(panel).append(h("p", { class: "muted small" }, "Loading…"));
  try {
    const [{ data: me }, { data: page }, { data: stats }] = await Promise.all([
      api(`${BASE}/${id}/me`),
      api(`${BASE}/${id}/videos`, { query: { max_count: VIDEOS_SHOWN } }),
      api(`${BASE}/${id}/analytics`, { query: { days: HISTORY_DAYS } }),
    ]);
    const followers = chartFigure("Followers", nextId("chart-followers"));
    const likes = chartFigure("Total likes", nextId("chart-likes"));
    clear(panel).append(profile(me, stats), videoTable(page.videos), history(stats.history, followers, likes));
    if (stats.history.length) {
      const x = stats.history.map((d) => new Date(`${d.day}T00:00:00Z`));
      const series = (key) => stats.history.map((d) => d[key] ?? 0);
      await drawSeries(followers, { x, y: series("followers"), yTitle: "followers", daily: true, label: `Followers: ${num(stats.followers ?? 0)}` });
      await drawSeries(likes, { x, y: series("total_likes"), yTitle: "likes", daily: true, label: `Total likes: ${num(stats.total_likes ?? 0)}` });
    }
  } catch (error) {
    clear(panel).append(errorState(error, () => load(id, panel)));
    throw error;
  }
}

function profile(me, stats) {
  const value = (n) => (n === null || n === undefined ? "—" : num(n));
  return h(
    "div",
    { class: "tiktok-profile-head" },
    avatar(me.display_name || me.username),
    h("strong", { class: "tiktok-profile-name" }, me.display_name || me.username || "TikTok account"),
    h(
      "div",
      { class: "stats" },
      stat("Followers", value(stats.followers)),
      stat("Following", value(stats.following)),
      stat("Likes", value(stats.total_likes)),
      stat("Videos", value(stats.video_count)),
    ),
  );
}

function videoTable(videos) {
  if (!videos.length) return emptyState("No public video yet.");
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "table tiktok-videos" },
      h("caption", { class: "visually-hidden" }, "Recent videos"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Title"), h("th", { scope: "col", class: "num" }, "Views"), h("th", { scope: "col", class: "num" }, "Likes"), h("th", { scope: "col" }, "Link"))),
      h(
        "tbody",
        {},
        videos.map((video) => {
          const title = video.title || video.video_description || "Untitled";
          return h(
            "tr",
            {},
            h("td", {}, title),
            h("td", { class: "num" }, num(video.view_count ?? 0)),
            h("td", { class: "num" }, num(video.like_count ?? 0)),
            h("td", {}, video.share_url ? h("a", { href: video.share_url, target: "_blank", rel: "noopener noreferrer", "aria-label": `${title} on TikTok` }, "Open on TikTok") : "—"),
          );
        }),
      ),
    ),
  );
}

function history(days, followers, likes) {
  if (!days.length) return emptyState("No history yet.", "A reading is stored each day the analytics are read; charts appear from the first one.");
  return h("div", { class: "grid-2 tiktok-history" }, followers.figure, likes.figure);
}
