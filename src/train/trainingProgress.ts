/**
 * Training progress as a widget (view "TrainingProgressView"): a progress bar, step k / n,
 * elapsed time, ETA, the latest metric values, a line chart per metric, and a Stop button.
 *
 *   const progress = trainingProgress({ total: steps, metrics: ["loss", "accuracy"], logScale: ["loss"] });
 *   progress;                                       // display it (a cell's last expression)
 *   for (let step = 1; step <= steps && !progress.signal.aborted; step++) {
 *     const loss = await trainStep();               // awaiting lets the Stop click arrive
 *     progress.update(step, { loss, accuracy });
 *   }
 *   progress.finish();
 *
 * Sending is throttled: at most one update per `intervalMs` (default 200 ms), each carrying only
 * the points added since the previous one as binary buffers (`appended`). The full history is put
 * in state (`history`) when the widget is displayed, when a view asks for it (it missed points),
 * and at `finish()`. Outside a notebook (plain Node) a one-line text progress goes to stderr.
 *
 * `signal` aborts when the Stop button is clicked, `stop()` is called, or the running cell is
 * interrupted. No tensors are involved: metric values are plain numbers.
 */
import { getKernelRuntime, type MimeBundle } from "../notebook/kernelRuntime";
import { interruptSignal } from "../notebook/interrupt";
import { MechlabWidget, type MechlabWidgetState } from "../widgets/mechlabWidget";
import type { WidgetModelOptions } from "../widgets/runtime/widgetModel";
import { staticWidgetHtml } from "../widgets/staticHtml";
import { PLOTS_STATIC_BUNDLE_FILE, readWidgetAsset } from "../widgets/widgetAssets";
import { progressLine } from "./progressLine";

export const TRAINING_PROGRESS_VIEW = "TrainingProgressView";

export type TrainingStatus = "running" | "done" | "stopped";

/** Points of the metric series: `steps[i]` with `values[metric][i]` (NaN where not given). */
export interface ProgressPoints {
  /** The index of the first point in the whole history. */
  from: number;
  /** [points] */
  steps: Float64Array;
  /** [metric][points], metrics in `metrics` order. */
  values: Float32Array[];
}

export interface TrainingProgressState extends MechlabWidgetState {
  title: string;
  /** The number of steps, 0 when unknown. */
  total: number;
  metrics: string[];
  /** Metrics drawn on a log scale. */
  logScale: string[];
  status: TrainingStatus;
  /** The latest step given to `update` (steps completed). */
  step: number;
  /** Seconds since the start, as of the last send. */
  elapsed: number;
  /** Estimated seconds left, or null. */
  eta: number | null;
  latest: Record<string, number | null>;
  stopRequested: boolean;
  /** Every point, as of the last full sync. */
  history: ProgressPoints;
  /** The points added by the last send. */
  appended: ProgressPoints;
}

export interface TrainingProgressOptions {
  /** The number of steps (the bar and ETA need it); 0 or omitted when unknown. */
  total?: number;
  /** The metric names `update` is given values for. */
  metrics: string[];
  /** Metrics to draw on a log scale (e.g. ["loss"]); `true` for all. */
  logScale?: string[] | boolean;
  title?: string;
  /** The least time between two sends to the browser, ms (default 200). */
  intervalMs?: number;
  /** Print a text progress line to stderr: "auto" (default) does so only outside a notebook. */
  log?: boolean | "auto";
  /** The least time between two text lines, ms (default 200 on a terminal, 2000 otherwise). */
  logIntervalMs?: number;
  /** Where the text line goes (default process.stderr). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** The clock in ms (default performance.now); tests pass their own. */
  now?: () => number;
  /** Widget model options (tests pass a comm registry). */
  widget?: WidgetModelOptions;
}

const emptyPoints = (metrics: number): ProgressPoints => ({ from: 0, steps: new Float64Array(0), values: Array.from({ length: metrics }, () => new Float32Array(0)) });

export class TrainingProgressWidget extends MechlabWidget<TrainingProgressState> {
  private readonly controller = new AbortController();
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly logTo: (NodeJS.WritableStream & { isTTY?: boolean }) | undefined;
  private readonly logIntervalMs: number;
  // The history, kernel side: grows by doubling.
  private stepsBuf = new Float64Array(64);
  private valuesBuf: Float32Array[];
  private count = 0;
  /** The latest step given to `update`. */
  private latestStep = 0;
  /** Points already sent in `appended` / `history`. */
  private sentCount = 0;
  private historyCount = -1;
  private lastSend = -Infinity;
  private lastLog = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private combined: { interrupt: AbortSignal; signal: AbortSignal } | undefined;

  constructor(options: TrainingProgressOptions) {
    const metrics = checkMetrics(options.metrics);
    const total = options.total ?? 0;
    if (!(Number.isFinite(total) && total >= 0)) throw new Error(`trainingProgress: total must be a number of steps ≥ 0, got ${total}.`);
    const logScale = options.logScale === true ? metrics : options.logScale === false || options.logScale === undefined ? [] : options.logScale;
    for (const name of logScale) if (!metrics.includes(name)) throw new Error(`trainingProgress: logScale names "${name}", which is not a metric (${metrics.join(", ")}).`);
    super(
      TRAINING_PROGRESS_VIEW,
      {
        title: options.title ?? "training",
        total,
        metrics,
        logScale,
        status: "running",
        step: 0,
        elapsed: 0,
        eta: null,
        latest: Object.fromEntries(metrics.map((m) => [m, null])),
        stopRequested: false,
        history: emptyPoints(metrics.length),
        appended: emptyPoints(metrics.length),
      },
      options.widget,
    );
    this.valuesBuf = metrics.map(() => new Float32Array(64));
    this.intervalMs = options.intervalMs ?? 200;
    this.now = options.now ?? (() => performance.now());
    this.startedAt = this.now();
    const log = options.log ?? "auto";
    const stream = options.stream ?? process.stderr;
    this.logTo = log === true || (log === "auto" && !getKernelRuntime()) ? stream : undefined;
    this.logIntervalMs = options.logIntervalMs ?? (stream.isTTY ? 200 : 2000);
    this.onCustom((content) => {
      const event = (content as { event?: unknown } | null)?.event;
      if (event === "stop") this.stop();
      else if (event === "history") this.syncHistory();
    });
  }

  /** Aborts when Stop is clicked in the view, `stop()` is called, or the running cell is interrupted. */
  get signal(): AbortSignal {
    const interrupt = interruptSignal();
    if (this.combined?.interrupt !== interrupt) this.combined = { interrupt, signal: AbortSignal.any([this.controller.signal, interrupt]) };
    return this.combined.signal;
  }

  /** Whether a stop was asked for (the view's Stop button or `stop()`). */
  get stopRequested(): boolean {
    return this.get("stopRequested");
  }

  /** The number of points recorded. */
  get points(): number {
    return this.count;
  }

  /** The recorded history: steps and one array per metric (copies). */
  historyOf(): { steps: number[]; values: Record<string, number[]> } {
    const metrics = this.get("metrics");
    return { steps: Array.from(this.stepsBuf.subarray(0, this.count)), values: Object.fromEntries(metrics.map((m, i) => [m, Array.from(this.valuesBuf[i]!.subarray(0, this.count))])) };
  }

  /**
   * Records metric values after `step` steps (1…total). Metrics left out of `values` are NaN for
   * this step. Sends at most every `intervalMs`; the last update is always sent (a timer).
   */
  update(step: number, values: Record<string, number | null | undefined> = {}): void {
    if (!Number.isFinite(step)) throw new Error(`trainingProgress.update: step must be a finite number, got ${step}.`);
    const metrics = this.get("metrics");
    for (const name of Object.keys(values)) if (!metrics.includes(name)) throw new Error(`trainingProgress.update: unknown metric "${name}"; the metrics are ${metrics.join(", ")}.`);
    if (this.get("status") !== "running") throw new Error(`trainingProgress.update: the progress is already ${this.get("status")}.`);
    this.grow();
    this.stepsBuf[this.count] = step;
    metrics.forEach((name, i) => {
      const v = values[name];
      this.valuesBuf[i]![this.count] = typeof v === "number" ? v : NaN;
    });
    this.count += 1;
    this.latestStep = step;
    const now = this.now();
    if (now - this.lastSend >= this.intervalMs) this.send(now);
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.get("status") === "running") this.send(this.now());
      }, Math.max(0, this.intervalMs - (now - this.lastSend)));
      (this.timer as { unref?: () => void }).unref?.();
    }
    if (this.logTo && now - this.lastLog >= this.logIntervalMs) this.writeLine(now, false);
  }

  /** Asks the training loop to stop: `stopRequested` becomes true and `signal` aborts. */
  stop(): void {
    if (this.get("stopRequested")) return;
    this.set("stopRequested", true);
    this.controller.abort(Object.assign(new Error("training stopped from the progress widget"), { name: "AbortError" }));
  }

  /** Ends the progress: status "stopped" when a stop was asked for or the cell interrupted, else "done" (or the given status). Sends everything. */
  finish(status?: TrainingStatus): void {
    if (this.get("status") !== "running") return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const final = status ?? (this.signal.aborted ? "stopped" : "done");
    const now = this.now();
    this.send(now, final);
    this.syncHistory();
    if (this.logTo) this.writeLine(now, true);
  }

  override mimeBundle(): MimeBundle {
    if (this.get("status") === "running" && this.count > this.sentCount) this.send(this.now()); // show the current step
    this.syncHistory(); // a new view starts from the whole history
    return super.mimeBundle();
  }

  protected override htmlFallback(): string {
    const state = { ...(this.getState() as unknown as Record<string, unknown>), history: this.pointsFrom(0), appended: emptyPoints(this.get("metrics").length) };
    return staticWidgetHtml(this.viewName, state, { bundle: readWidgetAsset(PLOTS_STATIC_BUNDLE_FILE) });
  }

  protected override textFallback(): string {
    return progressLine(this.facts(this.now()));
  }

  // ---- internals ----

  private grow(): void {
    if (this.count < this.stepsBuf.length) return;
    const size = this.stepsBuf.length * 2;
    const steps = new Float64Array(size);
    steps.set(this.stepsBuf);
    this.stepsBuf = steps;
    this.valuesBuf = this.valuesBuf.map((old) => {
      const values = new Float32Array(size);
      values.set(old);
      return values;
    });
  }

  /** Points from index `from` to the end, as copies. */
  private pointsFrom(from: number): ProgressPoints {
    return { from, steps: this.stepsBuf.slice(from, this.count), values: this.valuesBuf.map((v) => v.slice(from, this.count)) };
  }

  private facts(now: number): { step: number; total: number; latest: Record<string, number | null>; elapsed: number; eta: number | null; status: TrainingStatus } {
    // Once finished, the time stands at the finish.
    const elapsed = this.get("status") === "running" ? (now - this.startedAt) / 1000 : this.get("elapsed");
    const total = this.get("total");
    const step = this.latestStep;
    const eta = total > 0 && step > 0 && step < total ? (elapsed * (total - step)) / step : total > 0 && step >= total ? 0 : null;
    const metrics = this.get("metrics");
    const latest: Record<string, number | null> = {};
    metrics.forEach((name, i) => {
      // The most recent finite value of each metric.
      let value: number | null = null;
      for (let p = this.count - 1; p >= 0 && value === null; p--) {
        const v = this.valuesBuf[i]![p]!;
        if (!Number.isNaN(v)) value = v;
      }
      latest[name] = value;
    });
    return { step, total, latest, elapsed, eta, status: this.get("status") };
  }

  private send(now: number, status?: TrainingStatus): void {
    this.lastSend = now;
    const facts = this.facts(now);
    this.set({
      step: facts.step,
      elapsed: facts.elapsed,
      eta: status && status !== "running" ? null : facts.eta,
      latest: facts.latest,
      appended: this.pointsFrom(this.sentCount),
      ...(status ? { status } : {}),
    });
    this.sentCount = this.count;
  }

  /** Puts the whole history in state (when it grew since the last time). */
  private syncHistory(): void {
    if (this.historyCount === this.count) return;
    this.historyCount = this.count;
    this.set("history", this.pointsFrom(0));
  }

  private writeLine(now: number, final: boolean): void {
    this.lastLog = now;
    const line = progressLine(this.facts(now));
    const stream = this.logTo!;
    if (stream.isTTY) stream.write(`\r${line}\x1b[K${final ? "\n" : ""}`);
    else stream.write(`${line}\n`);
  }
}

function checkMetrics(metrics: unknown): string[] {
  if (!Array.isArray(metrics) || metrics.some((m) => typeof m !== "string" || m === "")) {
    throw new Error(`trainingProgress: metrics must be an array of metric names, e.g. ["loss", "accuracy"]; got ${JSON.stringify(metrics)}.`);
  }
  if (new Set(metrics).size !== metrics.length) throw new Error(`trainingProgress: metric names repeat: ${metrics.join(", ")}.`);
  return metrics as string[];
}

/** A training progress widget (see the file comment); display it, then feed it with `update`. */
export function trainingProgress(options: TrainingProgressOptions): TrainingProgressWidget {
  return new TrainingProgressWidget(options);
}
