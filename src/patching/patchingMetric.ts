/**
 * Metrics for patching: a function of the logits at a few positions, one value per row of a
 * batch. Patching runs many patched copies of the same prompts in one forward pass, so a row is
 * (patch, prompt) and the metric is told which prompt each row is; it reads only the positions
 * it declares, so the unembedding is computed there only.
 *
 *   const metric = logitDiffMetric({ correct: [id(" Mary")], incorrect: [id(" John")] });  // last position
 */
import { tf } from "../backend";

export interface PatchingMetric {
  /** Positions whose logits the metric reads (negative counts from the end); default [-1]. */
  positions?: number[];
  /**
   * logits [rows, positions.length, dVocabOut] → values [rows]; `promptOfRow[r]` is the index of
   * the prompt row r is a copy of. Runs inside tf.tidy.
   */
  compute(logits: tf.Tensor3D, promptOfRow: number[]): tf.Tensor1D;
  /** Shown in tables and widgets (default "metric"). */
  name?: string;
}

export interface LogitDiffMetricOptions {
  /** The token that should win, per prompt (one id for all prompts, or one per prompt). */
  correct: number | number[];
  /** The token that should lose, per prompt. */
  incorrect: number | number[];
  /** Where the answer is predicted (default −1, the last position). */
  position?: number;
}

/** logit(correct) − logit(incorrect) at one position, per prompt (Wang et al.'s IO − S). */
export function logitDiffMetric(options: LogitDiffMetricOptions): PatchingMetric {
  const position = options.position ?? -1;
  const perPrompt = (ids: number | number[], promptOfRow: number[], vocab: number): number[] =>
    promptOfRow.map((p) => {
      const id = typeof ids === "number" ? ids : ids[p];
      if (!Number.isInteger(id) || id < 0 || id >= vocab) {
        throw new Error(`logitDiffMetric: the token id for prompt ${p} must be a whole number in [0, ${vocab}); got ${String(id)}. Give one id, or one per prompt.`);
      }
      return id;
    });
  return {
    positions: [position],
    name: "logit difference",
    compute(logits, promptOfRow) {
      const [rows, , vocab] = logits.shape;
      const flat = logits.reshape([-1]); // one position: row r's logits at [r·vocab, (r+1)·vocab)
      const pick = (ids: number[]) => tf.gather(flat, tf.tensor1d(ids.map((id, r) => r * vocab + id), "int32"));
      return tf.sub(pick(perPrompt(options.correct, promptOfRow, vocab)), pick(perPrompt(options.incorrect, promptOfRow, vocab))) as tf.Tensor1D;
    },
  };
}
