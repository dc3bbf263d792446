/**
 * MLP: pre = x·W_in + b_in  (hook_pre, [batch, pos, dMlp]);  post = act(pre)  (hook_post);
 * out = post·W_out + b_out  [batch, pos, dModel].
 * For actFn "solu_ln": mid = pre·softmax(pre) (hook_mid), post = LayerNorm(mid) (mlp.ln.*).
 */
import type { tf } from "../../backend";
import { activation } from "../activations";
import type { ForwardContext } from "../forwardContext";
import { linear } from "../linear";
import { layerNorm } from "./layerNorm";

export function mlp(ctx: ForwardContext, layer: number, x: tf.Tensor3D): tf.Tensor3D {
  const p = `blocks.${layer}.mlp`;
  const pre = ctx.hook(`${p}.hook_pre`, linear(x, ctx.params.get(`${p}.W_in`), ctx.params.get(`${p}.b_in`)));
  let post: tf.Tensor;
  if (ctx.cfg.actFn === "solu_ln") {
    const mid = ctx.hook(`${p}.hook_mid`, activation("solu_ln", pre));
    post = layerNorm(ctx, `${p}.ln`, mid);
  } else {
    post = activation(ctx.cfg.actFn, pre);
  }
  post = ctx.hook(`${p}.hook_post`, post);
  return linear(post, ctx.params.get(`${p}.W_out`), ctx.params.get(`${p}.b_out`)) as tf.Tensor3D;
}
