/**
 * Any value as a Jupyter MIME bundle: what a notebook shows for a cell's last expression and for
 * `display(value)`.
 *
 * - Objects with a `[Symbol.for("Jupyter.display")]()` method give their own bundle (the
 *   convention Deno's kernel uses; mechlab's widgets and results implement it).
 * - tf tensors: shape, dtype and numpy-style values (text/plain and a small text/html table).
 * - arquero tables: their HTML and an aligned text table.
 * - Everything else: text as Node's REPL prints it (strings quoted, objects inspected).
 */
import * as util from "util";
import type { MimeBundle } from "../notebook/kernelRuntime";
import { isTableLike, tableHtml, tableText } from "./tableFormat";
import { isTensor, tensorHtml, tensorText } from "./tensorFormat";

export type { MimeBundle };

/** The method an object implements to choose how notebooks show it. */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display");

/** An object that renders itself in notebooks. */
export interface Displayable {
  [JUPYTER_DISPLAY](): MimeBundle;
}

/** Text of a plain value, as Node's REPL shows it. */
export function plainText(value: unknown): string {
  return util.inspect(value, { depth: 4, maxArrayLength: 100, maxStringLength: 10_000, breakLength: 100, colors: false });
}

function ownBundle(value: object): MimeBundle | undefined {
  const method = (value as Record<symbol, unknown>)[JUPYTER_DISPLAY];
  if (typeof method !== "function") return undefined;
  const bundle = method.call(value) as unknown;
  if (typeof bundle !== "object" || bundle === null || Array.isArray(bundle)) {
    throw new TypeError(`[Symbol.for("Jupyter.display")]() must return a MIME bundle object, got ${plainText(bundle)}`);
  }
  return bundle as MimeBundle;
}

/**
 * The MIME bundle notebooks show for `value`. Has text/plain, except that an object whose
 * Jupyter.display method returns an empty bundle asks to show nothing (a display handle).
 */
export function toMimeBundle(value: unknown): MimeBundle {
  if ((typeof value === "object" && value !== null) || typeof value === "function") {
    const own = ownBundle(value);
    if (own && Object.keys(own).length === 0) return own;
    if (own) return "text/plain" in own ? own : { ...own, "text/plain": plainText(value) };
    if (isTensor(value)) return { "text/plain": tensorText(value), "text/html": tensorHtml(value) };
    if (isTableLike(value)) return { "text/plain": tableText(value), "text/html": tableHtml(value) };
  }
  return { "text/plain": plainText(value) };
}
