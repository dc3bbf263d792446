/**
 * Plot columns (state key `columns`, see src/plots/plotColumns.ts) → vega data rows. Numeric
 * columns arrive as Float32 buffers (DataView live, Float32Array static), text columns as labels
 * plus Int32 codes. NaN becomes null (vega leaves nulls out of line and point marks).
 */
import { asFloat32, asInt32 } from "./arrays";

export type PlotRow = Record<string, number | string | null>;

interface ColumnState {
  name: string;
  type: "number" | "category";
  values?: unknown;
  labels?: string[];
  codes?: unknown;
}

export function plotRows(columns: unknown, rowCount: number): PlotRow[] {
  if (!Array.isArray(columns)) throw new TypeError("PlotView: state `columns` must be a list of columns");
  const readers = (columns as ColumnState[]).map((column) => {
    if (column.type === "number") {
      const values = asFloat32(column.values, `column ${column.name}`);
      return (row: number): number | null => {
        const v = values[row]!;
        return Number.isFinite(v) ? v : null;
      };
    }
    const labels = column.labels ?? [];
    const codes = asInt32(column.codes, `column ${column.name} codes`);
    return (row: number): string | null => labels[codes[row]!] ?? null;
  });
  const names = (columns as ColumnState[]).map((c) => c.name);
  const rows: PlotRow[] = new Array(rowCount);
  for (let r = 0; r < rowCount; r++) {
    const row: PlotRow = {};
    for (let c = 0; c < names.length; c++) row[names[c]!] = readers[c]!(r);
    rows[r] = row;
  }
  return rows;
}
