/**
 * Direct logit attribution: how much each component of a residual stack adds to a token's logit
 * (or to a logit difference) through the unembedding,
 *   attr[c, ...] = stack[c, ..., :] · (W_U[:, token] − W_U[:, incorrect])
 * The stack should already be through the final norm (applyLnToStack, or applyLn on the stacking
 * methods), as in TransformerLens's direct logit attribution; pass { applyLn: true } to have it done
 * here instead.
 *
 * Bookkeeping: for a full decomposition through the final norm, Σ_c attr[c] is the logit
 * (difference) without the terms the components cannot carry:
 *   LNPre / RMSPre / none:  Σ_c attr = logit[tok] − logit[inc] − (b_U[tok] − b_U[inc])
 *   LN / RMS (unfolded):    the final norm's w and b are not applied (TransformerLens's behaviour);
 *                           with { foldLnWeight: true } the direction is w ⊙ (W_U[:, tok] − W_U[:, inc]) and
 *                           Σ_c attr = logit diff − b_U diff − b · (W_U[:, tok] − W_U[:, inc])   (b only in LN).
 */
import { tf } from "../backend";
import type { ActivationCache } from "./activationCache";
import { applyLnToStack } from "./layerNormStack";
import type { PosSlice } from "./posSlice";

/** A token id, a string that is one token, ids per batch element [batch] / per position [batch, pos], or an int tensor. */
export type TokenSpec = number | string | (number | string)[] | number[][] | tf.Tensor;

export interface LogitAttrsOptions {
  /** Attribute the difference logit[tokens] − logit[incorrectTokens] (same shape as tokens). */
  incorrectTokens?: TokenSpec;
  /** With applyLn: the position selection the stack was made with. */
  posSlice?: PosSlice;
  /** Whether the stack's axes after the component axis start with a batch axis (default: the cache's). */
  hasBatchDim?: boolean;
  /** Put the stack through the final norm first (applyLnToStack at ln_final). Default false. */
  applyLn?: boolean;
  /** Multiply the unembedding direction by the final norm's weight w (LN / RMS models). Default false. */
  foldLnWeight?: boolean;
}

interface TokenIds {
  ids: number[];
  shape: number[];
}

function tokenIds(cache: ActivationCache, tokens: TokenSpec, what: string): TokenIds {
  const dVocabOut = cache.model.cfg.dVocabOut;
  const single = (value: number | string): number => {
    if (typeof value === "string") {
      if (!cache.model.toSingleToken) throw new Error(`logitAttrs: ${what} given as text needs a model with a tokenizer; pass token ids instead.`);
      return cache.model.toSingleToken(value);
    }
    return value;
  };
  let ids: number[];
  let shape: number[];
  if (tokens instanceof tf.Tensor) {
    ids = Array.from(tokens.dataSync());
    shape = tokens.shape;
  } else if (Array.isArray(tokens)) {
    if (tokens.length > 0 && Array.isArray(tokens[0])) {
      const rows = tokens as number[][];
      if (!rows.every((row) => Array.isArray(row) && row.length === rows[0].length)) throw new Error(`logitAttrs: ${what} rows must all have the same length.`);
      ids = rows.flat();
      shape = [rows.length, rows[0].length];
    } else {
      ids = (tokens as (number | string)[]).map(single);
      shape = [ids.length];
    }
  } else {
    ids = [single(tokens)];
    shape = [];
  }
  const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= dVocabOut);
  if (bad !== undefined) throw new Error(`logitAttrs: ${what} holds ${bad}, which is not a token id in [0, ${dVocabOut}).`);
  return { ids, shape };
}

/** W_U's columns for the ids, as residual directions [...shape, dModel]. */
function residualDirections(cache: ActivationCache, tokens: TokenIds): tf.Tensor {
  const W_U = cache.model.param("unembed.W_U"); // [dModel, dVocabOut]
  const columns = tf.gather(W_U, tf.tensor1d(tokens.ids, "int32"), 1); // [dModel, n]
  return columns.transpose().reshape([...tokens.shape, W_U.shape[0]]);
}

/**
 * stack [components, ...batchAndPos, dModel] → attributions [components, ...batchAndPos].
 * `tokens` is one id (every position), ids per batch element [batch], or per position
 * [batch, pos] — any shape that is a prefix of the stack's batch-and-position axes.
 * Returns a new tensor the caller owns.
 */
export function logitAttrs(cache: ActivationCache, stack: tf.Tensor, tokens: TokenSpec, options: LogitAttrsOptions = {}): tf.Tensor {
  const cfg = cache.model.cfg;
  if (stack.rank < 2 || stack.shape[stack.rank - 1] !== cfg.dModel) {
    throw new Error(`logitAttrs: the stack must be [components, ...batchAndPos, dModel=${cfg.dModel}]; got [${stack.shape.join(", ")}].`);
  }
  const correct = tokenIds(cache, tokens, "tokens");
  const incorrect = options.incorrectTokens === undefined ? undefined : tokenIds(cache, options.incorrectTokens, "incorrectTokens");
  if (incorrect && (incorrect.shape.length !== correct.shape.length || !incorrect.shape.every((d, i) => d === correct.shape[i]))) {
    throw new Error(`logitAttrs: tokens [${correct.shape.join(", ")}] and incorrectTokens [${incorrect.shape.join(", ")}] must have the same shape.`);
  }
  const batchAndPos = stack.shape.slice(1, -1);
  const tokenShape = correct.shape;
  if (tokenShape.length > batchAndPos.length || !tokenShape.every((d, i) => d === batchAndPos[i])) {
    const axes = (options.hasBatchDim ?? cache.hasBatchDim) ? "[batch, pos]" : "[pos]";
    throw new Error(
      `logitAttrs: tokens of shape [${tokenShape.join(", ")}] do not fit the stack's batch/position axes [${batchAndPos.join(", ")}] (${axes} as far as present): ` +
        `give one id, or ids whose shape is a leading part of those axes.`,
    );
  }
  const lnWeight = options.foldLnWeight && cache.model.hasParam("ln_final.w") ? cache.model.param("ln_final.w") : undefined;

  return tf.tidy(() => {
    let direction = residualDirections(cache, correct); // [...tokenShape, dModel]
    if (incorrect) direction = tf.sub(direction, residualDirections(cache, incorrect));
    if (lnWeight) direction = tf.mul(direction, lnWeight);
    // Broadcast over the axes the tokens do not cover (positions, usually).
    const ones = new Array<number>(batchAndPos.length - tokenShape.length).fill(1);
    direction = direction.reshape([...tokenShape, ...ones, cfg.dModel]);
    const normalized = options.applyLn ? applyLnToStack(cache, stack, undefined, { posSlice: options.posSlice }) : stack;
    return tf.sum(tf.mul(normalized, direction), -1);
  });
}
