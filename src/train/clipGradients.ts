/**
 * Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_: when the L2 norm of all
 * gradients together exceeds `maxNorm`, every gradient is scaled by maxNorm / (norm + 1e-6).
 */
import { tf } from "../backend";

/**
 * Returns the global norm and the gradients to use: the same tensors when no clipping was needed,
 * new ones otherwise (then the caller owns both the inputs and the outputs).
 */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): { grads: Record<string, tf.Tensor>; norm: number; clipped: boolean } {
  if (!(maxNorm > 0)) throw new Error(`clipByGlobalNorm: maxNorm must be a positive number, got ${maxNorm}.`);
  const norm = globalNorm(grads);
  if (!(norm > maxNorm)) return { grads, norm, clipped: false };
  const scale = maxNorm / (norm + 1e-6);
  const clipped = tf.tidy(() => Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, g.mul(scale)])));
  return { grads: clipped, norm, clipped: true };
}

/** The L2 norm of all tensors taken together. */
export function globalNorm(tensors: Record<string, tf.Tensor>): number {
  const values = Object.values(tensors);
  if (values.length === 0) return 0;
  return tf.tidy(() => tf.sqrt(tf.addN(values.map((g) => tf.sum(tf.square(g))))).dataSync()[0]);
}
