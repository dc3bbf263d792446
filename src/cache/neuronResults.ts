/**
 * Per-neuron MLP outputs: what neuron n of layer L writes into the residual stream,
 *   result[..., n, :] = post[..., n] · W_out[n, :]       (post: blocks.L.mlp.hook_post [..., dMlp])
 * A layer's mlp_out is Σ_n result[..., n, :] + b_out (for gated MLPs too: their b_in is inside post).
 */
import { tf } from "../backend";
import type { ActivationCache } from "./activationCache";
import { cachedAt, requireCached, resolveLayer, type ResidualStack } from "./cacheAccess";
import { applyLnToStack, scaleHookName } from "./layerNormStack";
import { sliceAlong, sliceIndices, type IndexSlice, type PosSlice } from "./posSlice";
import { emptyStack, residualAtName, summedBias, withBiasAndRemainder } from "./stackParts";

export interface NeuronResultsOptions {
  /** Which neurons: one index or [start, end) (default all). The neuron axis is always kept. */
  neuronSlice?: IndexSlice;
  posSlice?: PosSlice;
}

export interface StackNeuronResultsOptions extends NeuronResultsOptions {
  /** Put every component through the norm in front of `layer` (applyLnToStack). Default false. */
  applyLn?: boolean;
  /** Append a "bias" component: Σ b_out over the stacked layers. Default false. */
  includeBias?: boolean;
  /** Append a "remainder": the residual stream at `layer` minus every other component. Default false. */
  includeRemainder?: boolean;
}

/** A single index becomes a one-neuron range, so stacks always keep a neuron axis. */
function neuronRange(neuronSlice: IndexSlice, dMlp: number): IndexSlice {
  if (typeof neuronSlice !== "number") return neuronSlice;
  const [index] = sliceIndices(neuronSlice, dMlp, "neuronSlice");
  return [index, index + 1];
}

function requireMlp(cache: ActivationCache, method: string): void {
  if (cache.model.cfg.attnOnly) throw new Error(`${method}: this model is attention-only; it has no MLP neurons.`);
}

/** Layer L's neuron outputs, neurons first: [neurons, ...batchAndPos, dModel]. Call inside tf.tidy. */
export function layerNeuronResults(cache: ActivationCache, layer: number, options: NeuronResultsOptions): tf.Tensor {
  const range = neuronRange(options.neuronSlice, cache.model.cfg.dMlp);
  const allNeurons = cachedAt(cache, `blocks.${layer}.mlp.hook_post`, options.posSlice); // [...batchAndPos, dMlp]
  const post = sliceAlong(allNeurons, range, allNeurons.rank - 1, "neuronSlice"); // [...batchAndPos, neurons]
  const W_out = sliceAlong(cache.model.param(`blocks.${layer}.mlp.W_out`), range, 0, "neuronSlice"); // [neurons, dModel]
  const batchAndPos = post.shape.slice(0, -1);
  const neurons = post.shape[post.rank - 1];
  const rows = batchAndPos.reduce((a, b) => a * b, 1);
  // [neurons, rows, 1] ⊙ [neurons, 1, dModel] → [neurons, rows, dModel]
  const perNeuron = tf.mul(post.reshape([rows, neurons]).transpose().expandDims(2), W_out.expandDims(1));
  return perNeuron.reshape([neurons, ...batchAndPos, cache.model.cfg.dModel]);
}

/**
 * TransformerLens's get_neuron_results: layer L's neuron outputs in the activation layout,
 * [...batchAndPos, neurons, dModel]. A new tensor the caller owns.
 */
export function getNeuronResults(cache: ActivationCache, layer: number, options: NeuronResultsOptions = {}): tf.Tensor {
  const method = "getNeuronResults";
  requireMlp(cache, method);
  const cfg = cache.model.cfg;
  if (!Number.isInteger(layer) || layer < 0 || layer >= cfg.nLayers) throw new Error(`${method}: layer must be an integer in [0, ${cfg.nLayers - 1}]; got ${layer}.`);
  requireCached(cache, [`blocks.${layer}.mlp.hook_post`], method);
  return tf.tidy(() => {
    const results = layerNeuronResults(cache, layer, options);
    const r = results.rank;
    return results.transpose([...Array.from({ length: r - 2 }, (_, i) => i + 1), 0, r - 1]);
  });
}

/**
 * Every neuron's output for layers [0, layer) (undefined / −1: all layers), stacked:
 * [layer·neurons, ...batchAndPos, dModel] with labels "L0N0", "L0N1", ...; plus "bias" /
 * "remainder" when asked. New tensors the caller owns.
 */
export function stackNeuronResults(cache: ActivationCache, layer: number | undefined, options: StackNeuronResultsOptions = {}): ResidualStack {
  const method = "stackNeuronResults";
  requireMlp(cache, method);
  const cfg = cache.model.cfg;
  const target = resolveLayer(cache, layer, method);
  const neurons = sliceIndices(neuronRange(options.neuronSlice, cfg.dMlp), cfg.dMlp, "neuronSlice");
  const needed = Array.from({ length: target }, (_, l) => `blocks.${l}.mlp.hook_post`);
  const residName = residualAtName(target);
  if (options.includeBias || options.includeRemainder || target === 0) needed.push(residName);
  if (options.applyLn) needed.push(scaleHookName(cfg.nLayers, target, false));
  requireCached(cache, needed, method);

  const labels: string[] = [];
  for (let l = 0; l < target; l++) for (const n of neurons) labels.push(`L${l}N${n}`);
  const stack = tf.tidy(() => {
    const perLayer = Array.from({ length: target }, (_, l) => layerNeuronResults(cache, l, options));
    const components = perLayer.length > 0 ? tf.concat(perLayer, 0) : emptyStack(cache, residName, options.posSlice);
    const bias = options.includeBias ? () => summedBias(cache, "mlp.b_out", target) : undefined;
    const all = withBiasAndRemainder(cache, components, labels, target, bias, options.includeRemainder ?? false, options.posSlice);
    return options.applyLn ? applyLnToStack(cache, all, target, { posSlice: options.posSlice }) : all;
  });
  return { stack, labels };
}
