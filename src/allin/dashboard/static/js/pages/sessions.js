// Session history: search by streamer, filter by status and date, page through.
// The filters live in the address, so back/forward and shared links keep them.

import { api } from "../api.js";
import { emptyState, errorState, pageHeader, sessionTable } from "../components.js";
import { append, clear, field, h } from "../dom.js";
import { num } from "../format.js";

const PAGE_SIZE = 20;

function dayStart(value) {
  return value ? new Date(`${value}T00:00:00`).toISOString() : undefined;
}

function dayEnd(value) {
  return value ? new Date(`${value}T23:59:59.999`).toISOString() : undefined;
}

export async function render(ctx) {
  const { main, query, navigate, setTitle } = ctx;
  setTitle("Sessions");
  const search = field({
    label: "Streamer",
    name: "q",
    type: "search",
    value: query.get("q") || "",
    attrs: { placeholder: "Search by username", autocomplete: "off", list: "streamer-names" },
  });
  const status = field({ label: "Status", name: "status", type: "select" });
  for (const [value, label] of [["", "Any status"], ["active", "Live"], ["ended", "Ended"], ["interrupted", "Interrupted"]]) {
    status.control.append(h("option", { value, selected: query.get("status") === value || undefined }, label));
  }
  const since = field({ label: "From", name: "since", type: "date", value: query.get("since") || "" });
  const until = field({ label: "To", name: "until", type: "date", value: query.get("until") || "" });
  const names = h("datalist", { id: "streamer-names" });
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter sessions" },
    search.wrapper,
    status.wrapper,
    since.wrapper,
    until.wrapper,
    h("div", { class: "filters-actions" }, h("button", { class: "button button-primary", type: "submit" }, "Search"), h("a", { class: "button button-quiet", href: "/app/sessions", "data-link": true }, "Reset")),
    names,
  );
  const results = h("section", { class: "card", "aria-live": "polite", "aria-busy": "true" });
  main.append(h("div", { class: "page" }, pageHeader("Sessions"), form, results));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [key, input] of [["q", search], ["status", status], ["since", since], ["until", until]]) {
      const value = input.control.value.trim();
      if (value) params.set(key, value);
    }
    const filters = params.toString();
    navigate(`/app/sessions${filters ? `?${filters}` : ""}`);
  });
  status.control.addEventListener("change", () => form.requestSubmit());

  api("/api/streamers", { query: { limit: 100 } })
    .then(({ data }) => names.append(...data.map((s) => h("option", { value: s.username }))))
    .catch(() => {});

  const page = Math.max(1, Number.parseInt(query.get("page") || "1", 10) || 1);
  try {
    const { data, meta } = await api("/api/sessions", {
      query: {
        streamer: query.get("q") || undefined,
        status: query.get("status") || undefined,
        since: dayStart(query.get("since")),
        until: dayEnd(query.get("until")),
        page,
        limit: PAGE_SIZE,
      },
    });
    if (!ctx.alive()) return;
    results.setAttribute("aria-busy", "false");
    const total = meta?.total ?? data.length;
    const filtered = ["q", "status", "since", "until"].some((k) => query.get(k));
    append(clear(results), [
      h("p", { class: "muted results-count" }, `${num(total)} session${total === 1 ? "" : "s"}`),
      data.length
        ? sessionTable(data, "Sessions")
        : emptyState(
            filtered ? "No session matches these filters." : "No sessions yet.",
            filtered ? null : "Connect to a LIVE and it will be listed here.",
            filtered ? null : h("a", { class: "button button-primary", href: "/app", "data-link": true }, "Connect to a LIVE"),
          ),
      pager(page, Math.ceil(total / PAGE_SIZE), query),
    ]);
  } catch (error) {
    results.setAttribute("aria-busy", "false");
    clear(results).append(errorState(error));
  }
}

function pager(page, pages, query) {
  if (pages <= 1) return null;
  const link = (target, label) => {
    const params = new URLSearchParams(query);
    params.set("page", String(target));
    return h("a", { class: "button button-small", href: `/app/sessions?${params}`, "data-link": true, rel: target < page ? "prev" : "next" }, label);
  };
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    page > 1 ? link(page - 1, "← Newer") : h("span"),
    h("span", { class: "muted" }, `Page ${page} of ${pages}`),
    page < pages ? link(page + 1, "Older →") : h("span"),
  );
}
