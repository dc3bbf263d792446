/**
 * TransformerLens's stacked weight accessors (model.W_Q is [nLayers, nHeads, dModel, dHead], ...):
 * per-layer parameters stacked along a new first axis. Computed on first use and kept until one of
 * the stacked parameters changes (a load, `variable.assign`, an optimiser step); the model owns them.
 */
import { tf } from "../backend";
import type { Config } from "./config";
import type { ParamStore } from "./params";

interface Entry {
  stacked: tf.Tensor;
  /** The data of each layer's variable when the stack was built; an assign replaces it. */
  sources: object[];
}

export class StackedWeights {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private readonly cfg: Config,
    private readonly params: ParamStore,
  ) {}

  /** `suffix` is the name inside a block, e.g. "attn.W_Q" or "mlp.W_in". Owned by the model. */
  get(suffix: string): tf.Tensor {
    if (!this.params.has(`blocks.0.${suffix}`)) {
      throw new Error(`This model has no "${suffix}" weights (${this.cfg.attnOnly ? "attention-only" : this.cfg.gatedMlp ? "gated MLP" : "ungated MLP"} model).`);
    }
    const layers = Array.from({ length: this.cfg.nLayers }, (_, l) => this.params.get(`blocks.${l}.${suffix}`));
    const sources = layers.map((v) => v.dataId);
    const entry = this.cache.get(suffix);
    if (entry && !entry.stacked.isDisposed && entry.sources.every((id, i) => id === sources[i])) return entry.stacked;
    entry?.stacked.dispose();
    const stacked = tf.stack(layers);
    this.cache.set(suffix, { stacked, sources });
    return stacked;
  }

  dispose(): void {
    for (const { stacked } of this.cache.values()) stacked.dispose();
    this.cache.clear();
  }
}
