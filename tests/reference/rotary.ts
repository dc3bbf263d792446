/**
 * Rotary position embedding, TransformerLens's "rotate half" layout (GPT-NeoX, Llama): dims i and
 * i + rotaryDim/2 form a pair rotated by the angle position · base^(−2i/rotaryDim).
 */
import type { Vec } from "./tensors";

/**
 * Rotates the first `rotaryDim` dims of one head vector for `position`; dims ≥ rotaryDim are
 * unchanged. With half = rotaryDim/2, θᵢ = position · base^(−2i/rotaryDim):
 *   out[i]        = x[i] cos θᵢ − x[i + half] sin θᵢ
 *   out[i + half] = x[i + half] cos θᵢ + x[i] sin θᵢ
 */
export function applyRotary(x: Vec, position: number, rotaryDim: number, base: number): Vec {
  if (rotaryDim % 2 !== 0 || rotaryDim > x.length) throw new Error(`applyRotary: rotaryDim ${rotaryDim} must be even and ≤ ${x.length}.`);
  const half = rotaryDim / 2;
  const out = x.slice();
  for (let i = 0; i < half; i++) {
    const angle = position * Math.pow(base, (-2 * i) / rotaryDim);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    out[i] = x[i] * cos - x[i + half] * sin;
    out[i + half] = x[i + half] * cos + x[i] * sin;
  }
  return out;
}
