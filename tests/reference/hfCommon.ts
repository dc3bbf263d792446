/**
 * Building blocks shared by the Hugging Face references, written in Hugging Face's own terms
 * (nn.Linear weights [out, in], GPT-2's Conv1D weights [in, out], rotary tables built from
 * inv_freq with cat(freqs, freqs) and rotate_half). Deliberately separate from the
 * TransformerLens-layout reference so that cross-checks between the two mean something.
 */
import { gelu, geluFast, geluNew, relu, sigmoid, silu, softmax } from "./math";
import type { Mat, Vec } from "./tensors";
import type { RefWeights } from "./types";

/** A Hugging Face config.json object. */
export type HfConfig = Record<string, unknown>;

/** A number from the config, or the default; throws when it is missing and has no default. */
export function configNumber(config: HfConfig, key: string, fallback?: number): number {
  const value = config[key];
  if (value === undefined || value === null) {
    if (fallback === undefined) throw new Error(`HF config is missing "${key}".`);
    return fallback;
  }
  if (typeof value !== "number") throw new Error(`HF config "${key}" must be a number; got ${JSON.stringify(value)}.`);
  return value;
}

export function configBoolean(config: HfConfig, key: string, fallback: boolean): boolean {
  const value = config[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean") throw new Error(`HF config "${key}" must be a boolean; got ${JSON.stringify(value)}.`);
  return value;
}

export function configString(config: HfConfig, key: string, fallback: string): string {
  const value = config[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "string") throw new Error(`HF config "${key}" must be a string; got ${JSON.stringify(value)}.`);
  return value;
}

/** Whether a name is present (for optional biases and tied heads). */
export function hasWeight(weights: RefWeights, name: string): boolean {
  return weights[name] !== undefined;
}

/** nn.Linear: y[o] = Σᵢ W[o][i] x[i] + b[o]   (W: [out][in]). */
export function linear(x: Vec, W: Mat, b?: Vec): Vec {
  return W.map((row, o) => {
    let s = b ? b[o] : 0;
    for (let i = 0; i < x.length; i++) s += row[i] * x[i];
    return s;
  });
}

/** GPT-2's Conv1D: y[o] = Σᵢ x[i] W[i][o] + b[o]   (W: [in][out]). */
export function conv1d(x: Vec, W: Mat, b: Vec): Vec {
  const out = b.slice();
  for (let i = 0; i < x.length; i++) for (let o = 0; o < out.length; o++) out[o] += x[i] * W[i][o];
  return out;
}

/** nn.LayerNorm: (x − E[x]) / √(Var[x] + eps) · w + b, with the biased variance. */
export function hfLayerNorm(x: Vec, w: Vec, b: Vec, eps: number): Vec {
  const n = x.length;
  let mean = 0;
  for (const v of x) mean += v / n;
  let variance = 0;
  for (const v of x) variance += (v - mean) * (v - mean) / n;
  const inv = 1 / Math.sqrt(variance + eps);
  return x.map((v, i) => (v - mean) * inv * w[i] + b[i]);
}

/** LlamaRMSNorm: w · x / √(mean(x²) + eps). */
export function hfRmsNorm(x: Vec, w: Vec, eps: number): Vec {
  let meanSquare = 0;
  for (const v of x) meanSquare += (v * v) / x.length;
  const inv = 1 / Math.sqrt(meanSquare + eps);
  return x.map((v, i) => w[i] * (v * inv));
}

/** transformers' ACT2FN, for the names these architectures use. */
export function hfActivation(name: string): (x: number) => number {
  switch (name) {
    case "gelu":
      return gelu;
    case "gelu_new":
    case "gelu_pytorch_tanh":
      return geluNew;
    case "gelu_fast":
      return geluFast;
    case "relu":
      return relu;
    case "silu":
    case "swish":
      return silu;
    case "quick_gelu":
      return (x) => x * sigmoid(1.702 * x);
    default:
      throw new Error(`HF reference: unsupported activation "${name}".`);
  }
}

/**
 * Rotary tables for one position, as the HF rotary embeddings build them:
 * inv_freq[j] = 1 / base^(2j/dim) for j < dim/2, freqs = position · inv_freq,
 * emb = cat(freqs, freqs), cos = cos(emb), sin = sin(emb)  (each of length dim).
 */
export function ropeCosSin(position: number, dim: number, base: number): { cos: Vec; sin: Vec } {
  const freqs: Vec = [];
  for (let j = 0; j < dim / 2; j++) freqs.push(position * (1 / Math.pow(base, (2 * j) / dim)));
  const emb = [...freqs, ...freqs];
  return { cos: emb.map(Math.cos), sin: emb.map(Math.sin) };
}

/** rotate_half(x) = cat(−x[half:], x[:half]). */
function rotateHalf(x: Vec): Vec {
  const half = x.length / 2;
  return [...x.slice(half).map((v) => -v), ...x.slice(0, half)];
}

/**
 * apply_rotary_pos_emb on one head vector: the first rotaryDim dims become
 * x_rot · cos + rotate_half(x_rot) · sin; the rest pass through (GPT-NeoX's partial rotary).
 */
export function hfApplyRope(x: Vec, position: number, rotaryDim: number, base: number): Vec {
  const { cos, sin } = ropeCosSin(position, rotaryDim, base);
  const xRot = x.slice(0, rotaryDim);
  const rotated = rotateHalf(xRot);
  const out = xRot.map((v, i) => v * cos[i] + rotated[i] * sin[i]);
  return [...out, ...x.slice(rotaryDim)];
}

/**
 * Causal multi-head self-attention of one sequence, after projection and rotary.
 * q: [T][nHeads][headDim]; k, v: [T][nKvHeads][headDim] (repeat_kv: query head h reads kv head
 * floor(h / (nHeads / nKvHeads))). Returns the per-head context, [T][nHeads][headDim].
 */
export function causalAttention(q: Vec[][], k: Vec[][], v: Vec[][], scale: number): Vec[][] {
  const T = q.length;
  const nHeads = q[0].length;
  const nKv = k[0].length;
  const nRep = nHeads / nKv;
  const headDim = q[0][0].length;
  const context: Vec[][] = [];
  for (let t = 0; t < T; t++) {
    const heads: Vec[] = [];
    for (let h = 0; h < nHeads; h++) {
      const g = Math.floor(h / nRep);
      // keys s ≤ t only (the causal mask)
      const logits: Vec = [];
      for (let s = 0; s <= t; s++) {
        let d = 0;
        for (let i = 0; i < headDim; i++) d += q[t][h][i] * k[s][g][i];
        logits.push(d * scale);
      }
      const probs = softmax(logits);
      const out = new Array<number>(headDim).fill(0);
      for (let s = 0; s <= t; s++) for (let i = 0; i < headDim; i++) out[i] += probs[s] * v[s][g][i];
      heads.push(out);
    }
    context.push(heads);
  }
  return context;
}
