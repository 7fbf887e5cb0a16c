// The composer: the accounts to post to, one text with a tab per platform (each may differ),
// live counters and problems per platform, simple previews, drafts, and the AI panel.

import { api } from "../api.js";
import { aiPanel } from "../ai-panel.js";
import { avatar, emptyState, pageHeader } from "../components.js";
import { hasFeature } from "../config.js";
import { busy, h, nextId, toast } from "../dom.js";
import { checkText } from "../rules.js";
import { platformIcon, platformName } from "../social.js";
import { publishButtons, schedulePicker, validator } from "../publish.js";
import { mediaPicker } from "../media.js";
import { tiktokPanel } from "../tiktok-post.js";

export async function render(ctx) {
  const { main, setTitle } = ctx;
  setTitle("Compose");
  const state = { base: "", texts: {}, tab: "all", targets: new Set(), accounts: [], media: [], mediaInfo: {}, tiktok: null, savedOptions: {} };
  if (hasFeature("social_accounts")) {
    try {
      state.accounts = (await api("/api/social/accounts")).data.filter((a) => a.status === "ACTIVE");
    } catch (error) {
      toast(error.message, "error");
    }
  }
  const postId = ctx.query.get("post");
  if (postId && hasFeature("posts")) {
    try {
      const { data } = await api(`/api/posts/${encodeURIComponent(postId)}`);
      state.base = data.content;
      for (const [platform, variant] of Object.entries(data.variants || {})) {
        if (variant?.text != null) state.texts[platform] = variant.text;
        if (variant?.options) state.savedOptions[platform] = variant.options;
      }
      data.targets.forEach((target) => state.targets.add(target.account_id));
      state.media.push(...data.media_ids);
    } catch (error) {
      toast(error.message, "error");
    }
  }
  const draftId = ctx.query.get("ai_draft");
  if (draftId && hasFeature("ai")) {
    try {
      const { data } = await api(`/api/ai/drafts/${encodeURIComponent(draftId)}`);
      state.base = data.content;
    } catch (error) {
      toast(error.message, "error");
    }
  }
  if (!ctx.alive()) return;

  const editor = h("textarea", { id: "post-text", class: "post-text", rows: 8, maxlength: 10000, "aria-describedby": "post-counters" });
  const label = h("label", { for: "post-text" }, "Post text");
  const tabs = h("div", { class: "tabs", role: "tablist", "aria-label": "Text per platform" });
  const counters = h("ul", { class: "counters", id: "post-counters", "aria-live": "polite" });
  const previews = h("div", { class: "previews" });
  const media = hasFeature("posts") ? mediaPicker(state.media, () => update(), state.mediaInfo) : null;
  const picker = schedulePicker();
  const postBar = hasFeature("posts")
    ? h(
        "section",
        { class: "card", "aria-labelledby": "when-title" },
        h("h2", { id: "when-title" }, "When"),
        picker.wrapper,
        h(
          "p",
          { class: "field-hint" },
          "“Add to queue” takes each account's next free posting time; set the times on ",
          h("a", { href: "/app/accounts", "data-link": true }, "Accounts"),
          ".",
        ),
        publishButtons({
          build: (mode) => {
            if (!state.targets.size) {
              toast("Choose at least one account to post to", "error");
              return null;
            }
            const problem = state.tiktok?.problem(mode !== "draft");
            if (problem) {
              toast(problem, "error");
              return null;
            }
            return postBody(state, platforms());
          },
          picker,
          postId: () => postId,
          onDone: (post, mode) => {
            toast(mode === "draft" ? "Draft saved" : mode === "now" ? "Publishing" : "Scheduled", "success");
            ctx.navigate(`/app/posts/${post.id}`);
          },
        }),
      )
    : null;
  const saveButton = hasFeature("ai") && !hasFeature("posts")
    ? h("button", { class: "button", type: "button", onclick: () => saveDrafts(state, saveButton) }, "Save draft")
    : null;

  const platforms = () => {
    const chosen = state.accounts.filter((a) => state.targets.has(a.id)).map((a) => a.platform);
    return chosen.length ? [...new Set(chosen)] : ["tiktok"];
  };
  const textFor = (platform) => state.texts[platform] ?? state.base;
  const validate = hasFeature("posts")
    ? validator((verdicts, error) => (verdicts ? renderVerdicts(counters, verdicts) : renderCounters(counters, platforms(), textFor, error)))
    : null;
  const tiktokSlot = h("div", { class: "tiktok-slot" });
  const syncTikTok = () => {
    const account = hasFeature("tiktok_creator_info") && state.accounts.find((a) => a.platform === "tiktok" && state.targets.has(a.id));
    if ((state.tiktok?.accountId || null) === (account?.id || null)) return;
    const saved = state.savedOptions.tiktok || {};
    state.tiktok = account ? Object.assign(tiktokPanel(account.id, state.mediaInfo, saved), { accountId: account.id }) : null;
    tiktokSlot.replaceChildren(...(state.tiktok ? [state.tiktok.card] : []));
  };
  const update = () => {
    syncTikTok();
    renderTabs(tabs, state, platforms(), switchTab);
    renderCounters(counters, platforms(), textFor);
    renderPreviews(previews, state, platforms(), textFor);
    if (validate) validate(postBody(state, platforms()));
  };
  function switchTab(tab, { fromKeys = false } = {}) {
    state.tab = tab;
    editor.value = tab === "all" ? state.base : textFor(tab);
    label.textContent = tab === "all" ? "Post text" : `Text for ${platformName(tab)}`;
    update();
    if (fromKeys) tabs.querySelector(`[data-tab="${tab}"]`)?.focus();
    else editor.focus();
  }
  editor.addEventListener("input", () => {
    if (state.tab === "all") state.base = editor.value;
    else state.texts[state.tab] = editor.value;
    update();
  });

  const panel = hasFeature("ai")
    ? aiPanel({
        editor,
        platform: () => (state.tab === "all" ? platforms()[0] : state.tab),
        platforms,
        onChange: () => editor.dispatchEvent(new Event("input")),
      })
    : null;

  main.append(
    h(
      "div",
      { class: "page" },
      pageHeader("Compose"),
      h(
        "div",
        { class: panel ? "compose-grid" : null },
        h(
          "div",
          { class: "stack" },
          targetsCard(state, update),
          h("section", { class: "card", "aria-label": "Text" }, tabs, h("div", { class: "field" }, label, editor), counters, media, saveButton ? h("div", { class: "compose-actions" }, saveButton) : null),
          tiktokSlot,
          postBar,
          h("section", { class: "card", "aria-labelledby": "preview-title" }, h("h2", { id: "preview-title" }, "Preview"), previews),
        ),
        panel,
      ),
    ),
  );
  editor.value = state.base;
  update();
  return () => {
    panel?.cleanup();
    media?.cleanup();
  };
}

function targetsCard(state, update) {
  const card = h("section", { class: "card", "aria-labelledby": "targets-title" }, h("h2", { id: "targets-title" }, "Post to"));
  if (!state.accounts.length) {
    card.append(
      emptyState(
        "No connected account.",
        "Connect an account to publish; you can still write and keep drafts.",
        hasFeature("social_accounts") ? h("a", { class: "button button-small", href: "/app/accounts", "data-link": true }, "Connect an account") : null,
      ),
    );
    return card;
  }
  const chips = state.accounts.map((account) => {
    const name = `${account.platform_name} ${account.username ? `@${account.username}` : account.display_name || ""}`.trim();
    const chip = h(
      "button",
      { class: `chip target-chip platform-${account.platform}`, type: "button", "aria-pressed": String(state.targets.has(account.id)), dataset: { account: account.id }, "aria-label": name },
      avatar(account.display_name || account.username),
      platformIcon(account.platform),
      h("span", {}, account.display_name || account.username || account.platform_name),
    );
    chip.addEventListener("click", () => {
      const on = !state.targets.has(account.id);
      if (on) state.targets.add(account.id);
      else state.targets.delete(account.id);
      chip.setAttribute("aria-pressed", String(on));
      update();
    });
    return chip;
  });
  card.append(h("div", { class: "chips", role: "group", "aria-label": "Accounts to post to" }, chips));
  return card;
}

function renderTabs(tabs, state, platforms, switchTab) {
  const all = ["all", ...platforms];
  if (!all.includes(state.tab)) state.tab = "all";
  tabs.replaceChildren(
    ...all.map((tab) => {
      const selected = tab === state.tab;
      const edited = tab !== "all" && state.texts[tab] !== undefined;
      return h(
        "button",
        { class: "tab", type: "button", role: "tab", "aria-selected": String(selected), "aria-controls": "post-text", tabindex: selected ? "0" : "-1", dataset: { tab }, onclick: () => switchTab(tab), onkeydown: (e) => arrowKeys(e, all, tab, switchTab) },
        tab === "all" ? "All platforms" : platformName(tab),
        edited ? h("span", { class: "tab-mark", title: "Own text for this platform" }, " •") : null,
      );
    }),
  );
}

// Tabs per the ARIA authoring practices: arrows move between them.
function arrowKeys(event, all, current, switchTab) {
  const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
  if (!step) return;
  event.preventDefault();
  switchTab(all[(all.indexOf(current) + step + all.length) % all.length], { fromKeys: true });
}

// The body the posts API takes: one text, the platforms' own texts, the chosen accounts.
function postBody(state, platforms) {
  const variants = {};
  for (const platform of platforms) {
    if (state.texts[platform] !== undefined) variants[platform] = { text: state.texts[platform] };
  }
  if (state.tiktok) variants.tiktok = { ...variants.tiktok, options: state.tiktok.options() };
  const accountIds = [...state.targets];
  const body = { content: state.base, variants, account_ids: accountIds, media_ids: [...state.media] };
  return accountIds.length ? body : { ...body, platforms };
}

function renderVerdicts(list, verdicts) {
  list.replaceChildren(
    ...verdicts.map((verdict) =>
      h(
        "li",
        { class: `counter${verdict.ok ? "" : " counter-over"}`, dataset: { platform: verdict.platform } },
        platformIcon(verdict.platform),
        h("span", { class: "counter-value" }, `${verdict.length} / ${verdict.limit}`),
        h("span", { class: "visually-hidden" }, ` characters for ${platformName(verdict.platform)}`),
        verdict.problems.map((problem) => h("span", { class: "counter-problem", dataset: { code: problem.code } }, problem.message)),
      ),
    ),
  );
}

function renderCounters(list, platforms, textFor) {
  list.replaceChildren(
    ...platforms.map((platform) => {
      const check = checkText(platform, textFor(platform));
      return h(
        "li",
        { class: `counter${check.problems.length ? " counter-over" : ""}`, dataset: { platform } },
        platformIcon(platform),
        h("span", { class: "counter-value" }, `${check.length} / ${check.max}`),
        h("span", { class: "visually-hidden" }, ` characters for ${platformName(platform)}`),
        check.problems.map((problem) => h("span", { class: "counter-problem" }, problem)),
      );
    }),
  );
}

function renderPreviews(box, state, platforms, textFor) {
  const byPlatform = Object.fromEntries(state.accounts.filter((a) => state.targets.has(a.id)).map((a) => [a.platform, a]));
  box.replaceChildren(
    ...platforms.map((platform) => {
      const account = byPlatform[platform];
      const who = account ? account.display_name || account.username : "Your account";
      const id = nextId("preview");
      return h(
        "article",
        { class: `preview preview-${platform}`, "aria-labelledby": id, dataset: { platform } },
        h("header", { class: "preview-head" }, avatar(who), h("strong", { id }, `${platformName(platform)} · ${who}`)),
        h("p", { class: "preview-text" }, textFor(platform) || h("span", { class: "muted" }, "Nothing written yet.")),
      );
    }),
  );
}

async function saveDrafts(state, button) {
  const chosen = [...new Set(state.accounts.filter((a) => state.targets.has(a.id)).map((a) => a.platform))];
  const texts = (chosen.length ? chosen : ["tiktok"])
    .map((platform) => [platform, state.texts[platform] ?? state.base])
    .filter(([, text]) => text.trim());
  if (!texts.length) {
    toast("Write something first", "error");
    return;
  }
  busy(button, true, "Saving…");
  try {
    for (const [platform, content] of texts) {
      await api("/api/ai/drafts", { method: "POST", body: { platform, content, source: "manual" } });
    }
    toast(texts.length === 1 ? "Draft saved" : `${texts.length} drafts saved`, "success");
  } catch (error) {
    toast(error.message, "error");
  } finally {
    busy(button, false);
  }
}
