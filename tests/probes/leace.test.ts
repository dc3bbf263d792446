/**
 * LEACE on planted concepts: after erasure the cross-covariance with the concept is zero (plain
 * loops), a freshly trained probe for it is at the majority baseline, a probe for an unrelated
 * concept keeps its accuracy; erasing twice is erasing once; the hook erases inside a model.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { fitLeace } from "../../src/probes/leace";
import { gatherLabels, gatherRows, majorityBaseline, trainLinearProbe, trainTestSplit } from "../../src/probes/linearProbe";
import { SeededRandom } from "../../src/train/seededRandom";

beforeAll(async () => {
  await ready();
});

/** n rows of d-dim noise plus a planted direction per class of two concepts (3 classes and 2 classes). */
function planted(n: number, d: number, seed: number) {
  const random = new SeededRandom(seed);
  const directions = Array.from({ length: 5 }, () => Array.from({ length: d }, () => random.normal()));
  const a: number[] = [];
  const b: number[] = [];
  const rows = Array.from({ length: n }, () => {
    const ca = random.int(3);
    const cb = random.int(2);
    a.push(ca);
    b.push(cb);
    return Array.from({ length: d }, (_, j) => random.normal() + 1.5 * directions[ca][j] + 1.5 * directions[3 + cb][j]);
  });
  return { x: tf.tensor2d(rows), a, b };
}

async function probeAccuracy(x: tf.Tensor2D, labels: number[], classes: number): Promise<{ accuracy: number; baseline: number }> {
  const split = trainTestSplit(labels.length, { testFraction: 0.3, seed: 1 });
  const train = gatherRows(x, split.train);
  const test = gatherRows(x, split.test);
  const probe = await trainLinearProbe(train, gatherLabels(labels, split.train), { classes, steps: 400 });
  const { accuracy } = probe.evaluate(test, gatherLabels(labels, split.test));
  const baseline = majorityBaseline(gatherLabels(labels, split.train), gatherLabels(labels, split.test), classes);
  probe.dispose();
  tf.dispose([train, test]);
  return { accuracy, baseline };
}

describe("LEACE", () => {
  it("zeroes the cross-covariance with the concept; its probe falls to the baseline, another concept's stays", async () => {
    const { x, a, b } = planted(900, 10, 3);
    const before = tf.memory().numTensors;
    const eraser = fitLeace(x, a);
    expect(eraser.rank).toBe(2); // 3 classes span 2 directions after centring
    const erased = eraser.apply(x) as tf.Tensor2D;
    // Cross-covariance of the erased activations with the one-hot concept, by plain loops.
    const rows = erased.arraySync();
    const n = rows.length;
    const mean = rows[0].map((_, j) => rows.reduce((s, r) => s + r[j], 0) / n);
    for (let c = 0; c < 3; c++) {
      const share = a.filter((v) => v === c).length / n;
      for (let j = 0; j < 10; j++) {
        const cov = rows.reduce((s, r, i) => s + (r[j] - mean[j]) * ((a[i] === c ? 1 : 0) - share), 0) / n;
        expect(Math.abs(cov)).toBeLessThan(1e-4);
      }
    }
    const aBefore = await probeAccuracy(x, a, 3);
    const aAfter = await probeAccuracy(erased, a, 3);
    const bBefore = await probeAccuracy(x, b, 2);
    const bAfter = await probeAccuracy(erased, b, 2);
    console.log(`LEACE: concept probe ${aBefore.accuracy.toFixed(3)} → ${aAfter.accuracy.toFixed(3)} (baseline ${aAfter.baseline.toFixed(3)}); other concept ${bBefore.accuracy.toFixed(3)} → ${bAfter.accuracy.toFixed(3)}`);
    expect(aBefore.accuracy).toBeGreaterThan(aBefore.baseline + 0.3);
    expect(aAfter.accuracy).toBeLessThan(aAfter.baseline + 0.06);
    expect(bAfter.accuracy).toBeGreaterThan(bBefore.accuracy - 0.05);
    // A projection: erasing again changes nothing.
    const twice = eraser.apply(erased);
    expect(tf.tidy(() => twice.sub(erased).abs().max().dataSync()[0])).toBeLessThan(1e-4);
    tf.dispose([erased, twice]);
    eraser.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it("erases inside a model as a hook, on [batch, pos, d] activations", async () => {
    const model = await HookedTransformer.create({ nLayers: 2, dModel: 8, nHeads: 2, dHead: 4, dMlp: 16, dVocab: 11, nCtx: 6, seed: 1 });
    const tokens = tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 8]], undefined, "int32");
    const { output, cache } = model.runWithCache(tokens, { namesFilter: ["blocks.0.hook_resid_post"] });
    output.dispose();
    const acts = cache.get("blocks.0.hook_resid_post").reshape([8, 8]) as tf.Tensor2D;
    const eraser = fitLeace(acts, [0, 1, 0, 1, 1, 0, 1, 0]);
    const seen: tf.Tensor[] = [];
    model.runWithHooks(tokens, {
      fwdHooks: [
        ["blocks.0.hook_resid_post", eraser.hook()],
        ["blocks.1.hook_resid_pre", (act: tf.Tensor) => void seen.push(tf.keep(act.clone()))],
      ],
    }).dispose();
    const expected = eraser.apply(acts);
    expect(tf.tidy(() => seen[0].reshape([8, 8]).sub(expected).abs().max().dataSync()[0])).toBeLessThan(1e-5);
    tf.dispose([...seen, expected, acts, tokens]);
    cache.dispose();
    eraser.dispose();
    expect(() => fitLeace(tf.zeros([3, 2]) as tf.Tensor2D, [0, 1])).toThrow(/2 labels for 3 rows/);
    model.dispose();
  });
});
