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

export class ActivationCache {
  private readonly activations: Map<string, tf.Tensor>;
  private readonly gradients: Map<string, tf.Tensor>;
  /** The model that produced the activations (for weights and config in analysis methods). */
  readonly model: CacheModel;
  /** Whether the batch axis was removed (runWithCache's removeBatchDim). */
  readonly hasBatchDim: boolean;
  private disposed = false;

  constructor(model: CacheModel, activations: Map<string, tf.Tensor>, options: { gradients?: Map<string, tf.Tensor>; hasBatchDim?: boolean } = {}) {
    this.model = model;
    this.activations = activations;
    this.gradients = options.gradients ?? new Map();
    this.hasBatchDim = options.hasBatchDim ?? true;
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
    return new ActivationCache(this.model, kept, { gradients: grads, hasBatchDim: this.hasBatchDim });
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
