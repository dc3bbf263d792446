/**
 * TrainingProgressView: a training loop's progress (src/train/trainingProgress.ts): a bar,
 * "step k / n", elapsed time and ETA, status, the latest metric values, a vega-lite line chart per
 * metric (log scale toggle), and a Stop button that sends `{event: "stop"}` to the kernel.
 *
 * State: title, total, metrics, logScale, status, step, elapsed, eta, latest, stopRequested, and
 * points as `history` (everything, as of the last full sync) and `appended` (the last send's new
 * points), each `{from, steps: Float64, values: [metric] Float32}`. The view keeps its own copy of
 * the points and appends what it has not seen; when it missed some (a gap), it asks the kernel
 * for the history (`{event: "history"}`). Each chart's root carries `data-points`.
 */
import { changeset } from "vega";
import type { Result } from "vega-embed";
import { formatValue } from "./colorScale";
import { embedChart } from "./vegaChart";
import { addStyle } from "./viewStyles";
import type { RenderView } from "./viewContract";

const CSS = `
.ml-progress .ml-head { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; }
.ml-progress .ml-title { font-weight: 600; }
.ml-progress .ml-bar { width: 220px; height: 10px; border-radius: 5px; overflow: hidden; background: var(--jp-layout-color3, rgba(128, 128, 128, 0.25)); }
.ml-progress .ml-bar-fill { height: 100%; width: 0; background: var(--jp-brand-color1, #1976d2); transition: width 0.2s; }
.ml-progress[data-status="done"] .ml-bar-fill { background: var(--jp-success-color1, #388e3c); }
.ml-progress[data-status="stopped"] .ml-bar-fill { background: var(--jp-warn-color1, #f57c00); }
.ml-progress .ml-status { padding: 0 6px; border-radius: 8px; border: 1px solid var(--jp-border-color2, rgba(128, 128, 128, 0.4)); }
.ml-progress .ml-latest { margin: 6px 0; font-family: var(--jp-code-font-family, ui-monospace, monospace); }
.ml-progress .ml-latest b { font-weight: 600; }
.ml-progress .ml-latest span { margin-right: 18px; }
.ml-progress .ml-charts { display: flex; flex-wrap: wrap; gap: 16px; }
.ml-progress .ml-chart-head { display: flex; gap: 10px; align-items: center; }
.ml-progress .ml-chart-head label { display: inline-flex; gap: 3px; align-items: center; }
.ml-progress .vega-embed { padding-right: 0; }
`;

interface Points {
  from: number;
  steps: ArrayLike<number>;
  values: ArrayLike<number>[];
}

function readPoints(value: unknown, metrics: number): Points | undefined {
  const p = value as { from?: number; steps?: unknown; values?: unknown[] } | null | undefined;
  if (!p || typeof p.from !== "number") return undefined;
  const steps = asFloat64(p.steps);
  const values = Array.from({ length: metrics }, (_, i) => asFloat32Any(p.values?.[i]));
  return { from: p.from, steps, values };
}

function asFloat64(value: unknown): Float64Array {
  if (value instanceof Float64Array) return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    const view = ArrayBuffer.isView(value) ? value : new Uint8Array(value);
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
    return new Float64Array(bytes.buffer);
  }
  return new Float64Array(0);
}

function asFloat32Any(value: unknown): Float32Array {
  if (value instanceof Float32Array) return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    const view = ArrayBuffer.isView(value) ? value : new Uint8Array(value);
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
    return new Float32Array(bytes.buffer);
  }
  return new Float32Array(0);
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.floor(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

interface Chart {
  metric: string;
  index: number;
  root: HTMLElement;
  target: HTMLElement;
  log: boolean;
  result?: Result;
  /** Rows already inserted into the vega view. */
  shown: number;
  version: number;
}

function chartSpec(metric: string, log: boolean): Record<string, unknown> {
  return {
    width: 260,
    height: 120,
    data: { name: "points" },
    transform: [{ filter: log ? "isFinite(datum.value) && datum.value > 0" : "isFinite(datum.value)" }],
    mark: { type: "line", tooltip: true, strokeWidth: 1.5 },
    encoding: {
      x: { field: "step", type: "quantitative", title: "step" },
      y: { field: "value", type: "quantitative", title: metric, scale: { type: log ? "log" : "linear", zero: false } },
    },
  };
}

export const renderTrainingProgressView: RenderView = ({ model, el }) => {
  const doc = el.ownerDocument;
  const metrics = (model.get("metrics") as string[]) ?? [];
  addStyle(el, CSS);
  const root = doc.createElement("div");
  root.className = "ml-view ml-progress";
  el.append(root);

  const head = doc.createElement("div");
  head.className = "ml-head";
  const title = doc.createElement("span");
  title.className = "ml-title";
  const bar = doc.createElement("div");
  bar.className = "ml-bar";
  bar.setAttribute("role", "progressbar");
  const fill = doc.createElement("div");
  fill.className = "ml-bar-fill";
  bar.append(fill);
  const stepText = doc.createElement("span");
  stepText.dataset.testid = "step";
  const timeText = doc.createElement("span");
  timeText.className = "ml-muted";
  timeText.dataset.testid = "time";
  const statusText = doc.createElement("span");
  statusText.className = "ml-status";
  statusText.dataset.testid = "status";
  const stopButton = doc.createElement("button");
  stopButton.textContent = "Stop";
  stopButton.dataset.testid = "stop";
  stopButton.title = "Ask the training loop to stop (progress.signal aborts)";
  stopButton.addEventListener("click", () => {
    model.send({ event: "stop" });
    stopButton.disabled = true;
    stopButton.textContent = "Stopping…";
  });
  head.append(title, bar, stepText, timeText, statusText, stopButton);
  const latestText = doc.createElement("div");
  latestText.className = "ml-latest";
  latestText.dataset.testid = "latest";
  const chartsBox = doc.createElement("div");
  chartsBox.className = "ml-charts";
  root.append(head, latestText, chartsBox);

  // ---- points ----
  const steps: number[] = [];
  const values: number[][] = metrics.map(() => []);
  let askedForHistory = false;

  const take = (points: Points | undefined): void => {
    if (!points) return;
    const n = points.steps.length;
    if (points.from > steps.length) {
      // Missed points: ask for the whole history once (it comes back as `history`).
      if (!askedForHistory) model.send({ event: "history" });
      askedForHistory = true;
      return;
    }
    const start = steps.length - points.from;
    if (start >= n) return;
    askedForHistory = false;
    for (let i = start; i < n; i++) {
      steps.push(points.steps[i]!);
      values.forEach((series, m) => series.push(points.values[m]?.[i] ?? NaN));
    }
    charts.forEach(flush);
  };

  // ---- charts ----
  const logScale = new Set((model.get("logScale") as string[]) ?? []);
  const charts: Chart[] = metrics.map((metric, index) => {
    const box = doc.createElement("div");
    box.className = "ml-chart";
    box.dataset.metric = metric;
    box.dataset.points = "0";
    const chartHead = doc.createElement("div");
    chartHead.className = "ml-chart-head";
    const name = doc.createElement("b");
    name.textContent = metric;
    const label = doc.createElement("label");
    label.className = "ml-muted";
    const check = doc.createElement("input");
    check.type = "checkbox";
    check.checked = logScale.has(metric);
    check.dataset.testid = `log-${metric}`;
    label.append(check, "log scale");
    chartHead.append(name, label);
    const target = doc.createElement("div");
    box.append(chartHead, target);
    chartsBox.append(box);
    const chart: Chart = { metric, index, root: box, target, log: check.checked, shown: 0, version: 0 };
    check.addEventListener("change", () => {
      chart.log = check.checked;
      void embedMetric(chart);
    });
    return chart;
  });

  function flush(chart: Chart): void {
    const view = chart.result?.view;
    if (!view || chart.shown >= steps.length) return;
    const rows = [];
    for (let i = chart.shown; i < steps.length; i++) rows.push({ step: steps[i], value: values[chart.index]![i] });
    chart.shown = steps.length;
    // resize: the axes grow with the data, and autosize "pad" lays them out again.
    view.change("points", changeset().insert(rows)).resize().run();
    chart.root.dataset.points = String(chart.shown);
  }

  async function embedMetric(chart: Chart): Promise<void> {
    const mine = ++chart.version;
    chart.result?.finalize();
    chart.result = undefined;
    chart.shown = 0;
    chart.root.dataset.points = "0";
    chart.target.textContent = "";
    const spec = { ...chartSpec(chart.metric, chart.log), datasets: { points: [] } };
    const result = await embedChart(chart.target, spec, { actions: false });
    if (removed || mine !== chart.version) return result.finalize();
    chart.result = result;
    flush(chart);
  }

  // ---- text ----
  let lastStateAt = Date.now();
  const showText = (): void => {
    const total = Number(model.get("total") ?? 0);
    const step = Number(model.get("step") ?? 0);
    const status = String(model.get("status") ?? "running");
    const running = status === "running";
    root.dataset.status = status;
    title.textContent = String(model.get("title") ?? "training");
    fill.style.width = total > 0 ? `${Math.min(100, (100 * step) / total).toFixed(1)}%` : running ? "0%" : "100%";
    bar.setAttribute("aria-valuenow", String(step));
    if (total > 0) bar.setAttribute("aria-valuemax", String(total));
    stepText.textContent = total > 0 ? `step ${step} / ${total}` : `step ${step}`;
    const elapsed = Number(model.get("elapsed") ?? 0) + (running ? (Date.now() - lastStateAt) / 1000 : 0);
    const eta = model.get("eta") as number | null;
    timeText.textContent = running ? `${duration(elapsed)} elapsed${eta !== null && eta !== undefined ? ` · eta ${duration(Math.max(0, eta - (Date.now() - lastStateAt) / 1000))}` : ""}` : `took ${duration(elapsed)}`;
    const stopRequested = model.get("stopRequested") === true;
    statusText.textContent = running && stopRequested ? "stopping" : status;
    stopButton.hidden = !running;
    if (stopRequested) {
      stopButton.disabled = true;
      stopButton.textContent = "Stopping…";
    }
    const latest = (model.get("latest") as Record<string, number | null>) ?? {};
    latestText.textContent = "";
    for (const metric of metrics) {
      const item = doc.createElement("span");
      const b = doc.createElement("b");
      b.textContent = metric;
      const v = latest[metric];
      item.append(b, ` ${v === null || v === undefined ? "–" : formatValue(v)}`);
      latestText.append(item);
    }
  };

  const onState = (): void => {
    lastStateAt = Date.now();
    showText();
  };
  const onAppended = (): void => take(readPoints(model.get("appended"), metrics.length));
  const onHistory = (): void => take(readPoints(model.get("history"), metrics.length));
  const stateKeys = ["step", "status", "elapsed", "eta", "latest", "stopRequested", "total", "title"];
  for (const key of stateKeys) model.on(`change:${key}`, onState);
  model.on("change:appended", onAppended);
  model.on("change:history", onHistory);
  const ticker = setInterval(() => {
    if (model.get("status") === "running") showText();
  }, 1000);
  let removed = false;

  showText();
  onHistory();
  onAppended();
  charts.forEach((chart) => void embedMetric(chart));

  return () => {
    removed = true;
    clearInterval(ticker);
    for (const key of stateKeys) model.off(`change:${key}`, onState);
    model.off("change:appended", onAppended);
    model.off("change:history", onHistory);
    charts.forEach((chart) => chart.result?.finalize());
  };
};
