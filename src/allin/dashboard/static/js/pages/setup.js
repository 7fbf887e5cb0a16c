// First run: no account exists yet, so the first one (an administrator) is created here.

import { ApiError, api, signIn } from "../api.js";
import { alertBox, busy, field, h } from "../dom.js";

const MIN_PASSWORD = 10;

export async function render({ main, navigate, setTitle, setupDone }) {
  setTitle("Welcome");
  const name = field({ label: "Your name", name: "display_name", attrs: { autocomplete: "name", maxlength: 100 } });
  const email = field({ label: "Email", name: "email", type: "email", required: true, attrs: { autocomplete: "username" } });
  const password = field({
    label: "Password",
    name: "password",
    type: "password",
    required: true,
    hint: `At least ${MIN_PASSWORD} characters, and not a common password.`,
    attrs: { autocomplete: "new-password", minlength: MIN_PASSWORD },
  });
  const confirm = field({
    label: "Repeat the password",
    name: "confirm",
    type: "password",
    required: true,
    attrs: { autocomplete: "new-password" },
  });
  const alert = alertBox();
  const submit = h("button", { class: "button button-primary button-block", type: "submit" }, "Create the administrator");
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    alert.el,
    name.wrapper,
    email.wrapper,
    password.wrapper,
    confirm.wrapper,
    submit,
  );

  function validate() {
    const problems = [
      [email, email.control.value.trim() ? "" : "Enter an email address"],
      [password, password.control.value.length >= MIN_PASSWORD ? "" : `Use at least ${MIN_PASSWORD} characters`],
      [confirm, confirm.control.value === password.control.value ? "" : "The passwords differ"],
    ];
    let first = null;
    for (const [item, message] of problems) {
      item.setError(message);
      if (message && !first) first = item.control;
    }
    if (first) first.focus();
    return !first;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.hide();
    if (!validate()) return;
    busy(submit, true, "Creating…");
    const body = { email: email.control.value.trim(), password: password.control.value };
    if (name.control.value.trim()) body.display_name = name.control.value.trim();
    try {
      const { data } = await api("/api/auth/setup", { method: "POST", body, auth: false });
      setupDone();
      if (data.verification_required) {
        form.replaceWith(h("p", { class: "alert alert-info", role: "status" }, data.message));
        return;
      }
      await signIn(body.email, body.password);
      navigate("/app", { replace: true });
    } catch (error) {
      if (error instanceof ApiError && error.code === "AUTH_010") {
        setupDone();
        navigate("/app/login", { replace: true });
        return;
      }
      const message = error instanceof ApiError ? error.message : String(error);
      if (error instanceof ApiError && error.code === "AUTH_006") {
        password.setError(message);
        password.control.focus();
      } else alert.show(message);
    } finally {
      busy(submit, false);
    }
  });

  main.append(
    h(
      "section",
      { class: "auth-card card" },
      h("div", { class: "auth-brand", "aria-hidden": "true" }, "AllIN"),
      h("h1", {}, "Welcome to AllIN"),
      h("p", { class: "muted" }, "No account exists yet. Create the first one: it administers this server."),
      form,
    ),
  );
  name.control.focus();
}
