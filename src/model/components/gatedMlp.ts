/**
 * Gated MLP (Llama's SwiGLU when actFn is silu), wired as TransformerLens's GatedMLP:
 *   pre = x·W_gate (hook_pre);  pre_linear = x·W_in (hook_pre_linear);
 *   post = act(pre) ⊙ pre_linear + b_in (hook_post);  out = post·W_out + b_out.
 * All [batch, pos, dMlp] except out [batch, pos, dModel].
 */
import { tf } from "../../backend";
import { activation } from "../activations";
import type { ForwardContext } from "../forwardContext";
import { linear } from "../linear";

export function gatedMlp(ctx: ForwardContext, layer: number, x: tf.Tensor3D): tf.Tensor3D {
  const p = `blocks.${layer}.mlp`;
  const pre = ctx.hook(`${p}.hook_pre`, linear(x, ctx.params.get(`${p}.W_gate`)));
  const preLinear = ctx.hook(`${p}.hook_pre_linear`, linear(x, ctx.params.get(`${p}.W_in`)));
  const post = ctx.hook(`${p}.hook_post`, tf.add(tf.mul(activation(ctx.cfg.actFn, pre), preLinear), ctx.params.get(`${p}.b_in`)));
  return linear(post, ctx.params.get(`${p}.W_out`), ctx.params.get(`${p}.b_out`)) as tf.Tensor3D;
}
