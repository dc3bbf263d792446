/**
 * LayerNormPre: LayerNorm without weights (what LayerNorm becomes after its weights are folded
 * into the next layer): x0 = x − mean(x); normalized = x0 / sqrt(mean(x0²) + eps).
 */
import { tf } from "../../backend";
import type { ForwardContext } from "../forwardContext";

export function layerNormPre(ctx: ForwardContext, prefix: string, x: tf.Tensor): tf.Tensor {
  const centered = tf.sub(x, tf.mean(x, -1, true));
  const scale = ctx.hook(`${prefix}.hook_scale`, tf.sqrt(tf.add(tf.mean(tf.square(centered), -1, true), ctx.cfg.eps)));
  return ctx.hook(`${prefix}.hook_normalized`, tf.div(centered, scale));
}
