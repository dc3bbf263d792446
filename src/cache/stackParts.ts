/**
 * Pieces shared by the stacking methods: the residual stream a stack should add up to, summed
 * per-layer biases, empty stacks, and the optional "bias" / "remainder" components.
 * Functions here make tensors without tidying: call them inside tf.tidy.
 */
import { tf } from "../backend";
import type { ActivationCache } from "./activationCache";
import { cachedAt } from "./cacheAccess";
import type { PosSlice } from "./posSlice";

/** The residual stream at the input of `layer` as read from the cache (resid_post of the layer before). */
export function residualAtName(layer: number): string {
  return layer === 0 ? "blocks.0.hook_resid_pre" : `blocks.${layer - 1}.hook_resid_post`;
}

/** Σ of a per-layer bias parameter ("attn.b_O", "mlp.b_out") over layers [0, layer): [dModel]. */
export function summedBias(cache: ActivationCache, suffix: string, layer: number): tf.Tensor {
  let total: tf.Tensor = tf.zeros([cache.model.cfg.dModel]);
  for (let l = 0; l < layer; l++) total = tf.add(total, cache.model.param(`blocks.${l}.${suffix}`));
  return total;
}

/** A stack with no components, [0, ...batchAndPos, dModel], shaped like the cached `like`. */
export function emptyStack(cache: ActivationCache, like: string, posSlice: PosSlice): tf.Tensor {
  return tf.zeros([0, ...cachedAt(cache, like, posSlice).shape]);
}

/**
 * Appends the optional "bias" and "remainder" components to `components` [n, ...batchAndPos, dModel].
 * `bias` is [dModel]; the remainder is the residual at `layer` minus everything else.
 */
export function withBiasAndRemainder(
  cache: ActivationCache,
  components: tf.Tensor,
  labels: string[],
  layer: number,
  bias: (() => tf.Tensor) | undefined,
  includeRemainder: boolean,
  posSlice: PosSlice,
): tf.Tensor {
  const parts = [components];
  const residName = residualAtName(layer);
  if (bias) {
    parts.push(tf.add(tf.zerosLike(cachedAt(cache, residName, posSlice)), bias()).expandDims(0));
    labels.push("bias");
  }
  if (includeRemainder) {
    const sumSoFar = tf.sum(tf.concat(parts, 0), 0);
    parts.push(tf.sub(cachedAt(cache, residName, posSlice), sumSoFar).expandDims(0));
    labels.push("remainder");
  }
  return parts.length === 1 ? components : tf.concat(parts, 0);
}
