/**
 * AdamW, learning-rate schedules and gradient clipping against plain-loop references of the
 * formulas (torch.optim.AdamW, torch's clip_grad_norm_), and their input checks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { AdamW } from "../../src/train/adamW";
import { clipByGlobalNorm } from "../../src/train/clipGradients";
import { learningRateAt } from "../../src/train/learningRateSchedule";
import { SeededRandom } from "../../src/train/seededRandom";

beforeAll(async () => {
  await ready();
});

/** A variable holding `value` (which is freed). */
function variableOf(value: tf.Tensor): tf.Variable {
  const variable = tf.variable(value);
  value.dispose();
  return variable;
}

/** torch.optim.AdamW's update, one number at a time. */
function adamWReference(p: number[], grads: number[][], lrs: number[], o: { b1: number; b2: number; eps: number; wd: number; decays: boolean }): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const out = [...p];
  grads.forEach((g, s) => {
    const t = s + 1;
    for (let i = 0; i < out.length; i++) {
      if (o.decays) out[i] *= 1 - lrs[s] * o.wd;
      m[i] = o.b1 * m[i] + (1 - o.b1) * g[i];
      v[i] = o.b2 * v[i] + (1 - o.b2) * g[i] * g[i];
      const mHat = m[i] / (1 - o.b1 ** t);
      const vHat = v[i] / (1 - o.b2 ** t);
      out[i] -= (lrs[s] * mHat) / (Math.sqrt(vHat) + o.eps);
    }
  });
  return out;
}

describe("AdamW", () => {
  it("matches the plain-loop update over several steps, with and without decay, with a changing rate", () => {
    const before = tf.memory().numTensors;
    const random = new SeededRandom(5);
    const w0 = Array.from({ length: 6 }, () => random.normal());
    const b0 = Array.from({ length: 3 }, () => random.normal());
    const gw = Array.from({ length: 7 }, () => Array.from({ length: 6 }, () => random.normal() * 0.3));
    const gb = Array.from({ length: 7 }, () => Array.from({ length: 3 }, () => random.normal()));
    const lrs = [0.01, 0.02, 0.05, 0.05, 0.03, 0.01, 0.001];
    const w = variableOf(tf.tensor2d(w0, [2, 3]));
    const b = variableOf(tf.tensor1d(b0));
    const opt = new AdamW({ w, b }, { betas: [0.9, 0.98], eps: 1e-6, weightDecay: 0.5, decays: (name) => name === "w" });
    for (let s = 0; s < 7; s++) {
      const grads = { w: tf.tensor2d(gw[s], [2, 3]), b: tf.tensor1d(gb[s]) };
      opt.step(grads, lrs[s]);
      tf.dispose(Object.values(grads));
    }
    const expectedW = adamWReference(w0, gw, lrs, { b1: 0.9, b2: 0.98, eps: 1e-6, wd: 0.5, decays: true });
    const expectedB = adamWReference(b0, gb, lrs, { b1: 0.9, b2: 0.98, eps: 1e-6, wd: 0.5, decays: false });
    [...w.dataSync()].forEach((x, i) => expect(x).toBeCloseTo(expectedW[i], 5));
    [...b.dataSync()].forEach((x, i) => expect(x).toBeCloseTo(expectedB[i], 5));
    expect(opt.stepCount).toBe(7);
    opt.dispose();
    w.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("state round-trips: a restored optimiser continues exactly as the original", () => {
    const make = () => tf.variable(tf.tensor1d([1, -2, 3]));
    const [p1, p2] = [make(), make()];
    const a = new AdamW({ p: p1 }, { weightDecay: 0.1 });
    const g = tf.tensor1d([0.3, -0.1, 0.2]);
    a.step({ p: g }, 0.1);
    a.step({ p: g }, 0.1);
    p2.assign(p1);
    const b = new AdamW({ p: p2 }, { weightDecay: 0.1 });
    b.loadState(a.stateTensors(), a.stepCount);
    a.step({ p: g }, 0.05);
    b.step({ p: g }, 0.05);
    expect([...p2.dataSync()]).toEqual([...p1.dataSync()]);
    tf.dispose([p1, p2, g]);
    a.dispose();
    b.dispose();
  });

  it("says what is wrong with bad settings and gradients", () => {
    const p = tf.variable(tf.zeros([2]));
    expect(() => new AdamW({ p }, { betas: [1, 0.9] })).toThrow(/betas must be in \[0, 1\)/);
    expect(() => new AdamW({ p: tf.zeros([2]) as unknown as tf.Variable })).toThrow(/not a tf.Variable/);
    const opt = new AdamW({ p });
    const g = tf.zeros([3]);
    expect(() => opt.step({ p: g })).toThrow(/gradient "p" has shape \[3\], the parameter \[2\]/);
    expect(() => opt.step({ q: g })).toThrow(/not one of this optimiser's parameters/);
    expect(opt.stepCount).toBe(0);
    tf.dispose([p, g]);
    opt.dispose();
  });
});

describe("learning-rate schedules", () => {
  it("warm-up is linear up to the peak; constant, linear and cosine reach their ends", () => {
    const warm = { lr: 1, warmupSteps: 4 };
    expect([0, 1, 2, 3, 4, 9].map((s) => learningRateAt(s, warm))).toEqual([0.25, 0.5, 0.75, 1, 1, 1]);
    const cosine = { lr: 1, shape: "cosine" as const, warmupSteps: 2, totalSteps: 12, minLr: 0.1 };
    expect(learningRateAt(2, cosine)).toBeCloseTo(1, 12);
    expect(learningRateAt(7, cosine)).toBeCloseTo(0.1 + 0.9 * 0.5, 12); // half way: cos(π/2) = 0
    expect(learningRateAt(12, cosine)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(50, cosine)).toBeCloseTo(0.1, 12);
    const linear = { lr: 2, shape: "linear" as const, totalSteps: 10 };
    expect(learningRateAt(5, linear)).toBeCloseTo(1, 12);
    expect(learningRateAt(10, linear)).toBeCloseTo(0, 12);
  });

  it("rejects schedules that cannot be followed", () => {
    expect(() => learningRateAt(0, { lr: 0 })).toThrow(/lr must be a positive number/);
    expect(() => learningRateAt(0, { lr: 1, shape: "cosine" })).toThrow(/needs totalSteps/);
    expect(() => learningRateAt(0, { lr: 1, shape: "wavy" as never })).toThrow(/shape must be/);
    expect(() => learningRateAt(0, { lr: 1, minLr: 2, shape: "linear", totalSteps: 3 })).toThrow(/minLr must be in \[0, lr\]/);
  });
});

describe("clipByGlobalNorm", () => {
  it("scales every gradient by maxNorm / norm when the joint norm is larger, leaves them otherwise", () => {
    const before = tf.memory().numTensors;
    const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor2d([[0, 4]]) }; // joint norm 5
    const clipped = clipByGlobalNorm(grads, 1);
    expect(clipped.norm).toBeCloseTo(5, 6);
    expect(clipped.clipped).toBe(true);
    expect([...clipped.grads.a.dataSync()].map((x) => x * 5)).toEqual([expect.closeTo(3, 4), 0]);
    expect([...clipped.grads.b.dataSync()].map((x) => x * 5)).toEqual([0, expect.closeTo(4, 4)]);
    const kept = clipByGlobalNorm(grads, 10);
    expect(kept.clipped).toBe(false);
    expect(kept.grads.a).toBe(grads.a);
    tf.dispose([...Object.values(grads), ...Object.values(clipped.grads)]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => clipByGlobalNorm({}, 0)).toThrow(/maxNorm must be a positive number/);
  });
});

describe("SeededRandom", () => {
  it("repeats from a seed, differs across seeds and steps, and is roughly uniform", () => {
    const draw = (r: SeededRandom) => Array.from({ length: 5 }, () => r.uint32());
    expect(draw(new SeededRandom(1))).toEqual(draw(new SeededRandom(1)));
    expect(draw(new SeededRandom(1))).not.toEqual(draw(new SeededRandom(2)));
    expect(draw(SeededRandom.forStep(1, 3))).toEqual(draw(SeededRandom.forStep(1, 3)));
    expect(draw(SeededRandom.forStep(1, 3))).not.toEqual(draw(SeededRandom.forStep(1, 4)));
    const r = new SeededRandom(9);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40000; i++) counts[r.int(4)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400);
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < 20000; i++) {
      const x = r.normal();
      sum += x;
      squares += x * x;
    }
    expect(Math.abs(sum / 20000)).toBeLessThan(0.03);
    expect(Math.abs(squares / 20000 - 1)).toBeLessThan(0.05);
  });
});
