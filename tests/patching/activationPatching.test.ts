/**
 * Batched, layer-reusing activation patching equals the naive one-forward-per-cell loop (which
 * splices by slicing rather than masks) on random-weight models of several architectures, for
 * every activation kind and both grid shapes; patching a run into itself changes nothing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import type { ConfigInput } from "../../src/model/config";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { activationPatching, patchingRows, type PatchedActivation } from "../../src/patching/activationPatching";
import { naiveActivationPatching } from "../../src/patching/naiveActivationPatching";
import { logitDiffMetric, type PatchingMetric } from "../../src/patching/patchingMetric";
import { SeededRandom } from "../../src/train/seededRandom";

beforeAll(async () => {
  await ready();
});

const BASE = { nLayers: 2, dModel: 16, dHead: 4, nCtx: 8, dVocab: 23, dMlp: 24 };
const MODELS: Record<string, ConfigInput> = {
  "GPT-2-like (LN, GELU MLP)": { ...BASE, nHeads: 4, actFn: "gelu", normalizationType: "LN", seed: 1 },
  "attention-only, shortformer positions": { ...BASE, nHeads: 2, attnOnly: true, positionalEmbeddingType: "shortformer", seed: 2 },
  "Llama-like (RMS, rotary, grouped-query, gated MLP)": { ...BASE, nHeads: 4, nKeyValueHeads: 2, normalizationType: "RMS", positionalEmbeddingType: "rotary", gatedMlp: true, actFn: "silu", seed: 3 },
  "parallel attention and MLP, per-head results": { ...BASE, nHeads: 2, parallelAttnMlp: true, useAttnResult: true, seed: 4 },
};

function randomTokens(seed: number, prompts: number, length: number, vocab: number): tf.Tensor2D {
  const random = new SeededRandom(seed);
  return tf.tensor2d(Array.from({ length: prompts }, () => Array.from({ length }, () => random.int(vocab))), [prompts, length], "int32");
}

/** Differences of the metric at two positions, so position reuse is exercised. */
const twoPositionMetric: PatchingMetric = {
  positions: [2, -1],
  compute: (logits, promptOfRow) => tf.tidy(() => logits.slice([0, 0, 3], [-1, 1, 1]).reshape([-1]).sub(logits.slice([0, 1, 5], [-1, 1, 1]).reshape([-1])).add(tf.tensor1d(promptOfRow.map((p) => p * 0.25)))) as tf.Tensor1D,
};

function kindsFor(config: ConfigInput): PatchedActivation[] {
  const kinds: PatchedActivation[] = ["resid_pre", "resid_post", "attn_out", "z", "q", "k", "v", "pattern"];
  if (!config.attnOnly) kinds.push("mlp_out");
  if (!config.attnOnly && !config.parallelAttnMlp) kinds.push("resid_mid");
  if (config.useAttnResult) kinds.push("result");
  return kinds;
}

describe.each(Object.entries(MODELS))("activation patching on a random %s model", (_, config) => {
  it("equals the naive loop to 1e-4 for every activation, per position and not", async () => {
    const model = await HookedTransformer.create(config);
    const clean = randomTokens(10, 2, 6, 23);
    const corrupted = randomTokens(11, 2, 6, 23);
    const metric = logitDiffMetric({ correct: [3, 7], incorrect: [5, 1] });
    const before = tf.memory().numTensors;
    for (const activation of kindsFor(config)) {
      for (const perPosition of [false, true]) {
        for (const m of [metric, twoPositionMetric]) {
          const fast = await activationPatching(model, { clean, corrupted, metric: m, activation, perPosition, batchSize: 5 });
          const naive = await naiveActivationPatching(model, { clean, corrupted, metric: m, activation, perPosition });
          expect(fast.values.shape).toEqual(naive.values.shape);
          expect(fast.axes).toEqual(naive.axes);
          const a = Array.from(fast.raw.dataSync());
          const b = Array.from(naive.raw.dataSync());
          const worst = Math.max(...a.map((x, i) => Math.abs(x - b[i])));
          expect({ activation, perPosition, worst: worst < 1e-4 ? "ok" : worst }).toEqual({ activation, perPosition, worst: "ok" });
          expect(fast.cleanMetric).toBeCloseTo(naive.cleanMetric, 4);
          expect(fast.corruptedMetric).toBeCloseTo(naive.corruptedMetric, 4);
          expect(fast.forwardPasses).toBeLessThanOrEqual(naive.forwardPasses);
          tf.dispose([fast.values, fast.raw, naive.values, naive.raw]);
        }
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([clean, corrupted]);
    model.dispose();
  });
});

describe("activation patching, invariants and interface", () => {
  it("patching a run into itself changes nothing; normalised grids run from 0 (corrupted) to 1 (clean)", async () => {
    const model = await HookedTransformer.create(MODELS["GPT-2-like (LN, GELU MLP)"]);
    const tokens = randomTokens(12, 2, 6, 23);
    const metric = logitDiffMetric({ correct: 3, incorrect: 5 });
    const same = await activationPatching(model, { clean: tokens, corrupted: tokens, metric, activation: "resid_pre", normalize: false });
    for (const v of same.raw.dataSync()) expect(v).toBeCloseTo(same.cleanMetric, 4);
    tf.dispose([same.values, same.raw]);
    // Patching the whole resid_pre of layer 0 (all positions) gives the clean run back exactly: 1.
    const other = randomTokens(13, 2, 6, 23);
    const whole = await activationPatching(model, { clean: tokens, corrupted: other, metric, activation: "resid_pre", perPosition: false });
    expect(whole.values.dataSync()[0]).toBeCloseTo(1, 4);
    // Tidy rows: one per cell, with its grid indices.
    const byHead = await activationPatching(model, { clean: tokens, corrupted: other, metric, activation: "z", perPosition: true });
    const rows = patchingRows(byHead);
    const grid = byHead.values.arraySync() as number[][][];
    expect(rows).toHaveLength(2 * 6 * 4);
    expect(Object.keys(rows[0])).toEqual(["layer", "pos", "head", "value", "raw"]);
    for (const row of rows) expect(row.value).toBeCloseTo(grid[row.layer][row.pos][row.head], 6);
    tf.dispose([byHead.values, byHead.raw]);
    tf.dispose([whole.values, whole.raw, tokens, other]);
    model.dispose();
  });

  it("reports progress, stops on its signal with NaN for the cells not run, and rejects bad input clearly", async () => {
    const model = await HookedTransformer.create(MODELS["GPT-2-like (LN, GELU MLP)"]);
    const clean = randomTokens(14, 1, 6, 23);
    const corrupted = randomTokens(15, 1, 6, 23);
    const metric = logitDiffMetric({ correct: 3, incorrect: 5 });
    const controller = new AbortController();
    const seen: number[] = [];
    const result = await activationPatching(model, {
      clean, corrupted, metric, activation: "resid_pre", batchSize: 2,
      signal: controller.signal,
      onProgress: ({ done, total }) => {
        seen.push(done);
        expect(total).toBe(12);
        if (done >= 4) controller.abort();
      },
    });
    expect(seen).toEqual([2, 4]);
    expect(result.stopped).toBe(true);
    const values = Array.from(result.values.dataSync());
    expect(values.slice(0, 4).every(Number.isFinite)).toBe(true);
    expect(values.slice(4).every(Number.isNaN)).toBe(true);
    tf.dispose([result.values, result.raw]);
    const short = randomTokens(16, 1, 5, 23);
    await expect(activationPatching(model, { clean, corrupted: short, metric, activation: "z" })).rejects.toThrow(/clean \[1,6\] and corrupted \[1,5\] must have the same shape/);
    await expect(activationPatching(model, { clean, corrupted, metric, activation: "hook_z" as never })).rejects.toThrow(/unknown activation "hook_z"; expected one of resid_pre/);
    await expect(activationPatching(model, { clean, corrupted, metric, activation: "result" })).rejects.toThrow(/"result" needs a model with useAttnResult: true/);
    await expect(activationPatching(model, { clean, corrupted, metric: logitDiffMetric({ correct: 99, incorrect: 1 }), activation: "z" })).rejects.toThrow(/token id for prompt 0 must be a whole number in \[0, 23\); got 99/);
    tf.dispose([clean, corrupted, short]);
    model.dispose();
  });
});
