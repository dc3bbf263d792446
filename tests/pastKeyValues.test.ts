/**
 * Continuing a sequence from cached keys and values: the logits of the new positions equal a
 * forward pass over the whole sequence, on four architectures (learned, shortformer and rotary
 * positions; grouped-query attention; parallel blocks), from the tokens or from a cached residual
 * stream at a later layer.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../src/backend";
import type { ConfigInput } from "../src/model/config";
import type { PastKeyValues } from "../src/model/forwardPass";
import { HookedTransformer } from "../src/model/hookedTransformer";
import { SeededRandom } from "../src/train/seededRandom";

beforeAll(async () => {
  await ready();
});

const BASE = { nLayers: 3, dModel: 16, dHead: 4, nCtx: 12, dVocab: 23, dMlp: 24 };
const MODELS: Record<string, ConfigInput> = {
  "GPT-2-like": { ...BASE, nHeads: 4, actFn: "gelu", seed: 1 },
  "attention-only, shortformer": { ...BASE, nHeads: 2, attnOnly: true, positionalEmbeddingType: "shortformer", seed: 2 },
  "Llama-like (rotary, grouped-query)": { ...BASE, nHeads: 4, nKeyValueHeads: 2, normalizationType: "RMS", positionalEmbeddingType: "rotary", gatedMlp: true, actFn: "silu", seed: 3 },
  "parallel attention and MLP": { ...BASE, nHeads: 2, parallelAttnMlp: true, seed: 4 },
};

function pastFrom(model: HookedTransformer, tokens: tf.Tensor2D, length: number): { past: PastKeyValues; residuals: tf.Tensor3D[]; dispose(): void } {
  const rotary = model.cfg.positionalEmbeddingType === "rotary";
  const { output, cache } = model.runWithCache(tokens);
  output.dispose();
  const upTo = (t: tf.Tensor) => t.slice([0, 0, 0, 0], [-1, length, -1, -1]) as tf.Tensor4D;
  const keys = Array.from({ length: model.cfg.nLayers }, (_, l) => upTo(cache.get(`blocks.${l}.attn.${rotary ? "hook_rot_k" : "hook_k"}`)));
  const values = Array.from({ length: model.cfg.nLayers }, (_, l) => upTo(cache.get(`blocks.${l}.attn.hook_v`)));
  const residuals = Array.from({ length: model.cfg.nLayers }, (_, l) => cache.get(`blocks.${l}.hook_resid_pre`).slice([0, length, 0], [-1, -1, -1]) as tf.Tensor3D);
  cache.dispose();
  return { past: { length, keys, values }, residuals, dispose: () => tf.dispose([...keys, ...values, ...residuals]) };
}

describe.each(Object.entries(MODELS))("pastKeyValues on a random %s model", (_, config) => {
  it("the new positions' logits equal the whole sequence's, from tokens and from a later layer", async () => {
    const model = await HookedTransformer.create(config);
    const random = new SeededRandom(7);
    const tokens = tf.tensor2d(Array.from({ length: 2 }, () => Array.from({ length: 10 }, () => random.int(23))), [2, 10], "int32");
    const full = model.forward(tokens) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    for (const length of [1, 4, 9]) {
      const { past, residuals, dispose } = pastFrom(model, tokens, length);
      const suffix = tokens.slice([0, length], [-1, -1]) as tf.Tensor2D;
      const expected = full.slice([0, length, 0], [-1, -1, -1]);
      const fromTokens = model.forward(suffix, { pastKeyValues: past }) as tf.Tensor3D;
      expect(fromTokens.shape).toEqual([2, 10 - length, 23]);
      expect(tf.tidy(() => fromTokens.sub(expected).abs().max().dataSync()[0])).toBeLessThan(1e-4);
      const fromLayer2 = model.forward(residuals[2], { startAtLayer: 2, pastKeyValues: past }) as tf.Tensor3D;
      expect(tf.tidy(() => fromLayer2.sub(expected).abs().max().dataSync()[0])).toBeLessThan(1e-4);
      tf.dispose([suffix, expected, fromTokens, fromLayer2]);
      dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([tokens, full]);
    model.dispose();
  });
});

describe("pastKeyValues, bad input", () => {
  it("names the layer, the shape expected and the one given; refuses too long a sequence", async () => {
    const model = await HookedTransformer.create(MODELS["GPT-2-like"]);
    const tokens = tf.tensor2d([[1, 2, 3, 4, 5, 6]], undefined, "int32");
    const { past, dispose } = pastFrom(model, tokens, 3);
    const suffix = tokens.slice([0, 3], [-1, -1]) as tf.Tensor2D;
    expect(() => model.forward(suffix, { pastKeyValues: { ...past, keys: past.keys.slice(0, 2) } })).toThrow(/pastKeyValues.keys\[2\] must be \[batch, length, nKeyValueHeads, dHead\] = \[1, 3, 4, 4\]; got nothing/);
    expect(() => model.forward(suffix, { pastKeyValues: { ...past, length: 10 } })).toThrow(/pastKeyValues.length 10 \+ 3 new positions exceeds nCtx 12|must be \[batch, length/);
    dispose();
    tf.dispose([tokens, suffix]);
    model.dispose();
  });
});
