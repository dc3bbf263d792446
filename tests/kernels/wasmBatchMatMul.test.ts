/**
 * The wasm BatchMatMul wrapper (explicit transposes, batch folded into rows) computes the same
 * products as a plain loop, for every transpose flag, batched and broadcast shapes, and their
 * gradients; and it leaves no tensors or backend memory behind.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";

beforeAll(async () => {
  await ready();
});

function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, "float32", seed);
}

/** Plain-loop product of the last two axes, batch axes broadcast; flags transpose the inputs. */
function referenceMatMul(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): { shape: number[]; values: number[] } {
  const A = a.arraySync() as unknown;
  const B = b.arraySync() as unknown;
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const padA = [...Array(rank - batchA.length).fill(1), ...batchA];
  const padB = [...Array(rank - batchB.length).fill(1), ...batchB];
  const batch = padA.map((d, i) => Math.max(d, padB[i]));
  const m = ta ? a.shape.at(-1)! : a.shape.at(-2)!;
  const k = ta ? a.shape.at(-2)! : a.shape.at(-1)!;
  const n = tb ? b.shape.at(-2)! : b.shape.at(-1)!;
  const pick = (x: unknown, index: number[], pad: number[], own: number): number[][] => {
    let v = x as unknown[];
    index.slice(rank - own).forEach((i, j) => (v = v[pad[rank - own + j] === 1 ? 0 : i] as unknown[]));
    return v as number[][];
  };
  const values: number[] = [];
  const total = batch.reduce((s, d) => s * d, 1);
  for (let flat = 0; flat < total; flat++) {
    const index: number[] = [];
    let rest = flat;
    for (let i = rank - 1; i >= 0; i--) {
      index.unshift(rest % batch[i]);
      rest = Math.floor(rest / batch[i]);
    }
    const matA = pick(A, index, padA, batchA.length);
    const matB = pick(B, index, padB, batchB.length);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += (ta ? matA[t][i] : matA[i][t]) * (tb ? matB[j][t] : matB[t][j]);
        values.push(s);
      }
    }
  }
  return { shape: [...batch, m, n], values };
}

describe("BatchMatMul on wasm", () => {
  it("runs on the wasm backend with the wrapper in place", () => {
    expect(tf.getBackend()).toBe("wasm");
    expect((tf.getKernel("BatchMatMul", "wasm")!.kernelFunc as { mechlabWrapped?: boolean }).mechlabWrapped).toBe(true);
  });

  const cases: [string, number[], number[]][] = [
    ["2-D", [5, 7], [7, 3]],
    ["batched, same batch", [4, 5, 7], [4, 7, 3]],
    ["batch of rows times one matrix", [4, 5, 7], [1, 7, 3]],
    ["rank 4 times one matrix", [2, 3, 5, 7], [1, 1, 7, 3]],
  ];
  for (const [name, shapeA, shapeB] of cases) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      it(`${name}, transposeA=${ta}, transposeB=${tb}: equals the plain loop`, () => {
        const swap = (s: number[], t: boolean) => (t ? [...s.slice(0, -2), s.at(-1)!, s.at(-2)!] : s);
        const a = randomTensor(swap(shapeA, ta), 1);
        const b = randomTensor(swap(shapeB, tb), 2);
        const before = tf.memory();
        const out = tf.matMul(a, b, ta, tb);
        const expected = referenceMatMul(a, b, ta, tb);
        expect(out.shape).toEqual(expected.shape);
        [...out.dataSync()].forEach((v, i) => expect(v).toBeCloseTo(expected.values[i], 4));
        out.dispose();
        expect(tf.memory().numTensors).toBe(before.numTensors);
        expect(tf.memory().numBytes).toBe(before.numBytes);
        tf.dispose([a, b]);
      });
    }
  }

  it("gradients through the wrapped kernel match finite differences", () => {
    // (tfjs's matMul gradient does not reduce broadcast batch axes, so both have the batch.)
    const a = randomTensor([3, 4, 5], 3);
    const b = randomTensor([3, 5, 2], 4);
    const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y).square().sum() as tf.Scalar;
    const [ga, gb] = tf.grads(f)([a, b]);
    const eps = 1e-2;
    for (const [which, index] of [[0, 7], [0, 40], [1, 3], [1, 25]] as const) {
      const base = which === 0 ? a : b;
      const delta = tf.tidy(() => tf.oneHot([index], base.size).reshape(base.shape).mul(eps));
      const plus = which === 0 ? f(a.add(delta), b) : f(a, b.add(delta));
      const minus = which === 0 ? f(a.sub(delta), b) : f(a, b.sub(delta));
      const numeric = (plus.dataSync()[0] - minus.dataSync()[0]) / (2 * eps);
      const analytic = (which === 0 ? ga : gb).dataSync()[index];
      expect(analytic).toBeCloseTo(numeric, 1);
      tf.dispose([delta, plus, minus]);
    }
    tf.dispose([a, b, ga, gb]);
  });
});
