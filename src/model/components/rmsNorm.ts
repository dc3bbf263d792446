/**
 * RMSNorm (Llama): scale = sqrt(mean(x²) + eps); normalized = x / scale · w.
 * With `withWeight` false it is RMSNormPre (the weight folded into the next layer).
 */
import { tf } from "../../backend";
import type { ForwardContext } from "../forwardContext";

export function rmsNorm(ctx: ForwardContext, prefix: string, x: tf.Tensor, withWeight: boolean): tf.Tensor {
  const scale = ctx.hook(`${prefix}.hook_scale`, tf.sqrt(tf.add(tf.mean(tf.square(x), -1, true), ctx.cfg.eps)));
  let normalized = tf.div(x, scale);
  if (withWeight) normalized = tf.mul(normalized, ctx.params.get(`${prefix}.w`));
  return ctx.hook(`${prefix}.hook_normalized`, normalized);
}
