/**
 * Head circuits and the scores read off them, against plain-loop oracles on random-weight models
 * (with and without grouped-query attention): every matrix materialised with loops over the
 * weights, norms and eigenvalues from ml-matrix.
 */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { compositionScores, fullOvCircuit, fullQkCircuit, ovCircuit, ovCopyingScores, qkCircuit } from "../../src/analysis/circuits";
import { HookedTransformer } from "../../src/model/hookedTransformer";

beforeAll(async () => {
  await ready();
});

const CONFIGS = {
  "multi-head": { nLayers: 3, dModel: 12, nHeads: 2, dHead: 4, dVocab: 9, nCtx: 6, attnOnly: true, seed: 4 },
  "grouped-query": { nLayers: 2, dModel: 12, nHeads: 4, nKeyValueHeads: 2, dHead: 3, dVocab: 7, nCtx: 6, dMlp: 8, normalizationType: "RMS" as const, seed: 9 },
};

/** Per-head weight matrices as ml-matrix, query heads' view (key/value heads repeated for GQA). */
function headWeights(model: HookedTransformer) {
  const { nHeads } = model.cfg;
  const get = (t: tf.Tensor) => t.arraySync() as number[][][][];
  const [wq, wk, wv, wo] = [get(model.W_Q), get(model.W_K), get(model.W_V), get(model.W_O)];
  const group = nHeads / wk[0].length;
  return {
    Q: (l: number, h: number) => new Matrix(wq[l][h]),
    K: (l: number, h: number) => new Matrix(wk[l][Math.floor(h / group)]),
    V: (l: number, h: number) => new Matrix(wv[l][Math.floor(h / group)]),
    O: (l: number, h: number) => new Matrix(wo[l][h]),
    E: new Matrix(model.W_E.arraySync() as number[][]),
    U: new Matrix(model.W_U.arraySync() as number[][]),
  };
}

function frobenius(m: Matrix): number {
  return Math.sqrt(m.to1DArray().reduce((s, x) => s + x * x, 0));
}

function maxDifference(a: number[], b: number[]): number {
  return Math.max(...a.map((x, i) => Math.abs(x - b[i])));
}

describe.each(Object.entries(CONFIGS))("circuits of a random %s model", (_, config) => {
  it("QK, OV, full QK and full OV equal the matrices multiplied out head by head", async () => {
    const model = await HookedTransformer.create(config);
    const w = headWeights(model); // builds the model's stacked weights, which the model keeps
    const before = tf.memory().numTensors;
    const circuits = { qk: qkCircuit(model), ov: ovCircuit(model), fullQk: fullQkCircuit(model), fullOv: fullOvCircuit(model) };
    const materialised = Object.fromEntries(Object.entries(circuits).map(([name, f]) => {
      const ab = f.AB();
      const values = ab.arraySync() as number[][][][];
      ab.dispose();
      return [name, values];
    }));
    for (let l = 0; l < config.nLayers; l++) {
      for (let h = 0; h < config.nHeads; h++) {
        const qk = w.Q(l, h).mmul(w.K(l, h).transpose());
        const ov = w.V(l, h).mmul(w.O(l, h));
        expect(maxDifference(materialised.qk[l][h].flat(), qk.to1DArray())).toBeLessThan(1e-4);
        expect(maxDifference(materialised.ov[l][h].flat(), ov.to1DArray())).toBeLessThan(1e-4);
        expect(maxDifference(materialised.fullQk[l][h].flat(), w.E.mmul(qk).mmul(w.E.transpose()).to1DArray())).toBeLessThan(1e-3);
        expect(maxDifference(materialised.fullOv[l][h].flat(), w.E.mmul(ov).mmul(w.U).to1DArray())).toBeLessThan(1e-3);
      }
    }
    for (const f of Object.values(circuits)) f.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("copying scores: Σ Re λ / Σ |λ| over the full OV circuit's eigenvalues", async () => {
    const model = await HookedTransformer.create(config);
    const w = headWeights(model); // builds the model's stacked weights, which the model keeps
    const before = tf.memory().numTensors;
    const scores = ovCopyingScores(model);
    const ours = scores.arraySync() as number[][];
    scores.dispose();
    for (let l = 0; l < config.nLayers; l++) {
      for (let h = 0; h < config.nHeads; h++) {
        const e = new EigenvalueDecomposition(w.E.mmul(w.V(l, h)).mmul(w.O(l, h)).mmul(w.U));
        const re = e.realEigenvalues;
        const im = e.imaginaryEigenvalues;
        const expected = re.reduce((s, x) => s + x, 0) / re.reduce((s, x, i) => s + Math.hypot(x, im[i]), 0);
        expect(ours[l][h]).toBeCloseTo(expected, 3);
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("composition scores: ‖OV₁ R₂‖ / (‖OV₁‖ ‖R₂‖) for earlier → later heads, zero otherwise", async () => {
    const model = await HookedTransformer.create(config);
    const w = headWeights(model); // builds the model's stacked weights, which the model keeps
    const before = tf.memory().numTensors;
    const readers = {
      Q: (l: number, h: number) => w.Q(l, h).mmul(w.K(l, h).transpose()),
      K: (l: number, h: number) => w.K(l, h).mmul(w.Q(l, h).transpose()),
      V: (l: number, h: number) => w.V(l, h).mmul(w.O(l, h)),
    };
    for (const kind of ["Q", "K", "V"] as const) {
      const scores = compositionScores(model, kind);
      expect(scores.shape).toEqual([config.nLayers, config.nHeads, config.nLayers, config.nHeads]);
      const ours = scores.arraySync();
      scores.dispose();
      for (let l1 = 0; l1 < config.nLayers; l1++) for (let h1 = 0; h1 < config.nHeads; h1++) {
        const writer = w.V(l1, h1).mmul(w.O(l1, h1));
        for (let l2 = 0; l2 < config.nLayers; l2++) for (let h2 = 0; h2 < config.nHeads; h2++) {
          const reader = readers[kind](l2, h2);
          const expected = l1 < l2 ? frobenius(writer.mmul(reader)) / (frobenius(writer) * frobenius(reader)) : 0;
          expect(ours[l1][h1][l2][h2]).toBeCloseTo(expected, 4);
        }
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
