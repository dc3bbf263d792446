/**
 * The finest exact decomposition of the residual stream at a layer's input:
 *   resid = Σ heads (z·W_O[h]) + Σ neurons (post[n]·W_out[n])  (or each layer's mlp_out)
 *         + embed + pos_embed + bias
 * where "bias" holds every bias the heads and neurons leave out: b_O of each layer, and b_out of
 * each layer when neurons are expanded (an mlp_out already contains its b_out). The components sum
 * to the residual stream exactly (up to float rounding).
 */
import { tf } from "../backend";
import type { ActivationCache } from "./activationCache";
import { cachedAt, checkMlpInput, posEmbedInResidual, requireCached, resolveLayer, type ResidualStack } from "./cacheAccess";
import { headResultSource, layerHeadResults } from "./headResults";
import { applyLnToStack, scaleHookName } from "./layerNormStack";
import { layerNeuronResults } from "./neuronResults";
import type { PosSlice } from "./posSlice";
import { summedBias } from "./stackParts";

export interface FullResidDecompositionOptions {
  /** One component per MLP neuron (default true), or one per layer's mlp_out. */
  expandNeurons?: boolean;
  /** Decompose the input of layer `layer`'s MLP (adds that layer's heads in sequential models). */
  mlpInput?: boolean;
  /** Put every component through the norm in front of `layer` (applyLnToStack). Default false. */
  applyLn?: boolean;
  posSlice?: PosSlice;
}

/**
 * TransformerLens's model.accumulated_bias: the biases added to the residual stream before the input
 * of `layer`: Σ b_O (+ Σ b_out with includeMlpBiases) over layers below it, plus b_O of `layer`
 * itself for the input of its MLP (mlpInput, sequential blocks). [dModel], a new tensor the caller owns.
 */
export function accumulatedBias(cache: ActivationCache, layer: number, mlpInput = false, includeMlpBiases = true): tf.Tensor {
  const cfg = cache.model.cfg;
  const headLayers = layer + (mlpInput && !cfg.parallelAttnMlp ? 1 : 0);
  return tf.tidy(() => {
    let bias = summedBias(cache, "attn.b_O", headLayers);
    if (includeMlpBiases && !cfg.attnOnly) bias = tf.add(bias, summedBias(cache, "mlp.b_out", layer));
    return bias;
  });
}

/**
 * The residual stream at the input of `layer` (undefined / −1: the final stream), as
 * [components, ...batchAndPos, dModel] with labels, in TransformerLens's order:
 * "L0H0".. (heads), "L0N0".. (neurons) or "L_mlp_out", "embed", "pos_embed" (learned absolute
 * positions only), "bias". New tensors the caller owns.
 */
export function getFullResidDecomposition(cache: ActivationCache, layer: number | undefined, options: FullResidDecompositionOptions = {}): ResidualStack {
  const method = "getFullResidDecomposition";
  const cfg = cache.model.cfg;
  const target = resolveLayer(cache, layer, method);
  const mlpInput = options.mlpInput ?? false;
  if (mlpInput) checkMlpInput(cache, target, method);
  const expandNeurons = options.expandNeurons ?? true;
  const headLayers = target + (mlpInput && !cfg.parallelAttnMlp ? 1 : 0);
  const mlpLayers = cfg.attnOnly ? 0 : target;

  const needed: string[] = [];
  const labels: string[] = [];
  for (let l = 0; l < headLayers; l++) {
    needed.push(headResultSource(cache, l));
    for (let h = 0; h < cfg.nHeads; h++) labels.push(`L${l}H${h}`);
  }
  for (let l = 0; l < mlpLayers; l++) {
    if (expandNeurons) {
      needed.push(`blocks.${l}.mlp.hook_post`);
      for (let n = 0; n < cfg.dMlp; n++) labels.push(`L${l}N${n}`);
    } else {
      needed.push(`blocks.${l}.hook_mlp_out`);
      labels.push(`${l}_mlp_out`);
    }
  }
  const embeds = posEmbedInResidual(cache) ? ["hook_embed", "hook_pos_embed"] : ["hook_embed"];
  needed.push(...embeds);
  labels.push(...embeds.map((name) => name.slice("hook_".length)), "bias");
  if (options.applyLn) needed.push(scaleHookName(cfg.nLayers, target, mlpInput));
  requireCached(cache, needed, method, "(Head outputs are computed from hook_z and W_O unless hook_result is cached.)");

  const stack = tf.tidy(() => {
    const { posSlice } = options;
    const parts: tf.Tensor[] = [];
    for (let l = 0; l < headLayers; l++) parts.push(layerHeadResults(cache, l, posSlice));
    for (let l = 0; l < mlpLayers; l++) {
      parts.push(expandNeurons ? layerNeuronResults(cache, l, { posSlice }) : cachedAt(cache, `blocks.${l}.hook_mlp_out`, posSlice).expandDims(0));
    }
    const embedParts = embeds.map((name) => cachedAt(cache, name, posSlice));
    parts.push(...embedParts.map((t) => t.expandDims(0)));
    const bias = accumulatedBias(cache, target, mlpInput, expandNeurons);
    parts.push(tf.add(tf.zerosLike(embedParts[0]), bias).expandDims(0));
    const all = tf.concat(parts, 0);
    return options.applyLn ? applyLnToStack(cache, all, target, { posSlice, mlpInput }) : all;
  });
  return { stack, labels };
}
