// The link from the verification mail: /verify-email?token=…

import { ApiError, api } from "../api.js";
import { h } from "../dom.js";

export async function render({ main, query, setTitle }) {
  setTitle("Verify your email");
  const token = query.get("token") || "";
  // The token leaves the address bar and the history at once: it works only once anyway.
  history.replaceState(null, "", location.pathname);
  const status = h("p", { role: "status", id: "verify-status" }, "Verifying…");
  const next = h("p", { hidden: true }, h("a", { class: "button button-primary", href: "/app/login", "data-link": "" }, "Sign in"));
  main.append(
    h("section", { class: "auth-card card" }, h("div", { class: "auth-brand", "aria-hidden": "true" }, "AllIN"), h("h1", {}, "Verify your email"), status, next),
  );
  if (!token) {
    status.textContent = "This link has no token. Open the link from the email again.";
    return;
  }
  try {
    await api("/api/auth/verify-email", { method: "POST", body: { token }, auth: false });
    status.textContent = "Your email is verified. You can sign in now.";
    next.hidden = false;
  } catch (error) {
    status.textContent =
      error instanceof ApiError && error.code === "AUTH_007"
        ? "This link is invalid, expired or already used. Sign in to have a new one sent."
        : String(error.message || error);
    next.hidden = false;
  }
}
