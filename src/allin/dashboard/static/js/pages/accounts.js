// Connected social accounts: connect one per platform (OAuth in this tab, back here after
// consent), and per account its status, token expiry, last error, refresh and disconnect.

import { api } from "../api.js";
import { avatar, emptyState, errorState, pageHeader } from "../components.js";
import { busy, clear, confirmDialog, h, toast } from "../dom.js";
import { countdown, dateTime, relative } from "../format.js";
import { alertFromQuery, platformIcon } from "../social.js";
import { tiktokDisclosure } from "../tiktok-profile.js";
import { hasFeature } from "../config.js";
import { slotsDisclosure } from "../slots.js";

const TICK_MS = 15_000;
const STATUS = {
  ACTIVE: ["Connected", "ok"],
  EXPIRED: ["Expired", "danger"],
  REVOKED: ["Access removed", "danger"],
  ERROR: ["Needs attention", "warn"],
};

export async function render(ctx) {
  const { main, setTitle } = ctx;
  setTitle("Accounts");
  const notice = alertFromQuery(ctx.query);
  if (notice) history.replaceState(null, "", "/app/accounts"); // a reload must not repeat it
  const platforms = h("section", { class: "card", "aria-labelledby": "connect-title" });
  const list = h("section", { class: "card", "aria-labelledby": "accounts-title", "aria-live": "polite" });
  main.append(h("div", { class: "page" }, pageHeader("Accounts"), notice, platforms, list));

  let accounts = [];
  const panels = new Map(); // open TikTok panels survive the periodic re-read
  const refresh = async () => {
    try {
      const [{ data: providers }, { data }] = await Promise.all([api("/api/social/providers"), api("/api/social/accounts")]);
      if (!ctx.alive()) return;
      accounts = data.map((account) => ({ ...account, deadline: expiryDeadline(account) }));
      renderProviders(platforms, providers);
      renderAccounts(list, accounts, refresh, panels);
    } catch (error) {
      clear(list).append(h("h2", { id: "accounts-title" }, "Connected accounts"), errorState(error, refresh));
    }
  };
  await refresh();
  // The countdowns move on their own; the list itself is re-read now and then.
  const tick = setInterval(() => {
    for (const el of list.querySelectorAll("[data-deadline]")) el.textContent = countdown(Number(el.dataset.deadline));
  }, 1000);
  const reread = setInterval(refresh, TICK_MS * 4);
  return () => {
    clearInterval(tick);
    clearInterval(reread);
  };
}

function expiryDeadline(account) {
  return account.expires_in_seconds === null ? null : Date.now() + account.expires_in_seconds * 1000;
}

export async function startConnect(platform, button) {
  if (button) busy(button, true, "Opening…");
  try {
    const { data } = await api(`/api/social/accounts/${platform}/connect`, { query: { return_to: "/app/accounts" } });
    location.assign(data.authorization_url); // the platform's consent screen, then back here
  } catch (error) {
    if (button) busy(button, false);
    toast(error.message, "error");
  }
}

function renderProviders(section, providers) {
  clear(section).append(
    h("h2", { id: "connect-title" }, "Connect an account"),
    h("p", { class: "muted small" }, "You confirm on the platform's own page, then come back here."),
    h(
      "ul",
      { class: "provider-list" },
      providers.map((provider) =>
        h(
          "li",
          { class: "provider", dataset: { platform: provider.platform } },
          platformIcon(provider.platform),
          h("span", { class: "provider-name" }, provider.name),
          provider.configured
            ? h(
                "button",
                { class: "button button-small", type: "button", onclick: (event) => startConnect(provider.platform, event.currentTarget) },
                `Connect ${provider.name}`,
              )
            : h("span", { class: "muted small" }, provider.available ? "Not configured on this server" : "Not available"),
        ),
      ),
    ),
  );
}

function renderAccounts(section, accounts, refresh, panels) {
  clear(section).append(h("h2", { id: "accounts-title" }, "Connected accounts"));
  if (!accounts.length) {
    section.append(emptyState("No account is connected yet.", "Connect one above to publish to it."));
    return;
  }
  section.append(h("ul", { class: "watch-list" }, accounts.map((account) => accountItem(account, refresh, panels))));
}

function accountItem(account, refresh, panels) {
  const [label, tone] = STATUS[account.status] || [account.status, "warn"];
  const who = account.username ? `@${account.username.replace(/^@/, "")}` : account.display_name || account.platform_user_id;
  const error = account.last_error || account.status_reason;
  const tiktok = account.platform === "tiktok" && account.status === "ACTIVE" ? tiktokDisclosure(account, `${account.platform_name} ${who}`, panels) : null;
  const slots = hasFeature("posts") ? slotsDisclosure(account, `${account.platform_name} ${who}`, panels) : null;
  return h(
    "li",
    { class: "watch-item account-item", dataset: { account: account.id, platform: account.platform, status: account.status } },
    avatar(account.display_name || account.username),
    h(
      "div",
      { class: "watch-main" },
      h("strong", {}, account.display_name || who),
      h("span", { class: "muted small" }, platformIcon(account.platform), ` ${account.platform_name}`, account.username ? ` · ${who}` : ""),
      h("span", { class: "small" }, expiryText(account)),
      error ? h("span", { class: "small account-error" }, error, account.last_error_at ? ` (${relative(account.last_error_at)})` : "") : null,
    ),
    h("span", { class: `badge badge-${tone}` }, label),
    accountActions(account, who, refresh, [slots?.button, tiktok?.button]),
    slots?.panel,
    tiktok?.panel,
  );
}

function expiryText(account) {
  if (account.deadline === null) return h("span", { class: "muted" }, "The token does not expire");
  const when = new Date(account.deadline).toISOString();
  return h(
    "span",
    { class: "muted" },
    "Token ",
    h("span", { class: "countdown", dataset: { deadline: account.deadline } }, countdown(account.deadline)),
    " · ",
    h("time", { datetime: when }, dateTime(when)),
  );
}

function accountActions(account, who, refresh, extra) {
  const name = `${account.platform_name} ${who}`;
  const refreshButton = h(
    "button",
    { class: "button button-small", type: "button", "aria-label": `Refresh ${name}`, onclick: () => refreshAccount(account, refreshButton, refresh) },
    "Refresh",
  );
  return h(
    "div",
    { class: "button-group", role: "group", "aria-label": `Actions for ${name}` },
    extra,
    account.can_refresh && account.status === "ACTIVE" ? refreshButton : null,
    account.reconnect_required || account.status !== "ACTIVE"
      ? h(
          "button",
          { class: "button button-small button-primary", type: "button", "aria-label": `Reconnect ${name}`, onclick: (e) => startConnect(account.platform, e.currentTarget) },
          "Reconnect",
        )
      : null,
    h(
      "button",
      { class: "button button-small button-quiet", type: "button", "aria-label": `Disconnect ${name}`, onclick: () => disconnect(account, name, refresh) },
      "Disconnect",
    ),
  );
}

async function refreshAccount(account, button, refresh) {
  busy(button, true, "Refreshing…");
  try {
    await api(`/api/social/accounts/${account.id}/refresh`, { method: "PUT" });
    toast("Token refreshed", "success");
  } catch (error) {
    toast(error.message, "error");
  } finally {
    busy(button, false);
    await refresh();
  }
}

async function disconnect(account, name, refresh) {
  const yes = await confirmDialog({
    title: `Disconnect ${name}?`,
    message: "AllIN asks the platform to revoke its access and forgets the account. Scheduled posts to it will fail.",
    confirm: "Disconnect",
  });
  if (!yes) return;
  try {
    await api(`/api/social/accounts/${account.id}`, { method: "DELETE" });
    toast(`${name} disconnected`);
  } catch (error) {
    toast(error.message, "error");
  }
  await refresh();
}
