/**
 * Rotary position embedding, "rotate half" layout (GPT-NeoX, Llama, TransformerLens's default):
 * the first rotaryDim dims of each head vector are split into halves (x1, x2) and rotated by
 * angle pos·θ_i with θ_i = base^(−2i/rotaryDim):
 *   out1 = x1·cos − x2·sin,  out2 = x2·cos + x1·sin;  dims ≥ rotaryDim pass through.
 */
import { tf } from "../../backend";

/** cos and sin tables, each [nCtx, rotaryDim] (the half-table repeated twice). Caller owns them. */
export function rotaryTables(nCtx: number, rotaryDim: number, base: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const half = rotaryDim / 2;
  const cos = new Float32Array(nCtx * rotaryDim);
  const sin = new Float32Array(nCtx * rotaryDim);
  for (let pos = 0; pos < nCtx; pos++) {
    for (let i = 0; i < half; i++) {
      const angle = pos * Math.pow(base, (-2 * i) / rotaryDim);
      for (const j of [i, i + half]) {
        cos[pos * rotaryDim + j] = Math.cos(angle);
        sin[pos * rotaryDim + j] = Math.sin(angle);
      }
    }
  }
  return { cos: tf.tensor2d(cos, [nCtx, rotaryDim]), sin: tf.tensor2d(sin, [nCtx, rotaryDim]) };
}

/**
 * x [batch, pos, heads, dHead]; positionIds [batch, pos] int32; tables from rotaryTables.
 * Returns the rotated x, same shape.
 */
export function applyRotary(x: tf.Tensor4D, positionIds: tf.Tensor2D, tables: { cos: tf.Tensor2D; sin: tf.Tensor2D }): tf.Tensor4D {
  const [batch, pos, heads, dHead] = x.shape;
  const rotaryDim = tables.cos.shape[1];
  const half = rotaryDim / 2;
  // [batch, pos, 1, rotaryDim] so they broadcast over heads.
  const cos = tf.gather(tables.cos, positionIds).reshape([batch, pos, 1, rotaryDim]);
  const sin = tf.gather(tables.sin, positionIds).reshape([batch, pos, 1, rotaryDim]);
  const rotated = rotaryDim === dHead ? x : x.slice([0, 0, 0, 0], [batch, pos, heads, rotaryDim]);
  const x1 = rotated.slice([0, 0, 0, 0], [batch, pos, heads, half]);
  const x2 = rotated.slice([0, 0, 0, half], [batch, pos, heads, half]);
  const turned = tf.concat([tf.neg(x2), x1], 3);
  const out = tf.add(tf.mul(rotated, cos), tf.mul(turned, sin));
  if (rotaryDim === dHead) return out as tf.Tensor4D;
  const rest = x.slice([0, 0, 0, rotaryDim], [batch, pos, heads, dHead - rotaryDim]);
  return tf.concat([out, rest], 3) as tf.Tensor4D;
}
