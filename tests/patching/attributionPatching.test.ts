/**
 * Attribution patching against two oracles: finite differences along the clean − corrupted
 * direction (a directional derivative computed with plain hooks, no gradients), and exactness
 * where the metric is linear in the patched activation (the last layer's outputs of a model
 * without a final norm). Its agreement with real activation patching on the shipped induction
 * organism is reported and must be strong.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { loadOrganism } from "../../src/organisms/loadOrganism";
import { activationPatching } from "../../src/patching/activationPatching";
import { attributionPatching, compareWithActivationPatching } from "../../src/patching/attributionPatching";
import { logitDiffMetric, type PatchingMetric } from "../../src/patching/patchingMetric";
import { SeededRandom } from "../../src/train/seededRandom";

beforeAll(async () => {
  await ready();
});

function randomTokens(seed: number, prompts: number, length: number, vocab: number): tf.Tensor2D {
  const random = new SeededRandom(seed);
  return tf.tensor2d(Array.from({ length: prompts }, () => Array.from({ length }, () => random.int(vocab))), [prompts, length], "int32");
}

describe("attribution patching", () => {
  it("equals the finite-difference directional derivative, cell by cell", async () => {
    const model = await HookedTransformer.create({ nLayers: 2, dModel: 16, nHeads: 2, dHead: 4, dMlp: 24, dVocab: 19, nCtx: 8, actFn: "gelu", seed: 5 });
    const clean = randomTokens(1, 2, 6, 19);
    const corrupted = randomTokens(2, 2, 6, 19);
    const metric = logitDiffMetric({ correct: [2, 4], incorrect: [6, 8] });
    const before = tf.memory().numTensors;
    const attribution = await attributionPatching(model, { clean, corrupted, metric, activation: "resid_pre", normalize: false });
    const grid = attribution.raw.arraySync() as number[][];
    // Finite differences: corrupted run with resid_pre[layer][:, pos] moved ε of the way to the clean value.
    const { output, cache } = model.runWithCache(clean, { namesFilter: (n: string) => n.endsWith("hook_resid_pre") });
    output.dispose();
    const metricWith = (layer: number, pos: number, epsilon: number): number =>
      tf.tidy(() => {
        const hook = `blocks.${layer}.hook_resid_pre`;
        const logits = model.runWithHooks(corrupted, {
          fwdHooks: [[hook, (act: tf.Tensor) => {
            const onehot = tf.oneHot(tf.tensor1d([pos], "int32"), 6).reshape([1, 6, 1]);
            return tf.add(act, tf.mul(onehot, tf.mul(tf.sub(cache.get(hook), act), epsilon)));
          }]],
        }) as tf.Tensor3D;
        return metric.compute(logits.slice([0, 5, 0], [-1, 1, -1]) as tf.Tensor3D, [0, 1]).mean().dataSync()[0];
      });
    const epsilon = 1e-2;
    for (const [layer, pos] of [[0, 1], [0, 5], [1, 3], [1, 5]]) {
      const derivative = (metricWith(layer, pos, epsilon) - metricWith(layer, pos, -epsilon)) / (2 * epsilon);
      expect(grid[layer][pos] - attribution.corruptedMetric).toBeCloseTo(derivative, 2);
    }
    cache.dispose();
    tf.dispose([attribution.values, attribution.raw]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([clean, corrupted]);
    model.dispose();
  });

  it("is exact where the metric is linear in the activation: the last output into the logits, without a final norm", async () => {
    const clean = randomTokens(3, 2, 6, 19);
    const corrupted = randomTokens(4, 2, 6, 19);
    const metric = logitDiffMetric({ correct: 2, incorrect: 6 });
    // The last layer's MLP output, and an attention-only model's last attention output, reach the logits linearly.
    for (const [activation, attnOnly] of [["mlp_out", false], ["attn_out", true]] as const) {
      const model = await HookedTransformer.create({ nLayers: 2, dModel: 16, nHeads: 2, dHead: 4, dMlp: 24, dVocab: 19, nCtx: 8, normalizationType: "none", attnOnly, seed: 6 });
      const approx = await attributionPatching(model, { clean, corrupted, metric, activation });
      const exact = await activationPatching(model, { clean, corrupted, metric, activation });
      const a = (approx.values.arraySync() as number[][])[1];
      const b = (exact.values.arraySync() as number[][])[1];
      a.forEach((x, i) => expect(x).toBeCloseTo(b[i], 3));
      tf.dispose([approx.values, approx.raw, exact.values, exact.raw]);
      model.dispose();
    }
    tf.dispose([clean, corrupted]);
  });

  it("correlates with activation patching on the induction organism's heads", async () => {
    const model = await loadOrganism("induction-2l");
    const random = new SeededRandom(3);
    const rows = Array.from({ length: 4 }, () => {
      const first = Array.from({ length: 20 }, () => random.int(512));
      return [512, ...first, ...first];
    });
    const corruptedRows = rows.map((row) => row.map((t, p) => (p >= 1 && p <= 20 ? (t + 7) % 512 : t))); // first copy replaced
    const answers = rows.map((row) => row[10]);
    const metric: PatchingMetric = {
      positions: [29],
      compute: (logits, promptOfRow) => tf.gather(logits.reshape([-1]), tf.tensor1d(promptOfRow.map((p, r) => r * 513 + answers[p]), "int32")) as tf.Tensor1D,
    };
    const clean = tf.tensor2d(rows, undefined, "int32");
    const corrupted = tf.tensor2d(corruptedRows, undefined, "int32");
    const comparison = await compareWithActivationPatching(model, { clean, corrupted, metric, activation: "z", perPosition: true });
    console.log(`attribution vs activation patching, induction-2l z by position × head: correlation ${comparison.correlation.toFixed(3)}, largest difference ${comparison.maxAbsDifference.toFixed(3)}`);
    expect(comparison.correlation).toBeGreaterThan(0.8);
    tf.dispose([comparison.attribution.values, comparison.attribution.raw, comparison.activation.values, comparison.activation.raw, clean, corrupted]);
    model.dispose();
  });
});
