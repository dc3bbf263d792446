/**
 * Multi-head causal self-attention with optional rotary embedding and grouped-query attention.
 *
 * Shapes: x [batch, pos, dModel];  q [batch, pos, nHeads, dHead];  k, v [batch, pos, nKV, dHead];
 * scores, pattern [batch, nHeads, queryPos, keyPos] (keyPos = past + pos when earlier positions'
 * keys and values are given: the hooks on k and v see this input's positions only);  z [batch, pos, nHeads, dHead];
 * result [batch, pos, nHeads, dModel] (only with useAttnResult);  output [batch, pos, dModel].
 *
 * Hook points (blocks.L.attn.*): hook_q, hook_k, hook_v, hook_rot_q, hook_rot_k (rotary),
 * hook_attn_scores (after masking, as TransformerLens), hook_pattern, hook_z, hook_result.
 */
import { tf } from "../../backend";
import type { ForwardContext } from "../forwardContext";
import { applyRotary } from "./rotary";

export interface AttentionInputs {
  /** Input for queries and keys (for shortformer: normalized residual + position embedding). */
  queryKeyInput: tf.Tensor3D;
  /** Input for values. */
  valueInput: tf.Tensor3D;
  /** Position of each token [batch, pos] (offset when left-padded). */
  positionIds: tf.Tensor2D;
  /** [batch, pos], 1 for real tokens, 0 for padding keys; undefined when nothing is padded. */
  keyMask?: tf.Tensor2D;
  /** Rotary tables, for rotary models. */
  rotary?: { cos: tf.Tensor2D; sin: tf.Tensor2D };
  /** Added to the attention scores: 0 where key ≤ query and the key is real, −∞ elsewhere; [1 or batch, 1, pos, past + pos]. */
  scoreBias: tf.Tensor4D;
  /** Keys of earlier positions [batch, past, nKV, dHead] (after rotary), prepended to this input's keys. */
  pastKeys?: tf.Tensor4D;
  /** Values of earlier positions [batch, past, nKV, dHead]. */
  pastValues?: tf.Tensor4D;
}

/** W [heads, dModel, dHead] → [dModel, heads·dHead], so all heads are one matMul. */
function packHeads(weight: tf.Tensor): tf.Tensor2D {
  const [heads, dModel, dHead] = weight.shape;
  return weight.transpose([1, 0, 2]).reshape([dModel, heads * dHead]);
}

/** x [batch, pos, dModel] → [batch, pos, heads, dHead] = x·W[h] + b[h]. */
function project(x: tf.Tensor3D, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor4D {
  const [batch, pos, dModel] = x.shape;
  const [heads, , dHead] = weight.shape;
  const flat = tf.matMul(x.reshape([batch * pos, dModel]), packHeads(weight));
  return tf.add(flat.reshape([batch, pos, heads, dHead]), bias) as tf.Tensor4D;
}

/** [batch, pos, heads, d] → [batch·heads, pos, d] */
function headsFirst(x: tf.Tensor4D): tf.Tensor3D {
  const [batch, pos, heads, d] = x.shape;
  return x.transpose([0, 2, 1, 3]).reshape([batch * heads, pos, d]);
}

/** Grouped-query attention: repeat each of the nKV key/value heads nHeads/nKV times. */
function repeatKeyValueHeads(x: tf.Tensor4D, nHeads: number): tf.Tensor4D {
  const [batch, pos, nKV, dHead] = x.shape;
  if (nKV === nHeads) return x;
  const group = nHeads / nKV;
  // Rank 4 (not 5): tfjs has tile gradients only up to rank 4.
  return x.reshape([batch * pos, nKV, 1, dHead]).tile([1, 1, group, 1]).reshape([batch, pos, nHeads, dHead]) as tf.Tensor4D;
}

export function attention(ctx: ForwardContext, layer: number, inputs: AttentionInputs): tf.Tensor3D {
  const { cfg, params } = ctx;
  const p = `blocks.${layer}.attn`;
  const [batch, pos] = inputs.queryKeyInput.shape;
  const { nHeads, dHead, dModel } = cfg;

  let q = ctx.hook(`${p}.hook_q`, project(inputs.queryKeyInput, params.get(`${p}.W_Q`), params.get(`${p}.b_Q`))) as tf.Tensor4D;
  let k = ctx.hook(`${p}.hook_k`, project(inputs.queryKeyInput, params.get(`${p}.W_K`), params.get(`${p}.b_K`))) as tf.Tensor4D;
  let v = ctx.hook(`${p}.hook_v`, project(inputs.valueInput, params.get(`${p}.W_V`), params.get(`${p}.b_V`))) as tf.Tensor4D;
  if (inputs.rotary) {
    q = ctx.hook(`${p}.hook_rot_q`, applyRotary(q, inputs.positionIds, inputs.rotary)) as tf.Tensor4D;
    k = ctx.hook(`${p}.hook_rot_k`, applyRotary(k, inputs.positionIds, inputs.rotary)) as tf.Tensor4D;
  }
  if (inputs.pastKeys && inputs.pastValues) {
    k = tf.concat([inputs.pastKeys, k], 1);
    v = tf.concat([inputs.pastValues, v], 1);
  }
  const keyPos = k.shape[1];

  // scores[b, h, q, k] = q·k / attnScale, masked to −∞ where k > q or k is padding.
  const qFlat = headsFirst(q);
  const kFlat = headsFirst(repeatKeyValueHeads(k, nHeads));
  let scores: tf.Tensor = tf.div(tf.matMul(qFlat, kFlat, false, true), cfg.attnScale).reshape([batch, nHeads, pos, keyPos]);
  scores = ctx.hook(`${p}.hook_attn_scores`, tf.add(scores, inputs.scoreBias));

  let pattern: tf.Tensor = tf.softmax(scores, -1);
  // A query whose keys are all padding has no valid key: its row is 0 rather than NaN.
  if (inputs.keyMask) pattern = tf.where(tf.isNaN(pattern), tf.zerosLike(pattern), pattern);
  pattern = ctx.hook(`${p}.hook_pattern`, pattern);

  // z[b, q, h, :] = Σ_k pattern[b, h, q, k] · v[b, k, h, :]
  const vFlat = headsFirst(repeatKeyValueHeads(v, nHeads));
  const zHeadsFirst = tf.matMul(pattern.reshape([batch * nHeads, pos, keyPos]), vFlat);
  const z = ctx.hook(`${p}.hook_z`, zHeadsFirst.reshape([batch, nHeads, pos, dHead]).transpose([0, 2, 1, 3]));

  const W_O = params.get(`${p}.W_O`);
  const b_O = params.get(`${p}.b_O`);
  if (cfg.useAttnResult) {
    // result[b, q, h, :] = z[b, q, h, :] · W_O[h]  (per-head writes into the residual stream)
    const zByHead = z.transpose([2, 0, 1, 3]).reshape([nHeads, batch * pos, dHead]);
    const perHead = tf.matMul(zByHead, W_O).reshape([nHeads, batch, pos, dModel]).transpose([1, 2, 0, 3]);
    const result = ctx.hook(`${p}.hook_result`, perHead);
    return tf.add(tf.sum(result, 2), b_O) as tf.Tensor3D;
  }
  const out = tf.matMul(z.reshape([batch * pos, nHeads * dHead]), W_O.reshape([nHeads * dHead, dModel]));
  return tf.add(out, b_O).reshape([batch, pos, dModel]) as tf.Tensor3D;
}
