/**
 * Head detectors: how much each head's attention follows a known pattern, from cached
 * attention patterns (blocks.L.attn.hook_pattern, [batch, head, query, key]).
 *
 *   previous-token score  mean attention from each query q ≥ 1 to key q − 1
 *   duplicate-token score on a sequence that ends with two copies of `period` tokens: mean
 *                         attention from each query of the second copy (the last `period`
 *                         positions) to its earlier occurrence, q − period
 *   induction score       on the same: mean attention to the token after the earlier occurrence,
 *                         q − period + 1 (the −(period − 1) diagonal)
 *   detectHead            any 0/1 detection pattern [query, key]: the share of each head's
 *                         attention that lands on it, Σ pattern·detection / Σ pattern over the
 *                         whole [query, key] matrix (TransformerLens's "mul" measure), optionally
 *                         ignoring attention to BOS (key 0) and to the query itself.
 *
 * For inputs built as BOS + tokens + the same tokens, period = the number of tokens in one copy. Results are plain numbers, [layer][head] for every layer in the cache. No tensors
 * are kept.
 */
import { tf } from "../backend";
import type { ActivationCache } from "../cache/activationCache";

/** [layer][head] scores. */
export type HeadScores = number[][];

function patternsOf(cache: ActivationCache, caller: string): { layer: number; pattern: tf.Tensor4D }[] {
  const found: { layer: number; pattern: tf.Tensor4D }[] = cache
    .keys()
    .map((name) => ({ name, match: /^blocks\.(\d+)\.attn\.hook_pattern$/.exec(name) }))
    .filter(({ match }) => match)
    .map(({ name, match }) => ({ layer: Number(match![1]), pattern: cache.get(name) as tf.Tensor4D }))
    .sort((a, b) => a.layer - b.layer);
  if (found.length === 0) throw new Error(`${caller}: the cache has no attention patterns (blocks.L.attn.hook_pattern); run runWithCache without a namesFilter that drops them.`);
  for (const { layer, pattern } of found) {
    if (pattern.rank !== 4) throw new Error(`${caller}: blocks.${layer}.attn.hook_pattern must be [batch, head, query, key]; got shape [${pattern.shape.join(", ")}] (a cache made with removeBatchDim or posSlice cannot be scored).`);
  }
  return found;
}

/** Mean over batch and the given (query, key) pairs of the attention, per head. */
function meanOnPairs(pattern: tf.Tensor4D, pairs: [number, number][]): number[] {
  const pos = pattern.shape[2];
  const mask = new Float32Array(pos * pos);
  for (const [q, k] of pairs) mask[q * pos + k] = 1;
  return tf.tidy(() => Array.from(pattern.mul(tf.tensor2d(mask, [pos, pos])).sum([2, 3]).mean(0).div(pairs.length).dataSync()));
}

export function previousTokenScores(cache: ActivationCache): HeadScores {
  return patternsOf(cache, "previousTokenScores").map(({ pattern }) => {
    const pos = pattern.shape[2];
    if (pos < 2) throw new Error("previousTokenScores: needs at least 2 positions.");
    return meanOnPairs(pattern, Array.from({ length: pos - 1 }, (_, i): [number, number] => [i + 1, i]));
  });
}

function checkPeriod(pos: number, period: number, caller: string): void {
  const most = Math.floor(pos / 2);
  if (!Number.isInteger(period) || period < 2 || period > most) throw new Error(`${caller}: period must be a whole number in 2..${most} (the length of one copy of the repeated tokens, the sequence ending with two copies), got ${period}.`);
}

export function inductionScores(cache: ActivationCache, period: number): HeadScores {
  return patternsOf(cache, "inductionScores").map(({ pattern }) => {
    const pos = pattern.shape[2];
    checkPeriod(pos, period, "inductionScores");
    const pairs: [number, number][] = [];
    for (let q = pos - period; q < pos; q++) pairs.push([q, q - period + 1]);
    return meanOnPairs(pattern, pairs);
  });
}

export function duplicateTokenScores(cache: ActivationCache, period: number): HeadScores {
  return patternsOf(cache, "duplicateTokenScores").map(({ pattern }) => {
    const pos = pattern.shape[2];
    checkPeriod(pos, period, "duplicateTokenScores");
    return meanOnPairs(pattern, Array.from({ length: period }, (_, i): [number, number] => [pos - period + i, pos - 2 * period + i]));
  });
}

export interface DetectHeadOptions {
  /** Ignore attention to key 0 (BOS), in both the score and its denominator. */
  excludeBos?: boolean;
  /** Ignore attention from a query to itself. */
  excludeCurrentToken?: boolean;
}

/**
 * The share of each head's attention on `detection` (a 0/1 [query, key] pattern the size of the
 * cached sequence): Σ pattern·detection / Σ pattern, averaged over the batch.
 */
export function detectHead(cache: ActivationCache, detection: number[][], options: DetectHeadOptions = {}): HeadScores {
  return patternsOf(cache, "detectHead").map(({ pattern }) => {
    const pos = pattern.shape[2];
    if (detection.length !== pos || detection.some((row) => row.length !== pos)) {
      throw new Error(`detectHead: the detection pattern must be [${pos}, ${pos}] (query × key, as the cached sequence), got [${detection.length}, ${detection[0]?.length ?? 0}].`);
    }
    const keep = new Float32Array(pos * pos).fill(1);
    for (let q = 0; q < pos; q++) {
      if (options.excludeBos) keep[q * pos] = 0;
      if (options.excludeCurrentToken) keep[q * pos + q] = 0;
    }
    const target = Float32Array.from(detection.flat(), (v, i) => v * keep[i]);
    return tf.tidy(() => {
      const kept = pattern.mul(tf.tensor2d(keep, [pos, pos]));
      const on = kept.mul(tf.tensor2d(target, [pos, pos])).sum([2, 3]);
      const all = kept.sum([2, 3]);
      return Array.from(on.div(all.maximum(1e-12)).mean(0).dataSync());
    });
  });
}
