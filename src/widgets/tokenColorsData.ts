/**
 * Data preparation of the token-colours widget (kernel side, no DOM): per-token values over one
 * or many texts, in one or several named value sets.
 *
 * Buffer layout: `values` is [set, token] where the tokens of every text are laid end to end
 * (text t starts at the sum of the earlier texts' lengths). Value sets are in `setNames` order.
 */
import { tf } from "../backend";
import { resolveTokens, type StrTokenSource } from "./attentionData";

/** Per-token values: one text's [pos] or several texts' [text, pos] (a tensor, nested arrays or a typed array for one text). */
export type TokenValues = tf.Tensor | number[] | number[][] | Float32Array | Float64Array;

export type ColorScaleName = "auto" | "diverging" | "sequential";

export interface TokenColorsDataOptions {
  /** "diverging" (two colours around `center`), "sequential" (one colour from the minimum), or "auto": diverging when a set has values on both sides of `center`. */
  colorScale?: ColorScaleName;
  /** The value drawn as no colour in a diverging scale (default 0). */
  center?: number;
  /** With texts: the model that splits them into tokens. */
  model?: StrTokenSource;
  /** With texts and a model: whether BOS was prepended (the model's default otherwise). */
  prependBos?: boolean;
}

export interface TokenColorsData {
  tokens: string[][];
  /** [set, token] (see the file comment). */
  values: Float32Array;
  setNames: string[];
  /** The number of tokens of each text. */
  textLengths: number[];
  colorScale: "diverging" | "sequential";
  center: number;
}

/** The default name of an unnamed value set. */
export const DEFAULT_SET_NAME = "values";

/**
 * `texts`: with `options.model`, a text or texts to tokenize; without one, token strings
 * (string[] for one text, string[][] for several).
 */
export function prepareTokenColors(
  texts: string | string[] | string[][],
  values: TokenValues | Record<string, TokenValues>,
  options: TokenColorsDataOptions = {},
): TokenColorsData {
  const tokens = toTokenLists(texts, options);
  const textLengths = tokens.map((t) => t.length);
  const total = textLengths.reduce((a, b) => a + b, 0);
  const sets = isValueSetRecord(values) ? Object.entries(values) : [[DEFAULT_SET_NAME, values] as [string, TokenValues]];
  if (sets.length === 0) throw new Error("tokenColors: no value sets given (an empty object).");

  const out = new Float32Array(sets.length * total);
  sets.forEach(([name, set], s) => {
    const rows = toRows(set, name);
    if (rows.length !== tokens.length) {
      throw new Error(`tokenColors: value set "${name}" has values for ${rows.length} text(s) but there are ${tokens.length} text(s).`);
    }
    let offset = s * total;
    rows.forEach((row, t) => {
      if (row.length !== textLengths[t]) {
        throw new Error(`tokenColors: value set "${name}", text ${t}: ${row.length} values for ${textLengths[t]} tokens; give one value per token.`);
      }
      out.set(row, offset);
      offset += row.length;
    });
  });

  const center = options.center ?? 0;
  let colorScale = options.colorScale ?? "auto";
  if (colorScale === "auto") {
    let below = false;
    let above = false;
    for (const v of out) {
      if (v < center) below = true;
      else if (v > center) above = true;
    }
    colorScale = below && above ? "diverging" : "sequential";
  }
  return { tokens, values: out, setNames: sets.map(([name]) => name), textLengths, colorScale, center };
}

function toTokenLists(texts: string | string[] | string[][], options: TokenColorsDataOptions): string[][] {
  if (options.model !== undefined) {
    if (Array.isArray(texts) && texts.length > 0 && Array.isArray(texts[0])) {
      throw new Error("tokenColors: with a `model`, give text(s) to tokenize, not token strings.");
    }
    return resolveTokens({ model: options.model, input: texts as string | string[], prependBos: options.prependBos }, "tokenColors")!;
  }
  if (typeof texts === "string") throw new Error("tokenColors: a text needs a `model` to split it into tokens; or give the token strings (string[] or string[][]).");
  return resolveTokens({ tokens: texts }, "tokenColors")!;
}

function isValueSetRecord(values: TokenValues | Record<string, TokenValues>): values is Record<string, TokenValues> {
  return !(values instanceof tf.Tensor) && !Array.isArray(values) && !ArrayBuffer.isView(values);
}

/** Rows of values, one per text. Tensors are read without creating new ones. */
function toRows(values: TokenValues, name: string): Float32Array[] {
  if (values instanceof tf.Tensor) {
    const data = Float32Array.from(values.dataSync());
    if (values.rank === 1) return [data];
    if (values.rank === 2) {
      const [n, len] = values.shape;
      return Array.from({ length: n }, (_, i) => data.subarray(i * len, (i + 1) * len));
    }
    throw new Error(`tokenColors: value set "${name}" must be [pos] or [text, pos], got a tensor of shape [${values.shape.join(", ")}].`);
  }
  if (ArrayBuffer.isView(values)) return [Float32Array.from(values)];
  if (values.length > 0 && Array.isArray(values[0])) return (values as number[][]).map((row) => Float32Array.from(row));
  if (!values.every((v) => typeof v === "number")) throw new Error(`tokenColors: value set "${name}" must hold numbers.`);
  return [Float32Array.from(values as number[])];
}
