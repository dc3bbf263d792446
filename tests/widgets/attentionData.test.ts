/**
 * Attention widget data preparation and kernel model: buffer layout against direct indexing of
 * the input, caches and pattern tensors of every accepted shape, token strings from a model with
 * the GPT-2 tokenizer, errors, and no tensor leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { gpt2Tokenizer } from "../../src/tokenizers";
import { prepareAttention, type AttentionData } from "../../src/widgets/attentionData";
import { attentionPatterns, AttentionPatternsWidget } from "../../src/widgets/attentionWidget";
import * as mechlab from "../../src";

let model: HookedTransformer;
const TEXT = "When Mary and John went to the store";

beforeAll(async () => {
  await ready();
  model = await HookedTransformer.create(
    { nLayers: 3, dModel: 16, nHeads: 4, dHead: 4, dMlp: 24, dVocab: 50257, nCtx: 32, actFn: "gelu_new", seed: 3 },
    { tokenizer: gpt2Tokenizer() },
  );
});

afterAll(() => model.dispose());

/** The value at (prompt, layer slot, head slot, q, k) of prepared data. */
function at(data: AttentionData, p: number, l: number, h: number, q: number, k: number): number {
  const { nLayers, nHeads, nPos } = data;
  return data.patterns[(((p * nLayers + l) * nHeads + h) * nPos + q) * nPos + k];
}

/** A deterministic tensor with distinct values. */
function ramp(shape: number[]): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, (_, i) => i / size), shape);
}

describe("prepareAttention from a cache", () => {
  it("lays every cached layer's pattern out as [prompt, layer, head, q, k], labelled with GPT-2 token strings", () => {
    const { output, cache } = model.runWithCache(TEXT);
    const data = prepareAttention(cache, { model, input: TEXT });
    const strTokens = model.toStrTokens(TEXT);
    expect(data.tokens).toEqual([strTokens]);
    expect(data.tokens[0]).toContain(" Mary");
    expect(data.tokens[0][0]).toBe("<|endoftext|>");
    expect(data).toMatchObject({ nPrompts: 1, nLayers: 3, nHeads: 4, nPos: strTokens.length, layers: [0, 1, 2], heads: [0, 1, 2, 3] });
    expect(data.patterns).toBeInstanceOf(Float32Array);
    expect(data.patterns.length).toBe(3 * 4 * strTokens.length ** 2);
    for (let l = 0; l < 3; l++) {
      const direct = cache.get("pattern", l).arraySync() as number[][][][];
      for (let h = 0; h < 4; h++)
        for (let q = 0; q < data.nPos; q++)
          for (let k = 0; k < data.nPos; k++) expect(at(data, 0, l, h, q, k)).toBe(Math.fround(direct[0][h][q][k]));
    }
    output.dispose();
    cache.dispose();
  });

  it("selects layers, heads and prompts of a batch; pads shorter prompts' token lists", () => {
    const texts = ["The cat sat", "A much longer prompt than the first one"];
    const { output, cache } = model.runWithCache(texts);
    const data = prepareAttention(cache, { model, input: texts, layer: [2, 0], heads: [3, 1], prompts: [1, 0] });
    expect(data).toMatchObject({ nPrompts: 2, nLayers: 2, nHeads: 2, layers: [2, 0], heads: [3, 1], prompts: [1, 0] });
    expect(data.tokens[0]).toEqual(model.toStrTokens(texts[1]));
    expect(data.tokens[1]).toEqual(model.toStrTokens(texts[0]));
    expect(data.tokens[1].length).toBeLessThan(data.nPos);
    const l2 = cache.get("pattern", 2).arraySync() as number[][][][];
    const l0 = cache.get("pattern", 0).arraySync() as number[][][][];
    expect(at(data, 0, 0, 0, 4, 2)).toBe(Math.fround(l2[1][3][4][2]));
    expect(at(data, 1, 1, 1, 2, 1)).toBe(Math.fround(l0[0][1][2][1]));
    output.dispose();
    cache.dispose();
  });

  it("explains a cache without patterns and a layer that is not cached", () => {
    const { output, cache } = model.runWithCache(TEXT, { namesFilter: (n) => n.endsWith("hook_resid_post") });
    expect(() => prepareAttention(cache, { model, input: TEXT })).toThrow(/no attention patterns \(hook_pattern\)/);
    output.dispose();
    cache.dispose();
    const full = model.runWithCache(TEXT, { namesFilter: (n) => n === "blocks.1.attn.hook_pattern" });
    expect(() => prepareAttention(full.cache, { model, input: TEXT, layer: 0 })).toThrow(/layer 0 is not in the patterns \(layers there: 1\)/);
    expect(prepareAttention(full.cache, { model, input: TEXT }).layers).toEqual([1]);
    full.output.dispose();
    full.cache.dispose();
  });
});

describe("prepareAttention from a tensor", () => {
  it("[head, q, k]: one layer (labelled with `layer`), one prompt", () => {
    const t = ramp([2, 3, 3]);
    const data = prepareAttention(t, { tokens: ["a", "b", "c"], layer: 5 });
    expect(data).toMatchObject({ nPrompts: 1, nLayers: 1, nHeads: 2, nPos: 3, layers: [5], tokens: [["a", "b", "c"]] });
    const direct = t.arraySync() as number[][][];
    expect(at(data, 0, 0, 1, 2, 0)).toBe(Math.fround(direct[1][2][0]));
    t.dispose();
  });

  it("[layer, head, q, k] with one token list; [batch, head, q, k] with one list per prompt", () => {
    const t = ramp([3, 2, 4, 4]);
    const direct = t.arraySync() as number[][][][];
    const byLayer = prepareAttention(t, { tokens: ["a", "b", "c", "d"] });
    expect(byLayer).toMatchObject({ nPrompts: 1, nLayers: 3, layers: [0, 1, 2] });
    expect(at(byLayer, 0, 2, 1, 3, 1)).toBe(Math.fround(direct[2][1][3][1]));
    const tokens = [["a", "b", "c", "d"], ["e", "f", "g", "h"], ["i", "j", "k", "l"]];
    const byBatch = prepareAttention(t, { tokens });
    expect(byBatch).toMatchObject({ nPrompts: 3, nLayers: 1, layers: [0] });
    expect(at(byBatch, 2, 0, 1, 3, 1)).toBe(Math.fround(direct[2][1][3][1]));
    const forced = prepareAttention(t, { tokens: ["a", "b", "c", "d"], firstAxis: "batch", heads: [1] });
    expect(forced.nPrompts).toBe(3);
    expect(forced.tokens).toHaveLength(3);
    expect(at(forced, 1, 0, 0, 2, 2)).toBe(Math.fround(direct[1][1][2][2]));
    t.dispose();
  });

  it("rejects mismatched shapes and options with clear messages", () => {
    const t = ramp([2, 3, 3]);
    expect(() => prepareAttention(t, { tokens: ["a", "b"] })).toThrow(/prompt 0 has 2 tokens but the patterns have 3 positions/);
    expect(() => prepareAttention(t, { tokens: ["a", "b", "c", "d"] })).toThrow(/has 4 tokens but the patterns have 3 positions/);
    expect(() => prepareAttention(t, {})).toThrow(/give the token strings \(`tokens`\) or a `model` and its `input`/);
    expect(() => prepareAttention(t, { tokens: ["a", "b", "c"], heads: [2] })).toThrow(/head 2 is out of range \(the patterns have 2\)/);
    expect(() => prepareAttention(t, { tokens: ["a", "b", "c"], model, input: "x" })).toThrow(/either `tokens` or `model` and `input`/);
    expect(() => prepareAttention(t, { model } as never)).toThrow(/`model` and `input` go together/);
    const batch = ramp([2, 2, 3, 3]);
    expect(() => prepareAttention(batch, { tokens: [["a", "b", "c"], ["a", "b", "c"], ["a", "b", "c"]] })).toThrow(/3 token lists for 2 prompts/);
    const flat = ramp([3, 3]);
    expect(() => prepareAttention(flat, { tokens: ["a", "b", "c"] })).toThrow(/expected a pattern tensor \[head, query, key\].*got shape \[3, 3\]/);
    const rect = ramp([1, 2, 3]);
    expect(() => prepareAttention(rect, { tokens: ["a", "b"] })).toThrow(/query and key axes differ \(2 vs 3\)/);
    tf.dispose([t, batch, flat, rect]);
  });

  it("creates no tensors", () => {
    const { output, cache } = model.runWithCache(TEXT);
    const t = ramp([2, 4, 4]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      prepareAttention(cache, { model, input: TEXT });
      prepareAttention(t, { tokens: ["a", "b", "c", "d"] });
      attentionPatterns(cache, { model, input: TEXT, heads: [0] });
      expect(() => prepareAttention(t, { tokens: ["a"] })).toThrow();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([t, output]);
    cache.dispose();
  });
});

describe("AttentionPatternsWidget", () => {
  it("holds the patterns as one Float32 buffer with shape metadata and selection state", () => {
    const { output, cache } = model.runWithCache(TEXT);
    const w = mechlab.attentionPatterns(cache, { model, input: TEXT });
    expect(w).toBeInstanceOf(AttentionPatternsWidget);
    expect(w.get("_view_name")).toBe("AttentionView");
    expect(w.get("_model_module")).toBe("mechlab-widgets");
    expect(w.get("patterns")).toBeInstanceOf(Float32Array);
    expect(w.get("tokens")).toEqual([model.toStrTokens(TEXT)]);
    expect(w.getState()).toMatchObject({ nPrompts: 1, nLayers: 3, nHeads: 4, selectedLayer: null, selectedHead: null, hoveredToken: null, maskUpperTriangle: true, selectedPrompt: 0 });
    const direct = cache.get("pattern", 1).arraySync() as number[][][][];
    expect(w.pattern(1, 2)[3][1]).toBe(Math.fround(direct[0][2][3][1]));
    // No JSON number lists in the state: only the buffer holds pattern values.
    for (const [key, value] of Object.entries(w.getState())) {
      if (Array.isArray(value)) expect(value.length, key).toBeLessThan(64);
    }
    // The browser's hover is read back in the kernel.
    expect(w.hovered).toBeNull();
    w.set("hoveredToken", 2);
    expect(w.hovered).toEqual({ prompt: 0, position: 2, token: model.toStrTokens(TEXT)[2] });
    expect(String(w.mimeBundle()["text/plain"])).toContain("3 layer(s) × 4 head(s)");
    output.dispose();
    cache.dispose();
  });

  it("starts focused on a head when asked, and checks it", () => {
    const t = ramp([2, 3, 3]);
    const w = attentionPatterns(t, { tokens: ["a", "b", "c"], layer: 4, selectedHead: 1, maskUpperTriangle: false });
    expect(w.getState()).toMatchObject({ selectedLayer: 4, selectedHead: 1, maskUpperTriangle: false, layers: [4] });
    expect(() => attentionPatterns(t, { tokens: ["a", "b", "c"], selectedHead: 7 })).toThrow(/selectedHead 7 is not among the heads shown/);
    t.dispose();
  });
});
