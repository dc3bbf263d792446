/**
 * Toy models of superposition: forward and loss against plain loops; the geometry measures on
 * hand-made feature arrangements (orthogonal, antipodal pairs, pentagon); and a trained sparsity
 * sweep of 5 features in 2 dimensions showing what Elhage et al. found: dense → only the two
 * most important features, orthogonal; intermediate → antipodal pairs; sparse → all five as a
 * pentagon.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { SeededRandom } from "../../src/train/seededRandom";
import { ToySuperpositionModel, geometryOf, representedFeatures, superpositionGeometry, trainToyModel } from "../../src/toy";

beforeAll(async () => {
  await ready();
});

/** Unit columns at the given angles (degrees), as W [2][n]. */
function atAngles(degrees: number[], norm = 1): number[][] {
  const rad = degrees.map((a) => (a * Math.PI) / 180);
  return [rad.map((a) => norm * Math.cos(a)), rad.map((a) => norm * Math.sin(a))];
}

describe("ToySuperpositionModel", () => {
  it("forward is ReLU(WᵀWx + b) and the loss importance-weighted, as plain loops compute them", () => {
    const before = tf.memory().numTensors;
    const model = new ToySuperpositionModel({ nFeatures: 3, dHidden: 2, featureProbability: [1, 0.5], importance: [1, 0.5, 0.25], seed: 4 });
    const x = model.generateBatch(6, new SeededRandom(3));
    const out = model.forward(x);
    const [W, b, xs, ys] = [model.W.arraySync() as number[][][], model.b.arraySync() as number[][], x.arraySync(), out.arraySync()];
    let expectedLoss = 0;
    for (let k = 0; k < 2; k++) {
      let instanceError = 0;
      for (let s = 0; s < 6; s++) {
        const h = [0, 1].map((r) => [0, 1, 2].reduce((acc, i) => acc + W[k][r][i] * xs[k][s][i], 0));
        for (let i = 0; i < 3; i++) {
          const y = Math.max(0, W[k][0][i] * h[0] + W[k][1][i] * h[1] + b[k][i]);
          expect(ys[k][s][i]).toBeCloseTo(y, 5);
          instanceError += [1, 0.5, 0.25][i] * (y - xs[k][s][i]) ** 2;
        }
      }
      expectedLoss += instanceError / 18;
    }
    const loss = model.loss(x);
    expect(loss.dataSync()[0]).toBeCloseTo(expectedLoss, 5);
    tf.dispose([x, out, loss]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("batches have each feature present at its instance's probability, uniform in [0, 1] when present", () => {
    const model = new ToySuperpositionModel({ nFeatures: 4, dHidden: 2, featureProbability: [1, 0.25] });
    const x = model.generateBatch(4000, new SeededRandom(8));
    const [dense, sparse] = x.arraySync();
    const presentFraction = (rows: number[][]) => rows.flat().filter((v) => v > 0).length / (rows.length * 4);
    expect(presentFraction(dense)).toBeGreaterThan(0.999);
    expect(Math.abs(presentFraction(sparse) - 0.25)).toBeLessThan(0.02);
    const values = sparse.flat().filter((v) => v > 0);
    expect(Math.abs(values.reduce((a, v) => a + v, 0) / values.length - 0.5)).toBeLessThan(0.02);
    expect(Math.max(...values)).toBeLessThan(1);
    x.dispose();
    model.dispose();
  });

  it("refuses configs and weights that do not fit", () => {
    expect(() => new ToySuperpositionModel({ nFeatures: 5, dHidden: 2, featureProbability: [] })).toThrow(/featureProbability must be a non-empty list/);
    expect(() => new ToySuperpositionModel({ nFeatures: 5, dHidden: 2, featureProbability: [1.5] })).toThrow(/probabilities in \(0, 1\]/);
    expect(() => new ToySuperpositionModel({ nFeatures: 5, dHidden: 2, featureProbability: [1], importance: [1, 2] })).toThrow(/importance must be 5 non-negative numbers/);
    const W = tf.zeros([1, 2, 4]);
    const b = tf.zeros([1, 5]);
    expect(() => new ToySuperpositionModel({ nFeatures: 5, dHidden: 2, featureProbability: [1] }, { W, b })).toThrow(/W \[1, 2, 4\].*do not fit the config \(W \[1, 2, 5\]/);
    tf.dispose([W, b]);
  });
});

describe("feature geometry", () => {
  it("orthogonal features have dimensionality 1, antipodal pairs 1/2, a pentagon 2/5 each", () => {
    const orthogonal = geometryOf(atAngles([0, 90]));
    orthogonal.dimensionality.forEach((d) => expect(d).toBeCloseTo(1, 10));
    orthogonal.interference.forEach((v) => expect(v).toBeCloseTo(0, 10));
    const pairs = geometryOf(atAngles([0, 180, 90, 270]));
    pairs.dimensionality.forEach((d) => expect(d).toBeCloseTo(0.5, 10));
    pairs.interference.forEach((v) => expect(v).toBeCloseTo(1, 10));
    const pentagon = geometryOf(atAngles([0, 72, 144, 216, 288]));
    pentagon.dimensionality.forEach((d) => expect(d).toBeCloseTo(0.4, 10));
    // Σ_j≠i cos² over the other four directions of a pentagon: 2·cos²72° + 2·cos²144° = 1.5.
    pentagon.interference.forEach((v) => expect(v).toBeCloseTo(1.5, 10));
    expect(pentagon.dimensionsPerFeature).toBeCloseTo(2 / 5, 10);
    const dropped = geometryOf([[1, 0, 0.01], [0, 1, 0]]);
    expect(representedFeatures(dropped)).toEqual([0, 1]);
    expect(dropped.gram[0][1]).toBe(0);
  });
});

describe("a trained sparsity sweep, 5 features in 2 dimensions", () => {
  it("dense keeps the 2 most important features orthogonal; sparse packs 5 into a pentagon; between, antipodal pairs", async () => {
    const before = tf.memory().numTensors;
    const model = new ToySuperpositionModel({ nFeatures: 5, dHidden: 2, featureProbability: [1, 0.3, 0.02], seed: 1 });
    const result = await trainToyModel(model, { steps: 1000, lr: 0.01, seed: 0, progress: false });
    expect(result.history.loss.at(-1)!).toBeLessThan(result.history.loss[0] / 2);
    const [dense, middle, sparse] = superpositionGeometry(model);
    const angle = (g: typeof dense, i: number) => (Math.atan2(g.W[1][i], g.W[0][i]) * 180) / Math.PI;

    expect(representedFeatures(dense)).toEqual([0, 1]);
    expect(Math.abs(dense.gram[0][1]) / (dense.featureNorms[0] * dense.featureNorms[1])).toBeLessThan(0.1);

    expect(representedFeatures(middle)).toEqual([0, 1, 2, 3]);
    middle.dimensionality.slice(0, 4).forEach((d) => expect(d).toBeCloseTo(0.5, 1));

    expect(representedFeatures(sparse)).toEqual([0, 1, 2, 3, 4]);
    const angles = [0, 1, 2, 3, 4].map((i) => angle(sparse, i)).sort((a, b) => a - b);
    const gaps = angles.map((a, i) => (i < 4 ? angles[i + 1] - a : angles[0] + 360 - a));
    for (const gap of gaps) expect(Math.abs(gap - 72)).toBeLessThan(8);
    sparse.dimensionality.forEach((d) => expect(d).toBeCloseTo(0.4, 1));

    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
