/** No tensor leaks: repeated runs with caches, hooks, gradients and generation leave tf.memory() where it was. */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../src/backend";
import { HookedTransformer } from "../src/model/hookedTransformer";
import { VARIANTS } from "./helpers/modelFixtures";

beforeAll(async () => {
  await ready();
});

describe("memory", () => {
  it("100 runWithCache calls with disposal leave numTensors unchanged", async () => {
    const model = await HookedTransformer.create({ ...VARIANTS["gpt2-like (LN, gelu_new, standard positions)"], seed: 1 });
    const tokens = [[1, 2, 3, 4, 5, 6]];
    // Warm up once (lazily built weight stacks etc.).
    const warm = model.runWithCache(tokens);
    warm.output.dispose();
    warm.cache.dispose();
    const before = tf.memory();
    for (let i = 0; i < 100; i++) {
      const { output, cache } = model.runWithCache(tokens, i % 2 ? { namesFilter: (n) => n.includes("attn") } : {});
      output.dispose();
      cache.dispose();
    }
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    model.dispose();
  });

  it("hooks that replace activations, gradients, losses, generation and errors leave nothing behind", async () => {
    const model = await HookedTransformer.create({ ...VARIANTS["llama-like (RMS, rotary, gated silu, GQA)"], seed: 1 });
    const tokens = [[1, 2, 3, 4, 5, 6]];
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      tf.dispose(model.runWithHooks(tokens, { fwdHooks: [[(n) => n.endsWith("hook_z"), (z) => tf.mul(z, 0.5)]] }));
      const g = model.runWithCache(tokens, { includeGradients: true, metric: (l) => tf.sum(l) as tf.Scalar, namesFilter: (n) => n.endsWith("resid_pre") });
      g.output.dispose();
      g.cache.dispose();
      const both = model.forward(tokens, { returnType: "both" });
      tf.dispose([both.logits, both.loss]);
      tf.dispose(await model.generate(tokens, { maxNewTokens: 3, seed: i }));
      expect(() => model.runWithHooks(tokens, { fwdHooks: [["blocks.1.hook_resid_post", () => { throw new Error("x"); }]] })).toThrow();
      expect(() => model.forward([[1, 2, 999]])).toThrow();
    }
    expect(tf.memory().numTensors).toBe(before);
    const params = model.numParams;
    expect(params).toBeGreaterThan(0);
    const beforeDispose = tf.memory().numTensors;
    model.dispose();
    expect(tf.memory().numTensors).toBeLessThan(beforeDispose);
  });
});
