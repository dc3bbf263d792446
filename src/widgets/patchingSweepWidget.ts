/**
 * The patching-sweep widget: a heatmap of a metric over a grid (layer × position, layer × head,
 * head × position, or custom) that fills in live while a sweep computes, with progress and a
 * cancel button, and stays as the final result.
 *
 * One call in a notebook cell (the widget is displayed before the first cell is computed):
 *
 *   const sweep = await patchingSweep(
 *     { kind: "layer × position", rows: 6, cols: tokens.length, colLabels: tokens, metricName: "logit diff recovered" },
 *     async (layer, pos, signal) => await patchedMetric(layer, pos),
 *   );
 *   sweep.status; sweep.values; sweep.rows   // "done" | "cancelled"; [row][col]; tidy rows
 *
 * Or two steps: `const w = patchingSweepWidget(grid)` shown in one cell, then `await w.run(metric)`,
 * or `w.setCell(r, c, v)` / `w.setValues(tensor)` for values computed some other way.
 *
 * Stopping: the view's cancel button, the kernel's interrupt (interruptSignal()), `options.signal`
 * or `widget.cancel()`. The cell being computed finishes (its metric gets the abort signal and may
 * stop early by throwing); the cells computed so far stay, and the result says "cancelled".
 */
import { tf } from "../backend";
import { display as displayValue, type DisplayHandle } from "../notebook/display";
import { interruptSignal } from "../notebook/interrupt";
import { getKernelRuntime } from "../notebook/kernelRuntime";
import { MechlabWidget, type MechlabWidgetState } from "./mechlabWidget";
import type { WidgetModelOptions } from "./runtime/widgetModel";
import {
  describeSweepGrid,
  emptySweepValues,
  sweepValuesFrom,
  sweepValuesToArrays,
  sweepValuesToRows,
  type SweepGrid,
  type SweepGridSpec,
  type SweepRow,
  type SweepValuesInput,
} from "./patchingSweepData";

export const PATCHING_SWEEP_VIEW = "PatchingSweepView";

/** "idle": nothing run yet; the others describe the last run (or values pushed with setValues). */
export type SweepStatus = "idle" | "running" | "done" | "cancelled" | "error";

export interface PatchingSweepState extends MechlabWidgetState, SweepGrid {
  /** [rows, cols] row-major, NaN = not computed (see patchingSweepData.ts). */
  values: Float32Array;
  /** Cells computed so far. */
  done: number;
  /** Cells in the sweep (rows × cols). */
  total: number;
  status: SweepStatus;
  /** A sentence on the status ("cancelled after 12 of 48 cells", the error, the time taken). */
  message: string;
  /** The cell clicked in the browser ([row, col]), or null. */
  selectedCell: [number, number] | null;
}

/**
 * The metric of one cell. It may return a number or a one-element tensor (the runner reads and
 * disposes a returned tensor; the metric disposes every other tensor it makes). `signal` aborts when
 * the sweep is cancelled: a long metric may check it and throw.
 */
export type SweepMetric = (row: number, col: number, signal: AbortSignal) => number | tf.Tensor | Promise<number | tf.Tensor>;

export interface SweepRunOptions {
  /** Stops the sweep when aborted (with the kernel's interrupt, the cancel button and `cancel()`). */
  signal?: AbortSignal;
  /** Send the values to the browser at most this often, in ms (default 100); always at the end. */
  batchUpdateMs?: number;
  /** Cells in the order to compute them, as [row, col] (default: row-major, every cell). */
  order?: Iterable<[number, number]>;
}

export interface PatchingSweepOptions extends SweepRunOptions {
  /** Display the widget before computing (default true). In a kernel it shows as a live widget; in plain Node a line of text is printed. */
  display?: boolean;
}

/** A finished (or cancelled) sweep's results. */
export interface PatchingSweepResult {
  widget: PatchingSweepWidget;
  status: "done" | "cancelled";
  message: string;
  /** Cells computed and cells in the grid. */
  done: number;
  total: number;
  /** [row][col], NaN where not computed. */
  values: number[][];
  /** One row per computed cell: {row, col, rowLabel, colLabel, value}. */
  rows: SweepRow[];
}

/** Which source stopped a sweep (for the message). */
type StopReason = "cancel button" | "interrupt" | "signal" | "cancel()";

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export class PatchingSweepWidget extends MechlabWidget<PatchingSweepState> {
  /** The values buffer, written in place; sent to the browser (throttled) by `publish`. */
  private readonly buffer: Float32Array;
  private doneCount = 0;
  private controller: AbortController | undefined;
  private stopReason: StopReason | undefined;
  private batchMs = 100;
  private lastSent = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  /** How many value updates were handed to the model (for tests of the throttling). */
  updatesSent = 0;

  constructor(spec: SweepGridSpec, options: WidgetModelOptions = {}) {
    const grid = describeSweepGrid(spec);
    const values = emptySweepValues(grid.rows, grid.cols);
    super(
      PATCHING_SWEEP_VIEW,
      { ...grid, values, done: 0, total: grid.rows * grid.cols, status: "idle", message: "", selectedCell: null },
      { noEcho: ["selectedCell"], ...options },
    );
    this.buffer = values;
    this.onCustom((content) => {
      if ((content as { event?: unknown } | null)?.event === "cancel") this.cancel("cancel button");
    });
  }

  get status(): SweepStatus {
    return this.get("status");
  }

  /** Cells computed so far (also those not yet sent to the browser). */
  get done(): number {
    return this.doneCount;
  }

  get total(): number {
    return this.get("total");
  }

  /** [row][col], NaN where not computed. */
  get values(): number[][] {
    return sweepValuesToArrays(this.buffer, this.get("rows"), this.get("cols"));
  }

  /** The computed cells as tidy rows {row, col, rowLabel, colLabel, value}. */
  get rows(): SweepRow[] {
    return sweepValuesToRows(this.buffer, this.getState());
  }

  /** The values as a [rows, cols] tensor, NaN where not computed. The caller owns (disposes) it. */
  valuesTensor(): tf.Tensor2D {
    return tf.tensor2d(this.buffer.slice(), [this.get("rows"), this.get("cols")]);
  }

  /** The value of one cell (NaN if not computed). */
  valueAt(row: number, col: number): number {
    this.checkCell(row, col, "valueAt");
    return this.buffer[row * this.get("cols") + col];
  }

  /** The cell clicked in the browser, with its labels and value, or null. */
  get selected(): SweepRow | null {
    const cell = this.get("selectedCell");
    if (!cell) return null;
    const [row, col] = cell;
    return { row, col, rowLabel: this.get("rowLabels")[row], colLabel: this.get("colLabels")[col], value: this.valueAt(row, col) };
  }

  /** Stops a running sweep after the cell in progress (no effect when none runs). */
  cancel(reason: StopReason = "cancel()"): void {
    if (!this.controller || this.controller.signal.aborted) return;
    this.stopReason = reason;
    this.controller.abort(new Error(`patching sweep cancelled (${reason})`));
  }

  /** Sets one cell's value (finite; NaN clears it). Sent to the browser throttled, like a sweep's. */
  setCell(row: number, col: number, value: number): this {
    this.checkCell(row, col, "setCell");
    if (typeof value !== "number" || value === Infinity || value === -Infinity) {
      throw new Error(`patchingSweep.setCell(${row}, ${col}): value must be a finite number (NaN clears the cell), got ${String(value)}.`);
    }
    this.writeCell(row, col, value);
    if (this.status !== "running") this.settleStatus();
    this.publish(false);
    return this;
  }

  /** Sets every cell from a [rows, cols] tensor (not disposed: the caller keeps it), nested arrays or a flat row-major array; sent at once. */
  setValues(values: SweepValuesInput): this {
    if (this.status === "running") throw new Error("patchingSweep.setValues: a sweep is running in this widget; cancel it first.");
    this.buffer.set(sweepValuesFrom(values, this.get("rows"), this.get("cols")));
    this.doneCount = this.buffer.reduce((n, v) => (Number.isNaN(v) ? n : n + 1), 0);
    this.settleStatus();
    this.publish(true);
    return this;
  }

  /**
   * Computes `metric(row, col, signal)` for every cell (or `options.order`), one at a time,
   * yielding to the event loop between cells so the browser's updates and the cancel button get
   * through. Resolves when done or cancelled (the computed cells stay); rejects, with status
   * "error", when the metric throws or returns something other than a finite number, naming the cell.
   */
  async run(metric: SweepMetric, options: SweepRunOptions = {}): Promise<PatchingSweepResult> {
    if (typeof metric !== "function") throw new Error("patchingSweep: expected a metric function (row, col, signal) => number.");
    const cols = this.get("cols");
    const order = options.order ? [...options.order] : undefined;
    if (order) {
      const seen = new Set<number>();
      for (const [r, c] of order) {
        this.checkCell(r, c, "order");
        if (seen.has(r * cols + c)) throw new Error(`patchingSweep: \`order\` names cell (${r}, ${c}) twice; name each cell once.`);
        seen.add(r * cols + c);
      }
    }
    const total = order ? order.length : this.get("rows") * cols;
    return this.runWith(total, options, async (signal, report) => {
      for (let i = 0; i < total; i++) {
        await yieldToEventLoop(); // comm messages (the cancel button) are served here
        if (signal.aborted) break;
        const [row, col] = order ? order[i] : [Math.floor(i / cols), i % cols];
        let value: number;
        try {
          value = await readMetric(await metric(row, col, signal));
        } catch (error) {
          if (signal.aborted) break; // the metric stopped on the abort signal
          throw this.cellError(row, col, error);
        }
        report([[row, col, value]]);
      }
    });
  }

  /**
   * Runs a computation that fills many cells at a time (a batched patching sweep): `task` gets
   * the sweep's abort signal (the cancel button, the kernel's interrupt, `options.signal`,
   * `cancel()`) and `report(cells)` to write finished cells as [row, col, value]. Status, progress
   * and the throttled updates are as in `run`; the sweep is "done" when every cell was reported.
   */
  async runTask(
    task: (signal: AbortSignal, report: (cells: [number, number, number][]) => void) => Promise<void>,
    options: Omit<SweepRunOptions, "order"> = {},
  ): Promise<PatchingSweepResult> {
    return this.runWith(this.get("rows") * this.get("cols"), options, task);
  }

  /** The sweep machinery of run and runTask: status, stopping, throttled updates, the final message. */
  private async runWith(
    total: number,
    options: Omit<SweepRunOptions, "order">,
    task: (signal: AbortSignal, report: (cells: [number, number, number][]) => void) => Promise<void>,
  ): Promise<PatchingSweepResult> {
    if (this.status === "running") throw new Error("patchingSweep: this widget is already running a sweep; wait for it or cancel it.");
    const batchMs = options.batchUpdateMs ?? 100;
    if (!(batchMs >= 0)) throw new Error(`patchingSweep: batchUpdateMs must be a number ≥ 0, got ${String(options.batchUpdateMs)}.`);
    // One controller for every way to stop; the task sees its signal.
    const controller = new AbortController();
    this.controller = controller;
    this.stopReason = undefined;
    const detach = [this.stopOn(options.signal, "signal"), this.stopOn(interruptSignal(), "interrupt")];
    this.batchMs = batchMs;
    this.buffer.fill(NaN);
    this.doneCount = 0;
    this.set({ total, status: "running", message: `computing ${this.get("metricName")} for ${total} cells…` });
    this.publish(true);
    const started = Date.now();
    try {
      await task(controller.signal, (cells) => {
        for (const [row, col, value] of cells) {
          this.checkCell(row, col, "report");
          if (!Number.isFinite(value)) throw new Error(`patchingSweep: cell (${row}, ${col}) got ${String(value)}; values must be finite numbers.`);
          this.writeCell(row, col, value);
        }
        this.publish(false);
      });
    } catch (error) {
      this.finish("error", (error as Error).message);
      throw error;
    } finally {
      detach.forEach((undo) => undo());
      this.controller = undefined;
    }
    const elapsed = formatSeconds(Date.now() - started);
    if (this.doneCount < total) this.finish("cancelled", `cancelled (${this.stopReason ?? "signal"}) after ${this.doneCount} of ${total} cells, ${elapsed}`);
    else this.finish("done", `${total} cells in ${elapsed}`);
    return this.result();
  }

  /** The current results (as a finished sweep returns them). */
  result(): PatchingSweepResult {
    const status = this.status === "cancelled" ? "cancelled" : "done";
    return { widget: this, status, message: this.get("message"), done: this.doneCount, total: this.total, values: this.values, rows: this.rows };
  }

  /** One line: grid, metric, status and progress (the text/plain display). */
  override toString(): string {
    return this.textFallback();
  }

  protected override textFallback(): string {
    return `PatchingSweep(${this.get("kind")}, ${this.get("rows")} × ${this.get("cols")}, ${this.get("metricName")}: ${this.status}, ${this.doneCount} / ${this.total} cells)`;
  }

  override close(): void {
    this.cancel("cancel()");
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    super.close();
  }

  // ---- internals ----

  /** Cancels the running sweep when `signal` aborts; returns the undo. */
  private stopOn(signal: AbortSignal | undefined, reason: StopReason): () => void {
    if (!signal) return () => undefined;
    const onAbort = () => this.cancel(reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    return () => signal.removeEventListener("abort", onAbort);
  }

  private checkCell(row: number, col: number, what: string): void {
    const rows = this.get("rows");
    const cols = this.get("cols");
    if (!Number.isInteger(row) || !Number.isInteger(col) || row < 0 || row >= rows || col < 0 || col >= cols) {
      throw new Error(`patchingSweep.${what}: cell (${row}, ${col}) is outside the ${rows} × ${cols} grid.`);
    }
  }

  private writeCell(row: number, col: number, value: number): void {
    const i = row * this.get("cols") + col;
    const wasSet = !Number.isNaN(this.buffer[i]);
    const isSet = !Number.isNaN(value);
    this.buffer[i] = value;
    this.doneCount += Number(isSet) - Number(wasSet);
  }

  private cellError(row: number, col: number, error: unknown): Error {
    const rowLabel = this.get("rowLabels")[row];
    const colLabel = this.get("colLabels")[col];
    const cause = error instanceof Error ? error.message : String(error);
    return new Error(
      `patchingSweep: the metric failed at cell (${this.get("rowAxis")} ${rowLabel}, ${this.get("colAxis")} ${JSON.stringify(colLabel)}) = [row ${row}, col ${col}]: ${cause}`,
      { cause: error },
    );
  }

  /** Status of values pushed without a sweep: done once every cell is set. */
  private settleStatus(): void {
    const total = this.get("rows") * this.get("cols");
    this.set({ total, status: this.doneCount === total ? "done" : "idle", message: `${this.doneCount} of ${total} cells set` });
  }

  private finish(status: SweepStatus, message: string): void {
    this.set({ status, message });
    this.publish(true);
  }

  /**
   * Hands the values buffer and done count to the model (the frontend gets them with the tick's
   * update): at once when `now` or when `batchMs` passed since the last time, otherwise once a
   * timer runs out, so updates come at most every `batchMs`.
   */
  private publish(now: boolean): void {
    const wait = this.batchMs - (Date.now() - this.lastSent);
    if (!now && wait > 0) {
      if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.publish(true);
        }, wait);
        this.timer.unref?.();
      }
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastSent = Date.now();
    this.updatesSent++;
    // The same buffer again counts as a change: it was written in place.
    this.set({ values: this.buffer, done: this.doneCount });
  }
}

/** A metric's value as a finite number; a returned tensor is read and disposed. */
async function readMetric(value: number | tf.Tensor): Promise<number> {
  let number: number;
  if (value instanceof tf.Tensor) {
    try {
      if (value.size !== 1) throw new Error(`the metric returned a tensor of shape [${value.shape.join(", ")}]; return a number or a one-element tensor.`);
      number = (await value.data())[0];
    } finally {
      value.dispose();
    }
  } else {
    number = value;
  }
  if (typeof number !== "number" || !Number.isFinite(number)) {
    throw new Error(`the metric returned ${typeof number === "number" ? String(number) : typeof number}; it must return a finite number.`);
  }
  return number;
}

/** A sweep widget, not displayed and not running: show it, then `run(metric)` or `setValues(...)`. */
export function patchingSweepWidget(spec: SweepGridSpec, options: WidgetModelOptions = {}): PatchingSweepWidget {
  return new PatchingSweepWidget(spec, options);
}

/**
 * Displays a sweep widget for the grid `spec` (unless `options.display` is false), then computes
 * `metric` cell by cell while the heatmap fills in. Resolves with the results when done or
 * cancelled; rejects with an error naming the cell when the metric fails. Ownership: a tensor the
 * metric returns is disposed by the sweep; everything else the metric makes is the metric's to dispose.
 */
export async function patchingSweep(spec: SweepGridSpec, metric: SweepMetric, options: PatchingSweepOptions = {}): Promise<PatchingSweepResult> {
  const widget = new PatchingSweepWidget(spec);
  let shown: DisplayHandle | undefined;
  if (options.display ?? true) {
    // In a kernel: the live view. In plain Node: one line of text (no HTML bundle is built).
    if (getKernelRuntime()) shown = displayValue(widget);
    else displayValue.text(widget.toString());
  }
  try {
    return await widget.run(metric, options);
  } finally {
    // The output's self-contained HTML was made before the sweep: replace it with the final
    // state, so a saved or exported notebook shows the result without the widget manager.
    shown?.update(widget);
  }
}
