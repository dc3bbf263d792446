/**
 * Turning what a user passes to a model (text, several texts, token ids, a tensor) into a
 * validated int32 token tensor [batch, pos], with TransformerLens's prependBos behaviour.
 */
import { tf } from "../backend";
import type { Tokenizer } from "../tokenizers/tokenizer";
import type { Config } from "./config";

/** Text, texts, token ids (one or many sequences) or an int32 tensor [pos] or [batch, pos]. */
export type ModelInput = string | string[] | number[] | number[][] | tf.Tensor;

export interface TokenizeOptions {
  /** Prepend the BOS token (default: cfg.defaultPrependBos). Only applies to text. */
  prependBos?: boolean;
  /** Where padding goes when texts have different lengths (default "right", as TransformerLens). */
  paddingSide?: "left" | "right";
  /** Cut sequences longer than nCtx instead of throwing (default false). */
  truncate?: boolean;
}

export interface TokenBatch {
  /** int32 [batch, pos]. Owned by the caller. */
  tokens: tf.Tensor2D;
  /** float32 [batch, pos], 1 for real tokens and 0 for padding; only when texts were padded. Owned by the caller. */
  attentionMask?: tf.Tensor2D;
}

const warned = new Set<string>();
/** Warns once per kind of surprise, so loops do not flood the output. */
export function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`mechlab: ${message}`);
}

export function requireTokenizer(tokenizer: Tokenizer | undefined, what: string): Tokenizer {
  if (!tokenizer) {
    throw new Error(`${what} needs a tokenizer, and this model has none. Pass token ids (number[][] or an int32 tensor [batch, pos]) instead, or give the model a tokenizer (model.setTokenizer).`);
  }
  return tokenizer;
}

/** Encodes one text, prepending BOS when asked; warns if the text already starts with BOS. */
export function encodeText(tokenizer: Tokenizer, text: string, prependBos: boolean): number[] {
  const ids = tokenizer.encode(text);
  if (!prependBos) return ids;
  if (tokenizer.bosTokenId === undefined) {
    warnOnce("no-bos", `prependBos is on but the ${tokenizer.name} tokenizer has no BOS token; nothing was prepended.`);
    return ids;
  }
  if (ids[0] === tokenizer.bosTokenId) {
    warnOnce(
      "double-bos",
      `the text already starts with the BOS token and prependBos is on, so the sequence starts with two BOS tokens. ` +
        `Pass { prependBos: false } if that is not what you want.`,
    );
  }
  return [tokenizer.bosTokenId, ...ids];
}

function checkIds(rows: number[][], cfg: Config, truncate: boolean): number[][] {
  if (rows.length === 0) throw new Error("The input has no sequences; expected at least one sequence of token ids.");
  const out = rows.map((row, b) => {
    if (row.length === 0) throw new Error(`Sequence ${b} of the input is empty; every sequence needs at least one token.`);
    for (let p = 0; p < row.length; p++) {
      const id = row[p];
      if (!Number.isInteger(id) || id < 0 || id >= cfg.dVocab) {
        throw new Error(`Token id ${id} at [batch ${b}, position ${p}] is out of range: this model's ids are integers in [0, ${cfg.dVocab}).`);
      }
    }
    if (row.length > cfg.nCtx) {
      if (truncate) return row.slice(0, cfg.nCtx);
      throw new Error(`Sequence ${b} has ${row.length} tokens but this model's context is nCtx = ${cfg.nCtx}. Shorten it, or pass { truncate: true }.`);
    }
    return row;
  });
  return out;
}

function padRows(rows: number[][], padId: number, side: "left" | "right"): { ids: number[][]; mask?: number[][] } {
  const width = Math.max(...rows.map((r) => r.length));
  if (rows.every((r) => r.length === width)) return { ids: rows };
  const ids: number[][] = [];
  const mask: number[][] = [];
  for (const row of rows) {
    const fill = new Array<number>(width - row.length).fill(padId);
    const ones = new Array<number>(row.length).fill(1);
    const zeros = new Array<number>(width - row.length).fill(0);
    ids.push(side === "right" ? [...row, ...fill] : [...fill, ...row]);
    mask.push(side === "right" ? [...ones, ...zeros] : [...zeros, ...ones]);
  }
  return { ids, mask };
}

/** Validates and converts any ModelInput to a TokenBatch (new tensors the caller owns). */
export function toTokenBatch(input: ModelInput, cfg: Config, tokenizer: Tokenizer | undefined, options: TokenizeOptions = {}): TokenBatch {
  const truncate = options.truncate ?? false;
  if (input instanceof tf.Tensor) {
    if (input.dtype !== "int32") {
      throw new Error(`A token tensor must have dtype int32; got ${input.dtype}. Use tf.tensor(ids, shape, "int32").`);
    }
    if (input.rank !== 1 && input.rank !== 2) {
      throw new Error(`A token tensor must be [pos] or [batch, pos]; got shape [${input.shape.join(", ")}].`);
    }
    const rows = input.rank === 1 ? [Array.from(input.dataSync())] : (input.arraySync() as number[][]);
    return { tokens: tf.tensor2d(checkIds(rows, cfg, truncate), undefined, "int32") };
  }
  if (typeof input === "string" || (Array.isArray(input) && input.length > 0 && typeof input[0] === "string")) {
    const tok = requireTokenizer(tokenizer, "Text input");
    const texts = typeof input === "string" ? [input] : (input as string[]);
    if (!texts.every((t) => typeof t === "string")) throw new Error("A list of texts must contain only strings.");
    const prependBos = options.prependBos ?? cfg.defaultPrependBos;
    const rows = checkIds(texts.map((text) => encodeText(tok, text, prependBos)), cfg, truncate);
    const padId = tok.padTokenId ?? tok.eosTokenId ?? 0;
    const { ids, mask } = padRows(rows, padId, options.paddingSide ?? "right");
    return {
      tokens: tf.tensor2d(ids, undefined, "int32"),
      attentionMask: mask ? tf.tensor2d(mask, undefined, "float32") : undefined,
    };
  }
  if (Array.isArray(input)) {
    if (input.length === 0) throw new Error("The input is an empty list; expected text, token ids or a token tensor.");
    const rows = Array.isArray(input[0]) ? (input as number[][]) : [input as number[]];
    if (!rows.every((r) => Array.isArray(r))) throw new Error("Token ids must be number[] (one sequence) or number[][] (a batch), not a mix.");
    const checked = checkIds(rows, cfg, truncate);
    const width = checked[0].length;
    if (!checked.every((r) => r.length === width)) {
      throw new Error(`The token sequences have different lengths (${checked.map((r) => r.length).join(", ")}); pad them to one length, or pass texts and let the model pad.`);
    }
    return { tokens: tf.tensor2d(checked, undefined, "int32") };
  }
  throw new Error(`Cannot use ${typeof input} as model input; expected text, a list of texts, token ids or an int32 token tensor.`);
}
