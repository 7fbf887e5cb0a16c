// The link from the password-reset mail: /reset-password?token=… asks for a new password.

import { ApiError, api } from "../api.js";
import { alertBox, busy, field, h } from "../dom.js";

const MESSAGES = {
  AUTH_007: "This link is invalid, expired or already used. Ask for a new one from the sign-in page.",
};

export async function render({ main, query, setTitle }) {
  setTitle("Choose a new password");
  const token = query.get("token") || "";
  history.replaceState(null, "", location.pathname); // keep the token out of the history
  const password = field({
    label: "New password",
    name: "new_password",
    type: "password",
    required: true,
    hint: "At least 10 characters; a passphrase is best.",
    attrs: { autocomplete: "new-password", minlength: 10, maxlength: 128 },
  });
  const again = field({ label: "Repeat it", name: "again", type: "password", required: true, attrs: { autocomplete: "new-password" } });
  const alert = alertBox();
  const submit = h("button", { class: "button button-primary button-block", type: "submit" }, "Set the new password");
  const form = h("form", { class: "stack", novalidate: true }, alert.el, password.wrapper, again.wrapper, submit);
  const done = h("div", { hidden: true, role: "status", id: "reset-done" }, h("p", {}, "Your password is changed and every session was signed out."), h("a", { class: "button button-primary", href: "/app/login", "data-link": "" }, "Sign in"));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.hide();
    const value = password.control.value;
    password.setError(value.length >= 10 ? "" : "Use at least 10 characters");
    again.setError(value === again.control.value ? "" : "The two passwords differ");
    if (value.length < 10 || value !== again.control.value) return;
    busy(submit, true, "Saving…");
    try {
      await api("/api/auth/reset-password", { method: "POST", body: { token, new_password: value }, auth: false });
      form.hidden = true;
      done.hidden = false;
    } catch (error) {
      alert.show(error instanceof ApiError ? MESSAGES[error.code] || error.message : String(error));
    } finally {
      busy(submit, false);
    }
  });

  main.append(
    h("section", { class: "auth-card card" }, h("div", { class: "auth-brand", "aria-hidden": "true" }, "AllIN"), h("h1", {}, "Choose a new password"), token ? form : h("p", {}, "This link has no token. Open the link from the email again."), done),
  );
  if (token) password.control.focus();
}
