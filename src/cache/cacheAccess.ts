/**
 * Shared helpers of the cache's analysis methods: reading cached activations with a position
 * slice, checking up front that everything a method needs was cached, and layer arguments.
 *
 * Layout: with a batch axis, activations are [batch, pos, ...]; without (removeBatchDim), [pos, ...].
 * "batchAndPos" below means those leading axes, whatever of them are present.
 */
import type { tf } from "../backend";
import type { ActivationCache } from "./activationCache";
import { sliceAlong, type PosSlice } from "./posSlice";

/** A stack of residual-stream components [components, ...batchAndPos, dModel] and a label for each. */
export interface ResidualStack {
  stack: tf.Tensor;
  labels: string[];
}

/** The position axis of the cached activations the analysis methods read (resid, z, post, scale). */
export function posAxisOf(cache: ActivationCache): number {
  return cache.hasBatchDim ? 1 : 0;
}

/**
 * Throws, naming every missing hook, unless all `names` are cached. Call it before computing, so a
 * method fails once with the whole list rather than at the first gap.
 */
export function requireCached(cache: ActivationCache, names: string[], method: string, hint = ""): void {
  if (cache.isDisposed) throw new Error(`${method}: this ActivationCache has been disposed; its tensors are gone. Run the model again to get a new cache.`);
  if (!cache.hasPosDim) {
    throw new Error(
      `${method} needs the position axis, but this cache was made with a single-index posSlice, which drops it. ` +
        `Run runWithCache with posSlice [p, p + 1] (keeps the axis), or cache all positions and pass posSlice to ${method}.`,
    );
  }
  const missing = [...new Set(names)].filter((name) => !cache.has(name));
  if (missing.length === 0) return;
  const shown = missing.slice(0, 12).map((n) => `"${n}"`).join(", ") + (missing.length > 12 ? `, and ${missing.length - 12} more` : "");
  throw new Error(
    `${method} needs activations this cache does not hold: ${shown}. ` +
      `Cache them: run runWithCache without a namesFilter, or with a namesFilter that includes these names.${hint ? ` ${hint}` : ""}`,
  );
}

/** A cached activation with `posSlice` applied along the position axis. Owned by the cache when nothing is sliced. */
export function cachedAt(cache: ActivationCache, name: string, posSlice: PosSlice): tf.Tensor {
  return sliceAlong(cache.get(name), posSlice, posAxisOf(cache), "posSlice");
}

/**
 * A layer argument: undefined or −1 means nLayers (the final residual stream, as TransformerLens's
 * None / −1); otherwise an integer in [0, nLayers].
 */
export function resolveLayer(cache: ActivationCache, layer: number | undefined, method: string): number {
  const n = cache.model.cfg.nLayers;
  if (layer === undefined || layer === -1) return n;
  if (!Number.isInteger(layer) || layer < 0 || layer > n) {
    throw new Error(`${method}: layer must be an integer in [0, ${n}] (or −1 / undefined for the final residual stream); got ${layer}.`);
  }
  return layer;
}

/**
 * Checks an `mlpInput` request: the stream is taken at the input of layer `layer`'s MLP, which needs
 * a layer that has an MLP.
 */
export function checkMlpInput(cache: ActivationCache, layer: number, method: string): void {
  const cfg = cache.model.cfg;
  if (cfg.attnOnly) throw new Error(`${method}: mlpInput needs MLP layers, but this model is attention-only.`);
  if (layer >= cfg.nLayers) throw new Error(`${method}: mlpInput needs a layer below nLayers (${cfg.nLayers}); got ${layer}.`);
}

/** Whether `pos_embed` is one of the terms of the residual stream (learned absolute positions). */
export function posEmbedInResidual(cache: ActivationCache): boolean {
  return cache.model.cfg.positionalEmbeddingType === "standard";
}
