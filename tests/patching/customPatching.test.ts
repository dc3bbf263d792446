/**
 * Patching any hook at any index agrees with the standard grids where they overlap (a residual
 * position, a head's z) and with a hand-written slicing hook for a neuron; the "every" summaries
 * return TransformerLens's sets of grids.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { activationPatching } from "../../src/patching/activationPatching";
import { activationPatchingEvery, patchActivationAt } from "../../src/patching/customPatching";
import { logitDiffMetric } from "../../src/patching/patchingMetric";
import { SeededRandom } from "../../src/train/seededRandom";

beforeAll(async () => {
  await ready();
});

function randomTokens(seed: number, prompts: number, length: number, vocab: number): tf.Tensor2D {
  const random = new SeededRandom(seed);
  return tf.tensor2d(Array.from({ length: prompts }, () => Array.from({ length }, () => random.int(vocab))), [prompts, length], "int32");
}

describe("patchActivationAt", () => {
  it("matches the standard grids and a slicing hook", async () => {
    const model = await HookedTransformer.create({ nLayers: 2, dModel: 16, nHeads: 3, dHead: 4, dMlp: 20, dVocab: 17, nCtx: 8, seed: 5 });
    const clean = randomTokens(1, 2, 6, 17);
    const corrupted = randomTokens(2, 2, 6, 17);
    const metric = logitDiffMetric({ correct: [1, 2], incorrect: [3, 4] });
    const before = tf.memory().numTensors;
    const resid = await patchActivationAt(model, { clean, corrupted, metric, hook: "blocks.1.hook_resid_pre", indices: [0, 1, 2, 3, 4, 5].map((p) => [p]), batchSize: 4 });
    const grid = await activationPatching(model, { clean, corrupted, metric, activation: "resid_pre" });
    const row = (grid.values.arraySync() as number[][])[1];
    Array.from(resid.values.dataSync()).forEach((v, p) => expect(v).toBeCloseTo(row[p], 4));
    const heads = await patchActivationAt(model, { clean, corrupted, metric, hook: "blocks.0.attn.hook_z", indices: [[null, 0], [null, 1], [null, 2]] });
    const zGrid = await activationPatching(model, { clean, corrupted, metric, activation: "z" });
    Array.from(heads.values.dataSync()).forEach((v, h) => expect(v).toBeCloseTo((zGrid.values.arraySync() as number[][])[0][h], 4));
    // A single neuron at one position, against a hook that splices it by slicing.
    const neuron = await patchActivationAt(model, { clean, corrupted, metric, hook: "blocks.0.mlp.hook_post", indices: [[3, 11]], normalize: false });
    const { output, cache } = model.runWithCache(clean, { namesFilter: ["blocks.0.mlp.hook_post"] });
    output.dispose();
    const cleanPost = cache.get("blocks.0.mlp.hook_post");
    const expected = tf.tidy(() => {
      const logits = model.runWithHooks(corrupted, {
        fwdHooks: [["blocks.0.mlp.hook_post", (act: tf.Tensor) => {
          const values = act.arraySync() as number[][][];
          const source = cleanPost.arraySync() as number[][][];
          for (let b = 0; b < values.length; b++) values[b][3][11] = source[b][3][11];
          return tf.tensor(values);
        }]],
      }) as tf.Tensor3D;
      return metric.compute(logits.slice([0, 5, 0], [-1, 1, -1]) as tf.Tensor3D, [0, 1]).mean().dataSync()[0];
    });
    cache.dispose();
    expect(neuron.raw.dataSync()[0]).toBeCloseTo(expected, 4);
    tf.dispose([resid.values, resid.raw, grid.values, grid.raw, heads.values, heads.raw, zGrid.values, zGrid.raw, neuron.values, neuron.raw]);
    expect(tf.memory().numTensors).toBe(before);
    await expect(patchActivationAt(model, { clean, corrupted, metric, hook: "blocks.0.attn.hook_z", indices: [[0, 7]] })).rejects.toThrow(/index 7 is outside axis 2 of size 3/);
    await expect(patchActivationAt(model, { clean, corrupted, metric, hook: "blocks.0.hook_zz", indices: [[0]] })).rejects.toThrow(/hook_zz/);
    tf.dispose([clean, corrupted]);
    model.dispose();
  });

  it("the every-summaries give TransformerLens's sets of grids", async () => {
    const model = await HookedTransformer.create({ nLayers: 2, dModel: 16, nHeads: 3, dHead: 4, dMlp: 20, dVocab: 17, nCtx: 8, seed: 6 });
    const clean = randomTokens(3, 1, 5, 17);
    const corrupted = randomTokens(4, 1, 5, 17);
    const metric = logitDiffMetric({ correct: 1, incorrect: 2 });
    const block = await activationPatchingEvery(model, { clean, corrupted, metric }, "block");
    expect(Object.keys(block)).toEqual(["resid_pre", "attn_out", "mlp_out"]);
    for (const r of Object.values(block)) expect(r!.values.shape).toEqual([2, 5]);
    const heads = await activationPatchingEvery(model, { clean, corrupted, metric }, "headsByPosition");
    expect(Object.keys(heads)).toEqual(["z", "q", "k", "v", "pattern"]);
    for (const r of Object.values(heads)) expect(r!.values.shape).toEqual([2, 5, 3]);
    for (const r of [...Object.values(block), ...Object.values(heads)]) tf.dispose([r!.values, r!.raw]);
    tf.dispose([clean, corrupted]);
    model.dispose();
  });
});
