/**
 * Steering vectors: a zero vector changes nothing; ActAdd and difference-of-means vectors equal
 * plain-loop differences of cached activations; adding coefficient · v equals a hand-written
 * hook; steering along a token's unembedding direction raises that token's logit; hooks are gone
 * after withSteering (also around generate).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { steeringVector, steeringVectorFromMeans, steeringVectorFromPairs, withSteering } from "../../src/steering/steeringVector";
import { CharTokenizer } from "../../src/tokenizers/charTokenizer";

beforeAll(async () => {
  await ready();
});

async function model(): Promise<HookedTransformer> {
  const tokenizer = new CharTokenizer("abcdefgh ", { bos: "^" });
  return HookedTransformer.create({ nLayers: 2, dModel: 12, nHeads: 2, dHead: 6, dMlp: 16, dVocab: tokenizer.vocabSize, nCtx: 16, seed: 2 }, { tokenizer });
}

function residual(m: HookedTransformer, text: string, hook: string): number[][] {
  const { output, cache } = m.runWithCache(text, { namesFilter: [hook] });
  output.dispose();
  const values = (cache.get(hook).arraySync() as number[][][])[0];
  cache.dispose();
  return values;
}

describe("steering vectors", () => {
  it("zero changes nothing; pairs and means are plain differences; adding equals a hand-written hook", async () => {
    const m = await model();
    const hook = "blocks.1.hook_resid_pre";
    const plain = m.forward("abc");
    const zero = steeringVector(hook, tf.zeros([12]));
    const steeredZero = await withSteering(m, zero, { coefficient: 7 }, () => m.forward("abc"));
    expect(tf.tidy(() => steeredZero.sub(plain).abs().max().dataSync()[0])).toBe(0);
    const pair = steeringVectorFromPairs(m, hook, [["abc", "hgf"]]);
    const [a, b] = [residual(m, "abc", hook), residual(m, "hgf", hook)];
    expect(pair.vector.shape).toEqual([4, 12]);
    (pair.vector.arraySync() as number[][]).forEach((row, p) => row.forEach((v, j) => expect(v).toBeCloseTo(a[p][j] - b[p][j], 5)));
    const means = steeringVectorFromMeans(m, hook, ["abc", "bca"], ["ggh"]);
    const pos = [residual(m, "abc", hook), residual(m, "bca", hook)];
    const neg = residual(m, "ggh", hook);
    const meanOf = (rows: number[][], j: number) => rows.reduce((s, r) => s + r[j], 0) / rows.length;
    (means.vector.arraySync() as number[]).forEach((v, j) => expect(v).toBeCloseTo((meanOf(pos[0], j) + meanOf(pos[1], j)) / 2 - meanOf(neg, j), 5));
    const steered = await withSteering(m, means, { coefficient: 3 }, () => m.forward("abcd"));
    const manual = m.runWithHooks("abcd", { fwdHooks: [[hook, (act: tf.Tensor) => act.add(means.vector.mul(3))]] });
    expect(tf.tidy(() => steered.sub(manual).abs().max().dataSync()[0])).toBeLessThan(1e-5);
    // ActAdd adds at the pair's positions only: position 4 onwards of a longer prompt is as if only positions 0..3 were steered.
    const longer = await withSteering(m, pair, { coefficient: 1 }, () => m.forward("abcdefg"));
    const manualPair = m.runWithHooks("abcdefg", { fwdHooks: [[hook, (act: tf.Tensor) => act.add(tf.concat([pair.vector, tf.zeros([4, 12])], 0).expandDims(0))]] });
    expect(tf.tidy(() => longer.sub(manualPair).abs().max().dataSync()[0])).toBeLessThan(1e-5);
    expect(m.hookPoint(hook).hookCount).toBe(0);
    tf.dispose([plain, steeredZero, steered, manual, longer, manualPair]);
    for (const v of [zero, pair, means]) v.dispose();
    m.dispose();
  });

  it("steering along a token's unembedding direction raises its logit, more with a larger coefficient; generate is steered too", async () => {
    const m = await model();
    const target = 3;
    const direction = tf.tidy(() => m.W_U.slice([0, target], [-1, 1]).reshape([-1]));
    const v = steeringVector("blocks.1.hook_resid_post", direction);
    const gaps: number[] = [];
    for (const coefficient of [0, 2, 8]) {
      const logits = await withSteering(m, v, { coefficient }, () => m.forward("abc") as tf.Tensor3D);
      gaps.push(tf.tidy(() => {
        const last = logits.slice([0, 3, 0], [1, 1, -1]).reshape([-1]);
        return last.slice([target], [1]).sub(last.mean()).dataSync()[0];
      }));
      logits.dispose();
    }
    expect(gaps[1]).toBeGreaterThan(gaps[0]);
    expect(gaps[2]).toBeGreaterThan(gaps[1]);
    const text = await withSteering(m, v, { coefficient: 50 }, () => m.generate("ab", { maxNewTokens: 4, temperature: 0 }));
    const letter = m.tokenizer!.decode([target]);
    expect(String(text).endsWith(letter.repeat(4))).toBe(true);
    tf.dispose([direction]);
    v.dispose();
    m.dispose();
  });
});
