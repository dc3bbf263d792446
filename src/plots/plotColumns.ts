/**
 * The columns a plot widget carries to the browser: numeric columns as Float32 buffers (binary,
 * never JSON number lists) and text columns dictionary-encoded (the distinct labels once, then an
 * Int32 code per row). The view turns them into vega data rows (widgets/views/plotRows.ts).
 */

export interface NumberColumn {
  name: string;
  type: "number";
  /** [row] */
  values: Float32Array;
}

export interface CategoryColumn {
  name: string;
  type: "category";
  /** The distinct labels, in first-seen order. */
  labels: string[];
  /** [row] index into `labels`. */
  codes: Int32Array;
}

export type PlotColumn = NumberColumn | CategoryColumn;

/** Column-major plot data: every column has `rowCount` rows. */
export interface PlotTable {
  columns: PlotColumn[];
  rowCount: number;
}

export function numberColumn(name: string, values: ArrayLike<number>): NumberColumn {
  return { name, type: "number", values: values instanceof Float32Array ? values : Float32Array.from(values) };
}

/** Dictionary-encodes `values` (first-seen order of the distinct labels). */
export function categoryColumn(name: string, values: ArrayLike<unknown>): CategoryColumn {
  const labels: string[] = [];
  const index = new Map<string, number>();
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const label = String(values[i]);
    let code = index.get(label);
    if (code === undefined) {
      code = labels.length;
      labels.push(label);
      index.set(label, code);
    }
    codes[i] = code;
  }
  return { name, type: "category", labels, codes };
}

/** A table from columns, checking that they are all the same length. */
export function plotTable(columns: PlotColumn[], what: string): PlotTable {
  const lengths = columns.map((c) => (c.type === "number" ? c.values.length : c.codes.length));
  const rowCount = lengths[0] ?? 0;
  columns.forEach((c, i) => {
    if (lengths[i] !== rowCount) throw new Error(`${what}: column "${c.name}" has ${lengths[i]} rows but "${columns[0]!.name}" has ${rowCount}; columns must be the same length.`);
  });
  const names = new Set<string>();
  for (const c of columns) {
    if (names.has(c.name)) throw new Error(`${what}: two columns are named "${c.name}".`);
    names.add(c.name);
  }
  return { columns, rowCount };
}

/** The table as vega data rows (numbers as numbers, NaN as null; categories as their labels). */
export function tableRows(table: PlotTable): Record<string, number | string | null>[] {
  const rows: Record<string, number | string | null>[] = [];
  for (let r = 0; r < table.rowCount; r++) {
    const row: Record<string, number | string | null> = {};
    for (const c of table.columns) {
      if (c.type === "number") {
        const v = c.values[r]!;
        row[c.name] = Number.isFinite(v) ? v : null;
      } else row[c.name] = c.labels[c.codes[r]!]!;
    }
    rows.push(row);
  }
  return rows;
}
