/**
 * One transformer block, wired as TransformerLens wires it:
 *   sequential:  resid_mid = resid_pre + attn(ln1(resid_pre));  resid_post = resid_mid + mlp(ln2(resid_mid))
 *   parallel:    resid_post = resid_pre + attn(ln1(resid_pre)) + mlp(ln2(resid_pre))   (no resid_mid)
 *   attn-only:   resid_post = resid_pre + attn(ln1(resid_pre))                         (no resid_mid)
 * All residuals are [batch, pos, dModel].
 */
import { tf } from "../../backend";
import type { ForwardContext } from "../forwardContext";
import { attention, type AttentionInputs } from "./attention";
import { gatedMlp } from "./gatedMlp";
import { mlp } from "./mlp";
import { applyNorm } from "./norm";

export interface BlockInputs extends Omit<AttentionInputs, "queryKeyInput" | "valueInput"> {
  /** Shortformer models add the position embedding to the query/key input of every layer. */
  shortformerPosEmbed?: tf.Tensor3D;
}

function runMlp(ctx: ForwardContext, layer: number, x: tf.Tensor3D): tf.Tensor3D {
  return ctx.cfg.gatedMlp ? gatedMlp(ctx, layer, x) : mlp(ctx, layer, x);
}

export function transformerBlock(ctx: ForwardContext, layer: number, residual: tf.Tensor3D, inputs: BlockInputs): tf.Tensor3D {
  const b = `blocks.${layer}`;
  const residPre = ctx.hook(`${b}.hook_resid_pre`, residual) as tf.Tensor3D;
  const normalized = applyNorm(ctx, `${b}.ln1`, residPre) as tf.Tensor3D;
  const queryKeyInput = inputs.shortformerPosEmbed ? (tf.add(normalized, inputs.shortformerPosEmbed) as tf.Tensor3D) : normalized;
  const attnOut = ctx.hook(`${b}.hook_attn_out`, attention(ctx, layer, { ...inputs, queryKeyInput, valueInput: normalized })) as tf.Tensor3D;

  if (ctx.cfg.attnOnly) {
    return ctx.hook(`${b}.hook_resid_post`, tf.add(residPre, attnOut)) as tf.Tensor3D;
  }
  if (ctx.cfg.parallelAttnMlp) {
    const mlpOut = ctx.hook(`${b}.hook_mlp_out`, runMlp(ctx, layer, applyNorm(ctx, `${b}.ln2`, residPre) as tf.Tensor3D));
    return ctx.hook(`${b}.hook_resid_post`, tf.addN([residPre, attnOut, mlpOut])) as tf.Tensor3D;
  }
  const residMid = ctx.hook(`${b}.hook_resid_mid`, tf.add(residPre, attnOut)) as tf.Tensor3D;
  const mlpOut = ctx.hook(`${b}.hook_mlp_out`, runMlp(ctx, layer, applyNorm(ctx, `${b}.ln2`, residMid) as tf.Tensor3D));
  return ctx.hook(`${b}.hook_resid_post`, tf.add(residMid, mlpOut)) as tf.Tensor3D;
}
