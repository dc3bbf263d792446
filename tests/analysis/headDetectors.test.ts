/**
 * Head detectors on hand-made attention patterns (exact scores known) and on a model's cache
 * against plain loops over its patterns; and their errors.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { ActivationCache } from "../../src/cache/activationCache";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { detectHead, duplicateTokenScores, inductionScores, previousTokenScores } from "../../src/analysis/headDetectors";

beforeAll(async () => {
  await ready();
});

/** A one-layer cache whose patterns are given: [batch][head][q][k]. */
function cacheOf(patterns: number[][][][]): ActivationCache {
  const model = { cfg: { nLayers: 1 } } as never;
  return new ActivationCache(model, new Map([["blocks.0.attn.hook_pattern", tf.tensor4d(patterns)]]));
}

/** A causal pattern where every query puts all its attention on key `target(q)`. */
function pointing(pos: number, target: (q: number) => number): number[][] {
  return Array.from({ length: pos }, (_, q) => Array.from({ length: pos }, (_, k) => (k === Math.max(0, Math.min(q, target(q))) ? 1 : 0)));
}

describe("head detectors on hand-made patterns", () => {
  it("a previous-token head scores 1, an induction head 1 on the induction diagonal, a BOS head 0", () => {
    const pos = 9; // BOS + 4 tokens + the same 4 again: period 4
    const cache = cacheOf([[pointing(pos, (q) => q - 1), pointing(pos, (q) => (q >= 5 ? q - 3 : 0)), pointing(pos, () => 0), pointing(pos, (q) => (q >= 5 ? q - 4 : q))]]);
    const [prev] = previousTokenScores(cache);
    expect(prev[0]).toBeCloseTo(1, 6);
    expect(prev[2]).toBeCloseTo(1 / 8, 6); // only query 1 → key 0 is "previous"
    const [induction] = inductionScores(cache, 4);
    expect(induction.map((s) => Number(s.toFixed(6)))).toEqual([0, 1, 0, 0]);
    const [duplicate] = duplicateTokenScores(cache, 4);
    expect(duplicate[3]).toBeCloseTo(1, 6);
    expect(duplicate[1]).toBeCloseTo(0, 6);
    cache.dispose();
  });

  it("detectHead is the share of attention on the detection pattern, optionally ignoring BOS and the query itself", () => {
    // One head: query q splits its attention 1/2 on BOS, 1/2 on itself (q = 0: all on BOS).
    const pos = 4;
    const half = Array.from({ length: pos }, (_, q) => Array.from({ length: pos }, (_, k) => (q === 0 ? (k === 0 ? 1 : 0) : k === 0 || k === q ? 0.5 : 0)));
    const cache = cacheOf([[half]]);
    const diagonal = Array.from({ length: pos }, (_, q) => Array.from({ length: pos }, (_, k) => (k === q ? 1 : 0)));
    // Mean over the batch of Σ pattern·detection / Σ pattern: (1 + 0.5 · 3) / 4 = 0.625.
    expect(detectHead(cache, diagonal)[0][0]).toBeCloseTo(0.625, 6);
    // Without BOS, all the attention that remains (3 · 0.5) is on the diagonal.
    expect(detectHead(cache, diagonal, { excludeBos: true })[0][0]).toBeCloseTo(1, 6);
    expect(detectHead(cache, diagonal, { excludeCurrentToken: true })[0][0]).toBeCloseTo(0, 6);
    expect(() => detectHead(cache, [[1]])).toThrow(/must be \[4, 4\]/);
    cache.dispose();
  });
});

describe("head detectors on a model's cache", () => {
  it("match plain loops over the cached patterns, layer by layer, and keep no tensors", async () => {
    const model = await HookedTransformer.create({ nLayers: 2, dModel: 16, nHeads: 3, dHead: 4, dVocab: 20, nCtx: 16, attnOnly: true, seed: 5 });
    const half = [3, 7, 1, 12, 9, 4];
    const tokens = tf.tensor2d([[19, ...half, ...half], [19, ...half.reverse(), ...half]], [2, 13], "int32");
    const { cache } = model.runWithCache(tokens);
    const before = tf.memory().numTensors;
    const prev = previousTokenScores(cache);
    const induction = inductionScores(cache, 6);
    expect(tf.memory().numTensors).toBe(before);
    for (let l = 0; l < 2; l++) {
      const p = cache.get(`blocks.${l}.attn.hook_pattern`).arraySync() as number[][][][];
      for (let h = 0; h < 3; h++) {
        let prevSum = 0;
        let indSum = 0;
        for (let b = 0; b < 2; b++) {
          for (let q = 1; q < 13; q++) prevSum += p[b][h][q][q - 1];
          for (let q = 7; q < 13; q++) indSum += p[b][h][q][q - 5];
        }
        expect(prev[l][h]).toBeCloseTo(prevSum / 24, 5);
        expect(induction[l][h]).toBeCloseTo(indSum / 12, 5);
      }
    }
    expect(() => inductionScores(cache, 7)).toThrow(/period must be a whole number in 2\.\.6/);
    const noPatterns = cache.filter((name) => !name.endsWith("hook_pattern"));
    expect(() => previousTokenScores(noPatterns)).toThrow(/has no attention patterns/);
    cache.dispose();
    tokens.dispose();
    model.dispose();
  });
});
