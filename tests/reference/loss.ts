/** Next-token cross-entropy of reference logits, as TransformerLens's loss (mean over [batch, pos − 1]). */
import { logSumExp } from "./math";
import { at } from "./tensors";
import type { RefTensor } from "./types";

export interface ReferenceLoss {
  /** Mean over every (b, p) with p < pos − 1. */
  loss: number;
  /** [batch, pos − 1]: −log softmax(logits[b, p])[tokens[b][p + 1]]. */
  perToken: RefTensor;
}

export function referenceLoss(logits: RefTensor, tokens: number[][]): ReferenceLoss {
  const [B, P, V] = logits.shape;
  if (logits.shape.length !== 3 || tokens.length !== B || tokens.some((row) => row.length !== P)) {
    throw new Error(`referenceLoss: logits [${logits.shape.join(", ")}] do not match tokens [${tokens.length}][${tokens[0]?.length}].`);
  }
  if (P < 2) throw new Error("referenceLoss: needs at least 2 positions.");
  const perToken = new Float64Array(B * (P - 1));
  let total = 0;
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < P - 1; p++) {
      const row: number[] = [];
      for (let v = 0; v < V; v++) row.push(at(logits, b, p, v));
      const nll = logSumExp(row) - row[tokens[b][p + 1]];
      perToken[b * (P - 1) + p] = nll;
      total += nll;
    }
  }
  return { loss: total / perToken.length, perToken: { shape: [B, P - 1], data: perToken } };
}
