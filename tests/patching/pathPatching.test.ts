/**
 * Path patching: with no senders (or senders after the receivers) nothing changes; the direct
 * path to the logits of a model without a final norm equals the plain-loop formula
 * Δz_h · W_O[h] · (W_U[:, correct] − W_U[:, incorrect]); in a one-layer attention-only model the
 * direct path is the only path, so it equals activation patching of each head's z.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { activationPatching } from "../../src/patching/activationPatching";
import { pathPatching, pathPatchingSweep } from "../../src/patching/pathPatching";
import { logitDiffMetric } from "../../src/patching/patchingMetric";
import { SeededRandom } from "../../src/train/seededRandom";

beforeAll(async () => {
  await ready();
});

function randomTokens(seed: number, prompts: number, length: number, vocab: number): tf.Tensor2D {
  const random = new SeededRandom(seed);
  return tf.tensor2d(Array.from({ length: prompts }, () => Array.from({ length }, () => random.int(vocab))), [prompts, length], "int32");
}

const metric = logitDiffMetric({ correct: [2, 5], incorrect: [7, 1] });

describe("path patching", () => {
  it("changes nothing with no senders, or with senders at or after the receivers' layer", async () => {
    const model = await HookedTransformer.create({ nLayers: 3, dModel: 16, nHeads: 2, dHead: 4, dMlp: 20, dVocab: 11, nCtx: 8, seed: 2 });
    const clean = randomTokens(1, 2, 6, 11);
    const corrupted = randomTokens(2, 2, 6, 11);
    const before = tf.memory().numTensors;
    for (const receivers of ["logits", { heads: [[1, 0]] as [number, number][], input: "q" as const }, { heads: [[2, 1]] as [number, number][], input: "v" as const }] as const) {
      const none = await pathPatching(model, { clean, corrupted, metric, receivers, senders: [] });
      expect(none.raw).toBeCloseTo(none.corruptedMetric, 5);
      expect(none.value).toBeCloseTo(0, 5);
    }
    const later = await pathPatching(model, { clean, corrupted, metric, receivers: { heads: [[1, 0]], input: "k" }, senders: [[1, 1], [2, 0]] });
    expect(later.value).toBeCloseTo(0, 5);
    const earlier = await pathPatching(model, { clean, corrupted, metric, receivers: { heads: [[1, 0]], input: "k" }, senders: [[0, 1]] });
    expect(Math.abs(earlier.value)).toBeGreaterThan(1e-4);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([clean, corrupted]);
    model.dispose();
  });

  it("direct path to the logits without a final norm equals Δz · W_O · (W_U[:, correct] − W_U[:, incorrect])", async () => {
    const model = await HookedTransformer.create({ nLayers: 2, dModel: 16, nHeads: 2, dHead: 4, dMlp: 20, dVocab: 11, nCtx: 8, normalizationType: "none", seed: 3 });
    const clean = randomTokens(3, 2, 6, 11);
    const corrupted = randomTokens(4, 2, 6, 11);
    const zOf = (tokens: tf.Tensor2D) => {
      const { output, cache } = model.runWithCache(tokens, { namesFilter: (n: string) => n.endsWith("hook_z") });
      output.dispose();
      const z = [0, 1].map((l) => cache.get(`blocks.${l}.attn.hook_z`).arraySync() as number[][][][]);
      cache.dispose();
      return z;
    };
    const zClean = zOf(clean);
    const zCorrupted = zOf(corrupted);
    const wO = model.W_O.arraySync() as number[][][][];
    const wU = model.W_U.arraySync() as number[][];
    const [correct, incorrect] = [[2, 5], [7, 1]];
    const sweep = await pathPatchingSweep(model, { clean, corrupted, metric, receivers: "logits", normalize: false });
    const raw = sweep.raw.arraySync();
    for (let l = 0; l < 2; l++) {
      for (let h = 0; h < 2; h++) {
        let total = 0;
        for (let p = 0; p < 2; p++) {
          for (let e = 0; e < 4; e++) {
            const dz = zClean[l][p][5][h][e] - zCorrupted[l][p][5][h][e];
            for (let d = 0; d < 16; d++) total += dz * wO[l][h][e][d] * (wU[d][correct[p]] - wU[d][incorrect[p]]);
          }
        }
        expect(raw[l][h] - sweep.corruptedMetric).toBeCloseTo(total / 2, 4);
      }
    }
    tf.dispose([sweep.values, sweep.raw, clean, corrupted]);
    model.dispose();
  });

  it("in a one-layer attention-only model, the direct path is activation patching of each head", async () => {
    const model = await HookedTransformer.create({ nLayers: 1, dModel: 16, nHeads: 3, dHead: 4, dVocab: 11, nCtx: 8, attnOnly: true, seed: 4 });
    const clean = randomTokens(5, 2, 6, 11);
    const corrupted = randomTokens(6, 2, 6, 11);
    const path = await pathPatchingSweep(model, { clean, corrupted, metric, receivers: "logits" });
    const activation = await activationPatching(model, { clean, corrupted, metric, activation: "z" });
    const a = Array.from(path.values.dataSync());
    const b = Array.from(activation.values.dataSync());
    a.forEach((x, i) => expect(x).toBeCloseTo(b[i], 4));
    await expect(pathPatching(model, { clean, corrupted, metric, receivers: "logits", senders: [[1, 0]] })).rejects.toThrow(/senders must be \[layer, head\] pairs with layer in \[0, 1\)/);
    tf.dispose([path.values, path.raw, activation.values, activation.raw, clean, corrupted]);
    model.dispose();
  });
});
