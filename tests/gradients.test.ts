/** runWithCache({ includeGradients }) against central finite differences taken through hooks. */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../src/backend";
import { HookedTransformer } from "../src/model/hookedTransformer";
import { randomTokens, VARIANTS } from "./helpers/modelFixtures";

beforeAll(async () => {
  await ready();
});

/** logit[0, last, 3] − logit[0, last, 7]: a logit difference, as in patching metrics. */
function metric(logits: tf.Tensor3D): tf.Scalar {
  const [, pos] = logits.shape;
  return tf.tidy(() => {
    const last = logits.slice([0, pos - 1, 0], [1, 1, -1]).reshape([-1]);
    return tf.sub(last.gather(3), last.gather(7)) as tf.Scalar;
  });
}

/** The metric with `delta` added to one element of the activation at `name`. */
function perturbedMetric(model: HookedTransformer, tokens: number[][], name: string, index: number, delta: number): number {
  const logits = model.runWithHooks(tokens, {
    fwdHooks: [
      [
        name,
        (act) => {
          const bump = tf.buffer(act.shape, "float32");
          bump.values[index] = delta;
          return tf.add(act, bump.toTensor());
        },
      ],
    ],
  });
  const value = metric(logits);
  const result = value.dataSync()[0];
  tf.dispose([logits, value]);
  return result;
}

describe.each([
  ["gpt2-like (LN, gelu_new, standard positions)"],
  ["llama-like (RMS, rotary, gated silu, GQA)"],
  ["attention-only (LNPre)"],
])("%s", (key) => {
  it("gradients at every kind of hook point match finite differences", async () => {
    const model = await HookedTransformer.create({ ...VARIANTS[key], seed: 8 });
    const tokens = randomTokens(1, 6, 29, 3);
    const names = model.hookNames.filter((n) => /hook_(resid_pre|resid_mid|pattern|z|q|k|v|rot_k|post|pre|attn_out|scale|embed)$/.test(n));
    const { output, cache } = model.runWithCache(tokens, { namesFilter: names, includeGradients: true, metric });
    expect(cache.hasGradients()).toBe(true);
    const eps = 1e-2;
    let checked = 0;
    for (const name of names) {
      const grad = cache.grad(name);
      expect(grad.shape).toEqual(cache.get(name).shape);
      const values = grad.dataSync();
      // Check the largest-magnitude entry and one more fixed entry.
      let largest = 0;
      for (let i = 1; i < values.length; i++) if (Math.abs(values[i]) > Math.abs(values[largest])) largest = i;
      for (const index of [largest, Math.floor(values.length / 3)]) {
        const fd = (perturbedMetric(model, tokens, name, index, eps) - perturbedMetric(model, tokens, name, index, -eps)) / (2 * eps);
        expect(Math.abs(fd - values[index]), `${name}[${index}]: grad ${values[index]}, finite difference ${fd}`).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
    output.dispose();
    cache.dispose();
    model.dispose();
  });
});

describe("gradient options", () => {
  it("with posSlice and removeBatchDim the gradients are sliced like the activations; nothing leaks", async () => {
    const model = await HookedTransformer.create({ ...VARIANTS["gpt2-like (LN, gelu_new, standard positions)"], seed: 2 });
    const tokens = randomTokens(1, 6, 29, 4);
    const before = tf.memory().numTensors;
    const full = model.runWithCache(tokens, { namesFilter: ["blocks.1.hook_resid_pre"], includeGradients: true, metric });
    const sliced = model.runWithCache(tokens, { namesFilter: ["blocks.1.hook_resid_pre"], includeGradients: true, metric, posSlice: -1, removeBatchDim: true });
    expect(sliced.cache.grad("resid_pre", 1).shape).toEqual([16]);
    const expected = tf.tidy(() => full.cache.grad("resid_pre", 1).slice([0, 5, 0], [1, 1, 16]).reshape([16]));
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(expected, sliced.cache.grad("resid_pre", 1)))).dataSync()[0])).toBe(0);
    // The metric reads the last position, so the gradient there is not all zero.
    expect(tf.tidy(() => tf.sum(tf.abs(expected)).dataSync()[0])).toBeGreaterThan(0);
    tf.dispose([full.output, sliced.output, expected]);
    full.cache.dispose();
    sliced.cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("gradients respect causality: a metric on position 2 has zero gradient at later positions", async () => {
    const model = await HookedTransformer.create({ ...VARIANTS["gpt2-like (LN, gelu_new, standard positions)"], seed: 5 });
    const tokens = randomTokens(1, 6, 29, 6);
    const { output, cache } = model.runWithCache(tokens, {
      namesFilter: "blocks.0.hook_resid_mid",
      includeGradients: true,
      metric: (logits) => logits.slice([0, 2, 0], [1, 1, 1]).sum() as tf.Scalar,
    });
    const grad = cache.grad("resid_mid", 0).arraySync() as number[][][];
    for (let p = 3; p < 6; p++) expect(grad[0][p].every((g) => g === 0)).toBe(true);
    expect(grad[0][2].some((g) => g !== 0)).toBe(true);
    output.dispose();
    cache.dispose();
    model.dispose();
  });

  it("a missing or non-scalar metric is a clear error", async () => {
    const model = await HookedTransformer.create({ ...VARIANTS["attention-only (LNPre)"], seed: 1 });
    const before = tf.memory().numTensors;
    expect(() => model.runWithCache([[1, 2, 3]], { includeGradients: true })).toThrow(/needs a metric/);
    expect(() => model.runWithCache([[1, 2, 3]], { includeGradients: true, metric: (l) => l })).toThrow(/must return a scalar.*87 values.*\[1, 3, 29\]/);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => model.runWithCache([[1, 2, 3]], {}).cache.grad("hook_embed")).toThrow(/no gradients/);
    model.dispose();
  });
});
