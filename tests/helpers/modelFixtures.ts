/** Shared test helpers: tiny configs of every architecture variant, and reference ↔ tfjs conversion. */
import { expect } from "vitest";
import { tf } from "../../src/backend";
import { resolveConfig, type Config, type ConfigInput } from "../../src/model/config";
import type { StateDict } from "../../src/model/stateDict";
import type { RefTensor, RefWeights } from "../reference/types";

const BASE: ConfigInput = { nLayers: 2, dModel: 16, nHeads: 4, dHead: 4, dMlp: 24, dVocab: 29, nCtx: 12 };

/** One tiny config per architecture variant the model supports. */
export const VARIANTS: Record<string, ConfigInput> = {
  "gpt2-like (LN, gelu_new, standard positions)": { ...BASE, actFn: "gelu_new" },
  "exact gelu, 3 layers, dHead ≠ dModel/nHeads": { ...BASE, nLayers: 3, dHead: 5, actFn: "gelu" },
  "gelu_fast": { ...BASE, actFn: "gelu_fast" },
  "attention-only (LNPre)": { ...BASE, attnOnly: true, normalizationType: "LNPre" },
  "no normalization, relu": { ...BASE, normalizationType: "none", actFn: "relu" },
  "neox-like (rotary half dims, parallel attn+MLP, gelu)": { ...BASE, positionalEmbeddingType: "rotary", rotaryDim: 2, parallelAttnMlp: true, actFn: "gelu" },
  "llama-like (RMS, rotary, gated silu, GQA)": {
    ...BASE, normalizationType: "RMS", positionalEmbeddingType: "rotary", gatedMlp: true, actFn: "silu", nKeyValueHeads: 2, rotaryBase: 500,
  },
  "RMSPre, GQA with one key/value head": { ...BASE, normalizationType: "RMSPre", nKeyValueHeads: 1, actFn: "relu" },
  "shortformer": { ...BASE, positionalEmbeddingType: "shortformer", actFn: "gelu" },
  "solu_ln with per-head results": { ...BASE, actFn: "solu_ln", useAttnResult: true },
  "custom attention scale": { ...BASE, useAttnScale: false, actFn: "relu" },
};

export function configOf(input: ConfigInput): Config {
  return resolveConfig(input);
}

/** RefWeights (Float32 values) → a state dict of new tensors; the caller disposes them. */
export function toStateDict(weights: RefWeights): StateDict {
  const out: StateDict = {};
  for (const [name, w] of Object.entries(weights)) out[name] = tf.tensor(Float32Array.from(w.data), w.shape, "float32");
  return out;
}

export function disposeAll(stateDict: StateDict): void {
  for (const t of Object.values(stateDict)) t.dispose();
}

/** Largest |a − b| over all entries; shapes must match. */
export function maxAbsDiff(actual: tf.Tensor, expected: RefTensor): number {
  expect(actual.shape).toEqual(expected.shape);
  const values = actual.dataSync();
  let worst = 0;
  for (let i = 0; i < values.length; i++) {
    const a = values[i];
    const e = expected.data[i];
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      // Masked attention scores are −∞ in both.
      if (a !== e) return Infinity;
      continue;
    }
    worst = Math.max(worst, Math.abs(a - e));
  }
  return worst;
}

/** Deterministic pseudo-random token ids. */
export function randomTokens(batch: number, pos: number, vocab: number, seed: number): number[][] {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  return Array.from({ length: batch }, () => Array.from({ length: pos }, () => Math.floor(next() * vocab)));
}
