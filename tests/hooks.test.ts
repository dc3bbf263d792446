/** Hook points: reading, replacing, scoping, filters, caching options, partial runs. */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../src/backend";
import { HookedTransformer } from "../src/model/hookedTransformer";
import { referenceForward, randomWeights } from "./reference";
import { configOf, disposeAll, maxAbsDiff, randomTokens, toStateDict, VARIANTS } from "./helpers/modelFixtures";

const INPUT = VARIANTS["gpt2-like (LN, gelu_new, standard positions)"];
let model: HookedTransformer;
const tokens = randomTokens(2, 8, 29, 21);

beforeAll(async () => {
  await ready();
  model = await HookedTransformer.create({ ...INPUT, seed: 4 });
});

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe("hooks", () => {
  it("an identity hook on every hook point leaves logits unchanged", () => {
    const clean = model.forward(tokens);
    let calls = 0;
    const hooked = model.runWithHooks(tokens, {
      fwdHooks: [[() => true, (act) => { calls++; return act; }]],
    });
    expect(calls).toBe(model.hookNames.length);
    expect(maxDiff(clean, hooked)).toBe(0);
    tf.dispose([clean, hooked]);
  });

  it("hooks see TransformerLens names and layers, in forward order", () => {
    const seen: [string, number | undefined][] = [];
    const out = model.runWithHooks(tokens, { fwdHooks: [[() => true, (_a, ctx) => void seen.push([ctx.name, ctx.layer])]] });
    expect(seen.map(([n]) => n)).toEqual(model.hookNames);
    expect(seen.find(([n]) => n === "blocks.1.attn.hook_pattern")![1]).toBe(1);
    expect(seen.find(([n]) => n === "hook_embed")![1]).toBeUndefined();
    out.dispose();
  });

  it("a replacement changes downstream computation (zero-ablating attention equals the reference with W_O = 0)", async () => {
    const cfg = configOf(INPUT);
    const weights = randomWeights(cfg, 2);
    const stateDict = toStateDict(weights);
    const m = await HookedTransformer.create(INPUT, { stateDict });
    disposeAll(stateDict);
    const ablated = m.runWithHooks(tokens, {
      fwdHooks: [[(name) => name.endsWith("attn.hook_z"), (z) => tf.zerosLike(z)]],
    });
    // Oracle: the reference with W_O zeroed (b_O still added).
    for (let l = 0; l < cfg.nLayers; l++) weights[`blocks.${l}.attn.W_O`] = { ...weights[`blocks.${l}.attn.W_O`], data: new Float32Array(weights[`blocks.${l}.attn.W_O`].data.length) };
    const expected = referenceForward(cfg, weights, tokens);
    expect(maxAbsDiff(ablated, expected.logits)).toBeLessThan(1e-4);
    ablated.dispose();
    m.dispose();
  });

  it("runWithHooks removes its hooks afterwards, also when a hook throws", () => {
    expect(() =>
      model.runWithHooks(tokens, {
        fwdHooks: [["blocks.0.hook_resid_pre", () => { throw new Error("boom"); }]],
      }),
    ).toThrow("boom");
    expect(model.hookPoint("blocks.0.hook_resid_pre").hookCount).toBe(0);
  });

  it("withHooks scopes hooks around an async function, and removes them when it rejects", async () => {
    let calls = 0;
    const result = await model.withHooks([["hook_embed", () => void calls++]], async (m) => {
      const out = m.forward(tokens);
      const shape = out.shape;
      out.dispose();
      await Promise.resolve();
      return shape;
    });
    expect(result).toEqual([2, 8, 29]);
    expect(calls).toBe(1);
    expect(model.hookPoint("hook_embed").hookCount).toBe(0);
    await expect(model.withHooks([["hook_embed", () => undefined]], async () => { throw new Error("inside"); })).rejects.toThrow("inside");
    expect(model.hookPoint("hook_embed").hookCount).toBe(0);
  });

  it("addHook / resetHooks: temporary and permanent hooks", () => {
    let temporary = 0;
    let permanent = 0;
    model.addHook("blocks.1.hook_resid_post", () => void temporary++);
    model.addHook("blocks.1.hook_resid_post", () => void permanent++, { permanent: true });
    tf.dispose(model.forward(tokens));
    model.resetHooks();
    tf.dispose(model.forward(tokens));
    expect([temporary, permanent]).toEqual([1, 2]);
    model.resetHooks({ includingPermanent: true });
    tf.dispose(model.forward(tokens));
    expect(permanent).toBe(2);
    const remove = model.addHook("hook_embed", () => void temporary++);
    remove();
    tf.dispose(model.forward(tokens));
    expect(temporary).toBe(1);
  });

  it("a replacement of the wrong shape throws naming the hook and both shapes", () => {
    expect(() =>
      model.runWithHooks(tokens, { fwdHooks: [["blocks.0.attn.hook_pattern", (p) => p.slice([0, 0, 0, 0], [2, 4, 8, 7])]] }),
    ).toThrow(/"blocks\.0\.attn\.hook_pattern".*\[2, 4, 8, 7\].*\[2, 4, 8, 8\]/);
    expect(() => model.runWithHooks(tokens, { fwdHooks: [["hook_embed", () => 3 as unknown as tf.Tensor]] })).toThrow(/returned number/);
  });

  it("an unknown hook name throws listing the closest valid names", () => {
    expect(() => model.addHook("blocks.0.attn.hook_patern", () => undefined)).toThrow(/Closest valid names: "blocks\.0\.attn\.hook_pattern"/);
    expect(() => model.runWithCache(tokens, { namesFilter: ["blocks.7.hook_resid_pre"] })).toThrow(/not a hook point/);
    // Names valid in TransformerLens but absent from this architecture are rejected too.
    expect(() => model.addHook("blocks.0.attn.hook_rot_q", () => undefined)).toThrow(/not a hook point/);
  });
});

describe("runWithCache", () => {
  it("namesFilter, removeBatchDim and posSlice", () => {
    const { output, cache } = model.runWithCache([tokens[0]], {
      namesFilter: (n) => n.endsWith("hook_pattern") || n.endsWith("hook_resid_post"),
      removeBatchDim: true,
    });
    expect(cache.keys().sort()).toEqual(["blocks.0.attn.hook_pattern", "blocks.0.hook_resid_post", "blocks.1.attn.hook_pattern", "blocks.1.hook_resid_post"]);
    expect(cache.get("pattern", 1).shape).toEqual([4, 8, 8]);
    expect(cache.get("blocks.0.hook_resid_post").shape).toEqual([8, 16]);
    const full = model.runWithCache(tokens, { namesFilter: ["blocks.1.attn.hook_pattern", "hook_embed"] });
    const sliced = model.runWithCache(tokens, { namesFilter: ["blocks.1.attn.hook_pattern", "hook_embed"], posSlice: -1 });
    // A number drops the position axis, as in TransformerLens.
    expect(sliced.cache.get("hook_embed").shape).toEqual([2, 16]);
    expect(sliced.cache.get("pattern", 1).shape).toEqual([2, 4, 8]);
    const lastRow = full.cache.get("pattern", 1).slice([0, 0, 7, 0], [2, 4, 1, 8]).reshape([2, 4, 8]);
    expect(maxDiff(lastRow, sliced.cache.get("pattern", 1))).toBe(0);
    const range = model.runWithCache(tokens, { namesFilter: "hook_embed", posSlice: [2, 5] });
    expect(range.cache.get("embed").shape).toEqual([2, 3, 16]);
    tf.dispose([output, full.output, sliced.output, range.output, lastRow]);
    [cache, full.cache, sliced.cache, range.cache].forEach((c) => c.dispose());
  });

  it("short names resolve as TransformerLens's get_act_name", () => {
    const { output, cache } = model.runWithCache(tokens);
    expect(cache.get("q", 0)).toBe(cache.get("blocks.0.attn.hook_q"));
    expect(cache.get("scale", 1, "ln2")).toBe(cache.get("blocks.1.ln2.hook_scale"));
    expect(cache.get("scale")).toBe(cache.get("ln_final.hook_scale"));
    expect(cache.get("resid_post", 1)).toBe(cache.get("blocks.1.hook_resid_post"));
    expect(() => cache.get("pattern")).toThrow(/needs a layer/);
    expect(() => cache.get("blocks.0.attn.hook_rot_q")).toThrow(/Closest valid names/);
    output.dispose();
    cache.dispose();
    expect(() => cache.get("q", 0)).toThrow(/disposed/);
  });

  it("cached values are the values after the user's hooks", () => {
    const { output, cache } = model.runWithCache(tokens, {
      namesFilter: "hook_embed",
      fwdHooks: [["hook_embed", (e) => tf.mul(e, 0)]],
    });
    expect(tf.tidy(() => tf.sum(tf.abs(cache.get("embed"))).dataSync()[0])).toBe(0);
    output.dispose();
    cache.dispose();
  });
});

describe("partial runs", () => {
  it("stopAtLayer returns resid_pre of that layer; startAtLayer continues from it to the same logits", () => {
    const { output, cache } = model.runWithCache(tokens);
    const resid = model.forward(tokens, { stopAtLayer: 1 });
    expect(maxDiff(resid, cache.get("resid_pre", 1))).toBe(0);
    const logits = model.forward(resid, { startAtLayer: 1 });
    expect(maxDiff(logits, output)).toBeLessThan(1e-5);
    const tokenTensor = tf.tensor2d(tokens, undefined, "int32");
    const lossFromMiddle = model.forward(resid, { startAtLayer: 1, returnType: "loss", tokens: tokenTensor });
    const loss = model.forward(tokens, { returnType: "loss" });
    expect(Math.abs(lossFromMiddle.dataSync()[0] - loss.dataSync()[0])).toBeLessThan(1e-5);
    tf.dispose([output, resid, logits, tokenTensor, lossFromMiddle, loss]);
    cache.dispose();
  });

  it("bad layer ranges and inputs are rejected clearly", () => {
    expect(() => model.forward(tokens, { stopAtLayer: 5 })).toThrow(/stopAtLayer must be an integer in \[startAtLayer=0, 2\]/);
    expect(() => model.forward(tokens, { startAtLayer: 1 })).toThrow(/residual stream \[batch, pos, dModel=16\]/);
  });
});

describe("weights", () => {
  it("stacked accessors follow in-place edits of the parameters", async () => {
    const m = await HookedTransformer.create({ ...INPUT, seed: 9 });
    const before = m.W_Q.slice([1, 2, 0, 0], [1, 1, -1, -1]);
    const replacement = tf.onesLike(m.param("blocks.1.attn.W_Q"));
    m.param("blocks.1.attn.W_Q").assign(replacement);
    expect(m.W_Q.shape).toEqual([2, 4, 16, 4]);
    expect(tf.tidy(() => tf.sum(m.W_Q.slice([1, 0, 0, 0], [1, -1, -1, -1])).dataSync()[0])).toBe(4 * 16 * 4);
    expect(tf.tidy(() => tf.sum(tf.abs(tf.sub(m.W_Q.slice([0, 0, 0, 0], [1, -1, -1, -1]), m.param("blocks.0.attn.W_Q").expandDims(0)))).dataSync()[0])).toBe(0);
    tf.dispose([before, replacement]);
    m.dispose();
  });
});

describe("caches without a position axis", () => {
  it("analysis methods explain that a single-index posSlice dropped the axis", () => {
    const { output, cache } = model.runWithCache(tokens, { posSlice: -1 });
    expect(cache.hasPosDim).toBe(false);
    expect(() => cache.decomposeResid()).toThrow(/single-index posSlice.*posSlice \[p, p \+ 1\]/);
    const kept = model.runWithCache(tokens, { posSlice: [7, 8] });
    expect(kept.cache.hasPosDim).toBe(true);
    const { stack } = kept.cache.decomposeResid();
    expect(stack.shape).toEqual([6, 2, 1, 16]);
    tf.dispose([output, kept.output, stack]);
    cache.dispose();
    kept.cache.dispose();
  });
});
