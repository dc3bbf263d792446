/**
 * What an ActivationCache needs from the model that filled it: the config and weights for its
 * analysis methods. HookedTransformer implements it; keeping this interface here avoids a
 * circular import between the cache and the model.
 */
import type { tf } from "../backend";
import type { Config } from "../model/config";

export interface CacheModel {
  readonly cfg: Config;
  /** A parameter by TransformerLens name ("blocks.0.attn.W_O", "unembed.W_U"); owned by the model. */
  param(name: string): tf.Tensor;
  hasParam(name: string): boolean;
  /** Token ids for text (for logitAttrs given strings). */
  toSingleToken?(token: string): number;
}
