/**
 * What the plot functions accept, read into plain numbers (kernel side, no DOM):
 *   - a tf.Tensor (read, never disposed: the caller keeps ownership), a typed array, number[] or
 *     number[][] — as a matrix [rows, cols] (a 1-D input is one row);
 *   - a table: an arquero table (anything with `columnNames()`, `array(name)`, `numRows()`) or a
 *     record of equal-length columns `{ step: [...], loss: tensor1d, label: ["a", ...] }`.
 */
import { tf } from "../backend";
import { categoryColumn, numberColumn, type PlotColumn } from "./plotColumns";

export type NumericArray = tf.Tensor | number[] | Float32Array | Float64Array | Int32Array;
export type MatrixInput = NumericArray | number[][];

/** The part of an arquero table the plots read. */
export interface ArqueroLike {
  columnNames(): string[];
  numRows(): number;
  array(name: string): ArrayLike<unknown>;
}

export type ColumnRecord = Record<string, NumericArray | string[] | unknown[]>;
export type TableInput = ArqueroLike | ColumnRecord;

export interface Matrix {
  /** 1 or 2: the input's rank (a 1-D input is read as one row). */
  rank: number;
  rows: number;
  cols: number;
  /** [rows, cols] row-major. */
  values: Float32Array;
}

export function isArqueroTable(value: unknown): value is ArqueroLike {
  const t = value as Partial<ArqueroLike> | null;
  return typeof t === "object" && t !== null && typeof t.columnNames === "function" && typeof t.numRows === "function" && typeof t.array === "function";
}

function isTypedNumbers(value: unknown): value is Float32Array | Float64Array | Int32Array {
  return value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array;
}

/** Whether `value` is an arquero table or a record of columns (not a tensor or an array). */
export function isTableInput(value: unknown): value is TableInput {
  if (isArqueroTable(value)) return true;
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof tf.Tensor) && !ArrayBuffer.isView(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value instanceof tf.Tensor) return `a tensor of shape [${value.shape.join(", ")}]`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return typeof value;
}

/** Reads a 1-D or 2-D numeric input. Ragged nested arrays and other ranks are errors. */
export function toMatrix(data: unknown, what: string): Matrix {
  if (data instanceof tf.Tensor) {
    if (data.isDisposed) throw new Error(`${what}: the tensor was disposed.`);
    if (data.rank !== 1 && data.rank !== 2) throw new Error(`${what}: expected a 1-D [points] or 2-D [rows, cols] tensor, got shape [${data.shape.join(", ")}].`);
    const values = Float32Array.from(data.dataSync() as ArrayLike<number>);
    return data.rank === 1 ? { rank: 1, rows: 1, cols: data.shape[0]!, values } : { rank: 2, rows: data.shape[0]!, cols: data.shape[1]!, values };
  }
  if (isTypedNumbers(data)) return { rank: 1, rows: 1, cols: data.length, values: Float32Array.from(data) };
  if (Array.isArray(data)) {
    if (data.length > 0 && data.every((row) => Array.isArray(row) || isTypedNumbers(row))) {
      const rows = data as ArrayLike<number>[];
      const cols = rows[0]!.length;
      const values = new Float32Array(rows.length * cols);
      rows.forEach((row, r) => {
        if (row.length !== cols) throw new Error(`${what}: ragged rows: row ${r} has ${row.length} values but row 0 has ${cols}; a 2-D array needs rows of equal length.`);
        for (let c = 0; c < cols; c++) values[r * cols + c] = checkNumber(row[c], what, `[${r}][${c}]`);
      });
      return { rank: 2, rows: rows.length, cols, values };
    }
    const values = new Float32Array(data.length);
    data.forEach((v, i) => (values[i] = checkNumber(v, what, `[${i}]`)));
    return { rank: 1, rows: 1, cols: data.length, values };
  }
  throw new Error(`${what}: expected a tensor, a typed array, number[] or number[][], got ${describe(data)}.`);
}

function checkNumber(value: unknown, what: string, where: string): number {
  if (typeof value === "number") return value;
  if (value === null || value === undefined) return NaN;
  if (Array.isArray(value)) throw new Error(`${what}: ragged or mixed nesting: element ${where} is an array while others are numbers.`);
  throw new Error(`${what}: element ${where} is ${typeof value} (${JSON.stringify(value)}); expected a number.`);
}

/** The column names of a table input. */
export function tableFields(table: TableInput): string[] {
  return isArqueroTable(table) ? table.columnNames() : Object.keys(table);
}

/**
 * Column `field` of a table as a plot column: numeric when every value is a number (null/undefined
 * become NaN), otherwise text labels. A missing field is an error naming the fields there are.
 */
export function tableColumn(table: TableInput, field: string, what: string, as: string = field): PlotColumn {
  const fields = tableFields(table);
  if (!fields.includes(field)) throw new Error(`${what}: no field "${field}" in the table; its fields are ${fields.map((f) => `"${f}"`).join(", ")}.`);
  let raw: unknown = isArqueroTable(table) ? table.array(field) : (table as ColumnRecord)[field];
  if (raw instanceof tf.Tensor) {
    if (raw.rank !== 1) throw new Error(`${what}: field "${field}" is a tensor of shape [${raw.shape.join(", ")}]; a column must be 1-D.`);
    raw = raw.dataSync();
  }
  if (!isTypedNumbers(raw) && !(raw instanceof Float32Array) && !Array.isArray(raw) && !ArrayBuffer.isView(raw)) {
    throw new Error(`${what}: field "${field}" is ${describe(raw)}; a column must be an array, typed array or 1-D tensor.`);
  }
  const values = raw as ArrayLike<unknown>;
  let numeric = true;
  for (let i = 0; i < values.length && numeric; i++) {
    const v = values[i];
    if (typeof v !== "number" && v !== null && v !== undefined) numeric = false;
  }
  if (numeric) return numberColumn(as, Array.from(values, (v) => (typeof v === "number" ? v : NaN)));
  return categoryColumn(as, values);
}

/** The number of rows of a table input (a record's columns must agree; plotTable checks). */
export function tableRowCount(table: TableInput): number {
  if (isArqueroTable(table)) return table.numRows();
  const first = Object.values(table)[0] as { length?: number; shape?: number[] } | undefined;
  if (!first) return 0;
  return first instanceof tf.Tensor ? first.shape[0]! : (first.length ?? 0);
}
