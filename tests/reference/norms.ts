/**
 * TransformerLens's normalisations of one vector, returning the scale (hook_scale) and the output
 * (hook_normalized, which includes w and b).
 *   LN:     x0 = x − mean(x); scale = √(mean(x0²) + eps); out = x0/scale · w + b
 *   LNPre:  LN without w, b
 *   RMS:    scale = √(mean(x²) + eps); out = x/scale · w
 *   RMSPre: RMS without w
 */
import type { NormalizationType } from "../../src/model/config";
import type { Vec } from "./tensors";

export interface NormResult {
  scale: number;
  normalized: Vec;
}

function mean(x: Vec): number {
  let s = 0;
  for (const v of x) s += v;
  return s / x.length;
}

/** LN (w, b given) or LNPre (w, b undefined). */
export function layerNorm(x: Vec, eps: number, w?: Vec, b?: Vec): NormResult {
  const mu = mean(x);
  const centred = x.map((v) => v - mu);
  const scale = Math.sqrt(mean(centred.map((v) => v * v)) + eps);
  const normalized = centred.map((v, i) => (v / scale) * (w ? w[i] : 1) + (b ? b[i] : 0));
  return { scale, normalized };
}

/** RMS (w given) or RMSPre (w undefined). */
export function rmsNorm(x: Vec, eps: number, w?: Vec): NormResult {
  const scale = Math.sqrt(mean(x.map((v) => v * v)) + eps);
  const normalized = x.map((v, i) => (v / scale) * (w ? w[i] : 1));
  return { scale, normalized };
}

/** Dispatch on the config's normalisation type; "none" is the identity (scale 1, and no hooks). */
export function normalize(type: NormalizationType, x: Vec, eps: number, w?: Vec, b?: Vec): NormResult {
  switch (type) {
    case "LN":
      if (!w || !b) throw new Error("normalize: LN needs w and b.");
      return layerNorm(x, eps, w, b);
    case "LNPre":
      return layerNorm(x, eps);
    case "RMS":
      if (!w) throw new Error("normalize: RMS needs w.");
      return rmsNorm(x, eps, w);
    case "RMSPre":
      return rmsNorm(x, eps);
    case "none":
      return { scale: 1, normalized: x.slice() };
  }
}
