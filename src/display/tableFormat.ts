/**
 * Arquero tables (recognised by shape, so mechlab needs no dependency on arquero): their own HTML,
 * and an aligned text table of the first rows.
 */
import * as util from "util";

/** What mechlab uses of an arquero ColumnTable. */
export interface TableLike {
  numRows(): number;
  numCols(): number;
  columnNames(): string[];
  objects(options?: { limit?: number }): Record<string, unknown>[];
  toHTML(options?: { limit?: number }): string;
}

const ROWS = 20;

export function isTableLike(value: unknown): value is TableLike {
  if (typeof value !== "object" || value === null) return false;
  const t = value as Record<string, unknown>;
  return ["numRows", "numCols", "columnNames", "objects", "toHTML"].every((name) => typeof t[name] === "function");
}

function cellText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  return util.inspect(value, { depth: 0, breakLength: Infinity });
}

export function tableText(table: TableLike): string {
  const names = table.columnNames();
  const rows = table.objects({ limit: ROWS });
  const columns = names.map((name) => [name, ...rows.map((row) => cellText(row[name]))]);
  const widths = columns.map((column) => Math.max(...column.map((c) => c.length)));
  const numeric = names.map((name) => rows.length > 0 && rows.every((row) => typeof row[name] === "number"));
  const line = (i: number) => columns.map((column, c) => (numeric[c] ? column[i].padStart(widths[c]) : column[i].padEnd(widths[c]))).join("  ").trimEnd();
  const out = [line(0), widths.map((w) => "-".repeat(w)).join("  ")];
  for (let i = 1; i <= rows.length; i++) out.push(line(i));
  const total = table.numRows();
  const head = `Table ${total} rows × ${table.numCols()} columns`;
  if (total > rows.length) out.push(`… ${total - rows.length} more rows`);
  return [head, ...out].join("\n");
}

export function tableHtml(table: TableLike): string {
  return table.toHTML({ limit: ROWS });
}
