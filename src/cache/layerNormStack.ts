/**
 * applyLnToStack: puts each component of a residual stack through the normalisation that the
 * stack's sum meets next, with the scale frozen at its cached value.
 *
 * A norm is x ↦ (x − mean(x)) / scale(x) (LN, LNPre) or x ↦ x / scale(x) (RMS, RMSPre), followed by
 * ·w (+ b) in the unfolded kinds. With the scale held fixed, the part before w and b is linear, so it
 * can be applied to every component separately and the results add up to the normalised sum:
 *   Σ_c (c − mean(c)) / scale = (x − mean(x)) / scale.
 * That is the linear approximation TransformerLens uses (direct logit attribution). The weight w and
 * bias b are NOT applied: for LNPre / RMSPre models (folded norms) the sum is exactly the norm's
 * hook_normalized; for LN it is (hook_normalized − b) / w, for RMS hook_normalized / w.
 */
import { tf } from "../backend";
import type { ActivationCache } from "./activationCache";
import { cachedAt, checkMlpInput, resolveLayer, requireCached } from "./cacheAccess";
import type { PosSlice } from "./posSlice";

export interface ApplyLnOptions {
  /** The position selection the stack was made with, applied to the cached scale. */
  posSlice?: PosSlice;
  /** Normalise as the input of layer `layer`'s MLP (blocks.L.ln2) instead of its attention (ln1). */
  mlpInput?: boolean;
  /**
   * Compute the scale from the stack itself (its components summed, centred for LN) instead of the
   * cached hook_scale. Exact when the stack is a full decomposition of the residual stream; needs no
   * cached scale. Default false.
   */
  recomputeLn?: boolean;
}

/** The hook holding the norm's scale in front of `layer` (nLayers: the final norm). */
export function scaleHookName(nLayers: number, layer: number, mlpInput: boolean): string {
  return layer === nLayers ? "ln_final.hook_scale" : `blocks.${layer}.ln${mlpInput ? 2 : 1}.hook_scale`;
}

/**
 * stack [components, ...batchAndPos, dModel] → [components, ...batchAndPos, dModel], divided by the
 * scale of the norm in front of `layer` (undefined / −1 / nLayers: ln_final; else blocks.L.ln1).
 * Returns a new tensor the caller owns. For models without normalisation it is a copy.
 */
export function applyLnToStack(cache: ActivationCache, stack: tf.Tensor, layer: number | undefined, options: ApplyLnOptions = {}): tf.Tensor {
  const method = "applyLnToStack";
  const cfg = cache.model.cfg;
  const target = resolveLayer(cache, layer, method);
  if (stack.rank < 2 || stack.shape[stack.rank - 1] !== cfg.dModel) {
    throw new Error(`${method}: the stack must be [components, ...batchAndPos, dModel=${cfg.dModel}]; got [${stack.shape.join(", ")}].`);
  }
  if (cfg.normalizationType === "none") return stack.clone();
  const mlpInput = options.mlpInput ?? false;
  if (mlpInput) checkMlpInput(cache, target, method);
  const scaleName = scaleHookName(cfg.nLayers, target, mlpInput);
  if (!options.recomputeLn) requireCached(cache, [scaleName], method, "Or pass { recomputeLn: true } to compute the scale from the stack's sum.");
  const centers = cfg.normalizationType === "LN" || cfg.normalizationType === "LNPre";

  return tf.tidy(() => {
    // Centring is linear, so it can be done per component: Σ_c (c − mean c) = x − mean x.
    const centered = centers ? tf.sub(stack, tf.mean(stack, -1, true)) : stack;
    let scale: tf.Tensor; // [...batchAndPos, 1]
    if (options.recomputeLn) {
      const total = tf.sum(centered, 0);
      scale = tf.sqrt(tf.add(tf.mean(tf.square(total), -1, true), cfg.eps));
    } else {
      scale = cachedAt(cache, scaleName, options.posSlice);
      const stackDims = stack.shape.slice(1, -1);
      const scaleDims = scale.shape.slice(0, -1);
      if (stackDims.length !== scaleDims.length || !stackDims.every((d, i) => d === scaleDims[i])) {
        throw new Error(
          `${method}: the stack's batch/position axes [${stackDims.join(", ")}] do not match "${scaleName}" [${scaleDims.join(", ")}] ` +
            `after posSlice ${JSON.stringify(options.posSlice ?? null)}. Pass the same posSlice the stack was made with.`,
        );
      }
    }
    return tf.div(centered, scale);
  });
}
