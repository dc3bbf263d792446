import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../src/backend";
import { type ConfigInput, resolveConfig } from "../src/model/config";
import { HookedTransformer } from "../src/model/hookedTransformer";
import { expectedParamShapes, type StateDict } from "../src/model/stateDict";
import {
  centerUnembed,
  centerWritingWeights,
  DEFAULT_PROCESSING,
  foldLayerNorm,
  foldValueBiases,
  processWeights,
  type ProcessedWeights,
} from "../src/loading/processWeights";

const BASE = { nLayers: 2, dModel: 16, nCtx: 12, dHead: 4, nHeads: 4, dMlp: 32, dVocab: 23 };

/** Tiny configs covering the three families' processing paths. */
const CONFIGS: Record<string, ConfigInput> = {
  // GPT-2-like: LN, learned positions, gelu_new.
  LN: { ...BASE, normalizationType: "LN", actFn: "gelu_new" },
  // NeoX-like: LN, partial rotary, parallel attention + MLP.
  "LN-rotary-parallel": { ...BASE, normalizationType: "LN", positionalEmbeddingType: "rotary", rotaryDim: 2, parallelAttnMlp: true, actFn: "gelu" },
  // Llama-like: RMS, rotary, gated MLP, grouped-query attention (2 kv heads for 4 query heads).
  "RMS-GQA": { ...BASE, normalizationType: "RMS", positionalEmbeddingType: "rotary", gatedMlp: true, actFn: "silu", nKeyValueHeads: 2 },
};

const TOKENS = [
  [0, 5, 9, 22, 3, 3, 17, 1, 8, 11],
  [4, 4, 13, 2, 19, 7, 0, 21, 6, 10],
];

/** Random parameters with every bias and norm parameter non-trivial (so each fold matters). */
function randomStateDict(cfgIn: ConfigInput, seed: number): StateDict {
  const cfg = resolveConfig(cfgIn);
  const sd: StateDict = {};
  let i = 0;
  for (const [name, shape] of expectedParamShapes(cfg)) {
    const s = seed * 1000 + i++;
    const isNormWeight = /(ln1|ln2|ln_final|\.ln)\.w$/.test(name);
    sd[name] = isNormWeight ? tf.randomNormal(shape, 1, 0.3, "float32", s) : tf.randomNormal(shape, 0, 0.4, "float32", s);
  }
  return sd;
}

async function logProbs(cfg: ConfigInput, sd: StateDict): Promise<Float32Array> {
  const model = await HookedTransformer.fromConfigAndStateDict(cfg, sd);
  try {
    const logits = model.forward(TOKENS, { returnType: "logits" });
    const lp = tf.logSoftmax(logits, -1);
    const data = lp.dataSync() as Float32Array;
    tf.dispose([logits, lp]);
    return data;
  } finally {
    model.dispose();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Largest |mean| of `t` along `axis`. */
function maxAbsMean(t: tf.Tensor, axis: number): number {
  const m = tf.tidy(() => tf.max(tf.abs(tf.mean(t, axis))));
  const v = m.dataSync()[0];
  m.dispose();
  return v;
}

function maxAbs(t: tf.Tensor): number {
  const m = tf.tidy(() => tf.max(tf.abs(t)));
  const v = m.dataSync()[0];
  m.dispose();
  return v;
}

function disposeAll(sd: StateDict): void {
  tf.dispose(Object.values(sd));
}

type Step = (cfg: ConfigInput, sd: StateDict, o?: { keepInputs?: boolean }) => ProcessedWeights;
const STEPS: Record<string, Step> = {
  foldLayerNorm,
  centerWritingWeights,
  centerUnembed,
  foldValueBiases,
  all: (cfg, sd, o) => processWeights(cfg, sd, { ...DEFAULT_PROCESSING, ...o }),
};

let startTensors = 0;
beforeAll(async () => {
  await ready();
  startTensors = tf.memory().numTensors;
});
afterAll(() => {
  // Every test disposes what it makes: nothing leaks across the file.
  expect(tf.memory().numTensors).toBe(startTensors);
});

describe.each(Object.entries(CONFIGS))("processing a %s model", (label, cfg) => {
  it.each(Object.keys(STEPS))("%s leaves the log-probs unchanged and leaks nothing", async (stepName) => {
    const before = tf.memory().numTensors;
    const sd = randomStateDict(cfg, 7);
    const reference = await logProbs(cfg, sd);
    const processed = STEPS[stepName](cfg, sd, { keepInputs: true });
    const after = await logProbs(processed.config, processed.stateDict);
    expect(maxAbsDiff(reference, after)).toBeLessThan(1e-4);
    // The inputs were kept: the original model still runs the same.
    expect(maxAbsDiff(reference, await logProbs(cfg, sd))).toBe(0);
    disposeAll(processed.stateDict);
    disposeAll(sd);
    expect(tf.memory().numTensors).toBe(before);
    void label;
  });
});

describe("foldLayerNorm", () => {
  it("LN → LNPre: norms gone, reading weights zero-mean over dModel, recorded in the config", () => {
    const sd = randomStateDict(CONFIGS.LN, 1);
    const { config, stateDict, notes } = foldLayerNorm(CONFIGS.LN, sd);
    expect(notes).toEqual([]);
    expect(config.normalizationType).toBe("LNPre");
    expect(config.normalizationApplied).toEqual({ foldLn: true, centerWritingWeights: false, centerUnembed: false, foldValueBiases: false });
    expect(Object.keys(stateDict).filter((k) => /ln1|ln2|ln_final/.test(k))).toEqual([]);
    expect(new Set(Object.keys(stateDict))).toEqual(new Set(expectedParamShapes(resolveConfig(config)).keys()));
    for (let l = 0; l < 2; l++) {
      for (const x of ["W_Q", "W_K", "W_V"]) expect(maxAbsMean(stateDict[`blocks.${l}.attn.${x}`], 1)).toBeLessThan(1e-6);
      expect(maxAbsMean(stateDict[`blocks.${l}.mlp.W_in`], 0)).toBeLessThan(1e-6);
    }
    expect(maxAbsMean(stateDict["unembed.W_U"], 0)).toBeLessThan(1e-6);
    disposeAll(stateDict);
  });

  it("folds ln.b into the biases: b_Q gains Σ_d ln1.b[d]·W_Q[h,d,:]", () => {
    const cfg = { ...CONFIGS.LN, nLayers: 1 };
    const sd = randomStateDict(cfg, 2);
    const WQ = sd["blocks.0.attn.W_Q"].arraySync() as number[][][];
    const bQ = sd["blocks.0.attn.b_Q"].arraySync() as number[][];
    const lnB = sd["blocks.0.ln1.b"].arraySync() as number[];
    const { stateDict } = foldLayerNorm(cfg, sd, { keepInputs: true });
    const folded = stateDict["blocks.0.attn.b_Q"].arraySync() as number[][];
    for (let h = 0; h < 4; h++) {
      for (let e = 0; e < 4; e++) {
        let expected = bQ[h][e];
        for (let d = 0; d < 16; d++) expected += lnB[d] * WQ[h][d][e];
        expect(folded[h][e]).toBeCloseTo(expected, 4);
      }
    }
    disposeAll(stateDict);
    disposeAll(sd);
  });

  it("RMS → RMSPre: only the scales are folded (W_gate too), nothing is centred", () => {
    const cfg = CONFIGS["RMS-GQA"];
    const sd = randomStateDict(cfg, 3);
    const gate = sd["blocks.0.mlp.W_gate"].arraySync() as number[][];
    const lnW = sd["blocks.0.ln2.w"].arraySync() as number[];
    const { config, stateDict } = foldLayerNorm(cfg, sd, { keepInputs: true });
    expect(config.normalizationType).toBe("RMSPre");
    expect(Object.keys(stateDict).some((k) => /ln\d?\.|ln_final/.test(k))).toBe(false);
    const folded = stateDict["blocks.0.mlp.W_gate"].arraySync() as number[][];
    expect(folded[3][5]).toBeCloseTo(gate[3][5] * lnW[3], 5);
    // No centring for RMS (it would change the model): the means stay clearly non-zero.
    expect(maxAbsMean(stateDict["blocks.0.attn.W_Q"], 1)).toBeGreaterThan(1e-3);
    disposeAll(stateDict);
    disposeAll(sd);
  });

  it("consumes the input by default: replaced tensors are disposed, the rest move over", () => {
    const sd = randomStateDict(CONFIGS.LN, 4);
    const WE = sd["embed.W_E"];
    const WQ = sd["blocks.0.attn.W_Q"];
    const ln = sd["blocks.0.ln1.w"];
    const { stateDict } = foldLayerNorm(CONFIGS.LN, sd);
    expect(stateDict["embed.W_E"]).toBe(WE);
    expect(WE.isDisposed).toBe(false);
    expect(WQ.isDisposed).toBe(true);
    expect(ln.isDisposed).toBe(true);
    disposeAll(stateDict);
    expect(() => foldLayerNorm(CONFIGS.LN, sd)).toThrow(/disposed/);
  });

  it("refuses a gated LN model whose ln2.b cannot be folded, before disposing anything", () => {
    const cfg = { ...CONFIGS.LN, gatedMlp: true };
    const sd = randomStateDict(cfg, 5);
    expect(() => foldLayerNorm(cfg, sd)).toThrow(/blocks\.0\.ln2\.b is non-zero.*W_gate/);
    expect(Object.values(sd).every((t) => !t.isDisposed)).toBe(true);
    disposeAll(sd);
  });

  it("notes that an LNPre model has nothing to fold", () => {
    const cfg = { ...CONFIGS.LN, normalizationType: "LNPre" as const };
    const sd = randomStateDict(cfg, 6);
    const { config, stateDict, notes } = foldLayerNorm(cfg, sd);
    expect(notes[0]).toMatch(/already LNPre/);
    expect(config.normalizationApplied.foldLn).toBe(false);
    disposeAll(stateDict);
  });
});

describe("centerWritingWeights", () => {
  it("makes W_E, W_pos, W_O, b_O, W_out, b_out zero-mean over dModel", () => {
    const sd = randomStateDict(CONFIGS.LN, 8);
    const { config, stateDict } = centerWritingWeights(CONFIGS.LN, sd);
    expect(config.normalizationApplied.centerWritingWeights).toBe(true);
    for (const name of ["embed.W_E", "pos_embed.W_pos", "blocks.1.attn.W_O", "blocks.1.mlp.W_out"]) {
      expect(maxAbsMean(stateDict[name], -1)).toBeLessThan(1e-6);
    }
    for (const name of ["blocks.0.attn.b_O", "blocks.0.mlp.b_out"]) expect(maxAbsMean(stateDict[name], 0)).toBeLessThan(1e-6);
    disposeAll(stateDict);
  });

  it("skips RMS models with a note and changes nothing", () => {
    const cfg = CONFIGS["RMS-GQA"];
    const sd = randomStateDict(cfg, 9);
    const before = sd["embed.W_E"].dataSync().slice();
    const { config, stateDict, notes } = centerWritingWeights(cfg, sd);
    expect(notes.join(" ")).toMatch(/skipped for normalizationType RMS/);
    expect(config.normalizationApplied.centerWritingWeights).toBe(false);
    expect(stateDict["embed.W_E"].dataSync()).toEqual(before);
    disposeAll(stateDict);
  });
});

describe("centerUnembed", () => {
  it("makes every W_U row and b_U zero-mean over the vocab", () => {
    const sd = randomStateDict(CONFIGS.LN, 10);
    const { config, stateDict } = centerUnembed(CONFIGS.LN, sd);
    expect(config.normalizationApplied.centerUnembed).toBe(true);
    expect(maxAbsMean(stateDict["unembed.W_U"], 1)).toBeLessThan(1e-6);
    expect(maxAbsMean(stateDict["unembed.b_U"], 0)).toBeLessThan(1e-6);
    disposeAll(stateDict);
  });
});

describe("foldValueBiases", () => {
  it("zeroes b_V and adds Σ_h b_V[kv(h)]·W_O[h] to b_O (GQA: kv(h) = floor(h / 2))", () => {
    const cfg = { ...CONFIGS["RMS-GQA"], nLayers: 1 };
    const sd = randomStateDict(cfg, 11);
    const bV = sd["blocks.0.attn.b_V"].arraySync() as number[][]; // [2, 4]
    const WO = sd["blocks.0.attn.W_O"].arraySync() as number[][][]; // [4, 4, 16]
    const bO = sd["blocks.0.attn.b_O"].arraySync() as number[];
    const { config, stateDict } = foldValueBiases(cfg, sd, { keepInputs: true });
    expect(config.normalizationApplied.foldValueBiases).toBe(true);
    expect(maxAbs(stateDict["blocks.0.attn.b_V"])).toBe(0);
    expect(stateDict["blocks.0.attn.b_V"].shape).toEqual([2, 4]);
    const folded = stateDict["blocks.0.attn.b_O"].arraySync() as number[];
    for (let d = 0; d < 16; d++) {
      let expected = bO[d];
      for (let h = 0; h < 4; h++) for (let e = 0; e < 4; e++) expected += bV[Math.floor(h / 2)][e] * WO[h][e][d];
      expect(folded[d]).toBeCloseTo(expected, 4);
    }
    disposeAll(stateDict);
    disposeAll(sd);
  });
});

describe("processWeights", () => {
  it("runs the chosen steps in order and records them", () => {
    const sd = randomStateDict(CONFIGS["RMS-GQA"], 12);
    const { config, stateDict, notes } = processWeights(CONFIGS["RMS-GQA"], sd, DEFAULT_PROCESSING);
    expect(config.normalizationType).toBe("RMSPre");
    expect(config.normalizationApplied).toEqual({ foldLn: true, centerWritingWeights: false, centerUnembed: true, foldValueBiases: true });
    expect(notes.length).toBe(1);
    expect(maxAbsMean(stateDict["unembed.W_U"], 1)).toBeLessThan(1e-6);
    disposeAll(stateDict);
  });

  it("with every step off returns the same tensors (or clones with keepInputs)", () => {
    const sd = randomStateDict(CONFIGS.LN, 13);
    const same = processWeights(CONFIGS.LN, sd);
    expect(same.stateDict["embed.W_E"]).toBe(sd["embed.W_E"]);
    const kept = processWeights(CONFIGS.LN, sd, { keepInputs: true });
    expect(kept.stateDict["embed.W_E"]).not.toBe(sd["embed.W_E"]);
    disposeAll(kept.stateDict);
    disposeAll(sd);
  });

  it("names a missing or misshapen parameter", () => {
    const sd = randomStateDict(CONFIGS.LN, 14);
    const wq = sd["blocks.1.attn.W_Q"];
    delete sd["blocks.1.attn.W_Q"];
    expect(() => processWeights(CONFIGS.LN, sd, DEFAULT_PROCESSING)).toThrow(/no "blocks\.1\.attn\.W_Q" \(expected shape \[4, 16, 4\]\)/);
    sd["blocks.1.attn.W_Q"] = tf.zeros([4, 16, 3]);
    expect(() => processWeights(CONFIGS.LN, sd, DEFAULT_PROCESSING)).toThrow(/"blocks\.1\.attn\.W_Q" has shape \[4, 16, 3\]; expected \[4, 16, 4\]/);
    wq.dispose();
    disposeAll(sd);
  });
});
