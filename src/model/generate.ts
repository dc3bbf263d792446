/**
 * Sampling continuations from a HookedTransformer: temperature, top-k, nucleus (top-p), greedy at
 * temperature 0, stop at EOS, seeded. Each step runs the whole sequence (no key/value cache) and
 * awaits between tokens so notebooks stay responsive and an AbortSignal can stop it.
 */
import { tf } from "../backend";
import type { Tokenizer } from "../tokenizers/tokenizer";
import type { Config } from "./config";
import { encodeText, requireTokenizer } from "./tokenInput";

export interface GenerateOptions {
  maxNewTokens?: number;
  /** 0 = greedy (argmax). Default 1. */
  temperature?: number;
  /** Sample only among the k most likely tokens. */
  topK?: number;
  /** Sample only from the smallest set of tokens whose probability reaches p. */
  topP?: number;
  /** Stop a sequence once it produces the tokenizer's EOS token (default true when there is one). */
  stopAtEos?: boolean;
  /** Token id that ends a sequence (default: the tokenizer's EOS). */
  eosTokenId?: number;
  /** Seed for the sampler, so a generation can be repeated. */
  seed?: number;
  /** For text input: prepend BOS (default cfg.defaultPrependBos). */
  prependBos?: boolean;
  /** Called after each new token with the step and the new token ids (one per sequence). */
  onToken?: (step: number, tokenIds: number[]) => void;
  signal?: AbortSignal;
}

/** What generate needs from the model. */
export interface GenerativeModel {
  readonly cfg: Config;
  readonly tokenizer: Tokenizer | undefined;
  forward(input: number[][], options: { returnType: "logits" }): tf.Tensor3D;
}

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks a token id from one row of logits. */
export function sampleToken(logits: Float32Array, options: GenerateOptions, random: () => number): number {
  const temperature = options.temperature ?? 1;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
  if (options.topK !== undefined) order = order.slice(0, options.topK);
  const max = logits[order[0]];
  let probs = order.map((i) => Math.exp((logits[i] - max) / temperature));
  let total = probs.reduce((s, p) => s + p, 0);
  probs = probs.map((p) => p / total);
  if (options.topP !== undefined) {
    let cumulative = 0;
    let keep = 0;
    while (keep < probs.length && cumulative < options.topP) cumulative += probs[keep++];
    order = order.slice(0, Math.max(keep, 1));
    probs = probs.slice(0, order.length);
    total = probs.reduce((s, p) => s + p, 0);
    probs = probs.map((p) => p / total);
  }
  let r = random();
  for (let i = 0; i < order.length; i++) {
    r -= probs[i];
    if (r <= 0) return order[i];
  }
  return order[order.length - 1];
}

function checkOptions(options: GenerateOptions): void {
  const { maxNewTokens, temperature, topK, topP } = options;
  if (maxNewTokens !== undefined && (!Number.isInteger(maxNewTokens) || maxNewTokens < 0)) throw new Error(`maxNewTokens must be a non-negative integer; got ${maxNewTokens}.`);
  if (temperature !== undefined && !(temperature >= 0)) throw new Error(`temperature must be ≥ 0 (0 = greedy); got ${temperature}.`);
  if (topK !== undefined && (!Number.isInteger(topK) || topK < 1)) throw new Error(`topK must be a positive integer; got ${topK}.`);
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw new Error(`topP must be in (0, 1]; got ${topP}.`);
}

export async function generateTokens(model: GenerativeModel, input: string | number[] | number[][] | tf.Tensor, options: GenerateOptions): Promise<string | tf.Tensor2D> {
  checkOptions(options);
  const textInput = typeof input === "string";
  let rows: number[][];
  if (textInput) {
    const tok = requireTokenizer(model.tokenizer, "Generating from text");
    rows = [encodeText(tok, input, options.prependBos ?? model.cfg.defaultPrependBos)];
  } else if (input instanceof tf.Tensor) {
    rows = input.rank === 1 ? [Array.from(input.dataSync())] : (input.arraySync() as number[][]);
  } else {
    rows = Array.isArray(input[0]) ? (input as number[][]).map((r) => [...r]) : [[...(input as number[])]];
  }
  const eos = options.eosTokenId ?? model.tokenizer?.eosTokenId;
  const stopAtEos = (options.stopAtEos ?? true) && eos !== undefined;
  const random = seededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 31));
  const maxNewTokens = options.maxNewTokens ?? 10;
  const finished = rows.map(() => false);
  const promptLength = rows[0].length;

  for (let step = 0; step < maxNewTokens; step++) {
    if (options.signal?.aborted) break;
    if (rows[0].length >= model.cfg.nCtx) break;
    const logits = model.forward(rows, { returnType: "logits" });
    const [batch, pos, vocab] = logits.shape;
    const last = tf.tidy(() => logits.slice([0, pos - 1, 0], [batch, 1, vocab]).reshape([batch, vocab]));
    const values = (await last.data()) as Float32Array;
    logits.dispose();
    last.dispose();
    const chosen: number[] = [];
    for (let b = 0; b < batch; b++) {
      // A finished sequence keeps emitting EOS so the batch stays rectangular.
      const id = finished[b] ? eos! : sampleToken(values.subarray(b * vocab, (b + 1) * vocab), options, random);
      rows[b].push(id);
      chosen.push(id);
      if (stopAtEos && id === eos) finished[b] = true;
    }
    options.onToken?.(step, chosen);
    if (finished.every(Boolean)) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (textInput) {
    const tok = model.tokenizer!;
    const prompt = input as string;
    const generated = rows[0].slice(promptLength);
    const trimmed = stopAtEos && generated.includes(eos!) ? generated.slice(0, generated.indexOf(eos!)) : generated;
    return prompt + tok.decode(trimmed);
  }
  return tf.tensor2d(rows, undefined, "int32");
}
