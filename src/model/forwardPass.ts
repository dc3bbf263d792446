/**
 * The forward pass of a HookedTransformer as one function over a ForwardContext: embeddings,
 * blocks [startAtLayer, stopAtLayer), final norm and unembedding. Callers run it inside tf.tidy;
 * every intermediate it makes is freed there unless a hook keeps it.
 */
import { tf } from "../backend";
import { embed } from "./components/embed";
import { applyNorm } from "./components/norm";
import { posEmbed } from "./components/posEmbed";
import { transformerBlock } from "./components/transformerBlock";
import { unembed } from "./components/unembed";
import type { ForwardContext } from "./forwardContext";

export interface ForwardPassInputs {
  /** int32 [batch, pos]; needed unless `residual` is given. */
  tokens?: tf.Tensor2D;
  /** Residual stream [batch, pos, dModel] at blocks.{startAtLayer}.hook_resid_pre. */
  residual?: tf.Tensor3D;
  /** [batch, pos], 1 = real token, 0 = padding. */
  attentionMask?: tf.Tensor2D;
  startAtLayer: number;
  /** Stop before this block and return the residual stream; undefined runs to the logits. */
  stopAtLayer?: number;
  rotary?: { cos: tf.Tensor2D; sin: tf.Tensor2D };
  /** Keys and values of earlier positions: the input then continues a sequence at position `past.length`. */
  past?: PastKeyValues;
}

/**
 * The keys and values attention used at the first `length` positions of a sequence, per layer
 * (keys as scored: after rotary in rotary models; grouped-query models keep nKeyValueHeads). A
 * forward pass given them computes only the positions after them, with the same result there as
 * a pass over the whole sequence. Layers before startAtLayer may be left out.
 */
export interface PastKeyValues {
  length: number;
  /** keys[layer]: [batch, length, nKeyValueHeads, dHead] */
  keys: (tf.Tensor4D | undefined)[];
  /** values[layer]: [batch, length, nKeyValueHeads, dHead] */
  values: (tf.Tensor4D | undefined)[];
}

/** [batch, pos] positions: offset, offset + 1, ... or, with an attention mask, counted from the first real token. */
function positionIds(batch: number, pos: number, attentionMask?: tf.Tensor2D, offset = 0): tf.Tensor2D {
  if (!attentionMask) return tf.range(offset, offset + pos, 1, "int32").reshape([1, pos]).tile([batch, 1]) as tf.Tensor2D;
  return tf.maximum(tf.sub(tf.cumsum(attentionMask, 1), 1), 0).cast("int32") as tf.Tensor2D;
}

/**
 * What attention adds to its scores: 0 where a query may attend to a key (key ≤ query and the key
 * is not padding), −∞ elsewhere; [1, 1, pos, past + pos], or [batch, 1, pos, pos] with an attention
 * mask. Queries are positions past … past + pos − 1; keys 0 … past + pos − 1.
 * One broadcast add per layer (rather than a select, which tiles its inputs to the scores' shape).
 */
function attentionScoreBias(pos: number, attentionMask?: tf.Tensor2D, past = 0): tf.Tensor4D {
  const rows = tf.range(past, past + pos, 1, "int32").reshape([pos, 1]);
  const cols = tf.range(0, past + pos, 1, "int32").reshape([1, past + pos]);
  let keep: tf.Tensor = tf.greaterEqual(rows, cols).reshape([1, 1, pos, past + pos]);
  if (attentionMask) keep = tf.logicalAnd(keep, attentionMask.cast("bool").reshape([-1, 1, 1, pos]));
  const shape = keep.shape as [number, number, number, number];
  return tf.where(keep, tf.zeros(shape), tf.fill(shape, -Infinity)) as tf.Tensor4D;
}

/** Returns logits [batch, pos, dVocabOut], or the residual [batch, pos, dModel] when stopAtLayer is set. */
export function forwardPass(ctx: ForwardContext, inputs: ForwardPassInputs): tf.Tensor3D {
  const { cfg } = ctx;
  const [batch, pos] = inputs.residual ? inputs.residual.shape : inputs.tokens!.shape;
  const past = inputs.past;
  if (past && inputs.attentionMask) throw new Error("forwardPass: past keys and values cannot be combined with an attention mask.");
  const positions = positionIds(batch, pos, inputs.attentionMask, past?.length ?? 0);
  const needsPosEmbed = cfg.positionalEmbeddingType !== "rotary";

  let residual: tf.Tensor3D;
  let shortformerPosEmbed: tf.Tensor3D | undefined;
  if (inputs.residual) {
    residual = inputs.residual;
    if (cfg.positionalEmbeddingType === "shortformer") shortformerPosEmbed = posEmbed(ctx, positions, inputs.attentionMask);
  } else {
    residual = embed(ctx, inputs.tokens!);
    if (needsPosEmbed) {
      const positional = posEmbed(ctx, positions, inputs.attentionMask);
      if (cfg.positionalEmbeddingType === "standard") residual = tf.add(residual, positional) as tf.Tensor3D;
      else shortformerPosEmbed = positional;
    }
  }

  const stop = inputs.stopAtLayer ?? cfg.nLayers;
  const blockInputs = {
    positionIds: positions,
    keyMask: inputs.attentionMask,
    rotary: inputs.rotary,
    scoreBias: attentionScoreBias(pos, inputs.attentionMask, past?.length ?? 0),
    shortformerPosEmbed,
  };
  for (let layer = inputs.startAtLayer; layer < stop; layer++) {
    residual = transformerBlock(ctx, layer, residual, past ? { ...blockInputs, pastKeys: past.keys[layer], pastValues: past.values[layer] } : blockInputs);
  }
  if (inputs.stopAtLayer !== undefined) return residual;
  return unembed(ctx, applyNorm(ctx, "ln_final", residual) as tf.Tensor3D);
}
