// API keys: create one (its secret is shown once, here), see them, revoke them.
// Keys authenticate the API and the sign service (`Authorization: Bearer <key>`).

import { ApiError, api } from "../api.js";
import { emptyState, errorState, pageHeader } from "../components.js";
import { hasFeature } from "../config.js";
import { alertBox, busy, clear, confirmDialog, field, h, toast } from "../dom.js";
import { dateTime, relative } from "../format.js";

// What a key may do; a key never manages sessions or other keys.
const SCOPES = [
  ["sign", "Sign service", "TikTokLive / TikTok-Live-Connector signing", true],
  ["read", "Read", "Your LIVE sessions, events and analytics", true],
  ["publish", "Publish", "Post to your connected accounts", false],
  ["account", "Change", "Watchlist, captures, profile and connections", false],
];

const EXPIRY = [
  ["", "Never"],
  ["30", "In 30 days"],
  ["90", "In 90 days"],
  ["365", "In a year"],
];

export async function render(ctx) {
  const { main, setTitle } = ctx;
  setTitle("API keys");
  const name = field({ label: "Name", name: "name", required: true, hint: "Where you use it, e.g. “OBS overlay”.", attrs: { maxlength: 100, autocomplete: "off" } });
  const expiry = field({ label: "Expires", name: "expires", type: "select" });
  expiry.control.append(...EXPIRY.map(([value, label]) => h("option", { value }, label)));
  const scopeBoxes = SCOPES.map(([value, label, hint, checked]) => {
    const box = h("input", { type: "checkbox", name: "scopes", value, id: `scope-${value}` });
    box.checked = checked;
    return h("label", { class: "scope-choice", for: `scope-${value}` }, box, " ", h("strong", {}, label), h("span", { class: "muted" }, ` — ${hint}`));
  });
  const scopes = h("fieldset", { class: "key-scopes" }, h("legend", {}, "What it may do"), ...scopeBoxes.map((label) => h("div", {}, label)));
  const alert = alertBox();
  const submit = h("button", { class: "button button-primary", type: "submit" }, "Create key");
  const reveal = h("div", { class: "reveal-slot" });
  const form = h("form", { class: "key-form", novalidate: true, "aria-label": "Create an API key" }, alert.el, h("div", { class: "key-row" }, name.wrapper, expiry.wrapper, submit), scopes);
  const list = h("section", { class: "card", "aria-labelledby": "keys-title" });
  main.append(
    h(
      "div",
      { class: "page" },
      pageHeader("API keys"),
      h(
        "section",
        { class: "card" },
        h("h2", {}, "New key"),
        h("p", { class: "muted" }, "Send it as ", h("code", {}, "Authorization: Bearer <key>"), " (or ", h("code", {}, "x-api-key"), ")."),
        hasFeature("integration_guide")
          ? h("p", {}, h("a", { href: "/api/integration-guide?format=html" }, "Use a key with TikTokLive or TikTok-Live-Connector"))
          : null,
        form,
        reveal,
      ),
      list,
    ),
  );

  async function refresh() {
    try {
      const { data } = await api("/api/auth/api-keys");
      if (!ctx.alive()) return;
      renderKeys(list, data, refresh);
    } catch (error) {
      clear(list).append(h("h2", { id: "keys-title" }, "Your keys"), errorState(error, refresh));
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.hide();
    const label = name.control.value.trim();
    name.setError(label ? "" : "Give the key a name");
    if (!label) {
      name.control.focus();
      return;
    }
    const chosen = [...scopes.querySelectorAll("input[name=scopes]:checked")].map((box) => box.value);
    if (!chosen.length) {
      alert.show("Choose at least one thing the key may do");
      return;
    }
    const body = { name: label, scopes: chosen };
    if (expiry.control.value) body.expires_in_days = Number(expiry.control.value);
    busy(submit, true, "Creating…");
    try {
      const { data } = await api("/api/auth/api-keys", { method: "POST", body });
      name.control.value = "";
      showOnce(reveal, data);
      await refresh();
    } catch (error) {
      alert.show(error instanceof ApiError ? error.message : String(error));
    } finally {
      busy(submit, false);
    }
  });

  await refresh();
  return () => clear(reveal); // the secret never outlives the page
}

// The full key, once: copy it now, it is not stored anywhere we can show it again.
function showOnce(slot, key) {
  const value = h("input", { class: "secret", readonly: true, value: key.key, "aria-label": `The new key ${key.name}`, id: "new-key" });
  const copy = h("button", { class: "button button-primary", type: "button" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(key.key);
    } catch {
      value.select();
      document.execCommand("copy"); // clipboard API needs a secure context
    }
    copy.textContent = "Copied";
    toast("Key copied to the clipboard", "success");
  });
  const done = h("button", { class: "button button-quiet", type: "button" }, "Done, I've saved it");
  done.addEventListener("click", () => clear(slot));
  clear(slot).append(
    h(
      "div",
      { class: "reveal", role: "status" },
      h("p", {}, h("strong", {}, `Your new key “${key.name}”. `), "Copy it now: it won't be shown again."),
      h("div", { class: "reveal-row" }, value, copy),
      done,
    ),
  );
  value.focus();
  value.select();
}

function renderKeys(section, keys, refresh) {
  clear(section).append(h("h2", { id: "keys-title" }, "Your keys"));
  if (!keys.length) {
    section.append(emptyState("No keys yet.", "Create one above for scripts, overlays or TikTokLive's sign server setting."));
    return;
  }
  section.append(
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "table table-cards" },
        h("caption", { class: "visually-hidden" }, "Your API keys"),
        h(
          "thead",
          {},
          h("tr", {}, ["Name", "Key", "Scopes", "Status", "Created", "Expires", "Last used"].map((c) => h("th", { scope: "col" }, c)), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions"))),
        ),
        h(
          "tbody",
          {},
          keys.map((key) =>
            h(
              "tr",
              { dataset: { key: key.id } },
              h("td", { "data-label": "Name" }, h("strong", {}, key.name)),
              h("td", { "data-label": "Key" }, h("code", {}, `${key.prefix}…`)),
              h("td", { "data-label": "Scopes", dataset: { scopes: (key.scopes || []).join(" ") } }, (key.scopes || []).join(", ")),
              h("td", { "data-label": "Status" }, h("span", { class: `badge badge-key-${key.status}` }, key.status)),
              h("td", { "data-label": "Created" }, dateTime(key.created_at)),
              h("td", { "data-label": "Expires" }, key.expires_at ? dateTime(key.expires_at) : "never"),
              h("td", { "data-label": "Last used" }, relative(key.last_used_at)),
              h(
                "td",
                { class: "row-actions" },
                key.status === "active"
                  ? h(
                      "button",
                      {
                        class: "button button-small button-danger",
                        type: "button",
                        "aria-label": `Revoke ${key.name}`,
                        onclick: (event) => revoke(key, event.currentTarget, refresh),
                      },
                      "Revoke",
                    )
                  : null,
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

async function revoke(key, button, refresh) {
  const yes = await confirmDialog({
    title: `Revoke “${key.name}”?`,
    message: "Anything using this key stops working at once. This cannot be undone.",
    confirm: "Revoke key",
  });
  if (!yes) return;
  busy(button, true, "Revoking…");
  try {
    await api(`/api/auth/api-keys/${key.id}`, { method: "DELETE" });
    toast(`Revoked ${key.name}`);
    await refresh();
  } catch (error) {
    toast(error.message, "error");
    busy(button, false);
  }
}
