/**
 * Activation patching on the shipped induction organism localises what the induction circuit
 * moves. Prompt: BOS, 20 random tokens, the same 20 again. The corrupted prompt changes one token
 * x_i of the FIRST copy only; the metric is the logit of x_{i+1} where the second copy predicts it.
 * The clean answer needs "x_i came before position i+1", which layer 0's previous-token head
 * writes into position i+1: so resid_pre of layer 0 matters at position i only, and resid_pre of
 * layer 1 at position i+1 (and the prediction position reads it through the induction head).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { loadOrganism } from "../../src/organisms/loadOrganism";
import { activationPatching } from "../../src/patching/activationPatching";
import type { PatchingMetric } from "../../src/patching/patchingMetric";
import { SeededRandom } from "../../src/train/seededRandom";

beforeAll(async () => {
  await ready();
});

describe("resid_pre patching on induction-2l", () => {
  it("finds the changed token at layer 0 and the position after it at layer 1", async () => {
    const model = await loadOrganism("induction-2l");
    const random = new SeededRandom(21);
    const half = 20;
    const i = 8; // the changed token's position in the first copy (BOS is position 0)
    const cleanRows: number[][] = [];
    const corruptedRows: number[][] = [];
    const answers: number[] = [];
    for (let n = 0; n < 4; n++) {
      const first = Array.from({ length: half }, () => random.int(512));
      const clean = [512, ...first, ...first];
      const corrupted = clean.slice();
      corrupted[i] = (clean[i] + 1 + random.int(510)) % 512;
      cleanRows.push(clean);
      corruptedRows.push(corrupted);
      answers.push(clean[i + 1]);
    }
    const predictAt = i + half; // the second copy's x_i, which should predict x_{i+1}
    const metric: PatchingMetric = {
      positions: [predictAt],
      compute: (logits, promptOfRow) => tf.tidy(() => {
        const rows = logits.shape[0];
        const flat = logits.reshape([-1]);
        return tf.gather(flat, tf.tensor1d(promptOfRow.map((p, r) => r * logits.shape[2] + answers[p]), "int32")).reshape([rows]) as tf.Tensor1D;
      }),
    };
    const clean = tf.tensor2d(cleanRows, undefined, "int32");
    const corrupted = tf.tensor2d(corruptedRows, undefined, "int32");
    const before = tf.memory().numTensors;
    const result = await activationPatching(model, { clean, corrupted, metric, activation: "resid_pre" });
    const grid = result.values.arraySync() as number[][];
    // The corruption matters: the clean answer's logit is clearly higher than the corrupted one.
    expect(result.cleanMetric - result.corruptedMetric).toBeGreaterThan(3);
    // Layer 0: only position i carries the changed token.
    expect(grid[0][i]).toBeGreaterThan(0.9);
    for (let p = 0; p < grid[0].length; p++) if (p !== i) expect(Math.abs(grid[0][p])).toBeLessThan(0.1);
    // Layer 1: the information has moved to position i + 1 (previous-token head), not stayed at i.
    expect(grid[1][i + 1]).toBeGreaterThan(0.6);
    expect(Math.abs(grid[1][i])).toBeLessThan(0.2);
    tf.dispose([result.values, result.raw]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([clean, corrupted]);
    model.dispose();
  });
});
