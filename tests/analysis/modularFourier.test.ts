/**
 * The Fourier basis of Z_p is orthonormal, per-frequency norms match a plain-loop DFT, and an
 * embedding planted from three known frequencies gives back exactly those frequencies.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { fourierBasis, fourierBasisRows, fourierCoefficients, fourierComponentNames, frequencyNorms, keyFrequencies } from "../../src/analysis/modularFourier";
import { SeededRandom } from "../../src/train/seededRandom";

beforeAll(async () => {
  await ready();
});

/** Oracle: the energy of W[:p] at frequency k by the DFT written out, (2/p)·Σ_j |Σ_x W[x, j]·e^(−2πikx/p)|² (k = 0: 1/p·Σ_j (Σ_x W[x, j])²). */
function dftNorms(W: number[][], p: number): number[] {
  const d = W[0].length;
  const norms: number[] = [];
  for (let k = 0; k <= (p - 1) / 2; k++) {
    let energy = 0;
    for (let j = 0; j < d; j++) {
      let re = 0;
      let im = 0;
      for (let x = 0; x < p; x++) {
        re += W[x][j] * Math.cos((2 * Math.PI * k * x) / p);
        im -= W[x][j] * Math.sin((2 * Math.PI * k * x) / p);
      }
      energy += (k === 0 ? 1 : 2) * (re * re + im * im) / p;
    }
    norms.push(Math.sqrt(energy));
  }
  return norms;
}

function randomMatrix(rows: number, cols: number, seed: number): number[][] {
  const random = new SeededRandom(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => random.normal()));
}

describe("fourierBasis", () => {
  it("is orthonormal: B·Bᵀ = I, for several primes", () => {
    for (const p of [3, 7, 13, 113]) {
      const rows = fourierBasisRows(p);
      expect(rows).toHaveLength(p);
      let worst = 0;
      for (let i = 0; i < p; i++) {
        for (let j = 0; j < p; j++) {
          let dot = 0;
          for (let x = 0; x < p; x++) dot += rows[i][x] * rows[j][x];
          worst = Math.max(worst, Math.abs(dot - (i === j ? 1 : 0)));
        }
      }
      expect(worst).toBeLessThan(1e-12);
    }
  });

  it("names its rows and matches the tensor version; rejects a modulus that is not an odd prime", () => {
    expect(fourierComponentNames(5)).toEqual(["const", "cos 1", "sin 1", "cos 2", "sin 2"]);
    const before = tf.memory().numTensors;
    const basis = fourierBasis(7);
    expect(basis.shape).toEqual([7, 7]);
    const values = basis.arraySync();
    fourierBasisRows(7).forEach((row, i) => row.forEach((v, x) => expect(values[i][x]).toBeCloseTo(v, 6)));
    // cos 1 at x = 1 is √(2/7)·cos(2π/7).
    expect(values[1][1]).toBeCloseTo(Math.sqrt(2 / 7) * Math.cos((2 * Math.PI) / 7), 6);
    basis.dispose();
    expect(tf.memory().numTensors).toBe(before);
    for (const bad of [2, 9, 1, 0, -7, 11.5]) expect(() => fourierBasisRows(bad)).toThrow(/p must be an odd prime \(the modulus of Z_p\), got/);
  });
});

describe("frequencyNorms", () => {
  it("matches a plain-loop DFT on a random [p + 1, d] matrix (the extra row is ignored), and keeps the total norm", () => {
    const p = 31;
    const W = randomMatrix(p + 1, 6, 4);
    const before = tf.memory().numTensors;
    const tensor = tf.tensor2d(W);
    const norms = frequencyNorms(tensor, p);
    const oracle = dftNorms(W, p);
    expect(norms).toHaveLength((p + 1) / 2);
    norms.forEach((n, k) => expect(Math.abs(n - oracle[k])).toBeLessThan(1e-4 * Math.max(1, oracle[k])));
    // Parseval: the energies add up to ‖W[:p]‖².
    const total = W.slice(0, p).flat().reduce((s, v) => s + v * v, 0);
    expect(norms.reduce((s, n) => s + n * n, 0)).toBeCloseTo(total, 2);
    const coefficients = fourierCoefficients(tensor, p);
    expect(coefficients.shape).toEqual([p, 6]);
    tf.dispose([tensor, coefficients]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects a matrix with fewer rows than p", () => {
    const small = tf.zeros([5, 3]);
    expect(() => frequencyNorms(small, 7)).toThrow(/at least p = 7 rows \(one per residue\), got shape \[5, 3\]/);
    small.dispose();
  });
});

describe("keyFrequencies", () => {
  it("recovers the three frequencies an embedding was planted with", () => {
    const p = 113;
    const planted = [14, 41, 52];
    const amplitudes = [3, 2, 1.5];
    const random = new SeededRandom(9);
    const d = 32;
    // Each planted frequency k writes cos(2πkx/p + phase) into a random direction, plus small noise everywhere.
    const directions = planted.map(() => Array.from({ length: d }, () => random.normal() / Math.sqrt(d)));
    const phases = planted.map(() => random.next() * 2 * Math.PI);
    const W = Array.from({ length: p + 1 }, (_, x) =>
      Array.from({ length: d }, (_, j) => planted.reduce((s, k, i) => s + amplitudes[i] * Math.cos((2 * Math.PI * k * x) / p + phases[i]) * directions[i][j], 0.02 * random.normal())),
    );
    const tensor = tf.tensor2d(W);
    const norms = frequencyNorms(tensor, p);
    tensor.dispose();
    const key = keyFrequencies(norms);
    expect(key.frequencies).toEqual(planted); // strongest first
    expect(key.share).toBeGreaterThan(0.95);
    expect(key.shares).toHaveLength((p - 1) / 2);
    expect(key.shares.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
    // A stricter threshold keeps only the strongest; maxCount caps the list.
    expect(keyFrequencies(norms, { minShare: 0.4 }).frequencies).toEqual([14]);
    expect(keyFrequencies(norms, { maxCount: 2 }).frequencies).toEqual([14, 41]);
  });

  it("finds none in white noise, and rejects bad options", () => {
    const W = randomMatrix(113, 64, 2);
    const tensor = tf.tensor2d(W);
    const key = keyFrequencies(frequencyNorms(tensor, 113));
    tensor.dispose();
    expect(key.frequencies).toEqual([]);
    expect(key.share).toBe(0);
    expect(() => keyFrequencies([1])).toThrow(/expected the per-frequency norms/);
    expect(() => keyFrequencies([1, 2, 3], { minShare: 2 })).toThrow(/minShare must be in \[0, 1\], got 2/);
    expect(() => keyFrequencies([1, 2, 3], { maxCount: 0 })).toThrow(/maxCount must be a whole number ≥ 1, got 0/);
  });
});
