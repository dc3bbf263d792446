/**
 * plot.scatter: points.
 *   - a table (arquero or a record of columns): `x`, `y` and optional `color` field names;
 *   - a 2-D [points, 2] matrix: columns x and y; `color` may give a value or label per point.
 */
import { categoryColumn, numberColumn, plotTable, type PlotColumn } from "./plotColumns";
import { isTableInput, tableColumn, toMatrix, type MatrixInput, type TableInput } from "./plotInput";
import { axisChannel, buildSpec, fieldRef, type PlotOptions } from "./plotSpec";
import { PlotWidget, type PreparedPlot } from "./plotWidget";

export interface ScatterOptions extends PlotOptions {
  /** Table input: the x / y fields (required). */
  x?: string;
  y?: string;
  /** Table input: the colour field. Matrix input: a label or number per point. */
  color?: string | string[] | number[];
  /** The legend title (default the colour field, or "color"). */
  colorTitle?: string;
}

const WHAT = "plot.scatter";

export function prepareScatter(data: MatrixInput | TableInput, options: ScatterOptions = {}): PreparedPlot {
  const columns: PlotColumn[] = [];
  let titles: [string, string];
  if (isTableInput(data)) {
    if (typeof options.x !== "string" || typeof options.y !== "string") throw new Error(`${WHAT}: with a table, options.x and options.y must name the x and y fields.`);
    columns.push(tableColumn(data, options.x, WHAT), tableColumn(data, options.y, WHAT));
    if (options.color !== undefined) {
      if (typeof options.color !== "string") throw new Error(`${WHAT}: with a table, options.color must name a field.`);
      columns.push(tableColumn(data, options.color, WHAT));
    }
    titles = [options.x, options.y];
  } else {
    const m = toMatrix(data, WHAT);
    if (m.rank !== 2 || m.cols !== 2) throw new Error(`${WHAT}: expected points as a [points, 2] matrix (x, y per row) or a table, got ${m.rank === 1 ? `a 1-D array of ${m.cols}` : `shape [${m.rows}, ${m.cols}]`}.`);
    const x = new Float32Array(m.rows);
    const y = new Float32Array(m.rows);
    for (let i = 0; i < m.rows; i++) [x[i], y[i]] = [m.values[2 * i]!, m.values[2 * i + 1]!];
    columns.push(numberColumn("x", x), numberColumn("y", y));
    if (options.color !== undefined) {
      if (!Array.isArray(options.color) || options.color.length !== m.rows) throw new Error(`${WHAT}: options.color must be an array with one value per point (${m.rows}) for matrix input.`);
      const values = options.color as unknown[];
      columns.push(values.every((v) => typeof v === "number") ? numberColumn("color", values as number[]) : categoryColumn("color", values));
    }
    titles = ["x", "y"];
  }
  const table = plotTable(columns, WHAT);
  const encoding: Record<string, unknown> = {
    x: axisChannel({ field: fieldRef(columns[0]!.name), type: "quantitative", title: titles[0], scale: { zero: false } }, options.xLabel, options.logX),
    y: axisChannel({ field: fieldRef(columns[1]!.name), type: "quantitative", title: titles[1], scale: { zero: false } }, options.yLabel, options.logY),
  };
  const color = columns[2];
  if (color) {
    const title = options.colorTitle ?? (typeof options.color === "string" ? options.color : "color");
    encoding.color = { field: fieldRef(color.name), type: color.type === "number" ? "quantitative" : "nominal", title };
  }
  encoding.tooltip = [encoding.x, encoding.y, encoding.color].filter(Boolean).map((c) => ({ field: (c as { field: string }).field, type: (c as { type: string }).type, title: (c as { title?: string }).title }));
  const spec = buildSpec({ mark: { type: "point", filled: true, opacity: 0.7, size: table.rowCount > 2000 ? 8 : 30 }, encoding }, options, { width: 360, height: 300 });
  return { kind: "scatter", spec, table };
}

/** A scatter plot widget (see the file comment for inputs). Tensors are read, not disposed. */
export function scatter(data: MatrixInput | TableInput, options: ScatterOptions = {}): PlotWidget {
  return new PlotWidget(prepareScatter(data, options));
}
