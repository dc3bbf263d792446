/**
 * plot.heatmap: a matrix as coloured cells.
 *   - 2-D data [rows, cols] (tensor or number[][]): row r, column c; `xLabels` / `yLabels` name
 *     the columns / rows on the axes (e.g. tokens; repeated labels stay separate cells; spaces
 *     show as "·" on the axes; the tooltip shows the labels as given);
 *   - a table: `x`, `y` (categories) and `color` (the value) field names.
 * Colour: values of both signs get a diverging scheme centred on `center` (default 0, symmetric
 * domain, red below, blue above); one-signed values a sequential scheme. Always with a legend.
 */
import { categoryColumn, numberColumn, plotTable, type PlotColumn } from "./plotColumns";
import { isTableInput, tableColumn, toMatrix, type MatrixInput, type TableInput } from "./plotInput";
import { buildSpec, fieldRef, type PlotOptions } from "./plotSpec";
import { PlotWidget, type PreparedPlot } from "./plotWidget";

export interface HeatmapOptions extends Omit<PlotOptions, "logX" | "logY"> {
  /** Matrix input: labels of the columns (x) and rows (y), default the indices. */
  xLabels?: string[];
  yLabels?: string[];
  /** Table input: the x / y category fields and the value field (`color`). */
  x?: string;
  y?: string;
  color?: string;
  /** The legend title (default "value" or the colour field). */
  valueLabel?: string;
  /** The centre of a diverging scheme (default 0). */
  center?: number;
  /** A vega scheme name to use instead of the automatic one. */
  colorScheme?: string;
}

const WHAT = "plot.heatmap";
const CELL = 22;

/** The colour scale: diverging around `center` when values lie on both sides, else sequential. */
export function heatmapColorScale(values: ArrayLike<number>, center = 0, scheme?: string): Record<string, unknown> {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  }
  if (scheme !== undefined) return { scheme };
  if (lo < center && hi > center) {
    const reach = Math.max(center - lo, hi - center);
    return { scheme: "redblue", domain: [center - reach, center + reach], domainMid: center };
  }
  return hi <= center && lo < center ? { scheme: "reds", reverse: true } : { scheme: "blues" };
}

/** An axis that shows `labels[index]` for the index values of an ordinal field. */
function labelAxis(labels: string[] | undefined, count: number, title: string | undefined, rotate: boolean): Record<string, unknown> {
  // Every label while they fit (tokens matter one by one); beyond 40, vega drops overlapping ones.
  const axis: Record<string, unknown> = { title: title ?? null, labelOverlap: count <= 40 ? false : "greedy" };
  // Spaces shown as "·": vega trims label text, so a token's leading space would vanish.
  if (labels) axis.labelExpr = `${JSON.stringify(labels.map((l) => l.replace(/\n/g, "↵").replace(/\t/g, "⇥").replace(/ /g, "·")))}[datum.value]`;
  if (rotate) axis.labelAngle = -45;
  return axis;
}

export function prepareHeatmap(data: MatrixInput | TableInput, options: HeatmapOptions = {}): PreparedPlot {
  let columns: PlotColumn[];
  let size: { width: number; height: number };
  let xAxis: Record<string, unknown>;
  let yAxis: Record<string, unknown>;
  let valueTitle = options.valueLabel ?? "value";
  let values: Float32Array;
  if (isTableInput(data)) {
    if (typeof options.x !== "string" || typeof options.y !== "string" || typeof options.color !== "string") {
      throw new Error(`${WHAT}: with a table, options.x, options.y and options.color must name the column, row and value fields.`);
    }
    const value = tableColumn(data, options.color, WHAT);
    if (value.type !== "number") throw new Error(`${WHAT}: the value field "${options.color}" is not numeric.`);
    const x = tableColumn(data, options.x, WHAT);
    const y = tableColumn(data, options.y, WHAT);
    columns = [x, y, value];
    values = value.values;
    valueTitle = options.valueLabel ?? options.color;
    const count = (c: PlotColumn): number => (c.type === "category" ? c.labels.length : new Set(c.values).size);
    size = { width: Math.min(640, Math.max(120, count(x) * CELL)), height: Math.min(480, Math.max(60, count(y) * CELL)) };
    xAxis = { title: options.xLabel ?? options.x };
    yAxis = { title: options.yLabel ?? options.y };
  } else {
    const m = toMatrix(data, WHAT);
    if (m.rank !== 2) throw new Error(`${WHAT}: expected a 2-D [rows, cols] matrix, got a 1-D array of ${m.cols} values.`);
    if (options.xLabels && options.xLabels.length !== m.cols) throw new Error(`${WHAT}: ${options.xLabels.length} xLabels for ${m.cols} columns.`);
    if (options.yLabels && options.yLabels.length !== m.rows) throw new Error(`${WHAT}: ${options.yLabels.length} yLabels for ${m.rows} rows.`);
    const rowIndex = new Float32Array(m.rows * m.cols);
    const colIndex = new Float32Array(m.rows * m.cols);
    for (let i = 0; i < rowIndex.length; i++) [rowIndex[i], colIndex[i]] = [Math.floor(i / m.cols), i % m.cols];
    columns = [numberColumn("col", colIndex), numberColumn("row", rowIndex), numberColumn("value", m.values)];
    // Label columns for the tooltip (dictionary-encoded: each label travels once).
    if (options.xLabels) columns.push(categoryColumn("colLabel", Array.from(colIndex, (c) => options.xLabels![c]!)));
    if (options.yLabels) columns.push(categoryColumn("rowLabel", Array.from(rowIndex, (r) => options.yLabels![r]!)));
    values = m.values;
    size = { width: Math.min(640, Math.max(120, m.cols * CELL)), height: Math.min(480, Math.max(60, m.rows * CELL)) };
    const longLabels = (options.xLabels ?? []).some((l) => l.length > 2) || m.cols > 30;
    xAxis = labelAxis(options.xLabels, m.cols, options.xLabel, longLabels);
    yAxis = labelAxis(options.yLabels, m.rows, options.yLabel, false);
  }
  const table = plotTable(columns, WHAT);
  const [x, y, value] = columns as [PlotColumn, PlotColumn, PlotColumn];
  const tooltip = [
    { field: fieldRef(y.name), type: "ordinal", title: options.yLabel ?? (isTableInput(data) ? y.name : "row") },
    ...(columns.some((c) => c.name === "rowLabel") ? [{ field: "rowLabel", type: "nominal", title: "row label" }] : []),
    { field: fieldRef(x.name), type: "ordinal", title: options.xLabel ?? (isTableInput(data) ? x.name : "column") },
    ...(columns.some((c) => c.name === "colLabel") ? [{ field: "colLabel", type: "nominal", title: "column label" }] : []),
    { field: fieldRef(value.name), type: "quantitative", title: valueTitle, format: ".4~g" },
  ];
  const encoding = {
    x: { field: fieldRef(x.name), type: "ordinal", sort: null, axis: xAxis },
    y: { field: fieldRef(y.name), type: "ordinal", sort: null, axis: yAxis },
    color: { field: fieldRef(value.name), type: "quantitative", title: valueTitle, scale: heatmapColorScale(values, options.center ?? 0, options.colorScheme), legend: { gradientLength: Math.min(200, Math.max(60, size.height)) } },
    tooltip,
  };
  const spec = buildSpec({ mark: { type: "rect", tooltip: true }, encoding, config: { axis: { grid: false }, view: { strokeWidth: 0 } } }, options, size);
  return { kind: "heatmap", spec, table };
}

/** A heatmap widget (see the file comment for inputs). Tensors are read, not disposed. */
export function heatmap(data: MatrixInput | TableInput, options: HeatmapOptions = {}): PlotWidget {
  return new PlotWidget(prepareHeatmap(data, options));
}
