/**
 * Data of the patching-sweep widget (kernel side, no DOM): the grid a sweep fills in, one metric
 * value per cell, and the conversions of its results (nested arrays, tidy rows).
 *
 * Buffer layout: `values` is [row, col] row-major (cell (r, c) at r * cols + c); NaN marks a cell
 * not computed yet, so a metric value itself must be finite.
 */
import { tf } from "../backend";

/** What the rows and columns of a sweep are; any other string names a custom grid. */
export type SweepGridKind = "layer × position" | "layer × head" | "head × position" | (string & {});

export interface SweepGridSpec {
  /** Number of rows (e.g. layers). */
  rows: number;
  /** Number of columns (e.g. positions or heads). */
  cols: number;
  /** Grid kind; default "custom". Sets the default axis names and labels. */
  kind?: SweepGridKind;
  /** One label per row; default from the kind ("L0", "L1", … for layers). */
  rowLabels?: string[];
  /** One label per column: token strings for positions, "L3H2"-style for heads; default from the kind. */
  colLabels?: string[];
  /** The name of the metric shown (e.g. "logit diff recovered"); default "metric". */
  metricName?: string;
  /** Axis titles; default from the kind ("layer", "position", "head"), else "row" / "col". */
  rowAxis?: string;
  colAxis?: string;
  /**
   * The colour scale's fixed [low, high] (it stays centred on 0). Default: symmetric around 0,
   * reaching the largest |value| computed so far.
   */
  valueRange?: [number, number] | null;
}

/** A grid described completely (every default filled in). */
export interface SweepGrid {
  kind: string;
  rows: number;
  cols: number;
  rowLabels: string[];
  colLabels: string[];
  rowAxis: string;
  colAxis: string;
  metricName: string;
  valueRange: [number, number] | null;
}

/** One computed cell as a tidy table row. */
export interface SweepRow {
  row: number;
  col: number;
  rowLabel: string;
  colLabel: string;
  value: number;
}

/** The largest grid the view is built for (48 × 128 cells are drawn fast; more are refused). */
export const MAX_SWEEP_CELLS = 1 << 16;

/** Axis names of the known kinds. */
function axesOf(kind: string): [string, string] {
  const parts = kind.split("×").map((part) => part.trim());
  if (parts.length === 2 && parts.every((part) => ["layer", "position", "head"].includes(part))) return [parts[0], parts[1]];
  return ["row", "col"];
}

/** Default label of index `i` on an axis named `axis`. */
function defaultLabel(axis: string, i: number): string {
  if (axis === "layer") return `L${i}`;
  if (axis === "head") return `H${i}`;
  return String(i);
}

function checkCount(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new Error(`patchingSweep: \`${what}\` must be a positive integer, got ${JSON.stringify(value)}.`);
  }
  return value;
}

function checkLabels(labels: unknown, count: number, what: string, axis: string): string[] {
  if (labels === undefined) return Array.from({ length: count }, (_, i) => defaultLabel(axis, i));
  if (!Array.isArray(labels) || !labels.every((label) => typeof label === "string")) {
    throw new Error(`patchingSweep: \`${what}\` must be an array of strings.`);
  }
  if (labels.length !== count) {
    throw new Error(`patchingSweep: ${labels.length} \`${what}\` for ${count} ${what === "rowLabels" ? "rows" : "cols"}; give one label each.`);
  }
  return [...labels];
}

/** Fills in the defaults of a grid description and checks it. */
export function describeSweepGrid(spec: SweepGridSpec): SweepGrid {
  if (typeof spec !== "object" || spec === null) throw new Error("patchingSweep: expected a grid description { rows, cols, … }.");
  const rows = checkCount(spec.rows, "rows");
  const cols = checkCount(spec.cols, "cols");
  if (rows * cols > MAX_SWEEP_CELLS) {
    throw new Error(`patchingSweep: ${rows} × ${cols} = ${rows * cols} cells is more than the ${MAX_SWEEP_CELLS} a sweep display holds; sweep a smaller grid.`);
  }
  const kind = spec.kind ?? "custom";
  const [defaultRowAxis, defaultColAxis] = axesOf(kind);
  const rowAxis = spec.rowAxis ?? defaultRowAxis;
  const colAxis = spec.colAxis ?? defaultColAxis;
  let valueRange: [number, number] | null = null;
  if (spec.valueRange != null) {
    const [low, high] = spec.valueRange;
    if (!Number.isFinite(low) || !Number.isFinite(high) || !(low < high)) {
      throw new Error(`patchingSweep: \`valueRange\` must be [low, high] with finite low < high, got ${JSON.stringify(spec.valueRange)}.`);
    }
    valueRange = [low, high];
  }
  return {
    kind,
    rows,
    cols,
    rowLabels: checkLabels(spec.rowLabels, rows, "rowLabels", rowAxis),
    colLabels: checkLabels(spec.colLabels, cols, "colLabels", colAxis),
    rowAxis,
    colAxis,
    metricName: spec.metricName ?? "metric",
    valueRange,
  };
}

/** A fresh values buffer: [rows, cols], every cell NaN (not computed). */
export function emptySweepValues(rows: number, cols: number): Float32Array {
  return new Float32Array(rows * cols).fill(NaN);
}

/** The values as nested arrays [row][col]; NaN where not computed. */
export function sweepValuesToArrays(values: Float32Array, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from(values.subarray(r * cols, (r + 1) * cols)));
}

/** The computed cells as tidy rows (one per cell, row-major; uncomputed cells left out). */
export function sweepValuesToRows(values: Float32Array, grid: Pick<SweepGrid, "rows" | "cols" | "rowLabels" | "colLabels">): SweepRow[] {
  const out: SweepRow[] = [];
  for (let r = 0; r < grid.rows; r++) {
    for (let c = 0; c < grid.cols; c++) {
      const value = values[r * grid.cols + c];
      if (!Number.isNaN(value)) out.push({ row: r, col: c, rowLabel: grid.rowLabels[r], colLabel: grid.colLabels[c], value });
    }
  }
  return out;
}

/** Values given for a whole grid: a [rows, cols] tensor, nested arrays, or a flat row-major array. */
export type SweepValuesInput = tf.Tensor | number[][] | Float32Array | Float64Array | number[];

/**
 * A whole grid of values as a [rows, cols] row-major Float32Array. A tensor is read, not disposed
 * (the caller keeps it). NaN marks a cell as not computed; ±Infinity is refused.
 */
export function sweepValuesFrom(input: SweepValuesInput, rows: number, cols: number): Float32Array {
  let flat: Float32Array;
  if (input instanceof tf.Tensor) {
    if (input.rank !== 2 || input.shape[0] !== rows || input.shape[1] !== cols) {
      throw new Error(`patchingSweep.setValues: expected a tensor of shape [${rows}, ${cols}] (rows, cols), got [${input.shape.join(", ")}].`);
    }
    flat = Float32Array.from(input.dataSync());
  } else if (Array.isArray(input) && input.length > 0 && Array.isArray(input[0])) {
    const nested = input as number[][];
    if (nested.length !== rows || nested.some((row) => !Array.isArray(row) || row.length !== cols)) {
      throw new Error(`patchingSweep.setValues: expected ${rows} rows of ${cols} numbers, got ${nested.length} rows of lengths ${nested.map((row) => (Array.isArray(row) ? row.length : "?")).join(", ")}.`);
    }
    flat = Float32Array.from(nested.flat());
  } else if (ArrayBuffer.isView(input) || Array.isArray(input)) {
    const arr = input as ArrayLike<number>;
    if (arr.length !== rows * cols) {
      throw new Error(`patchingSweep.setValues: a flat array must hold rows × cols = ${rows * cols} values (row-major), got ${arr.length}.`);
    }
    flat = Float32Array.from(arr);
  } else {
    throw new Error("patchingSweep.setValues: expected a [rows, cols] tensor, nested number arrays, or a flat row-major array.");
  }
  for (let i = 0; i < flat.length; i++) {
    if (flat[i] === Infinity || flat[i] === -Infinity) {
      throw new Error(`patchingSweep.setValues: value at row ${Math.floor(i / cols)}, col ${i % cols} is ${flat[i]}; values must be finite (NaN marks a cell not computed).`);
    }
  }
  return flat;
}
