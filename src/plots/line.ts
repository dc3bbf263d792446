/**
 * plot.line: y over x.
 *   - 1-D data [points]: one line, x = index (or `options.x` values);
 *   - 2-D data [series, points]: one line per row, coloured by series (`seriesLabels` names them);
 *   - a table (arquero or a record of columns): `x`, `y` and optional `color` field names.
 */
import { categoryColumn, numberColumn, plotTable, type PlotColumn } from "./plotColumns";
import { isTableInput, tableColumn, toMatrix, type MatrixInput, type NumericArray, type TableInput } from "./plotInput";
import { axisChannel, buildSpec, fieldRef, type PlotOptions } from "./plotSpec";
import { PlotWidget, type PreparedPlot } from "./plotWidget";

export interface LineOptions extends PlotOptions {
  /** Table input: the x field. Array input: the x values (one per point), default 0, 1, 2, … */
  x?: string | NumericArray;
  /** Table input: the y field (required). */
  y?: string;
  /** Table input: the field whose values are separate, coloured lines. */
  color?: string;
  /** 2-D input: a name per row (default "0", "1", …). */
  seriesLabels?: string[];
  /** The legend title of the series (default "series", or the colour field). */
  seriesTitle?: string;
}

const WHAT = "plot.line";

export function prepareLine(data: MatrixInput | TableInput, options: LineOptions = {}): PreparedPlot {
  let columns: PlotColumn[];
  let xTitle: string;
  let yTitle: string;
  let colorField: string | undefined;
  if (isTableInput(data)) {
    if (typeof options.y !== "string") throw new Error(`${WHAT}: with a table, options.y must name the y field.`);
    if (typeof options.x !== "string") throw new Error(`${WHAT}: with a table, options.x must name the x field.`);
    columns = [tableColumn(data, options.x, WHAT), tableColumn(data, options.y, WHAT)];
    if (columns[1]!.type !== "number") throw new Error(`${WHAT}: the y field "${options.y}" is not numeric.`);
    if (options.color !== undefined) columns.push(tableColumn(data, options.color, WHAT));
    [xTitle, yTitle, colorField] = [options.x, options.y, options.color];
  } else {
    const m = toMatrix(data, WHAT);
    let xs: Float32Array;
    if (options.x === undefined) xs = Float32Array.from({ length: m.cols }, (_, i) => i);
    else if (typeof options.x === "string") throw new Error(`${WHAT}: options.x names a field, but the data is not a table; pass the x values as an array instead.`);
    else {
      xs = toMatrix(options.x, `${WHAT} (options.x)`).values;
      if (xs.length !== m.cols) throw new Error(`${WHAT}: options.x has ${xs.length} values but each line has ${m.cols} points.`);
    }
    const x = new Float32Array(m.rows * m.cols);
    for (let r = 0; r < m.rows; r++) x.set(xs, r * m.cols);
    columns = [numberColumn("x", x), numberColumn("y", m.values)];
    if (m.rank === 2) {
      const labels = options.seriesLabels ?? Array.from({ length: m.rows }, (_, i) => String(i));
      if (labels.length !== m.rows) throw new Error(`${WHAT}: ${labels.length} seriesLabels for ${m.rows} rows (series).`);
      const series = Array.from({ length: m.rows * m.cols }, (_, i) => labels[Math.floor(i / m.cols)]!);
      columns.push(categoryColumn("series", series));
      colorField = "series";
    }
    [xTitle, yTitle] = [options.x === undefined ? "index" : "x", "value"];
  }
  const table = plotTable(columns, WHAT);
  const [xName, yName] = [columns[0]!.name, columns[1]!.name];
  const encoding: Record<string, unknown> = {
    x: axisChannel({ field: fieldRef(xName), type: columns[0]!.type === "number" ? "quantitative" : "ordinal", title: xTitle, ...(xTitle === "index" ? { axis: { tickMinStep: 1 } } : {}) }, options.xLabel, options.logX),
    y: axisChannel({ field: fieldRef(yName), type: "quantitative", title: yTitle }, options.yLabel, options.logY),
  };
  // sort: null keeps the series in data order (the rows' order) in the legend.
  if (colorField !== undefined) encoding.color = { field: fieldRef(colorField), type: "nominal", sort: null, title: options.seriesTitle ?? (colorField === "series" && !isTableInput(data) ? "series" : colorField) };
  const tooltip = [encoding.x, encoding.y, encoding.color].filter(Boolean).map((c) => ({ field: (c as { field: string }).field, type: (c as { type: string }).type, title: (c as { title?: string }).title }));
  if (table.rowCount <= 5000) encoding.tooltip = tooltip;
  const spec = buildSpec({ mark: lineMark(table.rowCount), encoding }, options, { width: 420, height: 240 });
  return { kind: "line", spec, table };
}

/**
 * Hover shows a point's values (a tooltip on the line itself would show its first point): points
 * drawn up to 60 rows, invisible hover targets up to 5000, and no tooltip beyond (too many marks).
 */
function lineMark(rows: number): Record<string, unknown> {
  if (rows <= 60) return { type: "line", point: true };
  if (rows <= 5000) return { type: "line", point: { opacity: 0, size: 60 } };
  return { type: "line", tooltip: false };
}

/** A line chart widget (see the file comment for inputs). Tensors are read, not disposed. */
export function line(data: MatrixInput | TableInput, options: LineOptions = {}): PlotWidget {
  return new PlotWidget(prepareLine(data, options));
}
