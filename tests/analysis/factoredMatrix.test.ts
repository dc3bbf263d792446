/**
 * FactoredMatrix against the materialised product, with an independent oracle: plain-loop
 * products and ml-matrix's SVD / eigendecomposition of the full m × n matrix.
 */
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from "ml-matrix";
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { FactoredMatrix } from "../../src/analysis/factoredMatrix";
import { SeededRandom } from "../../src/train/seededRandom";

beforeAll(async () => {
  await ready();
});

function randomArray(random: SeededRandom, shape: number[]): number[] {
  return Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.normal());
}

/** Plain-loop product of row-major a [m, k] and b [k, n]. */
function product(a: number[], b: number[], m: number, k: number, n: number): number[][] {
  return Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let t = 0; t < k; t++) s += a[i * k + t] * b[t * n + j];
    return s;
  }));
}

/** Nested arrays of numbers, compared element by element. */
function expectClose(actual: unknown[], expected: unknown[], tolerance: number): void {
  const a = (actual as number[]).flat(Infinity as 1) as number[];
  const e = (expected as number[]).flat(Infinity as 1) as number[];
  expect(a.length).toBe(e.length);
  const worst = Math.max(...a.map((x, i) => Math.abs(x - e[i])));
  expect(worst).toBeLessThan(tolerance);
}

describe("FactoredMatrix", () => {
  const random = new SeededRandom(11);
  const [m, k, n] = [9, 3, 7];
  const aData = randomArray(random, [2, m, k]);
  const bData = randomArray(random, [2, k, n]);

  it("AB, norm, transpose and products equal the materialised matrix", () => {
    const before = tf.memory().numTensors;
    const A = tf.tensor(aData, [2, m, k]);
    const B = tf.tensor(bData, [2, k, n]);
    const f = new FactoredMatrix(A, B);
    A.dispose();
    B.dispose();
    expect(f.shape).toEqual([2, m, n]);
    const expected = [0, 1].map((i) => product(aData.slice(i * m * k), bData.slice(i * k * n), m, k, n));
    const ab = f.AB();
    expectClose(ab.arraySync() as number[][], expected, 1e-4);
    const norm = f.norm();
    expectClose(norm.arraySync() as number[], expected.map((mat) => Math.sqrt(mat.flat().reduce((s, x) => s + x * x, 0))), 1e-3);
    const t = f.transpose();
    const tab = t.AB();
    expectClose(tab.arraySync() as number[][], expected.map((mat) => mat[0].map((_, j) => mat.map((row) => row[j]))), 1e-4);
    // (AB) C and C (AB) for a plain matrix C, and (AB)(AB)ᵀ for two factored ones.
    const cData = randomArray(random, [n, 4]);
    const C = tf.tensor(cData, [n, 4]);
    const right = f.matmul(C);
    const rightAb = right.AB();
    expectClose(rightAb.arraySync() as number[][], expected.map((mat) => product(mat.flat(), cData, m, n, 4)), 1e-3);
    const D = tf.tidy(() => tf.tensor(cData, [n, 4]).transpose()); // [4, n]
    const left = t.leftMatmul(D); // D (AB)ᵀ: [2, 4, m]
    const leftAb = left.AB();
    const dData = D.arraySync() as number[][];
    expectClose(leftAb.arraySync() as number[][], expected.map((mat) => product(dData.flat(), mat[0].map((_, j) => mat.map((row) => row[j])).flat(), 4, n, m)), 1e-3);
    const gram = f.matmul(t);
    expect(gram.mdim).toBe(k);
    const gramAb = gram.AB();
    expectClose(gramAb.arraySync() as number[][], expected.map((mat) => product(mat.flat(), mat[0].map((_, j) => mat.map((row) => row[j])).flat(), m, n, m)), 1e-3);
    const corner = f.corner(2);
    expectClose(corner.arraySync() as number[][], expected.map((mat) => mat.slice(0, 2).map((row) => row.slice(0, 2))), 1e-4);
    tf.dispose([ab, norm, tab, C, rightAb, D, leftAb, gramAb, corner]);
    for (const x of [f, t, right, left, gram]) x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("svd: the singular values of the full product, orthonormal vectors, and U S Vh = AB", () => {
    const before = tf.memory().numTensors;
    const f = FactoredMatrix.adopt(tf.tensor(aData, [2, m, k]), tf.tensor(bData, [2, k, n]));
    const { U, S, Vh } = f.svd();
    expect(U.shape).toEqual([2, m, k]);
    expect(S.shape).toEqual([2, k]);
    expect(Vh.shape).toEqual([2, k, n]);
    const s = S.arraySync() as number[][];
    const u = U.arraySync() as number[][][];
    const vh = Vh.arraySync() as number[][][];
    for (let i = 0; i < 2; i++) {
      const full = new Matrix(product(aData.slice(i * m * k), bData.slice(i * k * n), m, k, n));
      const oracle = new SingularValueDecomposition(full, { autoTranspose: true }).diagonal.slice(0, k);
      expectClose(s[i], oracle, 1e-3);
      const uM = new Matrix(u[i]);
      const vhM = new Matrix(vh[i]);
      expectClose(uM.transpose().mmul(uM).to2DArray(), Matrix.eye(k).to2DArray(), 1e-4);
      expectClose(vhM.mmul(vhM.transpose()).to2DArray(), Matrix.eye(k).to2DArray(), 1e-4);
      expectClose(uM.mmul(Matrix.diag(s[i])).mmul(vhM).to2DArray(), full.to2DArray(), 1e-3);
    }
    tf.dispose([U, S, Vh]);
    f.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("eigenvalues: the non-zero eigenvalues of the square product, complex ones included", () => {
    const before = tf.memory().numTensors;
    const r = new SeededRandom(5);
    const size = 8;
    const inner = 4;
    const a = randomArray(r, [size, inner]);
    const b = randomArray(r, [inner, size]);
    const f = FactoredMatrix.adopt(tf.tensor(a, [size, inner]), tf.tensor(b, [inner, size]));
    const { real, imag } = f.eigenvalues();
    const ours = (real.arraySync() as number[]).map((re, i) => [re, (imag.arraySync() as number[])[i]]);
    const e = new EigenvalueDecomposition(new Matrix(product(a, b, size, inner, size)));
    const oracle = e.realEigenvalues.map((re, i) => [re, e.imaginaryEigenvalues[i]]).filter(([re, im]) => Math.hypot(re, im) > 1e-6);
    expect(oracle).toHaveLength(inner);
    // Same multiset: each of ours matches a distinct oracle eigenvalue.
    const unused = [...oracle];
    for (const [re, im] of ours) {
      const j = unused.findIndex(([ore, oim]) => Math.hypot(ore - re, oim - im) < 1e-3);
      expect(j).toBeGreaterThanOrEqual(0);
      unused.splice(j, 1);
    }
    const moduli = ours.map(([re, im]) => Math.hypot(re, im));
    expect(moduli).toEqual([...moduli].sort((x, y) => y - x));
    tf.dispose([real, imag]);
    f.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("broadcasts leading axes, and svd pads when the product is narrower than k", () => {
    const r = new SeededRandom(2);
    const a = tf.tensor(randomArray(r, [3, 1, 5, 6]), [3, 1, 5, 6]);
    const b = tf.tensor(randomArray(r, [1, 4, 6, 2]), [1, 4, 6, 2]);
    const f = FactoredMatrix.adopt(a, b);
    expect(f.shape).toEqual([3, 4, 5, 2]);
    const { U, S, Vh } = f.svd();
    expect(S.shape).toEqual([3, 4, 6]);
    const s = (S.arraySync() as number[][][]).flat();
    for (const row of s) expect(row.slice(2).every((x) => x === 0)).toBe(true);
    const rebuilt = tf.tidy(() => tf.matMul(tf.mul(U.reshape([12, 5, 6]), S.reshape([12, 1, 6])), Vh.reshape([12, 6, 2])));
    const ab = f.AB();
    expectClose(rebuilt.arraySync() as number[][], ab.reshape([12, 5, 2]).arraySync() as number[][], 1e-3);
    tf.dispose([U, S, Vh, rebuilt, ab]);
    f.dispose();
  });

  it("rejects factors that do not fit, saying which dimensions", () => {
    const a = tf.zeros([4, 3]);
    const b = tf.zeros([2, 5]);
    expect(() => new FactoredMatrix(a, b)).toThrow(/inner dimensions must match: A is \[4,3\] \(…, m, k\), B is \[2,5\] \(…, k, n\); k = 3 vs 2/);
    const c = tf.zeros([2, 4, 3]);
    const d = tf.zeros([3, 3, 5]);
    expect(() => new FactoredMatrix(c, d)).toThrow(/leading axes of A and B do not broadcast: \[2\] vs \[3\]/);
    const f = new FactoredMatrix(a, tf.zeros([3, 5]));
    expect(() => f.BA()).toThrow(/must be square, it is 4 × 5/);
    f.dispose();
    tf.dispose([a, b, c, d]);
  });
});
