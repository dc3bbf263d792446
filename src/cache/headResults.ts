/**
 * Per-head attention outputs: what each head writes into the residual stream,
 *   result[..., h, :] = z[..., h, :] · W_O[h]        (z [..., nHeads, dHead], W_O[h] [dHead, dModel])
 * A layer's attn_out is Σ_h result[..., h, :] + b_O. Read from blocks.L.attn.hook_result when it
 * was cached (useAttnResult models), otherwise computed from blocks.L.attn.hook_z and the model's W_O.
 */
import { tf } from "../backend";
import type { ActivationCache } from "./activationCache";
import { cachedAt, requireCached, resolveLayer, type ResidualStack } from "./cacheAccess";
import { applyLnToStack, scaleHookName } from "./layerNormStack";
import { emptyStack, residualAtName, summedBias, withBiasAndRemainder } from "./stackParts";
import type { PosSlice } from "./posSlice";

export interface StackHeadResultsOptions {
  posSlice?: PosSlice;
  /** Put every component through the norm in front of `layer` (applyLnToStack). Default false. */
  applyLn?: boolean;
  /**
   * Append one "bias" component: Σ b_O over the stacked layers (broadcast over batch and position),
   * so heads + bias sum to Σ attn_out. Default false.
   */
  includeBias?: boolean;
  /**
   * Append one "remainder" component (TransformerLens's incl_remainder): the residual stream at
   * `layer` minus every other component, so the whole stack sums to the residual stream. Default false.
   */
  includeRemainder?: boolean;
}

/** Hook names of layer L's head results: hook_result when cached, else hook_z. */
export function headResultSource(cache: ActivationCache, layer: number): string {
  const result = `blocks.${layer}.attn.hook_result`;
  return cache.has(result) ? result : `blocks.${layer}.attn.hook_z`;
}

/** Layer L's per-head outputs, heads first: [nHeads, ...batchAndPos, dModel]. Call inside tf.tidy. */
export function layerHeadResults(cache: ActivationCache, layer: number, posSlice: PosSlice): tf.Tensor {
  const source = headResultSource(cache, layer);
  if (source.endsWith("hook_result")) {
    const result = cachedAt(cache, source, posSlice); // [...batchAndPos, nHeads, dModel]
    const r = result.rank;
    return result.transpose([r - 2, ...Array.from({ length: r - 2 }, (_, i) => i), r - 1]);
  }
  const z = cachedAt(cache, source, posSlice); // [...batchAndPos, nHeads, dHead]
  const W_O = cache.model.param(`blocks.${layer}.attn.W_O`); // [nHeads, dHead, dModel]
  const batchAndPos = z.shape.slice(0, -2);
  const [nHeads, dHead] = z.shape.slice(-2) as [number, number];
  const dModel = cache.model.cfg.dModel;
  const rows = batchAndPos.reduce((a, b) => a * b, 1);
  // One batched matMul over heads: [nHeads, rows, dHead] · [nHeads, dHead, dModel].
  const zByHead = z.reshape([rows, nHeads, dHead]).transpose([1, 0, 2]);
  return tf.matMul(zByHead, W_O).reshape([nHeads, ...batchAndPos, dModel]);
}

/**
 * Every head's output for layers [0, layer) (undefined / −1: all layers), stacked:
 * [layer·nHeads, ...batchAndPos, dModel] with labels "L0H0", "L0H1", ...; plus "bias" / "remainder"
 * when asked. New tensors the caller owns.
 */
export function stackHeadResults(cache: ActivationCache, layer: number | undefined, options: StackHeadResultsOptions = {}): ResidualStack {
  const method = "stackHeadResults";
  const cfg = cache.model.cfg;
  const target = resolveLayer(cache, layer, method);
  const needed = Array.from({ length: target }, (_, l) => headResultSource(cache, l));
  const residName = residualAtName(target);
  if (options.includeBias || options.includeRemainder || target === 0) needed.push(residName);
  if (options.applyLn) needed.push(scaleHookName(cfg.nLayers, target, false));
  requireCached(cache, needed, method, needed.some((n) => n.endsWith("hook_z")) ? "(Head outputs are computed from hook_z and W_O unless hook_result is cached.)" : "");

  const labels: string[] = [];
  for (let l = 0; l < target; l++) for (let h = 0; h < cfg.nHeads; h++) labels.push(`L${l}H${h}`);
  const stack = tf.tidy(() => {
    const perLayer = Array.from({ length: target }, (_, l) => layerHeadResults(cache, l, options.posSlice));
    const heads = perLayer.length > 0 ? tf.concat(perLayer, 0) : emptyStack(cache, residName, options.posSlice);
    const bias = options.includeBias ? () => summedBias(cache, "attn.b_O", target) : undefined;
    const all = withBiasAndRemainder(cache, heads, labels, target, bias, options.includeRemainder ?? false, options.posSlice);
    return options.applyLn ? applyLnToStack(cache, all, target, { posSlice: options.posSlice }) : all;
  });
  return { stack, labels };
}

/**
 * blocks.L.attn.hook_result [...batchAndPos, nHeads, dModel] for every layer whose result is not
 * cached, computed from hook_z. The caller (the cache) takes ownership.
 */
export function computeHeadResults(cache: ActivationCache): Map<string, tf.Tensor> {
  const cfg = cache.model.cfg;
  const layers = Array.from({ length: cfg.nLayers }, (_, l) => l).filter((l) => !cache.has(`blocks.${l}.attn.hook_result`));
  requireCached(cache, layers.map((l) => `blocks.${l}.attn.hook_z`), "computeHeadResults");
  const out = new Map<string, tf.Tensor>();
  for (const l of layers) {
    const result = tf.tidy(() => {
      const heads = layerHeadResults(cache, l, undefined); // [nHeads, ...batchAndPos, dModel]
      const r = heads.rank;
      // Back to the model's layout: heads after batch and position.
      return heads.transpose([...Array.from({ length: r - 2 }, (_, i) => i + 1), 0, r - 1]);
    });
    out.set(`blocks.${l}.attn.hook_result`, result);
  }
  return out;
}
