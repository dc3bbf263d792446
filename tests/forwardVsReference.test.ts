/**
 * HookedTransformer's logits, loss and every hook point's activation against the independent
 * plain-loop reference (tests/reference), for a tiny config of each architecture variant.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../src/backend";
import { HookedTransformer } from "../src/model/hookedTransformer";
import { referenceForward, referenceLoss, randomWeights } from "./reference";
import { configOf, disposeAll, maxAbsDiff, randomTokens, toStateDict, VARIANTS } from "./helpers/modelFixtures";

beforeAll(async () => {
  await ready();
});

describe.each(Object.entries(VARIANTS))("%s", (_label, input) => {
  const cfg = configOf(input);
  // Without normalization activations grow layer by layer; smaller weights keep them O(1) so an
  // absolute 1e-4 tolerance stays meaningful in float32.
  const weights = randomWeights(cfg, 11, cfg.normalizationType === "none" ? 0.25 : 0.5);
  const tokens = randomTokens(2, 9, cfg.dVocab, 5);

  it("logits and every hook activation match the plain-loop reference to 1e-4", async () => {
    const stateDict = toStateDict(weights);
    const model = await HookedTransformer.create(input, { stateDict });
    disposeAll(stateDict);
    const expected = referenceForward(cfg, weights, tokens);
    const { output, cache } = model.runWithCache(tokens);
    expect(maxAbsDiff(output, expected.logits)).toBeLessThan(1e-4);
    // Both sides have exactly the same hook points.
    expect(cache.keys().sort()).toEqual([...expected.activations.keys()].sort());
    for (const [name, activation] of expected.activations) {
      const diff = maxAbsDiff(cache.get(name), activation);
      expect(diff, name).toBeLessThan(1e-4);
    }
    output.dispose();
    cache.dispose();
    model.dispose();
  });

  it("loss (mean and per token) matches the reference", async () => {
    const stateDict = toStateDict(weights);
    const model = await HookedTransformer.create(input, { stateDict });
    disposeAll(stateDict);
    const expected = referenceLoss(referenceForward(cfg, weights, tokens).logits, tokens);
    const loss = model.forward(tokens, { returnType: "loss" });
    expect(loss.shape).toEqual([]);
    expect(Math.abs(loss.dataSync()[0] - expected.loss)).toBeLessThan(1e-4);
    const perToken = model.forward(tokens, { returnType: "loss", lossPerToken: true });
    expect(maxAbsDiff(perToken, expected.perToken)).toBeLessThan(1e-4);
    const both = model.forward(tokens, { returnType: "both" });
    expect(both.logits.shape).toEqual([2, 9, cfg.dVocabOut]);
    expect(Math.abs(both.loss.dataSync()[0] - expected.loss)).toBeLessThan(1e-4);
    tf.dispose([loss, perToken, both.logits, both.loss]);
    model.dispose();
  });
});

describe("padding", () => {
  it("a left-padded batch matches the reference with the attention mask and shifted positions", async () => {
    for (const key of ["gpt2-like (LN, gelu_new, standard positions)", "llama-like (RMS, rotary, gated silu, GQA)"]) {
      const input = VARIANTS[key];
      const cfg = configOf(input);
      const weights = randomWeights(cfg, 3);
      const stateDict = toStateDict(weights);
      const model = await HookedTransformer.create(input, { stateDict });
      disposeAll(stateDict);
      const tokens = randomTokens(2, 7, cfg.dVocab, 9);
      const mask = [
        [0, 0, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 1, 1],
      ];
      const expected = referenceForward(cfg, weights, tokens, { attentionMask: mask, shiftPositionsForPadding: true });
      const attentionMask = tf.tensor2d(mask);
      const logits = model.forward(tokens, { attentionMask });
      // Padding query rows see no keys; compare the real positions only.
      const values = logits.arraySync() as number[][][];
      let worst = 0;
      for (let b = 0; b < 2; b++) {
        for (let p = 0; p < 7; p++) {
          if (mask[b][p] === 0) continue;
          for (let v = 0; v < cfg.dVocab; v++) {
            worst = Math.max(worst, Math.abs(values[b][p][v] - expected.logits.data[(b * 7 + p) * cfg.dVocab + v]));
          }
        }
      }
      expect(worst, key).toBeLessThan(1e-4);
      // The left-padded sequence's real tokens give the same logits as the sequence alone.
      const alone = model.forward([tokens[0].slice(2)]);
      const aloneValues = alone.arraySync() as number[][][];
      for (let p = 2; p < 7; p++) {
        for (let v = 0; v < cfg.dVocab; v++) expect(Math.abs(values[0][p][v] - aloneValues[0][p - 2][v])).toBeLessThan(1e-4);
      }
      tf.dispose([attentionMask, logits, alone]);
      model.dispose();
    }
  });
});
