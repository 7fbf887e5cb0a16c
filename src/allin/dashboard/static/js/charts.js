// Charts with Plotly, loaded on demand from this server (the `plotly` Python package ships
// plotly.min.js; the app serves it). Pages without charts never download it.

import { config } from "./config.js";
import { h } from "./dom.js";

let loading = null;

export function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  loading ||= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = config.plotly;
    script.async = true;
    script.onload = () => resolve(window.Plotly);
    script.onerror = () => {
      loading = null;
      reject(new Error("The chart library could not be loaded"));
    };
    document.head.append(script);
  });
  return loading;
}

function cssVar(name, fallback) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

// About one date label per 110 px, so they never need tilting on a phone.
function ticksFor(plot) {
  return Math.max(3, Math.floor((plot.clientWidth || 600) / 110));
}

function baseLayout(yTitle) {
  const text = cssVar("--muted", "#6b7280");
  const grid = cssVar("--line", "#e5e7eb");
  return {
    autosize: true,
    height: 220,
    margin: { l: 48, r: 12, t: 8, b: 36 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: cssVar("--font", "system-ui, sans-serif"), size: 12, color: text },
    xaxis: { type: "date", gridcolor: grid, linecolor: grid, zeroline: false, fixedrange: true },
    yaxis: { title: { text: yTitle }, gridcolor: grid, zeroline: false, rangemode: "tozero", fixedrange: true },
    showlegend: false,
    bargap: 0.15,
  };
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const BAR_MS = 50_000; // per-minute bars, with a gap between them

// Bars: at least a few minutes wide, so a young session's first minute is not a wall of
// colour. Lines: from the first point to the last, at least a minute.
function timeRange(x, bars, minSpan = MINUTE_MS) {
  if (!x.length) return undefined;
  let start = Infinity;
  let end = -Infinity;
  for (const d of x) {
    start = Math.min(start, d.getTime());
    end = Math.max(end, d.getTime());
  }
  if (bars) {
    start -= MINUTE_MS / 2;
    end += MINUTE_MS / 2;
  }
  const span = bars ? 5 * MINUTE_MS : minSpan;
  if (end - start < span) end = start + span;
  return [new Date(start), new Date(end)];
}

const PLOT_CONFIG = { displayModeBar: false, responsive: true, staticPlot: false };

// A chart inside a <figure> with a caption and a text summary for screen readers.
export function chartFigure(title, id) {
  const plot = h("div", { class: "chart-plot", id, role: "img", "aria-label": title });
  const summary = h("p", { class: "visually-hidden", "aria-live": "off" });
  const status = h("p", { class: "chart-status muted" }, "Loading chart…");
  const figure = h("figure", { class: "chart card" }, h("figcaption", {}, title), status, plot, summary);
  return { figure, plot, summary, status };
}

// `daily`: one point per day, so the axis spans days and the hover shows dates.
export async function drawSeries(chart, { x, y, kind = "line", yTitle = "", color, label, empty = "No data yet.", daily = false }) {
  if (!x.length) {
    chart.status.hidden = false;
    chart.status.textContent = empty;
    chart.plot.hidden = true;
    return;
  }
  chart.plot.hidden = false;
  let Plotly;
  try {
    Plotly = await loadPlotly();
  } catch (error) {
    chart.status.textContent = error.message;
    return;
  }
  chart.status.hidden = true;
  const colour = color || cssVar("--accent", "#e11d48");
  const trace =
    kind === "bar"
      ? { type: "bar", x, y, width: BAR_MS, marker: { color: colour }, hovertemplate: "%{x|%H:%M}<br>%{y:,}<extra></extra>" }
      : {
          type: "scatter",
          mode: x.length < 30 ? "lines+markers" : "lines", // a young series still shows its points
          marker: { color: colour, size: 5 },
          x,
          y,
          line: { color: colour, width: 2, shape: "hv" },
          fill: "tozeroy",
          fillcolor: `${colour}22`,
          hovertemplate: `%{x|${daily ? "%d %b %Y" : "%H:%M:%S"}}<br>%{y:,}<extra></extra>`,
        };
  const layout = baseLayout(yTitle);
  layout.xaxis.range = timeRange(x, kind === "bar", daily ? 7 * DAY_MS : MINUTE_MS);
  if (daily) {
    layout.xaxis.range[0] = new Date(layout.xaxis.range[0].getTime() - DAY_MS / 2); // the first day's point stays clear of the axis
    layout.xaxis.tickformat = "%d %b";
  }
  layout.xaxis.nticks = ticksFor(chart.plot);
  layout.xaxis.tickangle = 0;
  await Plotly.react(chart.plot, [trace], layout, PLOT_CONFIG);
  if (label) chart.summary.textContent = label;
}

export async function drawBars(chart, { labels, values, color }) {
  let Plotly;
  try {
    Plotly = await loadPlotly();
  } catch (error) {
    chart.status.textContent = error.message;
    return;
  }
  chart.status.hidden = true;
  // Horizontal: category names stay readable however many there are.
  const layout = baseLayout("");
  layout.height = Math.max(160, 28 * labels.length + 48);
  layout.margin = { l: 96, r: 16, t: 4, b: 28 };
  layout.xaxis = { gridcolor: layout.xaxis.gridcolor, zeroline: false, fixedrange: true, rangemode: "tozero" };
  layout.yaxis = { type: "category", autorange: "reversed", fixedrange: true, automargin: true };
  const trace = {
    type: "bar",
    orientation: "h",
    x: values,
    y: labels,
    marker: { color: color || cssVar("--accent", "#e11d48") },
    hovertemplate: "%{y}: %{x:,}<extra></extra>",
  };
  await Plotly.react(chart.plot, [trace], layout, PLOT_CONFIG);
  chart.summary.textContent = labels.map((l, i) => `${l}: ${values[i]}`).join(", ");
}

// Requests per hour with the rate-limited ones beside them.
export async function drawHourly(chart, { x, served, limited, label }) {
  let Plotly;
  try {
    Plotly = await loadPlotly();
  } catch (error) {
    chart.status.textContent = error.message;
    return;
  }
  chart.status.hidden = true;
  const layout = baseLayout("requests");
  layout.barmode = "stack";
  layout.showlegend = true;
  layout.legend = { orientation: "h", x: 0, y: 1.12, traceorder: "normal" };
  layout.margin = { ...layout.margin, t: 24 };
  const bar = (name, y, color) => ({
    type: "bar",
    name,
    x,
    y,
    width: 3_000_000, // most of an hour
    marker: { color },
    hovertemplate: `%{x|%d %b %H:00}<br>%{y:,} ${name}<extra></extra>`,
  });
  const traces = [bar("served", served, cssVar("--accent-2", "#0891b2")), bar("429", limited, cssVar("--danger", "#b91c1c"))];
  await Plotly.react(chart.plot, traces, layout, PLOT_CONFIG);
  if (label) chart.summary.textContent = label;
}

export function purge(...charts) {
  if (!window.Plotly) return;
  for (const chart of charts) window.Plotly.purge(chart.plot);
}
