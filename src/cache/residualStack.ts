/**
 * The residual stream as a stack, two ways:
 *   accumulatedResid — the stream itself at successive points (resid_pre of each layer, ...), for
 *                      the logit lens;
 *   decomposeResid   — the stream at one point split into the terms that were added to make it
 *                      (embed, pos_embed, each layer's attn_out and mlp_out); they sum to it.
 * Both return { stack [components, ...batchAndPos, dModel], labels }, new tensors the caller owns.
 */
import { tf } from "../backend";
import type { ActivationCache } from "./activationCache";
import { cachedAt, checkMlpInput, posEmbedInResidual, requireCached, resolveLayer, type ResidualStack } from "./cacheAccess";
import { applyLnToStack, scaleHookName } from "./layerNormStack";
import type { PosSlice } from "./posSlice";

export interface AccumulatedResidOptions {
  /** Also include each layer's resid_mid (between attention and MLP) before `layer`. Default false. */
  inclMid?: boolean;
  /** End with resid_mid of `layer` (the input of its MLP) and normalise with its ln2. Default false. */
  mlpInput?: boolean;
  /** Put every entry through the norm in front of `layer` (applyLnToStack). Default false. */
  applyLn?: boolean;
  posSlice?: PosSlice;
}

/** Which hook the residual stream at the input of `layer` is read from, and its label. */
function residualHook(nLayers: number, l: number): [string, string] {
  return l === nLayers ? [`blocks.${nLayers - 1}.hook_resid_post`, "final_post"] : [`blocks.${l}.hook_resid_pre`, `${l}_pre`];
}

/**
 * The residual stream at the input of every layer up to and including `layer` (as TransformerLens:
 * resid_pre of layers 0..layer, where "layer nLayers" is the final resid_post, labelled
 * "final_post"), optionally with resid_mid of the layers before `layer` ("L_mid").
 * `layer` undefined / −1 means nLayers: every layer's input and the final stream.
 */
export function accumulatedResid(cache: ActivationCache, layer: number | undefined, options: AccumulatedResidOptions = {}): ResidualStack {
  const method = "accumulatedResid";
  const cfg = cache.model.cfg;
  const target = resolveLayer(cache, layer, method);
  const mlpInput = options.mlpInput ?? false;
  if (mlpInput) checkMlpInput(cache, target, method);
  if ((options.inclMid || mlpInput) && (cfg.attnOnly || cfg.parallelAttnMlp)) {
    throw new Error(`${method}: ${options.inclMid ? "inclMid" : "mlpInput"} needs resid_mid, which a${cfg.attnOnly ? "n attention-only" : " parallel attention+MLP"} model does not have.`);
  }
  const names: string[] = [];
  const labels: string[] = [];
  for (let l = 0; l <= target; l++) {
    const [name, label] = residualHook(cfg.nLayers, l);
    names.push(name);
    labels.push(label);
    if ((options.inclMid && l < target) || (mlpInput && l === target)) {
      names.push(`blocks.${l}.hook_resid_mid`);
      labels.push(`${l}_mid`);
    }
  }
  requireCached(cache, options.applyLn ? [...names, scaleHookName(cfg.nLayers, target, mlpInput)] : names, method);
  const stack = tf.tidy(() => {
    const raw = tf.stack(names.map((name) => cachedAt(cache, name, options.posSlice)));
    return options.applyLn ? applyLnToStack(cache, raw, target, { posSlice: options.posSlice, mlpInput }) : raw;
  });
  return { stack, labels };
}

export type DecomposeMode = "all" | "attn" | "mlp";

export interface DecomposeResidOptions {
  /** "all" (default), or only the attention ("attn") or MLP ("mlp") outputs. */
  mode?: DecomposeMode;
  /** Include hook_embed and (learned absolute positions) hook_pos_embed. Default true. */
  inclEmbeds?: boolean;
  /** Decompose the input of layer `layer`'s MLP: adds that layer's attn_out (sequential models). */
  mlpInput?: boolean;
  applyLn?: boolean;
  posSlice?: PosSlice;
}

/**
 * The hook names (and labels) whose activations add up to the residual stream at the input of
 * `layer` (or of its MLP with mlpInput).
 */
export function residualTerms(cache: ActivationCache, layer: number, options: DecomposeResidOptions): { names: string[]; labels: string[] } {
  const cfg = cache.model.cfg;
  const mode = options.mode ?? "all";
  if (!["all", "attn", "mlp"].includes(mode)) throw new Error(`decomposeResid: mode must be "all", "attn" or "mlp"; got ${JSON.stringify(mode)}.`);
  const inclAttn = mode !== "mlp";
  const inclMlp = mode !== "attn" && !cfg.attnOnly;
  const names: string[] = [];
  const labels: string[] = [];
  if (options.inclEmbeds ?? true) {
    names.push("hook_embed");
    labels.push("embed");
    // Shortformer's position embedding goes into attention only, never into the residual stream.
    if (posEmbedInResidual(cache)) {
      names.push("hook_pos_embed");
      labels.push("pos_embed");
    }
  }
  for (let l = 0; l < layer; l++) {
    if (inclAttn) {
      names.push(`blocks.${l}.hook_attn_out`);
      labels.push(`${l}_attn_out`);
    }
    if (inclMlp) {
      names.push(`blocks.${l}.hook_mlp_out`);
      labels.push(`${l}_mlp_out`);
    }
  }
  // A parallel block's MLP reads resid_pre, so its input has no attn_out of the same layer.
  if (options.mlpInput && inclAttn && !cfg.parallelAttnMlp) {
    names.push(`blocks.${layer}.hook_attn_out`);
    labels.push(`${layer}_attn_out`);
  }
  return { names, labels };
}

/**
 * The residual stream at the input of `layer` (undefined / −1: the final stream) as the sum of its
 * terms: embed, pos_embed, then "L_attn_out", "L_mlp_out" for each layer L < layer.
 */
export function decomposeResid(cache: ActivationCache, layer: number | undefined, options: DecomposeResidOptions = {}): ResidualStack {
  const method = "decomposeResid";
  const cfg = cache.model.cfg;
  const target = resolveLayer(cache, layer, method);
  const mlpInput = options.mlpInput ?? false;
  if (mlpInput) checkMlpInput(cache, target, method);
  const { names, labels } = residualTerms(cache, target, options);
  if (names.length === 0) throw new Error(`${method}: nothing to stack (layer ${target} with inclEmbeds false and mode ${JSON.stringify(options.mode)}).`);
  requireCached(cache, options.applyLn ? [...names, scaleHookName(cfg.nLayers, target, mlpInput)] : names, method);
  const stack = tf.tidy(() => {
    const raw = tf.stack(names.map((name) => cachedAt(cache, name, options.posSlice)));
    return options.applyLn ? applyLnToStack(cache, raw, target, { posSlice: options.posSlice, mlpInput }) : raw;
  });
  return { stack, labels };
}
