// TikTok's Direct Post screen, as TikTok's content-sharing guidelines require: the creator's
// nickname, a privacy level the creator chooses (none preselected, only the ones creator_info
// offers), comments / duets / stitches off until ticked and greyed where the creator turned
// them off, the longest video they may post, the commercial-content disclosure, and the
// Music Usage Confirmation before anything is sent.

import { api } from "./api.js";
import { errorState } from "./components.js";
import { h, nextId } from "./dom.js";

const PRIVACY = {
  PUBLIC_TO_EVERYONE: "Everyone",
  MUTUAL_FOLLOW_FRIENDS: "Friends",
  FOLLOWER_OF_CREATOR: "Followers",
  SELF_ONLY: "Only me",
};

function checkbox(label, { disabled = false, hint } = {}) {
  const id = nextId("tt");
  const input = h("input", { id, type: "checkbox", disabled, "aria-describedby": hint ? `${id}-hint` : null });
  const wrapper = h("div", { class: "check" }, input, h("label", { for: id }, label), hint ? h("span", { class: "field-hint", id: `${id}-hint` }, hint) : null);
  return { input, wrapper };
}

// `saved`: the options of a draft being edited, shown again (never a default of our own).
export function tiktokPanel(accountId, mediaDetails, saved = {}) {
  const card = h("section", { class: "card tiktok-panel", "aria-labelledby": "tiktok-title" }, h("h2", { id: "tiktok-title" }, "TikTok"));
  const panel = { card, info: null, fields: null };
  api(`/api/social/accounts/${accountId}/creator-info`).then(
    ({ data }) => {
      panel.info = data;
      panel.fields = build(card, data);
      restore(panel.fields, saved);
    },
    (error) => card.append(errorState(error)),
  );
  panel.options = () => (panel.fields ? options(panel.fields) : saved);
  panel.problem = (publishing) => {
    if (panel.fields) return problem(panel.fields, panel.info, mediaDetails, publishing);
    return publishing ? "TikTok's creator information has not loaded yet." : null; // a draft may wait
  };
  return panel;
}

function build(card, info) {
  const privacyId = nextId("tt-privacy");
  const privacy = h(
    "select",
    { id: privacyId, name: "privacy_level", required: true },
    h("option", { value: "" }, "Choose who can see it"),
    info.privacy_level_options.map((level) => h("option", { value: level }, PRIVACY[level] || level)),
  );
  const off = "Turned off in this creator's TikTok settings";
  const comment = checkbox("Allow comments", { disabled: info.comment_disabled, hint: info.comment_disabled ? off : null });
  const duet = checkbox("Allow duets", { disabled: info.duet_disabled, hint: info.duet_disabled ? off : null });
  const stitch = checkbox("Allow stitches", { disabled: info.stitch_disabled, hint: info.stitch_disabled ? off : null });
  const disclose = checkbox("Disclose commercial content", { hint: "Say so when this video promotes a brand, product or service." });
  const yours = checkbox("Your brand", { hint: "You promote yourself or your own business: labelled “Promotional content”." });
  const branded = checkbox("Branded content", { hint: "You promote another brand or a third party: labelled “Paid partnership”." });
  const brands = h("div", { class: "tiktok-brands", hidden: true }, yours.wrapper, branded.wrapper);
  disclose.input.addEventListener("change", () => {
    brands.hidden = !disclose.input.checked;
  });
  const music = checkbox("I agree to TikTok's Music Usage Confirmation");
  const policy = h("p", { class: "field-hint tiktok-policy" });
  const sync = () => {
    // Branded content cannot be private (TikTok's rule), and adds the Branded Content Policy.
    const brandedOn = disclose.input.checked && branded.input.checked;
    const onlyMe = [...privacy.options].find((o) => o.value === "SELF_ONLY");
    if (onlyMe) onlyMe.disabled = brandedOn;
    if (brandedOn && privacy.value === "SELF_ONLY") privacy.value = "";
    policy.textContent = brandedOn
      ? "By posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation."
      : "By posting, you agree to TikTok's Music Usage Confirmation.";
  };
  [disclose, yours, branded].forEach((c) => c.input.addEventListener("change", sync));
  privacy.addEventListener("change", sync);
  sync();
  const nickname = info.creator_nickname || info.creator_username || "this creator";
  card.append(
    h("p", { class: "tiktok-creator" }, "Posting as ", h("strong", {}, nickname), info.creator_username ? h("span", { class: "muted" }, ` @${info.creator_username}`) : null),
    h("div", { class: "field" }, h("label", { for: privacyId }, "Who can see this video"), privacy),
    h("fieldset", { class: "tiktok-interactions" }, h("legend", {}, "Viewers may"), comment.wrapper, duet.wrapper, stitch.wrapper),
    info.max_video_post_duration_sec ? h("p", { class: "field-hint" }, `Videos up to ${info.max_video_post_duration_sec} seconds.`) : null,
    disclose.wrapper,
    brands,
    music.wrapper,
    policy,
  );
  return { privacy, comment, duet, stitch, disclose, yours, branded, music };
}

function restore(f, saved) {
  if (!Object.keys(saved).length) return;
  if ([...f.privacy.options].some((o) => o.value === saved.privacy_level && !o.disabled)) f.privacy.value = saved.privacy_level;
  for (const [box, off] of [[f.comment, saved.disable_comment], [f.duet, saved.disable_duet], [f.stitch, saved.disable_stitch]]) {
    if (!box.input.disabled) box.input.checked = off === false;
  }
  const branded = Boolean(saved.brand_content_toggle);
  const yours = Boolean(saved.brand_organic_toggle);
  f.disclose.input.checked = branded || yours;
  f.branded.input.checked = branded;
  f.yours.input.checked = yours;
  [f.disclose, f.branded].forEach((c) => c.input.dispatchEvent(new Event("change")));
  if (saved.privacy_level && !f.privacy.value) f.privacy.value = saved.privacy_level; // after the branded rule ran
}

function options(f) {
  const disclosed = f.disclose.input.checked;
  return {
    privacy_level: f.privacy.value || undefined,
    disable_comment: !f.comment.input.checked,
    disable_duet: !f.duet.input.checked,
    disable_stitch: !f.stitch.input.checked,
    brand_organic_toggle: disclosed && f.yours.input.checked,
    brand_content_toggle: disclosed && f.branded.input.checked,
  };
}

// What stops this post from going to TikTok, in words (null when nothing does).
function problem(f, info, mediaDetails, publishing) {
  const longest = info.max_video_post_duration_sec;
  const tooLong = Object.values(mediaDetails).find((m) => m.kind === "video" && longest && m.duration_seconds > longest);
  if (tooLong) return `${tooLong.filename} is ${Math.round(tooLong.duration_seconds)} s; this creator may post up to ${longest} s.`;
  if (!publishing) return null;
  if (!f.privacy.value) return "Choose who can see the TikTok video.";
  if (f.disclose.input.checked && !f.yours.input.checked && !f.branded.input.checked) {
    return "Say whether the commercial content promotes your brand, another brand, or both.";
  }
  if (!f.music.input.checked) return "Agree to TikTok's Music Usage Confirmation first.";
  return null;
}
