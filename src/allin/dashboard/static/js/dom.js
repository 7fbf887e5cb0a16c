// Small DOM helpers. Text always goes in as text nodes, never as HTML, so nothing a
// streamer or viewer types can inject markup.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

let uid = 0;
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// A labelled form field: <label>, control, hint and an error slot wired by aria attributes.
export function field({ label, name, type = "text", value = "", hint, required, attrs = {} }) {
  const id = nextId(name);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const control =
    type === "select"
      ? h("select", { id, name, ...attrs })
      : h("input", { id, name, type, value, required, ...attrs });
  control.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  const error = h("p", { class: "field-error", id: errorId, hidden: true });
  const wrapper = h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    control,
    hint ? h("p", { class: "field-hint", id: hintId }, hint) : null,
    error,
  );
  return { wrapper, control, setError: (message) => setFieldError(control, error, message) };
}

export function setFieldError(control, errorEl, message) {
  if (message) {
    errorEl.textContent = message;
    errorEl.hidden = false;
    control.setAttribute("aria-invalid", "true");
  } else {
    errorEl.textContent = "";
    errorEl.hidden = true;
    control.removeAttribute("aria-invalid");
  }
}

// A form-level alert (role=alert is announced when its text changes).
export function alertBox() {
  const el = h("div", { class: "alert", role: "alert", hidden: true });
  return {
    el,
    show(message, tone = "error") {
      el.className = `alert alert-${tone}`;
      el.textContent = message;
      el.hidden = !message;
    },
    hide() {
      el.hidden = true;
      el.textContent = "";
    },
  };
}

export function toast(message, tone = "info") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const item = h("div", { class: `toast toast-${tone}` }, message);
  box.append(item);
  setTimeout(() => item.remove(), 4000);
}

// A modal confirmation on <dialog>: focus is trapped and Escape cancels natively.
export function confirmDialog({ title, message, confirm = "Confirm", tone = "danger" }) {
  return new Promise((resolve) => {
    const yes = h("button", { class: `button button-${tone}`, value: "yes" }, confirm);
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": "dialog-title" },
      h(
        "form",
        { method: "dialog" },
        h("h2", { id: "dialog-title" }, title),
        h("p", {}, message),
        h(
          "div",
          { class: "dialog-actions" },
          h("button", { class: "button button-quiet", value: "no" }, "Cancel"),
          yes,
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "yes");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    yes.focus();
  });
}

export function busy(button, isBusy, label) {
  if (isBusy) {
    button.dataset.label = button.textContent;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    if (label) button.textContent = label;
  } else {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    if (button.dataset.label) button.textContent = button.dataset.label;
  }
}

// A small diamond (TikTok's gift currency) as inline SVG: emoji fonts are not everywhere.
export function diamond(count) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("class", "diamond");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", count === 1 ? "diamond" : "diamonds");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M4 2h8l3 4-7 8-7-8z");
  svg.append(path);
  return svg;
}

// A button that shows and hides its panel (aria-expanded follows). `onFirstOpen` fills the
// panel the first time it opens, and again on the next opening if it failed; `onOpen` runs
// on every opening.
export function disclosure(button, panel, { onFirstOpen, onOpen } = {}) {
  let loaded = false;
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
    if (open && !loaded && onFirstOpen) {
      loaded = true;
      Promise.resolve()
        .then(onFirstOpen)
        .catch(() => (loaded = false));
    }
    if (open && onOpen) onOpen();
  });
}
