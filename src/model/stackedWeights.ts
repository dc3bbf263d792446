/**
 * TransformerLens's stacked weight accessors (model.W_Q is [nLayers, nHeads, dModel, dHead], ...):
 * per-layer parameters stacked along a new first axis. Computed on first use and kept until the
 * parameters change; the model owns them.
 */
import { tf } from "../backend";
import type { Config } from "./config";
import type { ParamStore } from "./params";

export class StackedWeights {
  private readonly cache = new Map<string, tf.Tensor>();
  private builtAtVersion = -1;

  constructor(
    private readonly cfg: Config,
    private readonly params: ParamStore,
  ) {}

  /** `suffix` is the name inside a block, e.g. "attn.W_Q" or "mlp.W_in". Owned by the model. */
  get(suffix: string): tf.Tensor {
    if (this.builtAtVersion !== this.params.version) {
      this.dispose();
      this.builtAtVersion = this.params.version;
    }
    let stacked = this.cache.get(suffix);
    if (!stacked) {
      if (!this.params.has(`blocks.0.${suffix}`)) {
        throw new Error(`This model has no "${suffix}" weights (${this.cfg.attnOnly ? "attention-only" : this.cfg.gatedMlp ? "gated MLP" : "ungated MLP"} model).`);
      }
      const layers = Array.from({ length: this.cfg.nLayers }, (_, l) => this.params.get(`blocks.${l}.${suffix}`));
      stacked = tf.stack(layers);
      this.cache.set(suffix, stacked);
    }
    return stacked;
  }

  dispose(): void {
    for (const tensor of this.cache.values()) tensor.dispose();
    this.cache.clear();
  }
}
