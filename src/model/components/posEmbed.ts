/**
 * Learned absolute position embedding: W_pos[positions] [batch, pos, dModel], hook_pos_embed.
 * `positionIds` [batch, pos] are 0, 1, 2, ... or, with left padding, offsets that start at the
 * first real token; padding positions get a zero embedding (as TransformerLens does).
 */
import { tf } from "../../backend";
import type { ForwardContext } from "../forwardContext";

export function posEmbed(ctx: ForwardContext, positionIds: tf.Tensor2D, paddingMask?: tf.Tensor2D): tf.Tensor3D {
  let embedded: tf.Tensor = tf.gather(ctx.params.get("pos_embed.W_pos"), positionIds);
  if (paddingMask) embedded = tf.mul(embedded, paddingMask.expandDims(-1));
  return ctx.hook("hook_pos_embed", embedded) as tf.Tensor3D;
}
