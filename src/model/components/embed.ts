/** Token embedding: tokens [batch, pos] → W_E[tokens] [batch, pos, dModel], hook_embed. */
import { tf } from "../../backend";
import type { ForwardContext } from "../forwardContext";

export function embed(ctx: ForwardContext, tokens: tf.Tensor2D): tf.Tensor3D {
  const embedded = tf.gather(ctx.params.get("embed.W_E"), tokens);
  return ctx.hook("hook_embed", embedded) as tf.Tensor3D;
}
