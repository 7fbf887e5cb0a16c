// The composer's AI panel: variants from a topic, a rewrite of the selected text, an analysis.
// Text streams in as the model writes it (SSE over POST); the credits meter follows each answer.

import { api } from "./api.js";
import { errorState } from "./components.js";
import { busy, field, h } from "./dom.js";
import { num } from "./format.js";
import { platformIcon, platformName } from "./social.js";
import { postStream } from "./sse.js";

export function aiPanel({ editor, platform, platforms, onChange }) {
  const aborts = new Set();
  const output = h("div", { class: "ai-output", "aria-live": "polite", "aria-busy": "false" });
  const meter = h("div", { class: "ai-credits" });
  const topic = field({ label: "Topic", name: "topic", attrs: { maxlength: 2000, placeholder: "What is the post about?" } });
  const goal = field({ label: "Goal for the rewrite", name: "goal", value: "more engaging", attrs: { maxlength: 300 } });
  const generate = h("button", { class: "button button-primary", type: "submit" }, "Generate");
  const improve = h("button", { class: "button", type: "button" }, "Improve selection");
  const analyse = h("button", { class: "button", type: "button" }, "Analyse");

  const run = async (button, label, task) => {
    const abort = new AbortController();
    aborts.add(abort);
    busy(button, true, label);
    output.setAttribute("aria-busy", "true");
    try {
      await task(abort.signal);
    } catch (error) {
      if (error.name !== "AbortError") output.replaceChildren(errorState(error));
    } finally {
      aborts.delete(abort);
      busy(button, false);
      output.setAttribute("aria-busy", "false");
    }
  };
  const credits = (usage) => showCredits(meter, usage);

  const form = h("form", { class: "stack", "aria-label": "Generate variants" }, topic.wrapper, generate);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = topic.control.value.trim();
    topic.setError(text ? "" : "Say what the post is about.");
    if (!text) return;
    const body = { topic: text, platforms: platforms(), variants: 2 };
    run(generate, "Writing…", (signal) => streamVariants(output, body, signal, { editor, onChange, credits }));
  });
  improve.addEventListener("click", () => {
    const range = selection(editor);
    if (!range.text.trim()) return output.replaceChildren(h("p", { class: "alert alert-info" }, "Write or select some text first."));
    const body = { content: range.text, goal: goal.control.value.trim() || "more engaging", platform: platform() };
    run(improve, "Rewriting…", (signal) => streamImprove(output, body, signal, { editor, range, onChange, credits }));
  });
  analyse.addEventListener("click", () => {
    if (!editor.value.trim()) return output.replaceChildren(h("p", { class: "alert alert-info" }, "Write something first."));
    run(analyse, "Analysing…", (signal) => streamAnalysis(output, { content: editor.value, platform: platform() }, signal, credits));
  });

  const panel = h(
    "aside",
    { class: "card ai-panel", "aria-labelledby": "ai-title" },
    h("div", { class: "card-header" }, h("h2", { id: "ai-title" }, "AI assistant"), meter),
    form,
    h("div", { class: "stack ai-rewrite" }, goal.wrapper, h("div", { class: "button-row" }, improve, analyse)),
    output,
  );
  api("/api/ai/credits").then(({ data }) => showCredits(meter, data), () => meter.replaceChildren());
  panel.cleanup = () => aborts.forEach((abort) => abort.abort());
  return panel;
}

function selection(editor) {
  const { selectionStart: start, selectionEnd: end, value } = editor;
  return start === end ? { start: 0, end: value.length, text: value } : { start, end, text: value.slice(start, end) };
}

// Either /api/ai/credits or the `usage` of an answer (credits_left only).
function showCredits(meter, info) {
  if (!info) return;
  const left = "left" in info ? info.left : info.credits_left;
  const allowance = info.allowance ?? Number(meter.dataset.allowance || 0);
  if ("allowance" in info) meter.dataset.allowance = info.allowance ?? "";
  if (left === null || left === undefined) {
    meter.replaceChildren(h("span", { class: "muted small" }, "Unlimited credits"));
    return;
  }
  const id = "ai-credits-meter";
  meter.replaceChildren(
    h("label", { for: id, class: "small" }, `${num(left)} credits left`),
    allowance ? h("meter", { id, min: 0, max: allowance, low: allowance * 0.2, optimum: allowance, value: left }) : null,
  );
}

function streamingBox(platform, title) {
  const text = h("p", { class: "ai-text" });
  const actions = h("div", { class: "button-row" });
  const box = h("article", { class: "ai-result", dataset: { platform } }, h("header", { class: "ai-result-head" }, platformIcon(platform), h("strong", {}, title)), text, actions);
  return { box, text, actions };
}

async function streamVariants(output, body, signal, { editor, onChange, credits }) {
  output.replaceChildren();
  const boxes = {};
  for await (const { event, data } of postStream("/api/ai/generate/stream", body, { signal })) {
    const key = `${data.platform}-${data.index}`;
    if (event === "variant") {
      boxes[key] = streamingBox(data.platform, `${platformName(data.platform)}, variant ${data.index}`);
      output.append(boxes[key].box);
    } else if (event === "delta") boxes[key]?.text.append(data.text);
    else if (event === "result") {
      const box = boxes[key];
      box.text.textContent = data.text;
      const use = () => {
        editor.value = data.text;
        onChange();
        editor.focus();
      };
      box.actions.append(h("button", { class: "button button-small", type: "button", onclick: use, "aria-label": `Use ${platformName(data.platform)} variant ${data.index}` }, "Use this"));
    } else if (event === "done") credits(data.usage);
    else if (event === "error") throw Object.assign(new Error(data.message), { code: data.code });
  }
}

async function streamImprove(output, body, signal, { editor, range, onChange, credits }) {
  const { box, text, actions } = streamingBox(body.platform, `Rewritten for ${platformName(body.platform)}`);
  output.replaceChildren(box);
  for await (const { event, data } of postStream("/api/ai/improve-content/stream", body, { signal })) {
    if (event === "delta") text.append(data.text);
    else if (event === "done") {
      text.textContent = data.text;
      credits(data.usage);
      const replace = () => {
        editor.setRangeText(data.text, range.start, range.end, "select");
        onChange();
        editor.focus();
      };
      actions.append(h("button", { class: "button button-small button-primary", type: "button", onclick: replace }, "Replace the selection"));
      if (data.changes?.length) box.append(h("ul", { class: "small muted" }, data.changes.map((change) => h("li", {}, change))));
    } else if (event === "error") throw Object.assign(new Error(data.message), { code: data.code });
  }
}

async function streamAnalysis(output, body, signal, credits) {
  const { box, text } = streamingBox(body.platform, `Analysis for ${platformName(body.platform)}`);
  text.classList.add("muted", "small");
  output.replaceChildren(box);
  for await (const { event, data } of postStream("/api/ai/analyze-content/stream", body, { signal })) {
    if (event === "checks") box.insertBefore(checksList(data), text);
    else if (event === "delta") text.append(data.text);
    else if (event === "done") {
      text.replaceWith(assessment(data.assessment));
      credits(data.usage);
    } else if (event === "error") throw Object.assign(new Error(data.message), { code: data.code });
  }
}

function checksList(checks) {
  const items = checks.problems.length ? checks.problems : [`${checks.length} of ${checks.max_length} characters: fits.`];
  return h("ul", { class: `ai-checks${checks.valid ? "" : " ai-checks-bad"}` }, items.map((item) => h("li", {}, item)));
}

function assessment(result) {
  const list = (title, items) => (items.length ? [h("h3", {}, title), h("ul", {}, items.map((item) => h("li", {}, item)))] : []);
  return h(
    "div",
    { class: "ai-assessment" },
    h("p", {}, h("strong", { class: "ai-score" }, `Score ${result.score}/100`), ` · ${result.clarity}`),
    h("p", {}, result.summary),
    list("Risks", result.guideline_risks),
    list("Suggestions", result.suggestions),
  );
}
