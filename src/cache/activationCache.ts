/**
 * ActivationCache: the activations (and optionally gradients) of one run, by hook name.
 * Get by full name (`cache.get("blocks.1.attn.hook_pattern")`) or by short name and layer
 * (`cache.get("pattern", 1)`), as TransformerLens's cache["pattern", 1].
 *
 * Ownership: the cache owns every tensor in it. `get` returns the cached tensor itself (do not
 * dispose it); `cache.dispose()` frees them all. The analysis methods return new tensors the
 * caller owns.
 */
import { tf } from "../backend";
import { actName, unknownHookError, type HookName, type ShortActName } from "../hooks/hookNames";
import type { CacheModel } from "./cacheModel";
import type { ResidualStack } from "./cacheAccess";
import { getFullResidDecomposition, type FullResidDecompositionOptions } from "./fullDecomposition";
import { computeHeadResults, stackHeadResults, type StackHeadResultsOptions } from "./headResults";
import { applyLnToStack, type ApplyLnOptions } from "./layerNormStack";
import { logitAttrs, type LogitAttrsOptions, type TokenSpec } from "./logitAttribution";
import { getNeuronResults, stackNeuronResults, type NeuronResultsOptions, type StackNeuronResultsOptions } from "./neuronResults";
import { accumulatedResid, decomposeResid, type AccumulatedResidOptions, type DecomposeResidOptions } from "./residualStack";
import { stackActivation } from "./stackActivation";

export type { ResidualStack } from "./cacheAccess";
export type { PosSlice, IndexSlice } from "./posSlice";

export class ActivationCache {
  private readonly activations: Map<string, tf.Tensor>;
  private readonly gradients: Map<string, tf.Tensor>;
  /** The model that produced the activations (for weights and config in analysis methods). */
  readonly model: CacheModel;
  /** Whether the batch axis was removed (runWithCache's removeBatchDim). */
  readonly hasBatchDim: boolean;
  /** False when runWithCache's posSlice was a single index, which drops the position axis. */
  readonly hasPosDim: boolean;
  private disposed = false;

  constructor(model: CacheModel, activations: Map<string, tf.Tensor>, options: { gradients?: Map<string, tf.Tensor>; hasBatchDim?: boolean; hasPosDim?: boolean } = {}) {
    this.model = model;
    this.activations = activations;
    this.gradients = options.gradients ?? new Map();
    this.hasBatchDim = options.hasBatchDim ?? true;
    this.hasPosDim = options.hasPosDim ?? true;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error("This ActivationCache has been disposed; its tensors are gone. Run the model again to get a new cache.");
  }

  /** The full hook name for a full or short name. */
  resolveName(name: HookName | ShortActName | string, layer?: number, layerType?: "ln1" | "ln2" | "ln_final"): string {
    return name.includes("hook_") ? name : actName(name, layer, layerType);
  }

  /** The cached activation (owned by the cache). Throws listing close names if it is not cached. */
  get(name: HookName | ShortActName | string, layer?: number, layerType?: "ln1" | "ln2" | "ln_final"): tf.Tensor {
    this.checkAlive();
    const full = this.resolveName(name, layer, layerType);
    const tensor = this.activations.get(full);
    if (!tensor) throw unknownHookError(full, this.activations.keys(), "this cache (it holds only the names that were cached)");
    return tensor;
  }

  has(name: HookName | ShortActName | string, layer?: number): boolean {
    return this.activations.has(this.resolveName(name, layer));
  }

  /** d(metric)/d(activation) at a hook, when the cache was made with includeGradients. Owned by the cache. */
  grad(name: HookName | ShortActName | string, layer?: number, layerType?: "ln1" | "ln2" | "ln_final"): tf.Tensor {
    this.checkAlive();
    const full = this.resolveName(name, layer, layerType);
    const tensor = this.gradients.get(full);
    if (!tensor) {
      if (this.gradients.size === 0) throw new Error(`This cache has no gradients: run runWithCache with { includeGradients: true, metric }.`);
      throw unknownHookError(full, this.gradients.keys(), "this cache's gradients");
    }
    return tensor;
  }

  hasGradients(): boolean {
    return this.gradients.size > 0;
  }

  keys(): string[] {
    return [...this.activations.keys()];
  }

  entries(): [string, tf.Tensor][] {
    this.checkAlive();
    return [...this.activations.entries()];
  }

  get size(): number {
    return this.activations.size;
  }

  /** Bytes held by the cached activations and gradients. */
  memoryBytes(): number {
    let bytes = 0;
    const seen = new Set<tf.Tensor>();
    for (const tensor of [...this.activations.values(), ...this.gradients.values()]) {
      if (seen.has(tensor)) continue;
      seen.add(tensor);
      bytes += tensor.size * 4;
    }
    return bytes;
  }

  /** A new cache with only the names that pass the filter; tensors are cloned, so both caches stay independent. */
  filter(predicate: (name: string) => boolean): ActivationCache {
    this.checkAlive();
    const kept = new Map<string, tf.Tensor>();
    for (const [name, tensor] of this.activations) if (predicate(name)) kept.set(name, tensor.clone());
    const grads = new Map<string, tf.Tensor>();
    for (const [name, tensor] of this.gradients) if (predicate(name)) grads.set(name, tensor.clone());
    return new ActivationCache(this.model, kept, { gradients: grads, hasBatchDim: this.hasBatchDim, hasPosDim: this.hasPosDim });
  }

  // ---------------------------------------------------------------- analysis
  // Every method below returns NEW tensors the caller owns (dispose them, or make them inside
  // tf.tidy); the cache's own tensors are untouched. They work with or without a batch axis
  // (hasBatchDim). A residual stack is { stack [components, ...batchAndPos, dModel], labels }.
  // `layer` undefined or −1 means nLayers, the final residual stream. `posSlice`: a number picks one
  // position and drops the position axis; [start, end) keeps it (see posSlice.ts).

  /**
   * The residual stream at the input of layers 0..layer ("0_pre", "1_pre", ..., "final_post" for
   * layer nLayers), with resid_mid of the layers before `layer` when inclMid ("0_mid", ...).
   * TransformerLens's accumulated_resid (labels always returned).
   */
  accumulatedResid(layer?: number, options: AccumulatedResidOptions = {}): ResidualStack {
    return accumulatedResid(this, layer, options);
  }

  /**
   * The residual stream at the input of `layer` as the sum of its terms: "embed", "pos_embed",
   * "L_attn_out", "L_mlp_out" (mode "attn" / "mlp" keeps one kind). TransformerLens's decompose_resid.
   */
  decomposeResid(layer?: number, options: DecomposeResidOptions = {}): ResidualStack {
    return decomposeResid(this, layer, options);
  }

  /**
   * Each head's output z·W_O[h] for layers below `layer`: [layer·nHeads, ...batchAndPos, dModel],
   * labels "L0H0", ...; optionally a "bias" (Σ b_O) and/or a "remainder" component.
   */
  stackHeadResults(layer?: number, options: StackHeadResultsOptions = {}): ResidualStack {
    return stackHeadResults(this, layer, options);
  }

  /**
   * Each neuron's output post[n]·W_out[n] for layers below `layer`: [layer·neurons, ...batchAndPos,
   * dModel], labels "L0N0", ...; optionally a "bias" (Σ b_out) and/or a "remainder" component.
   */
  stackNeuronResults(layer?: number, options: StackNeuronResultsOptions = {}): ResidualStack {
    return stackNeuronResults(this, layer, options);
  }

  /** Layer L's neuron outputs in the activation layout: [...batchAndPos, neurons, dModel]. */
  getNeuronResults(layer: number, options: NeuronResultsOptions = {}): tf.Tensor {
    return getNeuronResults(this, layer, options);
  }

  /**
   * Every component of `stack` [components, ...batchAndPos, dModel] centred (LN, LNPre) and divided
   * by the cached scale of the norm in front of `layer` (ln_final for undefined / nLayers, else
   * blocks.L.ln1): the frozen-scale linearisation of the norm, without its w and b. A copy for
   * models without normalisation.
   */
  applyLnToStack(stack: tf.Tensor, layer?: number, options: ApplyLnOptions = {}): tf.Tensor {
    this.checkAlive();
    return applyLnToStack(this, stack, layer, options);
  }

  /**
   * Each component's direct contribution to the logit of `tokens` (minus `incorrectTokens`):
   * stack · W_U[:, token] → [components, ...batchAndPos]. Expects a stack already through the final
   * norm (applyLnToStack) unless { applyLn: true }.
   */
  logitAttrs(stack: tf.Tensor, tokens: TokenSpec, options: LogitAttrsOptions = {}): tf.Tensor {
    this.checkAlive();
    return logitAttrs(this, stack, tokens, options);
  }

  /**
   * The residual stream at the input of `layer` split into every head, every neuron (or each
   * mlp_out with expandNeurons false), embed, pos_embed and one "bias" holding all the biases;
   * the components sum to the residual stream exactly.
   */
  getFullResidDecomposition(layer?: number, options: FullResidDecompositionOptions = {}): ResidualStack {
    return getFullResidDecomposition(this, layer, options);
  }

  /** One activation of every layer below `layer`, stacked: stackActivation("pattern") → [layers, ...]. */
  stackActivation(name: ShortActName | string, layer?: number, layerType?: "ln1" | "ln2"): tf.Tensor {
    return stackActivation(this, name, layer, layerType);
  }

  /**
   * Adds blocks.L.attn.hook_result [...batchAndPos, nHeads, dModel] (z·W_O per head) for every layer
   * where it is not cached, computed from hook_z. The cache owns the new tensors.
   */
  computeHeadResults(): void {
    this.checkAlive();
    for (const [name, tensor] of computeHeadResults(this)) this.activations.set(name, tensor);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees every tensor in the cache. */
  dispose(): void {
    if (this.disposed) return;
    const seen = new Set<tf.Tensor>();
    for (const tensor of [...this.activations.values(), ...this.gradients.values()]) {
      if (seen.has(tensor)) continue;
      seen.add(tensor);
      tensor.dispose();
    }
    this.activations.clear();
    this.gradients.clear();
    this.disposed = true;
  }

  toString(): string {
    if (this.disposed) return "ActivationCache (disposed)";
    const mb = (this.memoryBytes() / 2 ** 20).toFixed(2);
    return `ActivationCache with ${this.size} activations${this.gradients.size ? ` and ${this.gradients.size} gradients` : ""} (${mb} MiB)`;
  }

  [Symbol.for("Jupyter.display")](): Record<string, string> {
    const rows = this.disposed ? [] : this.entries().map(([name, t]) => `<tr><td><code>${name}</code></td><td>[${t.shape.join(", ")}]</td></tr>`);
    return {
      "text/plain": this.toString(),
      "text/html": `<div><b>${this.toString()}</b><table><thead><tr><th>hook</th><th>shape</th></tr></thead><tbody>${rows.join("")}</tbody></table></div>`,
    };
  }
}
