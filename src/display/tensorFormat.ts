/**
 * Tensors as text and HTML, the way numpy prints arrays: shape and dtype first, then the values,
 * with big tensors elided to their first and last few entries along each long axis (only those
 * entries are read from the backend) plus min / max / mean.
 *
 *   Tensor float32 [2, 3]
 *   [[0.1000, 0.2000, 0.3000],
 *    [0.4000, 0.5000, 0.6000]]
 */
import { tf } from "../backend";

/** Above this many elements a tensor is shown elided. */
const THRESHOLD = 1000;
/** Entries kept at each end of an elided axis. */
const EDGE = 3;
/** numpy's line width. */
const LINE_WIDTH = 75;

/** A tf.Tensor, including one from another copy of tfjs (checked by shape). */
export function isTensor(value: unknown): value is tf.Tensor {
  if (value instanceof tf.Tensor) return true;
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<tf.Tensor>;
  return Array.isArray(candidate.shape) && typeof candidate.dtype === "string" && typeof candidate.dataSync === "function" && typeof candidate.rank === "number" && "dataId" in candidate;
}

interface Grid {
  /** Shape of the values read (elided axes have 2 * EDGE entries). */
  shape: number[];
  /** Which axes had entries left out between index EDGE - 1 and EDGE. */
  elided: boolean[];
  /** Formatted values, row-major, all the same width. */
  cells: string[];
}

/** Reads the values to show: all of them, or the edges of every long axis. */
function readShown(t: tf.Tensor): { values: ArrayLike<unknown>; shape: number[]; elided: boolean[] } {
  const shape = t.shape.slice();
  const elided = shape.map((size) => t.size > THRESHOLD && size > 2 * EDGE);
  if (!elided.some(Boolean)) return { values: t.dataSync() as ArrayLike<unknown>, shape, elided };
  try {
    const edges = tf.tidy(() => {
      let part: tf.Tensor = t;
      elided.forEach((isElided, axis) => {
        if (!isElided) return;
        const size = part.shape.slice();
        size[axis] = EDGE;
        const begin = part.shape.map(() => 0);
        const head = tf.slice(part, begin, size);
        begin[axis] = part.shape[axis] - EDGE;
        const tail = tf.slice(part, begin, size);
        part = tf.concat([head, tail], axis);
      });
      return part;
    });
    const values = edges.dataSync() as ArrayLike<unknown>;
    const shown = edges.shape.slice();
    edges.dispose();
    return { values, shape: shown, elided };
  } catch {
    // A backend without slice for this dtype: read everything once.
    return { values: t.dataSync() as ArrayLike<unknown>, shape, elided: shape.map(() => false) };
  }
}

function formatFloats(values: number[]): string[] {
  const finite = values.filter(Number.isFinite);
  const special = (v: number) => (Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf");
  if (finite.every(Number.isInteger) && finite.every((v) => Math.abs(v) < 1e16)) {
    return values.map((v) => (Number.isFinite(v) ? `${v}.` : special(v)));
  }
  const magnitudes = finite.filter((v) => v !== 0).map(Math.abs);
  const max = Math.max(0, ...magnitudes);
  const min = magnitudes.length ? Math.min(...magnitudes) : 0;
  if (max >= 1e8 || (min > 0 && min < 1e-4) || (min > 0 && max / min >= 1e3 && min < 1e-2)) {
    return values.map((v) => (Number.isFinite(v) ? v.toExponential(4) : special(v)));
  }
  // Fewest decimals (up to 4) that show every value as it would round at 4.
  let decimals = 1;
  for (const v of finite) {
    const text = v.toFixed(4).replace(/0+$/, "");
    decimals = Math.max(decimals, text.length - text.indexOf(".") - 1);
  }
  return values.map((v) => (Number.isFinite(v) ? v.toFixed(decimals) : special(v)));
}

function formatValues(dtype: string, values: ArrayLike<unknown>): string[] {
  const list = Array.from(values);
  switch (dtype) {
    case "bool":
      return list.map((v) => (v ? "true" : "false"));
    case "int32":
      return list.map((v) => String(v));
    case "string":
      return list.map((v) => JSON.stringify(typeof v === "string" ? v : new TextDecoder().decode(v as Uint8Array)));
    case "complex64": {
      const parts = formatFloats(list as number[]);
      const out: string[] = [];
      for (let i = 0; i + 1 < parts.length; i += 2) out.push(`${parts[i]}${parts[i + 1].startsWith("-") ? "" : "+"}${parts[i + 1]}j`);
      return out;
    }
    default:
      return formatFloats(list as number[]);
  }
}

function grid(t: tf.Tensor): Grid {
  const { values, shape, elided } = readShown(t);
  const cells = formatValues(t.dtype, values);
  const width = Math.max(0, ...cells.map((c) => c.length));
  return { shape, elided, cells: cells.map((c) => c.padStart(width)) };
}

/** Wraps the entries of one innermost row at the line width, continuing under the first entry. */
function wrapRow(items: string[], indent: number): string {
  const lines: string[] = [];
  let line = "";
  for (const [i, item] of items.entries()) {
    const piece = i < items.length - 1 ? `${item}, ` : item;
    if (line && indent + line.length + piece.trimEnd().length > LINE_WIDTH) {
      lines.push(line.trimEnd());
      line = "";
    }
    line += piece;
  }
  lines.push(line);
  return lines.join("\n" + " ".repeat(indent));
}

function renderText(g: Grid): string {
  const rank = g.shape.length;
  if (rank === 0) return g.cells[0] ?? "";
  const strides = g.shape.map((_, axis) => g.shape.slice(axis + 1).reduce((a, b) => a * b, 1));
  const render = (axis: number, offset: number): string => {
    const items: string[] = [];
    for (let i = 0; i < g.shape[axis]; i++) {
      if (g.elided[axis] && i === EDGE) items.push("...");
      items.push(axis === rank - 1 ? g.cells[offset + i] : render(axis + 1, offset + i * strides[axis]));
    }
    if (axis === rank - 1) return `[${wrapRow(items, axis + 1)}]`;
    return `[${items.join("," + "\n".repeat(rank - axis - 1) + " ".repeat(axis + 1))}]`;
  };
  return render(0, 0);
}

function header(t: tf.Tensor): string {
  return `Tensor ${t.dtype} [${t.shape.join(", ")}]`;
}

/** min / max / mean of a big float tensor, for its header. */
function summary(t: tf.Tensor): string {
  if (t.size <= THRESHOLD || (t.dtype !== "float32" && t.dtype !== "int32")) return "";
  try {
    const [min, max, mean] = tf.tidy(() => [tf.min(t), tf.max(t), tf.mean(tf.cast(t, "float32"))].map((s) => s.dataSync()[0]));
    const show = (v: number) => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4));
    return `  min ${show(min)}  max ${show(max)}  mean ${show(mean)}`;
  } catch {
    return "";
  }
}

/** numpy-style text: header line, then the values. */
export function tensorText(t: tf.Tensor): string {
  if (t.isDisposed) return `${header(t)} (disposed)`;
  return `${header(t)}${summary(t)}\n${renderText(grid(t))}`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A small HTML view: a table for vectors and matrices, the text for higher ranks. */
export function tensorHtml(t: tf.Tensor): string {
  const caption = `<div style="font-family: monospace; color: #555">${escapeHtml(header(t) + (t.isDisposed ? " (disposed)" : summary(t)))}</div>`;
  if (t.isDisposed) return caption;
  const g = grid(t);
  if (g.shape.length === 0 || g.shape.length > 2) return `${caption}<pre>${escapeHtml(renderText(g))}</pre>`;
  const [rows, cols] = g.shape.length === 1 ? [1, g.shape[0]] : g.shape;
  const rowElided = g.shape.length === 2 && g.elided[0];
  const colElided = g.elided[g.shape.length - 1];
  const td = (text: string) => `<td style="text-align: right; padding: 1px 6px">${escapeHtml(text.trim())}</td>`;
  const body: string[] = [];
  for (let r = 0; r < rows; r++) {
    if (rowElided && r === EDGE) body.push(`<tr>${td("⋮").repeat(cols + (colElided ? 1 : 0))}</tr>`);
    const cells: string[] = [];
    for (let c = 0; c < cols; c++) {
      if (colElided && c === EDGE) cells.push(td("…"));
      cells.push(td(g.cells[r * cols + c]));
    }
    body.push(`<tr>${cells.join("")}</tr>`);
  }
  return `${caption}<table style="font-family: monospace; border-collapse: collapse">${body.join("")}</table>`;
}
