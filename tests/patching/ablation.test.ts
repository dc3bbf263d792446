/**
 * Ablations against hooks written by slicing (independent of the masks used by ablationHooks),
 * invariances (causality; resampling from identical prompts changes nothing), the Hydra effect's
 * bookkeeping where it is exact (the last MLP of a model without a final norm: total = direct,
 * no compensation), and on the shipped induction organism: ablating the previous-token head
 * destroys the in-context loss improvement.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { inductionMetrics, repeatedRandomBatch } from "../../src/organisms/induction/inductionOrganism";
import { loadOrganism } from "../../src/organisms/loadOrganism";
import { ablationHooks, runWithAblations } from "../../src/patching/ablation";
import { hydraEffect } from "../../src/patching/hydraEffect";
import { SeededRandom } from "../../src/train/seededRandom";

beforeAll(async () => {
  await ready();
});

const CONFIG = { nLayers: 2, dModel: 16, nHeads: 3, dHead: 4, dMlp: 20, dVocab: 17, nCtx: 8, actFn: "gelu" as const, seed: 8 };

function randomTokens(seed: number, prompts: number, length: number, vocab: number): tf.Tensor2D {
  const random = new SeededRandom(seed);
  return tf.tensor2d(Array.from({ length: prompts }, () => Array.from({ length }, () => random.int(vocab))), [prompts, length], "int32");
}

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]);
}

/** `act` with the block at `index` along `axis` replaced by `value` (slicing and concatenation). */
function replaceAlong(act: tf.Tensor, axis: number, index: number, value: tf.Tensor): tf.Tensor {
  const parts = tf.split(act, act.shape[axis]!, axis);
  parts[index] = tf.broadcastTo(value, parts[index].shape);
  return tf.concat(parts, axis);
}

describe("ablations", () => {
  it("zero and mean ablation of a head, a neuron and a layer equal hand-written hooks", async () => {
    const model = await HookedTransformer.create(CONFIG);
    const tokens = randomTokens(1, 3, 6, 17);
    const reference = randomTokens(2, 5, 6, 17);
    const before = tf.memory().numTensors;
    // Reference means by plain loops over the cached activations.
    const { output, cache } = model.runWithCache(reference);
    output.dispose();
    const meanOverBatch = (name: string) => {
      const values = cache.get(name).arraySync() as number[][][][];
      const n = values.length;
      return tf.tensor(values[0].map((_, p) => (values[0][p] as unknown as number[][]).map((__, i) => (Array.isArray(values[0][p][i]) ? (values[0][p][i] as unknown as number[]).map((___, j) => values.reduce((s, v) => s + (v[p][i] as unknown as number[])[j], 0) / n) : values.reduce((s, v) => s + (v[p][i] as unknown as number), 0) / n))));
    };
    const zMean = meanOverBatch("blocks.1.attn.hook_z"); // [pos, head, dHead]
    const postMean = meanOverBatch("blocks.0.mlp.hook_post"); // [pos, dMlp]
    cache.dispose();
    const cases = [
      { ablation: { component: { kind: "head" as const, layer: 1, head: 2 } }, hook: "blocks.1.attn.hook_z", manual: (a: tf.Tensor) => replaceAlong(a, 2, 2, tf.zeros([1, 6, 1, 4])), method: "zero" as const },
      { ablation: { component: { kind: "head" as const, layer: 1, head: 0 } }, hook: "blocks.1.attn.hook_z", manual: (a: tf.Tensor) => replaceAlong(a, 2, 0, zMean.slice([0, 0, 0], [6, 1, 4]).expandDims(0)), method: "mean" as const },
      { ablation: { component: { kind: "neuron" as const, layer: 0, neuron: 7 } }, hook: "blocks.0.mlp.hook_post", manual: (a: tf.Tensor) => replaceAlong(a, 2, 7, postMean.slice([0, 7], [6, 1]).expandDims(0)), method: "mean" as const },
      { ablation: { component: { kind: "mlp" as const, layer: 0 }, positions: [2] }, hook: "blocks.0.hook_mlp_out", manual: (a: tf.Tensor) => replaceAlong(a, 1, 2, tf.zeros([1, 1, 16])), method: "zero" as const },
    ];
    for (const c of cases) {
      const ours = runWithAblations(model, tokens, [c.ablation], { method: c.method, reference });
      const theirs = model.runWithHooks(tokens, { fwdHooks: [[c.hook, c.manual]] });
      expect(maxDifference(ours, theirs)).toBeLessThan(1e-5);
      const plain = model.forward(tokens);
      expect(maxDifference(ours, plain)).toBeGreaterThan(1e-4); // it did something
      tf.dispose([ours, theirs, plain]);
    }
    tf.dispose([zMean, postMean]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([tokens, reference]);
    model.dispose();
  });

  it("is causal in position, and resampling from copies of the same prompt changes nothing", async () => {
    const model = await HookedTransformer.create(CONFIG);
    const tokens = randomTokens(3, 2, 6, 17);
    const plain = model.forward(tokens);
    const ablated = runWithAblations(model, tokens, [{ component: { kind: "attn", layer: 0 }, positions: [3] }]);
    expect(maxDifference(ablated.slice([0, 0, 0], [-1, 3, -1]), plain.slice([0, 0, 0], [-1, 3, -1]))).toBe(0);
    expect(maxDifference(ablated.slice([0, 3, 0], [-1, 3, -1]), plain.slice([0, 3, 0], [-1, 3, -1]))).toBeGreaterThan(1e-4);
    const one = tokens.slice([0, 0], [1, -1]) as tf.Tensor2D;
    const copies = tf.tile(one, [4, 1]) as tf.Tensor2D;
    const resampled = runWithAblations(model, one, [{ component: { kind: "head", layer: 0, head: 1 } }, { component: { kind: "mlp", layer: 1 } }], { method: "resample", reference: copies, seed: 5 });
    const onePlain = model.forward(one);
    expect(maxDifference(resampled, onePlain)).toBeLessThan(1e-5);
    tf.dispose([plain, ablated, one, copies, resampled, onePlain, tokens]);
    expect(() => ablationHooks(model, [{ component: { kind: "head", layer: 0, head: 3 } }])).toThrow(/head must be a whole number in \[0, 3\); got 3/);
    expect(() => ablationHooks(model, [{ component: { kind: "head", layer: 0, head: 1 } }], { method: "mean" })).toThrow(/method "mean" needs reference prompts/);
    model.dispose();
  });
});

describe("the Hydra effect", () => {
  it("is zero where nothing can compensate: the last MLP of a model without a final norm", async () => {
    const model = await HookedTransformer.create({ ...CONFIG, normalizationType: "none" });
    const tokens = randomTokens(4, 3, 6, 17);
    const before = tf.memory().numTensors;
    const result = hydraEffect(model, { tokens, ablate: { component: { kind: "mlp", layer: 1 } }, correct: [1, 2, 3], incorrect: 4 });
    expect(result.totalEffect).toBeCloseTo(result.directEffect, 4);
    expect(result.compensation).toBeCloseTo(0, 4);
    expect(result.components.find((c) => c.component === "MLP1")!.directAblated).toBeCloseTo(0, 6);
    expect(tf.memory().numTensors).toBe(before);
    // Without a final norm, a layer's direct effect is its heads' plus b_O · (W_U[:, correct] − W_U[:, incorrect]).
    const bO = model.b_O.arraySync() as number[][];
    const wU = model.W_U.arraySync() as number[][];
    const correct = [1, 2, 3];
    for (const layer of [0, 1]) {
      const heads = result.components.filter((c) => c.kind === "head" && c.layer === layer).reduce((s, c) => s + c.directClean, 0);
      const whole = result.components.find((c) => c.component === `ATTN${layer}`)!.directClean;
      const bias = correct.reduce((s, c) => s + bO[layer].reduce((t, b, d) => t + b * (wU[d][c] - wU[d][4]), 0), 0) / correct.length;
      expect(whole).toBeCloseTo(heads + bias, 4);
    }
    tf.dispose(tokens);
    model.dispose();
  });
});

describe("ablation on the induction organism", () => {
  it("ablating the previous-token head destroys the in-context loss improvement", async () => {
    const model = await loadOrganism("induction-2l");
    const clean = inductionMetrics(model);
    const tokens = repeatedRandomBatch(16);
    const lossPerToken = (logitsOf: () => tf.Tensor) =>
      tf.tidy(() => {
        const logits = logitsOf() as tf.Tensor3D;
        const logProbs = tf.logSoftmax(logits.slice([0, 0, 0], [-1, tokens.shape[1] - 1, -1]));
        const next = tokens.slice([0, 1], [-1, -1]);
        const picked = tf.sum(tf.mul(logProbs, tf.oneHot(next, logits.shape[2]).cast("float32")), 2);
        return Array.from(tf.neg(picked).mean(0).dataSync());
      });
    const prevHead = clean.previousTokenHead;
    const ablated = lossPerToken(() => runWithAblations(model, tokens, [{ component: { kind: "head", layer: 0, head: prevHead } }]));
    const firstCopy = ablated.slice(0, 22);
    const secondCopy = ablated.slice(23);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    console.log(`induction-2l: loss on the repeat ${clean.lossSecondCopy.toFixed(2)} → ${mean(secondCopy).toFixed(2)} with L0H${prevHead} zero-ablated (first copy ${mean(firstCopy).toFixed(2)})`);
    expect(clean.lossSecondCopy).toBeLessThan(clean.lossFirstCopy / 4);
    expect(mean(secondCopy)).toBeGreaterThan(0.7 * mean(firstCopy));
    tokens.dispose();
    model.dispose();
  });
});
