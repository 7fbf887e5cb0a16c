// "Draft a recap" for a captured LIVE: the AI writes a thank-you post from the session's
// analytics, saved as drafts the composer opens.

import { api } from "./api.js";
import { errorState } from "./components.js";
import { busy, h } from "./dom.js";
import { platformIcon, platformName } from "./social.js";

export function recapButton(sessionId) {
  const out = h("div", { class: "recap-drafts", "aria-live": "polite" });
  const button = h("button", { class: "button", type: "button" }, "Draft a recap");
  button.addEventListener("click", async () => {
    busy(button, true, "Writing the recap…");
    try {
      const { data } = await api("/api/ai/live-recap", { method: "POST", body: { session_id: sessionId } });
      out.replaceChildren(...data.drafts.map(draftCard));
    } catch (error) {
      out.replaceChildren(errorState(error));
    } finally {
      busy(button, false);
    }
  });
  return { button, out };
}

function draftCard(draft) {
  return h(
    "article",
    { class: "ai-result", dataset: { draft: draft.id } },
    h("header", { class: "ai-result-head" }, platformIcon(draft.platform), h("strong", {}, `Recap for ${platformName(draft.platform)}`)),
    h("p", { class: "ai-text" }, draft.content),
    h("a", { class: "button button-small button-primary", href: `/app/compose?ai_draft=${draft.id}`, "data-link": true }, "Open in the composer"),
  );
}
