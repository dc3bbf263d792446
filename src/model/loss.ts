/**
 * Next-token cross-entropy: loss[b, p] = −log softmax(logits[b, p])[tokens[b, p+1]].
 * Built from oneHot + sum (no gather gradient, which the wasm backend lacks).
 */
import { tf } from "../backend";

/**
 * logits [batch, pos, vocab], tokens int32 [batch, pos], mask [batch, pos] (1 = real token).
 * Returns per-token loss [batch, pos − 1], or its mean over real target tokens.
 */
export function nextTokenLoss(logits: tf.Tensor3D, tokens: tf.Tensor2D, perToken: boolean, mask?: tf.Tensor2D): tf.Tensor {
  const [batch, pos, vocab] = logits.shape;
  if (pos < 2) throw new Error("The loss needs at least two tokens per sequence (it predicts each next token).");
  const logProbs = tf.logSoftmax(logits.slice([0, 0, 0], [batch, pos - 1, vocab]));
  const targets = tokens.slice([0, 1], [batch, pos - 1]);
  const perTokenLoss = tf.neg(tf.sum(tf.mul(logProbs, tf.oneHot(targets, vocab)), -1));
  if (perToken) return perTokenLoss;
  if (!mask) return tf.mean(perTokenLoss);
  const targetMask = mask.slice([0, 1], [batch, pos - 1]);
  return tf.div(tf.sum(tf.mul(perTokenLoss, targetMask)), tf.maximum(tf.sum(targetMask), 1));
}
