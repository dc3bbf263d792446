/**
 * Linear probes: a planted linear feature is decoded near perfectly on held-out rows and its
 * direction recovered; random labels stay near chance on held-out rows; metrics agree with a
 * plain count; nothing leaks; bad input is explained.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { gatherLabels, gatherRows, LinearProbe, majorityBaseline, trainLinearProbe, trainTestSplit } from "../../src/probes/linearProbe";
import { SeededRandom } from "../../src/train/seededRandom";

beforeAll(async () => {
  await ready();
});

function gaussian(random: SeededRandom, n: number, d: number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: d }, () => random.normal()));
}

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

describe("trainLinearProbe", () => {
  it("decodes planted linear features near perfectly on held-out rows, and finds their directions", async () => {
    const before = tf.memory().numTensors;
    const random = new SeededRandom(1);
    const n = 600;
    const d = 16;
    const x = gaussian(random, n, d);
    // Head 0: 3 classes, the argmax of three planted directions. Head 1: binary, the sign along one direction.
    const planted = gaussian(random, 3, d);
    const binary = gaussian(random, 1, d)[0];
    const labels = x.map((row) => {
      const scores = planted.map((v) => dot(row, v));
      return [scores.indexOf(Math.max(...scores)), dot(row, binary) > 0 ? 1 : 0];
    });
    const split = trainTestSplit(n, { testFraction: 0.25, seed: 2 });
    const acts = tf.tensor2d(x);
    const trainX = gatherRows(acts, split.train);
    const testX = gatherRows(acts, split.test);
    const probe = await trainLinearProbe(trainX, gatherLabels(labels, split.train), { classes: 3, steps: 300, lr: 0.05 });
    const result = probe.evaluate(testX, gatherLabels(labels, split.test));
    expect(result.headAccuracy[0]).toBeGreaterThan(0.95);
    expect(result.headAccuracy[1]).toBeGreaterThan(0.97);
    expect(result.accuracy).toBeCloseTo((result.headAccuracy[0] + result.headAccuracy[1]) / 2, 10);
    // Class 2 never occurs in head 1, so pooled support counts head 0's class 2 only.
    expect(result.support.reduce((a, b) => a + b, 0)).toBe(split.test.length * 2);
    // The binary head's direction (class 1 − class 0) lines up with the planted one.
    const directions = probe.directions();
    expect(directions.shape).toEqual([2, 3, d]);
    const dirs = directions.arraySync() as number[][][];
    const learned = dirs[1][1].map((v, i) => v - dirs[1][0][i]);
    const cosine = dot(learned, binary) / Math.sqrt(dot(learned, learned) * dot(binary, binary));
    expect(cosine).toBeGreaterThan(0.9);
    // Zero initial weights: the first loss is ln(3) whatever the data.
    expect(probe.lossHistory[0]).toBeCloseTo(Math.log(3), 4);
    expect(probe.lossHistory.at(-1)!).toBeLessThan(0.25);
    tf.dispose([acts, trainX, testX, directions]);
    probe.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("random labels stay near chance on held-out rows (while the training rows are partly memorised)", async () => {
    const before = tf.memory().numTensors;
    const random = new SeededRandom(3);
    const n = 500;
    const x = gaussian(random, n, 40);
    const labels = Array.from({ length: n }, () => random.int(3));
    const split = trainTestSplit(n, { testFraction: 0.4, seed: 4 });
    const acts = tf.tensor2d(x);
    const trainX = gatherRows(acts, split.train);
    const testX = gatherRows(acts, split.test);
    const probe = await trainLinearProbe(trainX, gatherLabels(labels, split.train), { classes: 3, steps: 200, lr: 0.05 });
    const trainAccuracy = probe.evaluate(trainX, gatherLabels(labels, split.train)).accuracy;
    const testAccuracy = probe.evaluate(testX, gatherLabels(labels, split.test)).accuracy;
    // 200 test rows: chance 1/3 with sd ≈ 0.033.
    expect(Math.abs(testAccuracy - 1 / 3)).toBeLessThan(0.1);
    expect(trainAccuracy).toBeGreaterThan(testAccuracy + 0.1);
    tf.dispose([acts, trainX, testX]);
    probe.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("takes tensor labels and single-head labels alike; minibatches are seeded", async () => {
    const random = new SeededRandom(5);
    const x = gaussian(random, 200, 4);
    const labels = x.map((row) => (row[0] + row[1] > 0 ? 1 : 0));
    const acts = tf.tensor2d(x);
    const tensorLabels = tf.tensor1d(labels, "int32");
    const a = await trainLinearProbe(acts, labels, { classes: 2, steps: 40, lr: 0.1, batchSize: 50, seed: 9 });
    const b = await trainLinearProbe(acts, tensorLabels, { classes: 2, steps: 40, lr: 0.1, batchSize: 50, seed: 9 });
    expect(a.lossHistory).toEqual(b.lossHistory);
    const predicted = a.predict(acts);
    expect(predicted.shape).toEqual([200]);
    expect(a.evaluate(acts, labels).accuracy).toBeGreaterThan(0.9);
    tf.dispose([acts, tensorLabels, predicted]);
    a.dispose();
    b.dispose();
  });

  it("metrics agree with a plain count over a probe with set weights", () => {
    // One input dimension, 2 heads × 3 classes; logits = x * W + b.
    const probe = new LinearProbe(1, 2, 3);
    probe.W.assign(tf.tensor2d([[1, 0, -1, -1, 0, 1]]));
    probe.b.assign(tf.tensor1d([0, 0.5, 0, 0, 0.5, 0]));
    const xs = [2, 0, -2, 1, -1];
    const labels = [[0, 2], [1, 1], [2, 0], [1, 2], [2, 1]];
    // Plain predictions: head 0 is class 0 if x > 0.5, class 2 if x < −0.5, else 1; head 1 mirrors it.
    const predictOne = (x: number, h: number) => {
      const logits = h === 0 ? [x, 0.5, -x] : [-x, 0.5, x];
      return logits.indexOf(Math.max(...logits));
    };
    const confusion = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
    xs.forEach((x, i) => [0, 1].forEach((h) => confusion[labels[i][h]][predictOne(x, h)]++));
    const acts = tf.tensor2d(xs, [5, 1]);
    const result = probe.evaluate(acts, labels);
    expect(result.confusion).toEqual(confusion);
    const correct = confusion[0][0] + confusion[1][1] + confusion[2][2];
    expect(result.accuracy).toBe(correct / 10);
    for (let c = 0; c < 3; c++) {
      const predictedC = confusion.reduce((s, row) => s + row[c], 0);
      const trueC = confusion[c].reduce((s, v) => s + v, 0);
      expect(result.precision[c]).toBe(confusion[c][c] / predictedC);
      expect(result.recall[c]).toBe(confusion[c][c] / trueC);
    }
    // Cross-entropy against a plain log-softmax.
    let ce = 0;
    xs.forEach((x, i) =>
      [0, 1].forEach((h) => {
        const logits = h === 0 ? [x, 0.5, -x] : [-x, 0.5, x];
        const logZ = Math.log(logits.reduce((s, v) => s + Math.exp(v), 0));
        ce += logZ - logits[labels[i][h]];
      }),
    );
    expect(result.loss).toBeCloseTo(ce / 10, 5);
    acts.dispose();
    probe.dispose();
    expect(() => probe.directions()).toThrow(/disposed/);
  });

  it("majority baseline and train/test split", () => {
    expect(majorityBaseline([[0, 1], [0, 2], [1, 2]], [[0, 2], [1, 2]], 3)).toBe(3 / 4);
    expect(majorityBaseline([2, 2, 1], [2, 1], 3)).toBe(1 / 2);
    const split = trainTestSplit(10, { testFraction: 0.3, seed: 1 });
    expect(split.test.length).toBe(3);
    expect([...split.train, ...split.test].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("explains bad input", async () => {
    const acts = tf.zeros([4, 3]) as tf.Tensor2D;
    await expect(trainLinearProbe(acts, [0, 1, 2, 3], { classes: 3 })).rejects.toThrow(/label \[3\] is 3; class ids must be whole numbers in \[0, 3\)/);
    await expect(trainLinearProbe(acts, [0, 1], { classes: 3 })).rejects.toThrow(/2 label rows for 4 activation rows/);
    const flat = tf.zeros([4]);
    await expect(trainLinearProbe(flat as unknown as tf.Tensor2D, [0, 1, 0, 1], { classes: 2 })).rejects.toThrow(/2-D tensor \[n, d\]/);
    await expect(trainLinearProbe(acts, [0, 1, 0, 1], { classes: 1 })).rejects.toThrow(/classes must be a whole number ≥ 2/);
    const probe = await trainLinearProbe(acts, [0, 1, 0, 1], { classes: 2, steps: 2 });
    const wide = tf.zeros([2, 5]) as tf.Tensor2D;
    expect(() => probe.logits(wide)).toThrow(/activations must be a tensor \[n, d=3\]; got shape \[2, 5\]/);
    expect(() => probe.evaluate(acts, [[0, 1], [0, 1], [0, 1], [0, 1]])).toThrow(/labels have 2 head\(s\); expected 1/);
    probe.dispose();
    tf.dispose([acts, flat, wide]);
  });
});
