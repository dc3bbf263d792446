/** Unembedding: residual [batch, pos, dModel] → logits [batch, pos, dVocabOut] = x·W_U + b_U. */
import type { tf } from "../../backend";
import type { ForwardContext } from "../forwardContext";
import { linear } from "../linear";

export function unembed(ctx: ForwardContext, residual: tf.Tensor3D): tf.Tensor3D {
  return linear(residual, ctx.params.get("unembed.W_U"), ctx.params.get("unembed.b_U")) as tf.Tensor3D;
}
