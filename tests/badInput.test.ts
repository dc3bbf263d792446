/** Every bad input gets a clear error that says what was wrong and what was expected. */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../src/backend";
import { resolveConfig } from "../src/model/config";
import { HookedTransformer } from "../src/model/hookedTransformer";
import { VARIANTS } from "./helpers/modelFixtures";

let model: HookedTransformer;

beforeAll(async () => {
  await ready();
  model = await HookedTransformer.create({ ...VARIANTS["gpt2-like (LN, gelu_new, standard positions)"], seed: 1 });
});

describe("token input", () => {
  it("token ids out of range, non-integer, or too long", () => {
    const before = tf.memory().numTensors;
    expect(() => model.forward([[1, 2, 29]])).toThrow(/Token id 29 at \[batch 0, position 2\] is out of range: this model's ids are integers in \[0, 29\)/);
    expect(() => model.forward([[1, -1]])).toThrow(/Token id -1/);
    expect(() => model.forward([[1, 2.5]])).toThrow(/Token id 2.5/);
    expect(() => model.forward([Array.from({ length: 13 }, () => 1)])).toThrow(/13 tokens but this model's context is nCtx = 12/);
    expect(() => model.forward([[1, 2], [3]])).toThrow(/different lengths \(2, 1\)/);
    expect(() => model.forward([])).toThrow(/empty list/);
    expect(() => model.forward([[]])).toThrow(/empty/);
    const floats = tf.tensor2d([[1, 2]]);
    expect(() => model.forward(floats)).toThrow(/dtype int32; got float32/);
    const rank3 = tf.zeros([1, 2, 3], "int32");
    expect(() => model.forward(rank3)).toThrow(/\[pos\] or \[batch, pos\]/);
    tf.dispose([floats, rank3]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("truncate cuts long inputs instead of throwing", () => {
    const logits = model.forward([Array.from({ length: 20 }, () => 1)], { truncate: true });
    expect(logits.shape).toEqual([1, 12, 29]);
    logits.dispose();
  });

  it("text without a tokenizer says what to pass instead", () => {
    expect(() => model.forward("hello")).toThrow(/needs a tokenizer, and this model has none\. Pass token ids/);
    expect(() => model.toStrTokens("hello")).toThrow(/needs a tokenizer/);
  });

  it("bad attention masks and return types", () => {
    const mask = tf.ones([1, 3]);
    expect(() => model.forward([[1, 2]], { attentionMask: mask as tf.Tensor2D })).toThrow(/attentionMask has shape \[1, 3\]; expected \[batch, pos\] = \[1, 2\]/);
    mask.dispose();
    expect(() => model.forward([[1, 2]], { returnType: "probs" as "loss" })).toThrow(/returnType must be/);
    expect(() => model.forward([[1]], { returnType: "loss" })).toThrow(/at least two tokens/);
  });
});

describe("configs and weights", () => {
  it("invalid configs name the key and what was expected", () => {
    const base = { nLayers: 1, dModel: 8, dHead: 4, dVocab: 10, nCtx: 8 };
    expect(() => resolveConfig({ ...base, nLayers: 0 })).toThrow(/Config.nLayers must be a positive integer; got 0/);
    expect(() => resolveConfig({ ...base, actFn: "gelu2" as "gelu" })).toThrow(/Config.actFn must be one of "gelu", "gelu_new"/);
    expect(() => resolveConfig({ ...base, nHeads: 3, nKeyValueHeads: 2 })).toThrow(/nKeyValueHeads \(2\) must divide nHeads \(3\)/);
    expect(() => resolveConfig({ ...base, positionalEmbeddingType: "rotary", rotaryDim: 3 })).toThrow(/rotaryDim must be even/);
    expect(() => resolveConfig({ ...base, n_layers: 2 } as never)).toThrow(/unknown key "n_layers".*camelCase/);
    expect(() => resolveConfig({ ...base, attnOnly: true, parallelAttnMlp: true })).toThrow(/cannot both be true/);
  });

  it("a state dict that does not match the config lists what is missing, extra or misshapen", async () => {
    const cfg = { nLayers: 1, dModel: 8, nHeads: 2, dHead: 4, dMlp: 16, dVocab: 10, nCtx: 8, seed: 1 };
    const source = await HookedTransformer.create(cfg);
    const stateDict = { ...source.stateDict() };
    delete stateDict["blocks.0.mlp.W_in"];
    stateDict["blocks.0.attn.W_Z"] = tf.zeros([1]);
    stateDict["unembed.b_U"] = tf.zeros([11]);
    await expect(HookedTransformer.create(cfg, { stateDict })).rejects.toThrow(
      /missing "blocks\.0\.mlp\.W_in" \[8, 16\].*"unembed\.b_U" has shape \[11\], the config implies \[10\].*unexpected "blocks\.0\.attn\.W_Z"/,
    );
    tf.dispose([stateDict["blocks.0.attn.W_Z"], stateDict["unembed.b_U"]]);
    source.dispose();
  });

  it("weight accessors that the architecture lacks say so", async () => {
    const attnOnly = await HookedTransformer.create({ ...VARIANTS["attention-only (LNPre)"], seed: 1 });
    expect(() => attnOnly.W_in).toThrow(/no "mlp\.W_in" weights \(attention-only model\)/);
    expect(attnOnly.W_Q.shape).toEqual([2, 4, 16, 4]);
    expect(attnOnly.W_O.shape).toEqual([2, 4, 4, 16]);
    attnOnly.dispose();
  });

  it("backendInfo reports the backend in use and every attempt", async () => {
    const { backendInfo } = await import("../src/backend");
    const info = backendInfo();
    expect(["tensorflow", "wasm", "cpu"]).toContain(info.name);
    expect(info.summary).toMatch(/tensor backend: /);
    expect(info.attempts[info.attempts.length - 1].ok).toBe(true);
  });
});
