/**
 * The shipped modadd organism adds mod p, measured live on the full train/test split with the
 * model's own forward pass; an early checkpoint has memorised the training pairs without
 * generalising (grokking happened between them); the final embedding is concentrated on a few
 * Fourier frequencies. Also: the data split, the last-position fast path against model.forward
 * (logits and gradients), the checkpoint choice, and the training plumbing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { frequencyNorms, keyFrequencies } from "../../src/analysis/modularFourier";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { listOrganismCheckpoints, loadOrganism, organismTrainingRecord } from "../../src/organisms/loadOrganism";
import { isPrime, modaddAllPairs, modaddSplit, modaddTokens, type ModaddExamples } from "../../src/organisms/modadd/modaddData";
import { chooseCheckpoints, MODADD_P, modaddAccuracy, modaddConfig, modaddLogits, modaddOrganism, modaddTokenizer } from "../../src/organisms/modadd/modaddOrganism";
import { trainOrganism } from "../../src/organisms/trainOrganism";

let scratch: string;
beforeAll(async () => {
  await ready();
  scratch = mkdtempSync(join(tmpdir(), "mechlab-modadd-test-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Accuracy of the model's full forward pass (all positions, logits read at the last one) on examples. */
function forwardAccuracy(model: HookedTransformer, examples: ModaddExamples, p: number): number {
  return tf.tidy(() => {
    const logits = model.forward(modaddTokens(examples, p), { returnType: "logits" }) as tf.Tensor3D; // [N, 3, p]
    const predicted = logits.slice([0, 2, 0], [-1, 1, -1]).squeeze([1]).argMax(1).dataSync();
    let correct = 0;
    predicted.forEach((v, i) => (correct += v === examples.labels[i] ? 1 : 0));
    return correct / examples.labels.length;
  });
}

describe("modadd data", () => {
  it("splits all p² pairs 30 / 70 by seed, with correct labels and [a, b, =] tokens", () => {
    const split = modaddSplit(113, 0);
    expect(split.train.a.length).toBe(3830);
    expect(split.test.a.length).toBe(113 * 113 - 3830);
    const seen = new Set<number>();
    for (const set of [split.train, split.test]) {
      for (let i = 0; i < set.a.length; i++) {
        expect(set.labels[i]).toBe((set.a[i] + set.b[i]) % 113);
        seen.add(set.a[i] * 113 + set.b[i]);
      }
    }
    expect(seen.size).toBe(113 * 113); // disjoint and covering
    expect(modaddSplit(113, 0).train.a).toEqual(split.train.a); // repeatable
    expect(modaddSplit(113, 1).train.a).not.toEqual(split.train.a); // seed-dependent
    const before = tf.memory().numTensors;
    const tokens = modaddTokens(modaddAllPairs(7), 7);
    expect(tokens.shape).toEqual([49, 3]);
    expect(tokens.arraySync()[10]).toEqual([1, 3, 7]);
    tokens.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(modaddTokenizer(7).encode("3 5 =")).toEqual([3, 5, 7]);
    expect(isPrime(113) && !isPrime(111)).toBe(true);
    expect(() => modaddSplit(12, 0)).toThrow(/modulus p must be a prime ≥ 3, got 12/);
    expect(() => modaddSplit(13, 0, 1.5)).toThrow(/trainFraction must be in \(0, 1\), got 1.5/);
  });
});

describe("modaddLogits (the last position only)", () => {
  it("equals model.forward at the last position, logits and gradients, on random weights", async () => {
    const p = 13;
    // A larger init range than the default so attention is far from uniform.
    const model = await HookedTransformer.create({ ...modaddConfig(p), seed: 5, initRange: 0.2 });
    const pairs = modaddAllPairs(p);
    const before = tf.memory().numTensors;
    const a = tf.tensor1d(pairs.a, "int32");
    const b = tf.tensor1d(pairs.b, "int32");
    const tokens = modaddTokens(pairs, p);
    const targets = tf.tidy(() => tf.oneHot(tf.tensor1d(pairs.labels, "int32"), p).toFloat());
    const lastOfForward = () => (model.forward(tokens, { returnType: "logits" }) as tf.Tensor3D).slice([0, 2, 0], [-1, 1, -1]).squeeze([1]) as tf.Tensor2D;
    const fast = modaddLogits(model, a, b);
    const full = tf.tidy(lastOfForward);
    expect(fast.shape).toEqual([p * p, p]);
    const scale = tf.tidy(() => full.abs().max().dataSync()[0]);
    expect(scale).toBeGreaterThan(0.1);
    expect(tf.tidy(() => fast.sub(full).abs().max().dataSync()[0])).toBeLessThan(1e-4 * Math.max(1, scale));
    // Same function, so the same gradient for every parameter.
    const lossOf = (logits: () => tf.Tensor2D) => () => tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits()), targets), 1))) as tf.Scalar;
    const fastGrads = tf.variableGrads(lossOf(() => modaddLogits(model, a, b)), model.parameters());
    const fullGrads = tf.variableGrads(lossOf(lastOfForward), model.parameters());
    const [fastLoss, fullLoss] = [fastGrads.value.dataSync()[0], fullGrads.value.dataSync()[0]];
    expect(Math.abs(fastLoss - fullLoss)).toBeLessThan(1e-5 * fullLoss);
    expect(Object.keys(fastGrads.grads).sort()).toEqual(Object.keys(fullGrads.grads).sort());
    for (const [name, g] of Object.entries(fullGrads.grads)) {
      const gScale = tf.tidy(() => g.abs().max().dataSync()[0]);
      const diff = tf.tidy(() => fastGrads.grads[name].sub(g).abs().max().dataSync()[0]);
      // (b_K's gradient is 0 up to rounding: a shift of every key leaves the softmax unchanged.)
      expect(diff, name).toBeLessThan(1e-4 * gScale + 1e-6);
    }
    tf.dispose([fast, full, a, b, tokens, targets, fastGrads.value, fullGrads.value, ...Object.values(fastGrads.grads), ...Object.values(fullGrads.grads)]);
    expect(tf.memory().numTensors).toBe(before);
    // Bad input: float operands, a model of another shape.
    const floats = tf.tensor1d([1, 2]);
    expect(() => modaddLogits(model, floats as tf.Tensor1D, floats as tf.Tensor1D)).toThrow(/a and b must be int32 vectors of one length \[N\]; got float32 \[2\]/);
    floats.dispose();
    model.dispose();
    const other = await HookedTransformer.create({ nLayers: 2, dModel: 8, dHead: 4, nHeads: 2, dVocab: 8, nCtx: 4, normalizationType: "LN", seed: 1 });
    const ints = tf.tensor1d([1], "int32");
    expect(() => modaddLogits(other, ints, ints)).toThrow(/not a modadd model: nLayers 2 \(expected 1\); normalizationType "LN" \(expected "none"\)/);
    ints.dispose();
    other.dispose();
  });
});

describe("chooseCheckpoints", () => {
  it("keeps the start, the end, memorisation and the test-accuracy jump, then fills the widest gaps", () => {
    const candidates = Array.from({ length: 51 }, (_, i) => i * 100);
    // Train accuracy 1 from step 300; test accuracy rises from step 2000 to 3000.
    const evals = candidates.map((step) => ({ step, metrics: { trainAccuracy: step >= 300 ? 1 : 0.1, testAccuracy: Math.min(1, Math.max(0, (step - 2000) / 1000)) } }));
    const chosen = chooseCheckpoints(candidates, evals, 13);
    expect(chosen).toHaveLength(13);
    expect(chosen[0]).toBe(0);
    expect(chosen.at(-1)).toBe(5000);
    expect(chosen).toContain(300); // memorised
    for (const step of [2100, 2200, 2500, 2800, 2950, 2990].map((s) => Math.ceil(s / 100) * 100)) expect(chosen).toContain(step);
    expect(new Set(chosen).size).toBe(13);
    expect([...chosen].sort((x, y) => x - y)).toEqual(chosen);
    expect(chooseCheckpoints([0, 100], evals, 13)).toEqual([0, 100]);
  });
});

describe("modadd, shipped", () => {
  it(`adds mod ${MODADD_P} on the whole test split, and its embedding lives on a few key frequencies`, async () => {
    const before = tf.memory().numTensors;
    const model = await loadOrganism("modadd");
    const record = organismTrainingRecord("modadd");
    const p = model.cfg.dVocabOut;
    expect(p).toBe(MODADD_P);
    const split = modaddSplit(p, record.seed);
    // Measured with the model's own forward pass over all three positions.
    const trainAccuracy = forwardAccuracy(model, split.train, p);
    const testAccuracy = forwardAccuracy(model, split.test, p);
    expect(trainAccuracy).toBeGreaterThanOrEqual(0.99);
    expect(testAccuracy).toBeGreaterThanOrEqual(0.99);
    // Fourier: the key frequencies (at most 8 of (p − 1)/2) hold most of W_E's non-constant energy.
    const key = keyFrequencies(frequencyNorms(model.W_E, p));
    expect(key.frequencies.length).toBeGreaterThanOrEqual(1);
    expect(key.frequencies.length).toBeLessThanOrEqual(8);
    expect(key.share).toBeGreaterThanOrEqual(0.6);
    // What training recorded is what the shipped weights show now.
    const metrics = await modaddOrganism.evaluate(model);
    expect(Object.keys(metrics).sort()).toEqual(Object.keys(record.metrics).sort());
    for (const [name, value] of Object.entries(record.metrics)) expect(metrics[name], name).toBeCloseTo(value, 5);
    expect(metrics.testAccuracy).toBeCloseTo(testAccuracy, 5);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("ships checkpoints from initialisation to clean-up, one of them memorised but not yet generalising", async () => {
    const record = organismTrainingRecord("modadd");
    expect(record.command).toBe("mechlab train modadd");
    expect(record.steps).toBe(modaddOrganism.defaultSteps);
    expect(record.seed).toBe(modaddOrganism.defaultSeed);
    const steps = listOrganismCheckpoints("modadd");
    expect(steps).toEqual(record.checkpoints);
    expect(steps.length).toBeGreaterThanOrEqual(10);
    expect(steps[0]).toBe(0);
    expect(steps.at(-1)).toBe(record.steps);
    const split = modaddSplit(MODADD_P, record.seed);
    const before = tf.memory().numTensors;
    const curve: { step: number; train: number; test: number }[] = [];
    for (const step of steps) {
      const model = await loadOrganism("modadd", { checkpoint: step });
      curve.push({ step, train: modaddAccuracy(model, split.train).accuracy, test: modaddAccuracy(model, split.test).accuracy });
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(curve[0].test).toBeLessThan(0.05); // chance is 1/p
    const memorised = curve.find((c) => c.train >= 0.99 && c.test <= 0.5);
    expect(memorised, JSON.stringify(curve)).toBeDefined();
    expect(curve.at(-1)!.test).toBeGreaterThanOrEqual(0.99);
    // Between them the test accuracy climbs (the checkpoints cover the jump, not only its ends).
    expect(curve.some((c) => c.step > memorised!.step && c.test > 0.5 && c.test < 0.99) || curve.filter((c) => c.step > memorised!.step && c.test <= 0.5).length >= 2).toBe(true);
    const history = JSON.parse(readFileSync(join(__dirname, "../../models/modadd/history.json"), "utf8"));
    expect(history.training.step).toHaveLength(record.steps);
    expect(history.evals.at(-1).step).toBe(record.steps);
    expect(history.evals[1].metrics).toHaveProperty("testAccuracy");
  });
});

describe("training modadd", () => {
  it("writes the shipped layout with its record and history, loadable from that folder", async () => {
    const out = join(scratch, "modadd");
    const record = await trainOrganism("modadd", { outDir: out, steps: 3, seed: 2, progress: false });
    expect(record).toMatchObject({ organism: "modadd", seed: 2, steps: 3, stopped: false });
    expect(record.checkpoints).toEqual([0, 3]);
    expect(existsSync(join(out, ".run"))).toBe(false);
    for (const file of ["config.json", "model.safetensors", "training.json", "README.md", "history.json"]) expect(existsSync(join(out, file)), file).toBe(true);
    const history = JSON.parse(readFileSync(join(out, "history.json"), "utf8"));
    expect(history.training.step).toEqual([1, 2, 3]);
    expect(history.evals.map((e: { step: number }) => e.step)).toEqual([0, 3]);
    const before = tf.memory().numTensors;
    const model = await loadOrganism("modadd", { modelsDir: scratch });
    expect(model.cfg.seed).toBe(2);
    expect(await modaddOrganism.evaluate(model)).toEqual(record.metrics);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
