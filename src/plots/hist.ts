/**
 * plot.hist: a histogram, binned in the kernel (only the bins travel): `bins` equal-width bins
 * from the smallest to the largest finite value, the last bin closed on the right; NaN and ±∞
 * are left out.
 *   - numbers: a tensor of any rank (flattened), a typed array, number[] or number[][];
 *   - a table: `x` names the value field; an optional `color` field gives stacked groups.
 */
import { tf } from "../backend";
import { categoryColumn, numberColumn, plotTable, type PlotColumn } from "./plotColumns";
import { isTableInput, tableColumn, toMatrix, type MatrixInput, type TableInput } from "./plotInput";
import { axisChannel, buildSpec, fieldRef, type PlotOptions } from "./plotSpec";
import { PlotWidget, type PreparedPlot } from "./plotWidget";

export interface HistOptions extends PlotOptions {
  /** The number of bins (default 30). */
  bins?: number;
  /** Table input: the value field (required). */
  x?: string;
  /** Table input: a field whose groups are stacked in colour. */
  color?: string;
}

const WHAT = "plot.hist";

export interface Bins {
  /** [bins + 1] bin edges. */
  edges: Float64Array;
  /** [groups, bins] counts. */
  counts: Int32Array;
}

/** Counts `values` (grouped by `groups[i]`, codes 0…groupCount-1) into `bins` equal-width bins. */
export function binValues(values: ArrayLike<number>, bins: number, groups?: ArrayLike<number>, groupCount = 1): Bins {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`${WHAT}: bins must be a positive integer, got ${bins}.`);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  }
  if (lo === Infinity) throw new Error(`${WHAT}: no finite values to bin (${values.length} values).`);
  if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
  const width = (hi - lo) / bins;
  const edges = Float64Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + i * width));
  const counts = new Int32Array(groupCount * bins);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    const b = Math.min(bins - 1, Math.floor((v - lo) / width));
    counts[(groups ? groups[i]! : 0) * bins + b]! += 1;
  }
  return { edges, counts };
}

export function prepareHist(data: MatrixInput | TableInput, options: HistOptions = {}): PreparedPlot {
  const bins = options.bins ?? 30;
  let values: ArrayLike<number>;
  let groupLabels: string[] | undefined;
  let groupCodes: Int32Array | undefined;
  let xTitle = "value";
  if (isTableInput(data)) {
    if (typeof options.x !== "string") throw new Error(`${WHAT}: with a table, options.x must name the value field.`);
    const column = tableColumn(data, options.x, WHAT);
    if (column.type !== "number") throw new Error(`${WHAT}: the field "${options.x}" is not numeric.`);
    values = column.values;
    xTitle = options.x;
    if (options.color !== undefined) {
      const groups = tableColumn(data, options.color, WHAT);
      const encoded = groups.type === "category" ? groups : categoryColumn(options.color, Array.from(groups.values, String));
      [groupLabels, groupCodes] = [encoded.labels, encoded.codes];
    }
  } else if (data instanceof tf.Tensor) {
    if (data.isDisposed) throw new Error(`${WHAT}: the tensor was disposed.`);
    values = data.dataSync() as ArrayLike<number>;
  } else values = toMatrix(data, WHAT).values;

  const groupCount = groupLabels?.length ?? 1;
  const { edges, counts } = binValues(values, bins, groupCodes, groupCount);
  const starts: number[] = [];
  const ends: number[] = [];
  const counted: number[] = [];
  const groupOf: string[] = [];
  for (let g = 0; g < groupCount; g++) {
    for (let b = 0; b < bins; b++) {
      const count = counts[g * bins + b]!;
      if (options.logY && count === 0) continue; // log scales cannot draw 0
      starts.push(edges[b]!);
      ends.push(edges[b + 1]!);
      counted.push(count);
      if (groupLabels) groupOf.push(groupLabels[g]!);
    }
  }
  const columns: PlotColumn[] = [numberColumn("binStart", starts), numberColumn("binEnd", ends), numberColumn("count", counted)];
  if (groupLabels) columns.push(categoryColumn("group", groupOf));
  const table = plotTable(columns, WHAT);
  const encoding: Record<string, unknown> = {
    x: axisChannel({ field: "binStart", type: "quantitative", bin: { binned: true }, title: xTitle }, options.xLabel, options.logX),
    x2: { field: "binEnd" },
    y: axisChannel({ field: "count", type: "quantitative", title: "count", ...(groupLabels ? { stack: "zero" } : {}) }, options.yLabel, options.logY),
    tooltip: [
      { field: "binStart", type: "quantitative", title: "from", format: ".4~g" },
      { field: "binEnd", type: "quantitative", title: "to", format: ".4~g" },
      { field: "count", type: "quantitative", title: "count" },
      ...(groupLabels ? [{ field: "group", type: "nominal", title: options.color }] : []),
    ],
  };
  if (groupLabels) encoding.color = { field: fieldRef("group"), type: "nominal", title: options.color };
  const spec = buildSpec({ mark: { type: "bar", binSpacing: 1 }, encoding }, options, { width: 400, height: 220 });
  return { kind: "hist", spec, table };
}

/** A histogram widget (see the file comment for inputs). Tensors are read, not disposed. */
export function hist(data: MatrixInput | TableInput, options: HistOptions = {}): PlotWidget {
  return new PlotWidget(prepareHist(data, options));
}
