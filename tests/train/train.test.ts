/**
 * The training loop: it learns (regression to known weights; a tiny transformer's loss falls),
 * a resumed run ends bit for bit where an uninterrupted one does, a stop keeps a checkpoint,
 * checkpoints load as models, bad input is refused clearly, and nothing leaks.
 */
import { mkdtempSync, rmSync, existsSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { listCheckpoints } from "../../src/train/trainingCheckpoint";
import { train, type TrainOptions } from "../../src/train/train";
import { trainingProgress } from "../../src/train/trainingProgress";
import type { SeededRandom } from "../../src/train/seededRandom";

let scratch: string;
beforeAll(async () => {
  await ready();
  scratch = mkdtempSync(join(tmpdir(), "mechlab-train-test-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const TRUE_W = [1.5, -2, 0.5, 3];

/** y = X·w* + small noise; X [32, 4] from the step's generator. */
function regressionBatch(_step: number, random: SeededRandom): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const xs = Array.from({ length: 32 * 4 }, () => random.normal());
  const ys = Array.from({ length: 32 }, (_, i) => TRUE_W.reduce((s, w, j) => s + w * xs[i * 4 + j], 0) + 0.01 * random.normal());
  return { x: tf.tensor2d(xs, [32, 4]), y: tf.tensor2d(ys, [32, 1]) };
}

function regressionParams(): { w: tf.Variable; b: tf.Variable } {
  return tf.tidy(() => ({ w: tf.variable(tf.zeros([4, 1]), true, `w${Math.random()}`), b: tf.variable(tf.zeros([1]), true, `b${Math.random()}`) }));
}

function regression(params: { w: tf.Variable; b: tf.Variable }, extra: Partial<TrainOptions<ReturnType<typeof regressionBatch>>> = {}): TrainOptions<ReturnType<typeof regressionBatch>> {
  return {
    model: params,
    batch: regressionBatch,
    loss: ({ x, y }) => tf.losses.meanSquaredError(y, x.matMul(params.w).add(params.b)) as tf.Scalar,
    steps: 200,
    lr: 0.05,
    optimizer: { weightDecay: 0 },
    seed: 11,
    progress: false,
    ...extra,
  };
}

describe("train", () => {
  it("fits a linear regression to the weights that made the data, leaving no tensors behind", async () => {
    const params = regressionParams();
    const before = tf.memory().numTensors;
    const result = await train(regression(params));
    expect(tf.memory().numTensors).toBe(before);
    expect(result.steps).toBe(200);
    expect(result.stopped).toBe(false);
    expect(result.history.loss).toHaveLength(200);
    expect(result.history.loss[199]).toBeLessThan(result.history.loss[0] / 100);
    [...params.w.dataSync()].forEach((w, i) => expect(w).toBeCloseTo(TRUE_W[i], 1));
    tf.dispose(Object.values(params));
  });

  it("a run stopped and resumed from its checkpoint ends exactly where an uninterrupted run ends", async () => {
    const straight = regressionParams();
    const full = await train(regression(straight, { steps: 40, lr: { lr: 0.05, shape: "cosine", warmupSteps: 5, totalSteps: 40 }, clipGradNorm: 2, checkpointDir: join(scratch, "straight"), checkpointEvery: 10 }));

    const dir = join(scratch, "resumed");
    const first = regressionParams();
    const controller = new AbortController();
    const part = await train(regression(first, { steps: 40, lr: { lr: 0.05, shape: "cosine", warmupSteps: 5, totalSteps: 40 }, clipGradNorm: 2, checkpointDir: dir, checkpointEvery: 10, signal: controller.signal, onStep: ({ step }) => step === 25 && controller.abort() }));
    expect(part.stopped).toBe(true);
    expect(part.steps).toBe(25);
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([0, 10, 20, 25]);

    // A fresh process would start from fresh variables: resume must restore everything.
    const second = regressionParams();
    const rest = await train(regression(second, { steps: 40, lr: { lr: 0.05, shape: "cosine", warmupSteps: 5, totalSteps: 40 }, clipGradNorm: 2, checkpointDir: dir, checkpointEvery: 10, resume: true }));
    expect(rest.resumedFrom).toBe(25);
    expect(rest.steps).toBe(40);
    expect([...second.w.dataSync()]).toEqual([...straight.w.dataSync()]);
    expect([...second.b.dataSync()]).toEqual([...straight.b.dataSync()]);
    expect(rest.history).toEqual(full.history);
    tf.dispose([...Object.values(straight), ...Object.values(first), ...Object.values(second)]);
  });

  it("stops from the progress widget's Stop, keeping a checkpoint of the last step", async () => {
    const params = regressionParams();
    const progress = trainingProgress({ total: 100, metrics: ["loss"], log: false });
    const dir = join(scratch, "stopped");
    const result = await train(regression(params, { steps: 100, progress, checkpointDir: dir, onStep: ({ step }) => step === 7 && progress.stop() }));
    expect(result.stopped).toBe(true);
    expect(result.steps).toBe(7);
    expect(result.lastCheckpoint).toBe(join(dir, "step-000007"));
    expect(existsSync(join(dir, "step-000007", "trainer.json"))).toBe(true);
    expect(progress.get("status")).toBe("stopped");
    expect(progress.points).toBe(7);
    progress.close();
    tf.dispose(Object.values(params));
  });

  it("trains a tiny transformer on a repeating sequence; its checkpoints load as models with the same outputs", async () => {
    const model = await HookedTransformer.create({ nLayers: 1, dModel: 16, nHeads: 2, dHead: 8, dMlp: 32, dVocab: 8, nCtx: 12, actFn: "relu", seed: 2 });
    const dir = join(scratch, "transformer");
    const evalTokens = tf.tensor2d([[0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3]], [1, 12], "int32");
    const before = tf.memory().numTensors;
    const result = await train({
      model,
      // Sequences counting up mod 8 from a random start: the next token is always current + 1.
      batch: (_step, random) => tf.tensor2d(Array.from({ length: 8 }, () => { const start = random.int(8); return Array.from({ length: 12 }, (_, i) => (start + i) % 8); }), [8, 12], "int32"),
      loss: (tokens) => model.forward(tokens, { returnType: "loss" }) as tf.Scalar,
      steps: 60,
      lr: 0.01,
      evaluate: () => ({ evalLoss: tf.tidy(() => (model.forward(evalTokens, { returnType: "loss" }) as tf.Scalar).dataSync()[0]) }),
      evalEvery: 20,
      checkpointDir: dir,
      checkpointEvery: 30,
      progress: false,
      metadata: { task: "count mod 8" },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.evals.map((e) => e.step)).toEqual([0, 20, 40, 60]);
    expect(result.evals[3].metrics.evalLoss).toBeLessThan(result.evals[0].metrics.evalLoss / 4);
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([0, 30, 60]);
    const loaded = await HookedTransformer.load(result.lastCheckpoint!);
    const [a, b] = [model.forward(evalTokens) as tf.Tensor, loaded.forward(evalTokens) as tf.Tensor];
    expect([...b.dataSync()]).toEqual([...a.dataSync()]);
    // The early checkpoint is the untrained model: different outputs.
    const early = await HookedTransformer.load(listCheckpoints(dir)[0].dir);
    const c = early.forward(evalTokens) as tf.Tensor;
    expect(tf.tidy(() => a.sub(c).abs().max().dataSync()[0])).toBeGreaterThan(0.1);
    tf.dispose([a, b, c, evalTokens]);
    loaded.dispose();
    early.dispose();
    model.dispose();
  });

  it("refuses bad options and a diverging loss with messages that say what to do", async () => {
    const params = regressionParams();
    await expect(train(regression(params, { steps: -1 }))).rejects.toThrow(/steps must be a whole number ≥ 0, got -1/);
    await expect(train(regression(params, { resume: true }))).rejects.toThrow(/resume need a checkpointDir/);
    await expect(train(regression(params, { evaluate: () => ({ acc: tf.scalar(1) as unknown as number }) }))).rejects.toThrow(/non-number for "acc"/);
    await expect(train(regression(params, { model: { w: tf.zeros([2]) as unknown as tf.Variable } }))).rejects.toThrow(/"w" is not a tf.Variable/);
    const before = tf.memory().numTensors;
    const diverging = regression(params, { steps: 50 });
    const finite = diverging.loss;
    diverging.loss = (batch, step) => tf.tidy(() => finite(batch, step).mul(step === 5 ? NaN : 1));
    await expect(train(diverging)).rejects.toThrow(/the loss is NaN at step 5.*Lower the learning rate/);
    expect(tf.memory().numTensors).toBe(before);
    const other = join(scratch, "seeded");
    await train(regression(params, { steps: 3, checkpointDir: other }));
    await expect(train(regression(params, { steps: 6, checkpointDir: other, resume: true, seed: 12 }))).rejects.toThrow(/trained with seed 11, this run has seed 12/);
    tf.dispose(Object.values(params));
  });
});
