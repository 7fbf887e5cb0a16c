// Sign in with email and password.

import { ApiError, signIn } from "../api.js";
import { alertBox, busy, field, h } from "../dom.js";

const MESSAGES = {
  AUTH_001: "Wrong email or password.",
  AUTH_002: "This account is not verified yet: follow the link in the email we sent you.",
  AUTH_003: "This account is suspended. Ask an administrator.",
};

export function safeNext(value) {
  // Only paths of this app: never an open redirect to another site.
  return value && value.startsWith("/") && !value.startsWith("//") ? value : "/app";
}

export async function render({ main, query, navigate, setTitle }) {
  setTitle("Sign in");
  const email = field({ label: "Email", name: "email", type: "email", required: true, attrs: { autocomplete: "username" } });
  const password = field({
    label: "Password",
    name: "password",
    type: "password",
    required: true,
    attrs: { autocomplete: "current-password" },
  });
  const alert = alertBox();
  const submit = h("button", { class: "button button-primary button-block", type: "submit" }, "Sign in");
  const form = h("form", { class: "stack", novalidate: true }, alert.el, email.wrapper, password.wrapper, submit);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.hide();
    email.setError(email.control.value.trim() ? "" : "Enter your email");
    password.setError(password.control.value ? "" : "Enter your password");
    if (!email.control.value.trim() || !password.control.value) {
      (email.control.value.trim() ? password.control : email.control).focus();
      return;
    }
    busy(submit, true, "Signing in…");
    try {
      await signIn(email.control.value.trim(), password.control.value);
      navigate(safeNext(query.get("next")), { replace: true });
    } catch (error) {
      const message = error instanceof ApiError ? MESSAGES[error.code] || error.message : String(error);
      alert.show(message);
      password.control.select();
      password.control.focus();
    } finally {
      busy(submit, false);
    }
  });

  main.append(
    h(
      "section",
      { class: "auth-card card" },
      h("div", { class: "auth-brand", "aria-hidden": "true" }, "AllIN"),
      h("h1", {}, "Sign in"),
      h("p", { class: "muted" }, "Capture TikTok LIVE streams, watch them live and dig into the history."),
      form,
    ),
  );
  email.control.focus();
}
