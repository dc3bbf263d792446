/**
 * LayerNorm over the last axis, with hook_scale [..., 1] and hook_normalized [..., d]:
 *   x0 = x − mean(x);  scale = sqrt(mean(x0²) + eps);  normalized = x0 / scale · w + b
 * `prefix` is the module path, e.g. "blocks.0.ln1", "ln_final", "blocks.0.mlp.ln".
 */
import { tf } from "../../backend";
import type { ForwardContext } from "../forwardContext";

export function layerNorm(ctx: ForwardContext, prefix: string, x: tf.Tensor): tf.Tensor {
  const centered = tf.sub(x, tf.mean(x, -1, true));
  const scale = ctx.hook(`${prefix}.hook_scale`, tf.sqrt(tf.add(tf.mean(tf.square(centered), -1, true), ctx.cfg.eps)));
  const normalized = tf.add(tf.mul(tf.div(centered, scale), ctx.params.get(`${prefix}.w`)), ctx.params.get(`${prefix}.b`));
  return ctx.hook(`${prefix}.hook_normalized`, normalized);
}
