/**
 * Checks of the plain-loop references (tests/reference) against facts that do not come from the
 * references themselves: known erf values, softmax normalisation, causality, a hand-computed
 * zero-attention model, rotary's relative-position property, GQA as duplicated heads, and the
 * Hugging Face references against the TransformerLens-layout reference through hand-written
 * weight mappings.
 */
import { describe, expect, it } from "vitest";
import { resolveConfig, type Config, type ConfigInput } from "../src/model/config";
import { expectedParamShapes } from "../src/model/stateDict";
import { hfApplyRope } from "./reference/hfCommon";
import { tinyHfConfigs } from "./reference/hfConfigs";
import { hfGpt2Forward } from "./reference/hfGpt2";
import { hfLlamaForward } from "./reference/hfLlama";
import { hfNeoxForward } from "./reference/hfNeox";
import { randomHfWeights } from "./reference/hfRandom";
import { referenceForward, type ReferenceOptions } from "./reference/hookedReference";
import { referenceLoss } from "./reference/loss";
import { erf, gelu, geluFast, geluNew, softmax } from "./reference/math";
import { randomWeights } from "./reference/randomWeights";
import { applyRotary } from "./reference/rotary";
import { at } from "./reference/tensors";
import type { RefTensor, RefWeight, RefWeights } from "./reference/types";

// ---------- helpers local to the tests ----------

function tiny(overrides: Partial<ConfigInput> = {}): Config {
  return resolveConfig({ nLayers: 2, dModel: 16, nCtx: 12, dHead: 4, nHeads: 4, dMlp: 24, dVocab: 20, ...overrides });
}

/** A RefWeight of the given shape whose entry at a multi-index is f(index). */
function build(shape: number[], f: (...index: number[]) => number): RefWeight {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(size);
  for (let flat = 0; flat < size; flat++) {
    const index: number[] = [];
    let rest = flat;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      index.unshift(rest % shape[axis]);
      rest = Math.floor(rest / shape[axis]);
    }
    data[flat] = f(...index);
  }
  return { shape, data };
}

function maxAbsDiff(a: RefTensor, b: RefTensor): number {
  expect(a.shape).toEqual(b.shape);
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]));
  return worst;
}

/** logits[b][p][:] as a plain array. */
function logitRow(t: RefTensor, b: number, p: number): number[] {
  const V = t.shape[2];
  return Array.from({ length: V }, (_, v) => at(t, b, p, v));
}

function randomTokens(batch: number, pos: number, vocab: number, seed: number): number[][] {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s;
  };
  return Array.from({ length: batch }, () => Array.from({ length: pos }, () => next() % vocab));
}

const w = (weights: RefWeights, name: string): RefWeight => {
  const found = weights[name];
  if (!found) throw new Error(`test: missing ${name}`);
  return found;
};

// ---------- math ----------

describe("erf and activations", () => {
  it("erf matches known values", () => {
    const known: [number, number][] = [
      [0, 0],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      // erf(−0.3) = −0.328626759459127427…: the commonly quoted −0.3286267594591112 is off by 1.6e-14.
      [-0.3, -0.3286267594591274],
      [1.5, 0.9661051464753108],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
    ];
    for (const [x, y] of known) expect(Math.abs(erf(x) - y)).toBeLessThan(1e-14);
    // The continued fraction's tail: erfc(3) = 2.209049699858544e-05, to ~1e-15 relative.
    expect(Math.abs(1 - erf(3) - 2.209049699858544e-5)).toBeLessThan(1e-15);
    expect(erf(10)).toBe(1);
    expect(erf(-10)).toBe(-1);
  });

  it("erf is continuous where the series hands over to the continued fraction", () => {
    for (const x of [2.5, -2.5]) {
      expect(Math.abs(erf(x - 1e-12) - erf(x))).toBeLessThan(1e-14);
    }
  });

  it("gelu is x·Φ(x); the tanh approximations stay close to it", () => {
    expect(Math.abs(gelu(1) - 0.8413447460685429)).toBeLessThan(1e-14); // Φ(1)
    expect(Math.abs(gelu(-1) - -0.15865525393145707)).toBeLessThan(1e-14); // −Φ(−1)
    for (let x = -5; x <= 5; x += 0.125) {
      expect(Math.abs(geluNew(x) - gelu(x))).toBeLessThan(1e-3);
      expect(Math.abs(geluFast(x) - geluNew(x))).toBeLessThan(1e-8);
    }
  });

  it("softmax rows sum to 1 and an all −Infinity row gives zeros", () => {
    const rows = [[0, 1, 2], [-1000, 0, 1000], [3, -Infinity, 3], [5]];
    for (const row of rows) {
      const p = softmax(row);
      expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-15);
      expect(p.every((v) => v >= 0)).toBe(true);
    }
    expect(softmax([3, -Infinity, 3])).toEqual([0.5, 0, 0.5]);
    expect(softmax([-Infinity, -Infinity])).toEqual([0, 0]);
  });
});

// ---------- rotary ----------

describe("rotary", () => {
  const vecs = (seed: number, n: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 2);

  it("scores depend only on the relative offset", () => {
    const q = vecs(1, 8);
    const k = vecs(2, 8);
    const score = (pq: number, pk: number, rot: (x: number[], p: number) => number[]) =>
      rot(q, pq).reduce((s, v, i) => s + v * rot(k, pk)[i], 0);
    const rotations = [
      (x: number[], p: number) => applyRotary(x, p, 8, 10000),
      (x: number[], p: number) => applyRotary(x, p, 4, 500),
      (x: number[], p: number) => hfApplyRope(x, p, 8, 10000),
      (x: number[], p: number) => hfApplyRope(x, p, 6, 10000),
    ];
    for (const rot of rotations) {
      for (const [pq, pk] of [[5, 2], [3, 3], [7, 0]]) {
        const base = score(pq, pk, rot);
        for (const shift of [1, 4, 11]) expect(Math.abs(score(pq + shift, pk + shift, rot) - base)).toBeLessThan(1e-12);
      }
      // ...and it does depend on the offset.
      expect(Math.abs(score(5, 2, rot) - score(5, 3, rot))).toBeGreaterThan(1e-6);
    }
  });

  it("rotates pairs (i, i + rotaryDim/2) by position · base^(−2i/rotaryDim); later dims pass through", () => {
    // rotaryDim 2: one pair (0, 1), frequency base^0 = 1, so the angle is the position itself.
    const out = applyRotary([1, 2, 3], 0.7, 2, 10000);
    expect(out[0]).toBeCloseTo(Math.cos(0.7) - 2 * Math.sin(0.7), 14);
    expect(out[1]).toBeCloseTo(2 * Math.cos(0.7) + Math.sin(0.7), 14);
    expect(out[2]).toBe(3);
    // rotaryDim 4, base 100: pair (1, 3) turns by position · 100^(−1/2) = position / 10.
    const out4 = applyRotary([0, 1, 0, 0], 2, 4, 100);
    expect(out4[1]).toBeCloseTo(Math.cos(0.2), 14);
    expect(out4[3]).toBeCloseTo(Math.sin(0.2), 14);
    expect(applyRotary([4, 5, 6, 7], 0, 4, 10000)).toEqual([4, 5, 6, 7]);
  });

  it("the TransformerLens and Hugging Face formulations agree", () => {
    const x = vecs(3, 8);
    for (const [p, dim, base] of [[3, 8, 10000], [9, 4, 10000], [1, 6, 500]]) {
      const a = applyRotary(x, p, dim, base);
      const b = hfApplyRope(x, p, dim, base);
      for (let i = 0; i < 8; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-13);
    }
  });
});

// ---------- hooked reference ----------

function hookNames(cfg: Config): string[] {
  const { activations } = referenceForward(cfg, randomWeights(cfg, 1), [[1, 2, 3]]);
  return [...activations.keys()].sort();
}

describe("referenceForward hook points", () => {
  it("records TransformerLens's names for a standard LN model", () => {
    const block = [
      "hook_resid_pre", "ln1.hook_scale", "ln1.hook_normalized", "attn.hook_q", "attn.hook_k", "attn.hook_v",
      "attn.hook_attn_scores", "attn.hook_pattern", "attn.hook_z", "hook_attn_out", "hook_resid_mid",
      "ln2.hook_scale", "ln2.hook_normalized", "mlp.hook_pre", "mlp.hook_post", "hook_mlp_out", "hook_resid_post",
    ];
    const expected = ["hook_embed", "hook_pos_embed", ...block.map((s) => `blocks.0.${s}`), ...block.map((s) => `blocks.1.${s}`), "ln_final.hook_scale", "ln_final.hook_normalized"];
    expect(hookNames(tiny())).toEqual(expected.sort());
  });

  it("adds rot_q/rot_k, pre_linear and result; drops pos_embed for rotary + gated + useAttnResult", () => {
    const names = hookNames(tiny({ nLayers: 1, positionalEmbeddingType: "rotary", gatedMlp: true, actFn: "silu", normalizationType: "RMS", useAttnResult: true }));
    expect(names).not.toContain("hook_pos_embed");
    for (const n of ["attn.hook_rot_q", "attn.hook_rot_k", "mlp.hook_pre_linear", "attn.hook_result"]) expect(names).toContain(`blocks.0.${n}`);
  });

  it("parallel blocks have no resid_mid; attnOnly blocks have no ln2/mlp; 'none' norms have no ln hooks", () => {
    const parallel = hookNames(tiny({ nLayers: 1, parallelAttnMlp: true }));
    expect(parallel).not.toContain("blocks.0.hook_resid_mid");
    expect(parallel).toContain("blocks.0.hook_mlp_out");
    const attnOnly = hookNames(tiny({ nLayers: 1, attnOnly: true }));
    expect(attnOnly.filter((n) => /resid_mid|ln2|mlp/.test(n))).toEqual([]);
    const none = hookNames(tiny({ nLayers: 1, normalizationType: "none" }));
    expect(none.filter((n) => /hook_scale|hook_normalized/.test(n))).toEqual([]);
  });

  it("solu_ln records hook_mid and the MLP LayerNorm's hooks", () => {
    const names = hookNames(tiny({ nLayers: 1, actFn: "solu_ln" }));
    for (const n of ["mlp.hook_mid", "mlp.ln.hook_scale", "mlp.ln.hook_normalized"]) expect(names).toContain(`blocks.0.${n}`);
  });

  it("activation shapes follow TransformerLens", () => {
    const cfg = tiny({ positionalEmbeddingType: "rotary", nKeyValueHeads: 2, useAttnResult: true, gatedMlp: true });
    const { activations, logits } = referenceForward(cfg, randomWeights(cfg, 2), [[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]]);
    const shape = (n: string) => activations.get(n)?.shape;
    expect(logits.shape).toEqual([2, 5, 20]);
    expect(shape("hook_embed")).toEqual([2, 5, 16]);
    expect(shape("blocks.1.ln1.hook_scale")).toEqual([2, 5, 1]);
    expect(shape("blocks.1.attn.hook_q")).toEqual([2, 5, 4, 4]);
    expect(shape("blocks.1.attn.hook_k")).toEqual([2, 5, 2, 4]);
    expect(shape("blocks.1.attn.hook_rot_k")).toEqual([2, 5, 2, 4]);
    expect(shape("blocks.1.attn.hook_attn_scores")).toEqual([2, 4, 5, 5]);
    expect(shape("blocks.1.attn.hook_pattern")).toEqual([2, 4, 5, 5]);
    expect(shape("blocks.1.attn.hook_z")).toEqual([2, 5, 4, 4]);
    expect(shape("blocks.1.attn.hook_result")).toEqual([2, 5, 4, 16]);
    expect(shape("blocks.1.mlp.hook_pre_linear")).toEqual([2, 5, 24]);
    expect(shape("blocks.1.hook_mlp_out")).toEqual([2, 5, 16]);
  });
});

describe("referenceForward invariants", () => {
  const configs: [string, Config][] = [
    ["standard LN gelu", tiny()],
    ["rotary RMS gated GQA", tiny({ positionalEmbeddingType: "rotary", rotaryDim: 2, normalizationType: "RMS", gatedMlp: true, actFn: "silu", nKeyValueHeads: 2 })],
    ["shortformer LNPre relu", tiny({ positionalEmbeddingType: "shortformer", normalizationType: "LNPre", actFn: "relu" })],
    ["parallel RMSPre gelu_new", tiny({ parallelAttnMlp: true, normalizationType: "RMSPre", actFn: "gelu_new" })],
    ["attnOnly 3 layers", tiny({ nLayers: 3, attnOnly: true })],
    ["solu_ln", tiny({ actFn: "solu_ln" })],
  ];

  it.each(configs)("%s: pattern rows sum to 1 and are zero above the diagonal", (_, cfg) => {
    const { activations } = referenceForward(cfg, randomWeights(cfg, 3), randomTokens(2, 7, cfg.dVocab, 1));
    for (let l = 0; l < cfg.nLayers; l++) {
      const pattern = activations.get(`blocks.${l}.attn.hook_pattern`)!;
      const scores = activations.get(`blocks.${l}.attn.hook_attn_scores`)!;
      const [B, H, Q, K] = pattern.shape;
      for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let q = 0; q < Q; q++) {
        let sum = 0;
        for (let k = 0; k < K; k++) {
          sum += at(pattern, b, h, q, k);
          if (k > q) {
            expect(at(pattern, b, h, q, k)).toBe(0);
            expect(at(scores, b, h, q, k)).toBe(-Infinity);
          }
        }
        expect(Math.abs(sum - 1)).toBeLessThan(1e-12);
      }
    }
  });

  it.each(configs)("%s: changing a later token leaves earlier logits unchanged", (_, cfg) => {
    const weights = randomWeights(cfg, 4);
    const tokens = randomTokens(1, 8, cfg.dVocab, 2);
    const changed = [tokens[0].slice()];
    changed[0][5] = (changed[0][5] + 7) % cfg.dVocab;
    const a = referenceForward(cfg, weights, tokens).logits;
    const b = referenceForward(cfg, weights, changed).logits;
    for (let p = 0; p < 5; p++) expect(logitRow(a, 0, p)).toEqual(logitRow(b, 0, p));
    expect(logitRow(a, 0, 5)).not.toEqual(logitRow(b, 0, 5));
  });

  it("with zero W_O, W_out, biases and W_pos the logits are ln_final(W_E[tok])·W_U + b_U", () => {
    const cfg = tiny({ nLayers: 2 });
    const weights = randomWeights(cfg, 5);
    for (const name of Object.keys(weights)) {
      if (/W_O$|b_O$|W_out$|b_out$|W_pos$/.test(name)) weights[name] = { shape: weights[name].shape, data: new Float32Array(weights[name].data.length) };
    }
    const tokens = [[3, 1, 4, 1, 5, 9]];
    const { logits } = referenceForward(cfg, weights, tokens);
    const M = cfg.dModel;
    const V = cfg.dVocabOut;
    for (let p = 0; p < tokens[0].length; p++) {
      // By hand: LayerNorm of the token's embedding row, then the unembedding.
      const x = Array.from({ length: M }, (_, i) => at(w(weights, "embed.W_E"), tokens[0][p], i));
      const mean = x.reduce((a, b) => a + b, 0) / M;
      const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / M;
      const normed = x.map((v, i) => ((v - mean) / Math.sqrt(variance + cfg.eps)) * at(w(weights, "ln_final.w"), i) + at(w(weights, "ln_final.b"), i));
      for (let v = 0; v < V; v++) {
        let expected = at(w(weights, "unembed.b_U"), v);
        for (let i = 0; i < M; i++) expected += normed[i] * at(w(weights, "unembed.W_U"), i, v);
        expect(Math.abs(at(logits, 0, p, v) - expected)).toBeLessThan(1e-12);
      }
    }
  });

  it("LNPre / RMSPre outputs have mean 0 / mean square 1 − eps/scale²", () => {
    for (const normalizationType of ["LNPre", "RMSPre"] as const) {
      const cfg = tiny({ normalizationType, eps: 1e-3 });
      const { activations } = referenceForward(cfg, randomWeights(cfg, 6), [[1, 2, 3, 4]]);
      const normed = activations.get("blocks.1.ln2.hook_normalized")!;
      const scale = activations.get("blocks.1.ln2.hook_scale")!;
      for (let p = 0; p < 4; p++) {
        const row = Array.from({ length: cfg.dModel }, (_, i) => at(normed, 0, p, i));
        const s = at(scale, 0, p, 0);
        const meanSquare = row.reduce((a, v) => a + v * v, 0) / cfg.dModel;
        expect(Math.abs(meanSquare - (1 - cfg.eps / (s * s)))).toBeLessThan(1e-12);
        if (normalizationType === "LNPre") expect(Math.abs(row.reduce((a, v) => a + v, 0))).toBeLessThan(1e-12);
      }
    }
  });

  it("grouped-query attention equals full attention with each K/V head duplicated across its group", () => {
    const gqa = tiny({ positionalEmbeddingType: "rotary", nKeyValueHeads: 2 });
    const full = tiny({ positionalEmbeddingType: "rotary" });
    const gw = randomWeights(gqa, 7);
    const fw: RefWeights = { ...gw };
    for (let l = 0; l < 2; l++) {
      for (const n of ["W_K", "W_V"]) {
        const src = w(gw, `blocks.${l}.attn.${n}`);
        fw[`blocks.${l}.attn.${n}`] = build([4, 16, 4], (h, i, d) => at(src, Math.floor(h / 2), i, d));
      }
      for (const n of ["b_K", "b_V"]) {
        const src = w(gw, `blocks.${l}.attn.${n}`);
        fw[`blocks.${l}.attn.${n}`] = build([4, 4], (h, d) => at(src, Math.floor(h / 2), d));
      }
    }
    const tokens = randomTokens(2, 6, 20, 3);
    expect(maxAbsDiff(referenceForward(gqa, gw, tokens).logits, referenceForward(full, fw, tokens).logits)).toBeLessThan(1e-12);
  });

  it("a padding mask on a rotary model reproduces the unpadded logits at the real positions", () => {
    const cfg = tiny({ positionalEmbeddingType: "rotary", normalizationType: "RMS" });
    const weights = randomWeights(cfg, 8);
    const real = [4, 8, 15, 16, 19];
    const unpadded = referenceForward(cfg, weights, [real]).logits;
    const padded = referenceForward(cfg, weights, [[0, 0, 0, ...real]], { attentionMask: [[0, 0, 0, 1, 1, 1, 1, 1]] });
    for (let p = 0; p < real.length; p++) {
      const a = logitRow(unpadded, 0, p);
      const b = logitRow(padded.logits, 0, p + 3);
      for (let v = 0; v < a.length; v++) expect(Math.abs(a[v] - b[v])).toBeLessThan(1e-10);
    }
    // Padding keys get no attention; padding queries (every key masked) get a zero row.
    const pattern = padded.activations.get("blocks.0.attn.hook_pattern")!;
    for (let k = 0; k < 3; k++) expect(at(pattern, 0, 0, 6, k)).toBe(0);
    for (let k = 0; k < 8; k++) expect(at(pattern, 0, 0, 1, k)).toBe(0);
  });

  it("shiftPositionsForPadding makes left padding invisible for standard positional embeddings", () => {
    const cfg = tiny();
    const weights = randomWeights(cfg, 9);
    const real = [4, 8, 15, 16];
    const options: ReferenceOptions = { attentionMask: [[0, 0, 1, 1, 1, 1]], shiftPositionsForPadding: true };
    const unpadded = referenceForward(cfg, weights, [real]).logits;
    const padded = referenceForward(cfg, weights, [[7, 7, ...real]], options).logits;
    for (let p = 0; p < real.length; p++) {
      const a = logitRow(unpadded, 0, p);
      const b = logitRow(padded, 0, p + 2);
      for (let v = 0; v < a.length; v++) expect(Math.abs(a[v] - b[v])).toBeLessThan(1e-10);
    }
  });

  it("shortformer: the residual stream holds no positional embedding and values ignore W_pos", () => {
    const cfg = tiny({ positionalEmbeddingType: "shortformer" });
    const weights = randomWeights(cfg, 10);
    const other: RefWeights = { ...weights, "pos_embed.W_pos": randomWeights(cfg, 11)["pos_embed.W_pos"] };
    const tokens = [[1, 2, 3, 4]];
    const a = referenceForward(cfg, weights, tokens).activations;
    const b = referenceForward(cfg, other, tokens).activations;
    expect(a.get("blocks.0.hook_resid_pre")!.data).toEqual(a.get("hook_embed")!.data);
    expect(a.get("blocks.0.attn.hook_v")!.data).toEqual(b.get("blocks.0.attn.hook_v")!.data);
    expect(a.get("blocks.0.attn.hook_q")!.data).not.toEqual(b.get("blocks.0.attn.hook_q")!.data);
  });

  it("hook_result summed over heads plus b_O is hook_attn_out", () => {
    const cfg = tiny({ useAttnResult: true });
    const weights = randomWeights(cfg, 12);
    const { activations } = referenceForward(cfg, weights, [[1, 2, 3]]);
    const result = activations.get("blocks.1.attn.hook_result")!;
    const out = activations.get("blocks.1.hook_attn_out")!;
    for (let p = 0; p < 3; p++) for (let i = 0; i < 16; i++) {
      let s = at(w(weights, "blocks.1.attn.b_O"), i);
      for (let h = 0; h < 4; h++) s += at(result, 0, p, h, i);
      expect(Math.abs(s - at(out, 0, p, i))).toBeLessThan(1e-12);
    }
  });

  it("gated MLP: the two b_in placements agree when b_in = 0 and differ otherwise", () => {
    const cfg = tiny({ gatedMlp: true, actFn: "gelu" });
    const weights = randomWeights(cfg, 13);
    const tokens = [[1, 2, 3]];
    const after = referenceForward(cfg, weights, tokens).logits;
    const inLinear = referenceForward(cfg, weights, tokens, { gatedMlpBias: "inLinear" }).logits;
    expect(maxAbsDiff(after, inLinear)).toBeGreaterThan(1e-6);
    const zeroBias: RefWeights = { ...weights };
    for (let l = 0; l < 2; l++) zeroBias[`blocks.${l}.mlp.b_in`] = build([cfg.dMlp], () => 0);
    const a = referenceForward(cfg, zeroBias, tokens).logits;
    const b = referenceForward(cfg, zeroBias, tokens, { gatedMlpBias: "inLinear" }).logits;
    expect(maxAbsDiff(a, b)).toBe(0);
  });

  it("rejects missing and misshapen parameters", () => {
    const cfg = tiny();
    const weights = randomWeights(cfg, 14);
    const missing = { ...weights };
    delete missing["blocks.1.attn.W_V"];
    expect(() => referenceForward(cfg, missing, [[1]])).toThrow(/blocks\.1\.attn\.W_V/);
    const bad = { ...weights, "unembed.b_U": build([3], () => 0) };
    expect(() => referenceForward(cfg, bad, [[1]])).toThrow(/unembed\.b_U/);
  });
});

describe("referenceLoss", () => {
  it("is log(vocab) for uniform logits and matches a hand computation", () => {
    const uniform: RefTensor = { shape: [1, 3, 5], data: new Float64Array(15).fill(2) };
    const { loss, perToken } = referenceLoss(uniform, [[0, 1, 2]]);
    expect(perToken.shape).toEqual([1, 2]);
    expect(Math.abs(loss - Math.log(5))).toBeLessThan(1e-15);
    // logits [0, ln 3] at position 0, target token 1 → −log(3/4)
    const two: RefTensor = { shape: [1, 2, 2], data: Float64Array.from([0, Math.log(3), 0, 0]) };
    expect(Math.abs(referenceLoss(two, [[0, 1]]).loss - -Math.log(0.75))).toBeLessThan(1e-15);
  });
});

describe("randomWeights", () => {
  it("covers expectedParamShapes with deterministic float32 values", () => {
    const cfg = tiny({ gatedMlp: true, actFn: "silu" });
    const a = randomWeights(cfg, 42);
    const b = randomWeights(cfg, 42);
    const c = randomWeights(cfg, 43);
    const shapes = expectedParamShapes(cfg);
    expect(Object.keys(a).sort()).toEqual([...shapes.keys()].sort());
    for (const [name, shape] of shapes) {
      expect(a[name].shape).toEqual(shape);
      expect(a[name].data).toBeInstanceOf(Float32Array);
      expect(a[name].data).toEqual(b[name].data);
      expect(a[name].data).not.toEqual(c[name].data);
    }
    const lnW = Array.from(a["blocks.0.ln1.w"].data);
    expect(Math.abs(lnW.reduce((s, v) => s + v, 0) / lnW.length - 1)).toBeLessThan(0.2);
  });
});

// ---------- Hugging Face references against the TransformerLens-layout reference ----------

/** GPT-2 HF weights → TransformerLens layout, by hand. */
function gpt2ToHooked(hf: RefWeights, E: number, H: number, layers: number, vocab: number): RefWeights {
  const D = E / H;
  const t = (n: string) => w(hf, `transformer.${n}`);
  const out: RefWeights = {
    "embed.W_E": t("wte.weight"),
    "pos_embed.W_pos": t("wpe.weight"),
    "ln_final.w": t("ln_f.weight"),
    "ln_final.b": t("ln_f.bias"),
    "unembed.W_U": build([E, vocab], (i, v) => at(t("wte.weight"), v, i)),
    "unembed.b_U": build([vocab], () => 0),
  };
  for (let l = 0; l < layers; l++) {
    const cAttn = t(`h.${l}.attn.c_attn.weight`); // [E, 3E]
    const cAttnB = t(`h.${l}.attn.c_attn.bias`);
    const p = `blocks.${l}`;
    out[`${p}.ln1.w`] = t(`h.${l}.ln_1.weight`);
    out[`${p}.ln1.b`] = t(`h.${l}.ln_1.bias`);
    // W_Q[h] = c_attn.weight[:, h·D:(h+1)·D]; K from column E on, V from column 2E on.
    ["Q", "K", "V"].forEach((which, j) => {
      out[`${p}.attn.W_${which}`] = build([H, E, D], (h, i, d) => at(cAttn, i, j * E + h * D + d));
      out[`${p}.attn.b_${which}`] = build([H, D], (h, d) => at(cAttnB, j * E + h * D + d));
    });
    out[`${p}.attn.W_O`] = build([H, D, E], (h, d, i) => at(t(`h.${l}.attn.c_proj.weight`), h * D + d, i));
    out[`${p}.attn.b_O`] = t(`h.${l}.attn.c_proj.bias`);
    out[`${p}.ln2.w`] = t(`h.${l}.ln_2.weight`);
    out[`${p}.ln2.b`] = t(`h.${l}.ln_2.bias`);
    out[`${p}.mlp.W_in`] = t(`h.${l}.mlp.c_fc.weight`);
    out[`${p}.mlp.b_in`] = t(`h.${l}.mlp.c_fc.bias`);
    out[`${p}.mlp.W_out`] = t(`h.${l}.mlp.c_proj.weight`);
    out[`${p}.mlp.b_out`] = t(`h.${l}.mlp.c_proj.bias`);
  }
  return out;
}

/** GPT-NeoX HF weights → TransformerLens layout, by hand. */
function neoxToHooked(hf: RefWeights, E: number, H: number, layers: number, vocab: number): RefWeights {
  const D = E / H;
  const out: RefWeights = {
    "embed.W_E": w(hf, "gpt_neox.embed_in.weight"),
    "ln_final.w": w(hf, "gpt_neox.final_layer_norm.weight"),
    "ln_final.b": w(hf, "gpt_neox.final_layer_norm.bias"),
    "unembed.W_U": build([E, vocab], (i, v) => at(w(hf, "embed_out.weight"), v, i)),
    "unembed.b_U": build([vocab], () => 0),
  };
  for (let l = 0; l < layers; l++) {
    const n = (s: string) => w(hf, `gpt_neox.layers.${l}.${s}`);
    const p = `blocks.${l}`;
    const qkv = n("attention.query_key_value.weight"); // [3E, E], rows per head: q | k | v
    const qkvB = n("attention.query_key_value.bias");
    out[`${p}.ln1.w`] = n("input_layernorm.weight");
    out[`${p}.ln1.b`] = n("input_layernorm.bias");
    ["Q", "K", "V"].forEach((which, j) => {
      out[`${p}.attn.W_${which}`] = build([H, E, D], (h, i, d) => at(qkv, h * 3 * D + j * D + d, i));
      out[`${p}.attn.b_${which}`] = build([H, D], (h, d) => at(qkvB, h * 3 * D + j * D + d));
    });
    out[`${p}.attn.W_O`] = build([H, D, E], (h, d, i) => at(n("attention.dense.weight"), i, h * D + d));
    out[`${p}.attn.b_O`] = n("attention.dense.bias");
    out[`${p}.ln2.w`] = n("post_attention_layernorm.weight");
    out[`${p}.ln2.b`] = n("post_attention_layernorm.bias");
    const up = n("mlp.dense_h_to_4h.weight"); // [inner, E]
    const down = n("mlp.dense_4h_to_h.weight"); // [E, inner]
    out[`${p}.mlp.W_in`] = build([up.shape[1], up.shape[0]], (i, m) => at(up, m, i));
    out[`${p}.mlp.b_in`] = n("mlp.dense_h_to_4h.bias");
    out[`${p}.mlp.W_out`] = build([down.shape[1], down.shape[0]], (m, i) => at(down, i, m));
    out[`${p}.mlp.b_out`] = n("mlp.dense_4h_to_h.bias");
  }
  return out;
}

/** Llama HF weights → TransformerLens layout, by hand. */
function llamaToHooked(hf: RefWeights, E: number, H: number, G: number, layers: number, inner: number, vocab: number, lmHead: string): RefWeights {
  const D = E / H;
  const out: RefWeights = {
    "embed.W_E": w(hf, "model.embed_tokens.weight"),
    "ln_final.w": w(hf, "model.norm.weight"),
    "unembed.W_U": build([E, vocab], (i, v) => at(w(hf, lmHead), v, i)),
    "unembed.b_U": build([vocab], () => 0),
  };
  for (let l = 0; l < layers; l++) {
    const n = (s: string) => w(hf, `model.layers.${l}.${s}`);
    const p = `blocks.${l}`;
    out[`${p}.ln1.w`] = n("input_layernorm.weight");
    out[`${p}.attn.W_Q`] = build([H, E, D], (h, i, d) => at(n("self_attn.q_proj.weight"), h * D + d, i));
    out[`${p}.attn.W_K`] = build([G, E, D], (g, i, d) => at(n("self_attn.k_proj.weight"), g * D + d, i));
    out[`${p}.attn.W_V`] = build([G, E, D], (g, i, d) => at(n("self_attn.v_proj.weight"), g * D + d, i));
    out[`${p}.attn.W_O`] = build([H, D, E], (h, d, i) => at(n("self_attn.o_proj.weight"), i, h * D + d));
    out[`${p}.attn.b_Q`] = build([H, D], () => 0);
    out[`${p}.attn.b_K`] = build([G, D], () => 0);
    out[`${p}.attn.b_V`] = build([G, D], () => 0);
    out[`${p}.attn.b_O`] = build([E], () => 0);
    out[`${p}.ln2.w`] = n("post_attention_layernorm.weight");
    out[`${p}.mlp.W_gate`] = build([E, inner], (i, m) => at(n("mlp.gate_proj.weight"), m, i));
    out[`${p}.mlp.W_in`] = build([E, inner], (i, m) => at(n("mlp.up_proj.weight"), m, i));
    out[`${p}.mlp.b_in`] = build([inner], () => 0);
    out[`${p}.mlp.W_out`] = build([inner, E], (m, i) => at(n("mlp.down_proj.weight"), i, m));
    out[`${p}.mlp.b_out`] = build([E], () => 0);
  }
  return out;
}

describe("Hugging Face references agree with the hooked reference under hand-written mappings", () => {
  const tokens = randomTokens(2, 10, 50, 4);

  it("GPT-2", () => {
    const hfConfig = tinyHfConfigs.gpt2;
    const hf = randomHfWeights("gpt2", hfConfig, 1);
    const cfg = resolveConfig({ nLayers: 2, dModel: 16, nCtx: 16, dHead: 4, nHeads: 4, dMlp: 64, dVocab: 50, actFn: "gelu_new", normalizationType: "LN", eps: 1e-5 });
    const hooked = referenceForward(cfg, gpt2ToHooked(hf, 16, 4, 2, 50), tokens).logits;
    const hfLogits = hfGpt2Forward(hfConfig, hf, tokens);
    expect(hfLogits.shape).toEqual([2, 10, 50]);
    expect(maxAbsDiff(hooked, hfLogits)).toBeLessThan(1e-10);
    // The logits are not trivially small.
    expect(Math.max(...Array.from(hfLogits.data, Math.abs))).toBeGreaterThan(1);
  });

  it("GPT-2 accepts names without the transformer. prefix", () => {
    const hf = randomHfWeights("gpt2", tinyHfConfigs.gpt2, 2);
    const bare: RefWeights = {};
    for (const [name, value] of Object.entries(hf)) bare[name.replace(/^transformer\./, "")] = value;
    expect(maxAbsDiff(hfGpt2Forward(tinyHfConfigs.gpt2, hf, tokens), hfGpt2Forward(tinyHfConfigs.gpt2, bare, tokens))).toBe(0);
  });

  it.each([["parallel residual", tinyHfConfigs.neox, true], ["sequential residual", tinyHfConfigs.neoxSequential, false]] as const)(
    "GPT-NeoX, %s",
    (_, hfConfig, parallel) => {
      const hf = randomHfWeights("neox", hfConfig, 3);
      const cfg = resolveConfig({
        nLayers: 2, dModel: 16, nCtx: 16, dHead: 4, nHeads: 4, dMlp: 64, dVocab: 50, actFn: "gelu", normalizationType: "LN", eps: 1e-5,
        positionalEmbeddingType: "rotary", rotaryDim: 2, rotaryBase: 10000, parallelAttnMlp: parallel,
      });
      const hooked = referenceForward(cfg, neoxToHooked(hf, 16, 4, 2, 50), tokens).logits;
      expect(maxAbsDiff(hooked, hfNeoxForward(hfConfig, hf, tokens))).toBeLessThan(1e-10);
    },
  );

  it("GPT-NeoX parallel and sequential residuals really differ", () => {
    const hf = randomHfWeights("neox", tinyHfConfigs.neox, 3);
    expect(maxAbsDiff(hfNeoxForward(tinyHfConfigs.neox, hf, tokens), hfNeoxForward(tinyHfConfigs.neoxSequential, hf, tokens))).toBeGreaterThan(1e-3);
  });

  it("Llama (GQA 4 heads / 2 kv heads, SwiGLU, RMSNorm, full rotary)", () => {
    const hfConfig = tinyHfConfigs.llama;
    const hf = randomHfWeights("llama", hfConfig, 5);
    const cfg = resolveConfig({
      nLayers: 2, dModel: 16, nCtx: 16, dHead: 4, nHeads: 4, nKeyValueHeads: 2, dMlp: 24, dVocab: 50, actFn: "silu", gatedMlp: true,
      normalizationType: "RMS", eps: 1e-6, positionalEmbeddingType: "rotary", rotaryDim: 4, rotaryBase: 10000,
    });
    const hooked = referenceForward(cfg, llamaToHooked(hf, 16, 4, 2, 2, 24, 50, "lm_head.weight"), tokens).logits;
    expect(maxAbsDiff(hooked, hfLlamaForward(hfConfig, hf, tokens))).toBeLessThan(1e-10);
  });

  it("Llama with tied embeddings uses embed_tokens as the head", () => {
    const tied = { ...tinyHfConfigs.llama, tie_word_embeddings: true };
    const hf = randomHfWeights("llama", tied, 6);
    expect(hf["lm_head.weight"]).toBeUndefined();
    const untied = { ...hf, "lm_head.weight": hf["model.embed_tokens.weight"] };
    expect(maxAbsDiff(hfLlamaForward(tied, hf, tokens), hfLlamaForward(tinyHfConfigs.llama, untied, tokens))).toBe(0);
  });

  it("HF references are causal too", () => {
    const changed = tokens.map((row) => row.slice());
    changed[0][6] = (changed[0][6] + 1) % 50;
    const runs: [string, (t: number[][]) => RefTensor][] = [
      ["gpt2", (t) => hfGpt2Forward(tinyHfConfigs.gpt2, randomHfWeights("gpt2", tinyHfConfigs.gpt2, 7), t)],
      ["neox", (t) => hfNeoxForward(tinyHfConfigs.neox, randomHfWeights("neox", tinyHfConfigs.neox, 7), t)],
      ["llama", (t) => hfLlamaForward(tinyHfConfigs.llama, randomHfWeights("llama", tinyHfConfigs.llama, 7), t)],
    ];
    for (const [, run] of runs) {
      const a = run(tokens);
      const b = run(changed);
      for (let p = 0; p < 6; p++) expect(logitRow(a, 0, p)).toEqual(logitRow(b, 0, p));
      expect(logitRow(a, 0, 6)).not.toEqual(logitRow(b, 0, 6));
      for (let p = 0; p < 10; p++) expect(logitRow(a, 1, p)).toEqual(logitRow(b, 1, p));
    }
  });
});
