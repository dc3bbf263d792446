/**
 * logitLens against an independent oracle: plain-JS loops doing the layer norm, the matrix product
 * with W_U and the softmax from the raw cached activations and weights. Plus invariances: the last
 * accumulated row is the model's own output distribution at every position; ranks agree with
 * probabilities; decomposed rows add up to the final logits minus the biases; no leaked tensors.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { logitLens, logitLensSync, lensRowName, type LogitLensResult } from "../../src/analysis/logitLens";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { CharTokenizer } from "../../src/tokenizers";
import * as mechlab from "../../src";

const ALPHABET = "abcdefgh ";
const PROMPT = "abc fed";
let model: HookedTransformer;
let rmsModel: HookedTransformer;

function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** Gives the final norm and unembedding non-trivial values, so w, b and b_U are really exercised. */
function perturbHead(m: HookedTransformer, seed: number): void {
  const rnd = seededRandom(seed);
  const d = m.cfg.dModel;
  m.param("ln_final.w").assign(tf.tensor1d(Array.from({ length: d }, () => 1 + 0.5 * rnd())));
  if (m.hasParam("ln_final.b")) m.param("ln_final.b").assign(tf.tensor1d(Array.from({ length: d }, () => 0.3 * rnd())));
  m.param("unembed.b_U").assign(tf.tensor1d(Array.from({ length: m.cfg.dVocabOut }, () => 0.5 * rnd())));
  // Larger W_U, so the distributions are far from uniform and ranks are informative.
  m.param("unembed.W_U").assign(tf.tidy(() => tf.mul(m.param("unembed.W_U"), 8)));
}

beforeAll(async () => {
  await ready();
  const tokenizer = new CharTokenizer(ALPHABET, { bos: "^" });
  model = await HookedTransformer.create(
    { nLayers: 3, dModel: 16, nHeads: 4, dHead: 4, dMlp: 24, dVocab: tokenizer.vocabSize, nCtx: 16, actFn: "gelu", seed: 11 },
    { tokenizer },
  );
  perturbHead(model, 5);
  rmsModel = await HookedTransformer.create(
    { nLayers: 2, dModel: 16, nHeads: 4, dHead: 4, dMlp: 24, dVocab: tokenizer.vocabSize, nCtx: 16, normalizationType: "RMS", seed: 12 },
    { tokenizer },
  );
  perturbHead(rmsModel, 6);
});

afterAll(() => {
  model.dispose();
  rmsModel.dispose();
});

// ------------------------------------------------------------------ the oracle (plain JS)

type Vec = number[];
const arr = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** x [dModel] through a norm: centred (LN) or not (RMS), divided by its scale (own, or given), times w, plus b. */
function norm(x: Vec, kind: "LN" | "RMS", eps: number, w: Vec, b: Vec | null, scale?: number): Vec {
  const mean = kind === "LN" ? x.reduce((a, v) => a + v, 0) / x.length : 0;
  const c = x.map((v) => v - mean);
  const s = scale ?? Math.sqrt(c.reduce((a, v) => a + v * v, 0) / c.length + eps);
  return c.map((v, i) => (v / s) * w[i] + (b ? b[i] : 0));
}

/** x [dModel] · W_U [dModel, dVocab] (+ b_U). */
function unembed(x: Vec, W: Vec, dVocab: number, bU: Vec | null): Vec {
  const out: Vec = [];
  for (let v = 0; v < dVocab; v++) {
    let s = bU ? bU[v] : 0;
    for (let i = 0; i < x.length; i++) s += x[i] * W[i * dVocab + v];
    out.push(s);
  }
  return out;
}

function softmax(logits: Vec): Vec {
  const m = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - m));
  const z = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / z);
}

/** Residual vector of `name` at batch b, position p ([batch, pos, dModel] activations). */
function vecAt(data: Vec, nPos: number, d: number, b: number, p: number): Vec {
  const start = (b * nPos + p) * d;
  return data.slice(start, start + d);
}

interface OracleCell {
  probs: Vec;
  logits: Vec;
}

/** Oracle rows [row][pos] for the accumulated lens of batch b: each row's own norm scale, or the cached final one. */
function oracleAccumulated(m: HookedTransformer, cache: mechlab.ActivationCache, b: number, finalScale = false): OracleCell[][] {
  const cfg = m.cfg;
  const names = [...Array.from({ length: cfg.nLayers }, (_, l) => `blocks.${l}.hook_resid_pre`), `blocks.${cfg.nLayers - 1}.hook_resid_post`];
  const W = arr(m.param("unembed.W_U"));
  const bU = arr(m.param("unembed.b_U"));
  const w = arr(m.param("ln_final.w"));
  const lnB = m.hasParam("ln_final.b") ? arr(m.param("ln_final.b")) : null;
  const nPos = cache.get(names[0]).shape[1]!;
  const scale = arr(cache.get("ln_final.hook_scale")); // [batch, pos, 1]
  return names.map((name) => {
    const data = arr(cache.get(name));
    return Array.from({ length: nPos }, (_, p) => {
      const x = norm(vecAt(data, nPos, cfg.dModel, b, p), cfg.normalizationType as "LN" | "RMS", cfg.eps, w, lnB, finalScale ? scale[b * nPos + p] : undefined);
      const logits = unembed(x, W, cfg.dVocabOut, bU);
      return { logits, probs: softmax(logits) };
    });
  });
}

/** Oracle rows for the decomposed lens: each term centred, divided by the cached final scale, times w, times W_U. */
function oracleDecomposed(m: HookedTransformer, cache: mechlab.ActivationCache, b: number): OracleCell[][] {
  const cfg = m.cfg;
  const names = ["hook_embed", "hook_pos_embed"];
  for (let l = 0; l < cfg.nLayers; l++) names.push(`blocks.${l}.hook_attn_out`, `blocks.${l}.hook_mlp_out`);
  const W = arr(m.param("unembed.W_U"));
  const w = arr(m.param("ln_final.w"));
  const scale = arr(cache.get("ln_final.hook_scale")); // [batch, pos, 1]
  const nPos = cache.get("hook_embed").shape[1]!;
  return names.map((name) => {
    const data = arr(cache.get(name));
    return Array.from({ length: nPos }, (_, p) => {
      const x = norm(vecAt(data, nPos, cfg.dModel, b, p), "LN", cfg.eps, w, null, scale[b * nPos + p]);
      const logits = unembed(x, W, cfg.dVocabOut, null);
      return { logits, probs: softmax(logits) };
    });
  });
}

/** Checks a result against oracle cells: target p / logit / rank, and the top-k lists. */
function expectMatches(result: LogitLensResult, oracle: OracleCell[][], tol = 1e-4): void {
  const { nRows, nPos, topK } = result;
  expect(oracle.length).toBe(nRows);
  for (let r = 0; r < nRows; r++) {
    for (let p = 0; p < nPos; p++) {
      const { probs, logits } = oracle[r][p];
      const cell = r * nPos + p;
      const order = probs.map((_, v) => v).sort((a, c) => probs[c] - probs[a]);
      for (let k = 0; k < topK; k++) {
        const i = cell * topK + k;
        expect(result.topProbs[i]).toBeCloseTo(probs[order[k]], 5);
        expect(result.topLogits[i]).toBeCloseTo(logits[order[k]], 4);
        // Ids agree unless two probabilities tie within float error.
        if (Math.abs(probs[order[k]] - probs[result.topIds[i]]) > tol) expect(result.topIds[i]).toBe(order[k]);
      }
      const target = result.targetIds?.[p] ?? -1;
      if (target < 0) {
        if (result.targetProb) expect(result.targetProb[cell]).toBeNaN();
        continue;
      }
      expect(result.targetProb![cell]).toBeCloseTo(probs[target], 5);
      expect(result.targetLogit![cell]).toBeCloseTo(logits[target], 4);
      const rank = 1 + logits.filter((l) => l > logits[target] + tol).length;
      const rankTies = 1 + logits.filter((l) => l > logits[target] - tol).length - 1;
      expect(result.targetRank![cell]).toBeGreaterThanOrEqual(rank);
      expect(result.targetRank![cell]).toBeLessThanOrEqual(rankTies);
    }
  }
}

// ------------------------------------------------------------------ tests

describe("logitLens, accumulated", () => {
  it("matches the plain-JS logit lens (LN with w, b and b_U) for the next token, with readable row names", () => {
    const before = tf.memory().numTensors;
    const { output, cache } = model.runWithCache(PROMPT);
    const ids = model.toTokens(PROMPT);
    const result = logitLensSync(cache, { input: PROMPT, topK: 4 });
    expect(result.labels).toEqual(["0_pre", "1_pre", "2_pre", "final_post"]);
    expect(result.rowNames).toEqual(["embed", "L1 in", "L2 in", "final"]);
    expect(result.promptTokens).toEqual(["^", ..."abc fed"]);
    expect([...result.promptIds!]).toEqual(arr(ids));
    expect(result.targetKind).toBe("next");
    expect([...result.targetIds!]).toEqual([...arr(ids).slice(1), -1]);
    expect(result.targetTokens).toEqual([..."abc fed", ""]);
    expect(result.topTokens.slice(0, 4)).toEqual([...result.topIds.slice(0, 4)].map((id) => (ALPHABET + "^")[id]));
    expectMatches(result, oracleAccumulated(model, cache, 0));
    ids.dispose();
    output.dispose();
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("its final row is the model's own output distribution at every position", () => {
    const { output, cache } = model.runWithCache(PROMPT);
    const result = logitLensSync(cache, { target: "top", topK: model.cfg.dVocabOut });
    const probs = tf.tidy(() => tf.softmax(output, -1)).arraySync() as number[][][];
    const logits = output.arraySync() as number[][][];
    const last = result.nRows - 1;
    const V = result.dVocab;
    for (let p = 0; p < result.nPos; p++) {
      const fromLens = new Array<number>(V);
      const lensLogits = new Array<number>(V);
      for (let k = 0; k < V; k++) {
        const i = (last * result.nPos + p) * V + k;
        fromLens[result.topIds[i]] = result.topProbs[i];
        lensLogits[result.topIds[i]] = result.topLogits[i];
      }
      for (let v = 0; v < V; v++) {
        expect(fromLens[v]).toBeCloseTo(probs[0][p][v], 5);
        expect(lensLogits[v]).toBeCloseTo(logits[0][p][v], 4);
      }
    }
    output.dispose();
    cache.dispose();
  });

  it("works for an RMS-norm model and for another prompt of a batch", () => {
    const prompts = ["abdc", "hgfe"];
    const { output, cache } = rmsModel.runWithCache(prompts);
    const tokens = rmsModel.toTokens(prompts);
    const rows = tokens.arraySync() as number[][];
    const result = logitLensSync(cache, { input: rows, batchIndex: 1, topK: 3 });
    expect(result.batchIndex).toBe(1);
    expect([...result.promptIds!]).toEqual(rows[1]);
    expectMatches(result, oracleAccumulated(rmsModel, cache, 1));
    tokens.dispose();
    output.dispose();
    cache.dispose();
  });

  it("reads a cache made without the batch axis (removeBatchDim) the same way", () => {
    const { output, cache } = model.runWithCache(PROMPT);
    const flat = model.runWithCache(PROMPT, { removeBatchDim: true });
    const withBatch = logitLensSync(cache, { input: PROMPT, topK: 3 });
    for (const lnScale of ["own", "final"] as const) {
      const without = logitLensSync(flat.cache, { input: PROMPT, topK: 3, lnScale });
      const reference = lnScale === "own" ? withBatch : logitLensSync(cache, { input: PROMPT, topK: 3, lnScale });
      expect([...without.topIds]).toEqual([...reference.topIds]);
      without.targetProb!.forEach((v, i) => (Number.isNaN(v) ? expect(reference.targetProb![i]).toBeNaN() : expect(v).toBeCloseTo(reference.targetProb![i], 6)));
    }
    expect(() => logitLensSync(flat.cache, { batchIndex: 1 })).toThrow(/batchIndex must be an integer in \[0, 1\)/);
    for (const t of [output, cache, flat.output, flat.cache]) t.dispose();
  });

  it("lnScale 'final' divides every row by the cached final scale (TransformerLens's accumulated_resid(apply_ln=True))", () => {
    const { output, cache } = model.runWithCache(PROMPT);
    const own = logitLensSync(cache, { input: PROMPT, topK: 3 });
    const frozen = logitLensSync(cache, { input: PROMPT, topK: 3, lnScale: "final" });
    expectMatches(frozen, oracleAccumulated(model, cache, 0, true));
    // The final row is the same either way; the embeddings row is not (its norm is not the final stream's).
    const last = (own.nRows - 1) * own.nPos;
    for (let p = 0; p + 1 < own.nPos; p++) expect(frozen.targetProb![last + p]).toBeCloseTo(own.targetProb![last + p], 5);
    expect([...own.targetProb!.slice(0, own.nPos - 1)].some((v, i) => Math.abs(v - frozen.targetProb![i]) > 1e-3)).toBe(true);
    output.dispose();
    cache.dispose();
  });
});

describe("logitLens, decomposed", () => {
  it("matches the plain-JS lens of each term (frozen final scale, w, no biases)", () => {
    const before = tf.memory().numTensors;
    const { output, cache } = model.runWithCache(PROMPT);
    const result = logitLensSync(cache, { input: PROMPT, mode: "decomposed", topK: 3 });
    expect(result.labels).toEqual(["embed", "pos_embed", "0_attn_out", "0_mlp_out", "1_attn_out", "1_mlp_out", "2_attn_out", "2_mlp_out"]);
    expect(result.rowNames).toEqual(["embed", "pos_embed", "L0 attn", "L0 mlp", "L1 attn", "L1 mlp", "L2 attn", "L2 mlp"]);
    expectMatches(result, oracleDecomposed(model, cache, 0));
    output.dispose();
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("the terms' target logits add up to the model's logit minus b·W_U + b_U", () => {
    const { output, cache } = model.runWithCache(PROMPT);
    const result = logitLensSync(cache, { input: PROMPT, mode: "decomposed", target: 2 });
    const logits = output.arraySync() as number[][][];
    const W = arr(model.param("unembed.W_U"));
    const b = arr(model.param("ln_final.b"));
    const V = model.cfg.dVocabOut;
    const biasLogit = unembed(b, W, V, arr(model.param("unembed.b_U")))[2];
    for (let p = 0; p < result.nPos; p++) {
      let sum = 0;
      for (let r = 0; r < result.nRows; r++) sum += result.targetLogit![r * result.nPos + p];
      expect(sum + biasLogit).toBeCloseTo(logits[0][p][2], 3);
    }
    output.dispose();
    cache.dispose();
  });
});

describe("logitLens, targets, ranks, async and errors", () => {
  it("ranks agree with probabilities: rank 1 is the top token, higher probability never has a worse rank", () => {
    const { output, cache } = model.runWithCache(PROMPT);
    for (const target of [0, "e", [3, 1, 4, 1, 5, -1, 2, 6]] as const) {
      const result = logitLensSync(cache, { input: PROMPT, target: target as never, topK: 3 });
      expect(result.targetKind).toBe("token");
      for (let cell = 0; cell < result.nRows * result.nPos; cell++) {
        const rank = result.targetRank![cell];
        if (rank === 0) continue;
        const K = result.topK;
        const prob = result.targetProb![cell];
        const topProbs = [...result.topProbs.slice(cell * K, (cell + 1) * K)];
        // Exactly rank − 1 tokens are more likely: the top-k entries above it are at most that many…
        expect(topProbs.filter((q) => q > prob * (1 + 1e-5)).length).toBeLessThanOrEqual(rank - 1);
        // …and when the rank is within the top k, that entry is the target with its probability.
        if (rank <= K) {
          expect(topProbs[rank - 1]).toBeCloseTo(prob, 6);
          expect(topProbs.slice(0, rank - 1).every((q) => q >= prob)).toBe(true);
        } else expect(topProbs.every((q) => q >= prob)).toBe(true);
      }
    }
    // The string target is that token id everywhere.
    const e = logitLensSync(cache, { target: "e" });
    expect([...e.targetIds!]).toEqual(new Array(e.nPos).fill(ALPHABET.indexOf("e")));
    expect(e.targetTokens).toEqual(new Array(e.nPos).fill("e"));
    output.dispose();
    cache.dispose();
  });

  it("'top' has no target arrays; without input the default target is 'top'", () => {
    const { output, cache } = model.runWithCache(PROMPT);
    const result = logitLensSync(cache);
    expect(result.targetKind).toBe("top");
    expect(result.targetProb).toBeNull();
    expect(result.promptTokens).toBeNull();
    expect(result.topK).toBe(5);
    output.dispose();
    cache.dispose();
  });

  it("the async version gives the same numbers, reports progress, stops on its signal, leaks nothing", async () => {
    const before = tf.memory().numTensors;
    const { output, cache } = model.runWithCache(PROMPT);
    const progress: number[] = [];
    const result = await logitLens(cache, { input: PROMPT, onProgress: (done, total) => progress.push(done / total) });
    expect(progress).toEqual([0.25, 0.5, 0.75, 1]);
    const sync = logitLensSync(cache, { input: PROMPT });
    expect([...result.targetProb!]).toEqual([...sync.targetProb!]);
    expect([...result.topIds]).toEqual([...sync.topIds]);
    const controller = new AbortController();
    const stopped = logitLens(cache, { input: PROMPT, signal: controller.signal, onProgress: (done) => done === 1 && controller.abort() });
    await expect(stopped).rejects.toThrow(/stopped by its AbortSignal/);
    output.dispose();
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(mechlab.logitLens).toBe(logitLens);
  });

  it("explains bad input", () => {
    const { output, cache } = model.runWithCache(PROMPT);
    expect(() => logitLensSync(cache, { mode: "both" as never })).toThrow(/mode must be "accumulated" or "decomposed"/);
    expect(() => logitLensSync(cache, { batchIndex: 1 })).toThrow(/batchIndex must be an integer in \[0, 1\)/);
    expect(() => logitLensSync(cache, { topK: 0 })).toThrow(/topK must be an integer in \[1, 10\]/);
    expect(() => logitLensSync(cache, { target: "next" })).toThrow(/target "next" needs the prompt's tokens/);
    expect(() => logitLensSync(cache, { target: 99 })).toThrow(/target 99 is not a token id in \[0, 10\)/);
    expect(() => logitLensSync(cache, { target: [1, 2] })).toThrow(/2 token ids for 8 positions/);
    expect(() => logitLensSync(cache, { input: "abc" })).toThrow(/4 tokens but the cache has 8 positions/);
    expect(() => logitLensSync(cache, { mode: "decomposed", lnScale: "own" })).toThrow(/lnScale "own" is for accumulated mode/);
    const before = tf.memory().numTensors;
    expect(() => logitLensSync(cache, { input: [1, 2, 3, 4, 5, 6, 7, 99] })).toThrow(/input token 7 99 is not a token id/);
    expect(tf.memory().numTensors).toBe(before);
    output.dispose();
    cache.dispose();
    expect(() => logitLensSync(cache)).toThrow(/disposed/);
  });

  it("names rows readably", () => {
    expect(["0_pre", "3_pre", "2_mid", "final_post", "embed", "pos_embed", "4_attn_out", "4_mlp_out"].map(lensRowName)).toEqual(["embed", "L3 in", "L2 mid", "final", "embed", "pos_embed", "L4 attn", "L4 mlp"]);
  });
});
