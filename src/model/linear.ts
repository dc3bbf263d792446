import { tf } from "../backend";

/**
 * x [..., dIn] · W [dIn, dOut] (+ b [dOut]) → [..., dOut], as one 2-D matMul
 * (the wasm backend has no Einsum, and a single large matMul is its fastest path).
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const dIn = x.shape[x.rank - 1] as number;
  const dOut = weight.shape[1] as number;
  if (weight.rank !== 2 || weight.shape[0] !== dIn) {
    throw new Error(`linear: input has last dimension ${dIn} but the weight has shape [${weight.shape.join(", ")}].`);
  }
  const flat = x.reshape([-1, dIn]);
  let out = tf.matMul(flat, weight);
  if (bias) out = tf.add(out, bias);
  return out.reshape([...x.shape.slice(0, -1), dOut]);
}
