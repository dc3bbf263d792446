/**
 * The training loop: AdamW with a learning-rate schedule, optional gradient clipping, batches
 * that depend only on (seed, step), evaluation, checkpoints, resume, live progress, and stopping
 * (an AbortSignal, the progress widget's Stop button, or interrupting the notebook cell).
 *
 *   const result = await train({
 *     model,                                        // a HookedTransformer or { name: tf.Variable }
 *     batch: (step, random) => makeBatch(random),   // tensors here are disposed after the step
 *     loss: (batch) => model.forward(batch.tokens, { returnType: "loss" }) as tf.Scalar,
 *     steps: 2000, lr: { lr: 1e-3, shape: "cosine", warmupSteps: 100, totalSteps: 2000 },
 *     evaluate: () => ({ accuracy: accuracyOn(heldOut) }), evalEvery: 100,
 *     checkpointDir: "runs/x", checkpointEvery: 500, resume: true,
 *   });
 *
 * The loop awaits the event loop after every step, so widgets update, comm messages (Stop)
 * arrive and an interrupt is seen. A stop ends the loop after the current step, writes a
 * checkpoint (with checkpointDir) and resolves with `stopped: true`; it does not throw.
 *
 * Ownership: parameters are updated in place (never disposed); the optimiser's moments are freed
 * when the loop ends; tensors made by `batch`, `loss` and `evaluate` are disposed by the loop.
 */
import { tf } from "../backend";
import { HookedTransformer } from "../model/hookedTransformer";
import { display } from "../notebook/display";
import { interruptSignal } from "../notebook/interrupt";
import { getKernelRuntime } from "../notebook/kernelRuntime";
import { AdamW, type AdamWOptions } from "./adamW";
import { clipByGlobalNorm, globalNorm } from "./clipGradients";
import { checkSchedule, learningRateAt, type LearningRateSchedule } from "./learningRateSchedule";
import { SeededRandom } from "./seededRandom";
import {
  TRAINER_FORMAT,
  listCheckpoints,
  pruneCheckpoints,
  readTrainingCheckpoint,
  stepFolder,
  writeTrainingCheckpoint,
  type EvaluationRecord,
  type TrainerStateFile,
  type TrainingHistory,
} from "./trainingCheckpoint";
import { trainingProgress, type TrainingProgressWidget } from "./trainingProgress";

export type Metrics = Record<string, number>;

export interface TrainOptions<B> {
  /** What is trained: a HookedTransformer (all its parameters) or named tf.Variables. */
  model: HookedTransformer | Record<string, tf.Variable>;
  /** The batch of step `step` (0-based), made from `random`, which depends only on (seed, step). */
  batch: (step: number, random: SeededRandom) => B;
  /** The scalar loss of a batch; gradients flow from it to the parameters. */
  loss: (batch: B, step: number) => tf.Scalar;
  /** Steps to train, counted from 0 (a resumed run continues up to this). */
  steps: number;
  /** A constant rate or a schedule (default constant 1e-3). */
  lr?: number | LearningRateSchedule;
  /** AdamW settings other than the rate (default torch's: betas [0.9, 0.999], eps 1e-8, weight decay 0.01). */
  optimizer?: Omit<AdamWOptions, "lr">;
  /** Clip gradients to this global L2 norm. */
  clipGradNorm?: number;
  /** Seed of the batches (default 0). Weight initialisation is seeded where the model is made. */
  seed?: number;
  /** Metrics of the model as it is; run before the first step, every `evalEvery` steps and at the end. */
  evaluate?: (step: number) => Metrics | Promise<Metrics>;
  evalEvery?: number;
  /** Write a checkpoint every `checkpointEvery` steps, at the end and on a stop. */
  checkpointDir?: string;
  checkpointEvery?: number;
  /** Checkpoints kept: "all" (default, for training dynamics) or the newest N. */
  keepCheckpoints?: "all" | number;
  /** Whether checkpoints carry the optimiser moments (needed to resume exactly; default true). */
  saveOptimizerState?: boolean;
  /** Continue from the newest checkpoint in checkpointDir, if there is one. */
  resume?: boolean;
  /** Free-form facts stored in every checkpoint (command, organism, ...). */
  metadata?: Record<string, unknown>;
  /** "auto" (default): the progress view in a notebook, a text line on stderr elsewhere; false: none; or a progress widget of your own. */
  progress?: "auto" | false | TrainingProgressWidget;
  title?: string;
  /** Stops the loop after the current step. */
  signal?: AbortSignal;
  /** Called after every step with its numbers. */
  onStep?: (record: { step: number; loss: number; lr: number; gradNorm: number }) => void;
}

export interface TrainResult {
  /** Steps completed (including those before a resume). */
  steps: number;
  /** Whether the loop ended before `steps` because of a stop. */
  stopped: boolean;
  /** The step the run resumed from (0 for a fresh run). */
  resumedFrom: number;
  history: TrainingHistory;
  evals: EvaluationRecord[];
  /** The newest checkpoint folder written, if any. */
  lastCheckpoint?: string;
  /** Wall time of this call, seconds. */
  seconds: number;
}

export async function train<B>(options: TrainOptions<B>): Promise<TrainResult> {
  const started = performance.now();
  checkOptions(options);
  const params = parametersOf(options.model);
  const schedule: LearningRateSchedule = typeof options.lr === "object" ? options.lr : { lr: options.lr ?? 1e-3 };
  checkSchedule(schedule);
  const seed = options.seed ?? 0;
  const optimizer = new AdamW(params, { ...options.optimizer, lr: schedule.lr });
  const variableNames = new Map(Object.entries(params).map(([name, v]) => [v.name, name]));
  const history: TrainingHistory = { step: [], loss: [], lr: [], gradNorm: [] };
  const evals: EvaluationRecord[] = [];
  let step = 0;
  let resumedFrom = 0;
  let lastCheckpoint: string | undefined;
  let progress: TrainingProgressWidget | undefined;

  try {
    if (options.resume && options.checkpointDir) {
      const latest = listCheckpoints(options.checkpointDir).at(-1);
      if (latest) {
        const { state, optimizerState } = await readTrainingCheckpoint(latest.dir, params);
        if (state.seed !== seed) throw new Error(`resume: the checkpoint ${latest.dir} was trained with seed ${state.seed}, this run has seed ${seed}; resuming would not repeat the run.`);
        if (optimizerState) {
          try {
            optimizer.loadState(optimizerState, state.optimizerStep);
          } finally {
            tf.dispose(Object.values(optimizerState));
          }
        } else optimizer.stepCount = state.optimizerStep;
        step = resumedFrom = state.step;
        Object.assign(history, state.history);
        evals.push(...state.evals);
        lastCheckpoint = latest.dir;
      }
    }

    const evaluate = async (): Promise<Metrics | undefined> => {
      if (!options.evaluate) return undefined;
      const before = tf.memory().numTensors;
      const metrics = await options.evaluate(step);
      checkMetrics(metrics);
      if (tf.memory().numTensors > before) console.warn(`train: evaluate left ${tf.memory().numTensors - before} tensor(s) undisposed at step ${step}.`);
      evals.push({ step, metrics });
      return metrics;
    };
    const evalMetrics = step === 0 || !evals.some((e) => e.step === step) ? await evaluate() : evals.at(-1)?.metrics;

    progress = options.progress === undefined || options.progress === "auto" ? trainingProgress({ total: options.steps, metrics: ["loss", ...Object.keys(evalMetrics ?? {})], logScale: ["loss"], title: options.title ?? "training" }) : options.progress || undefined;
    if (progress && options.progress !== progress && getKernelRuntime()) display(progress);
    // Steps done before a resume show in the chart too.
    if (progress && step > 0) for (let i = 0; i < history.step.length; i++) progress.update(history.step[i], { loss: history.loss[i] });

    const stopSignal = (): boolean => Boolean(options.signal?.aborted || interruptSignal().aborted || progress?.signal.aborted);
    const saveCheckpoint = async (): Promise<void> => {
      if (!options.checkpointDir) return;
      const folder = stepFolder(options.checkpointDir, step);
      const state: TrainerStateFile = { format: TRAINER_FORMAT, step, seed, optimizerStep: optimizer.stepCount, history, evals, metadata: options.metadata };
      await writeTrainingCheckpoint(folder, options.model, options.saveOptimizerState === false ? undefined : optimizer.stateTensors(), state);
      lastCheckpoint = folder;
      if (typeof options.keepCheckpoints === "number") pruneCheckpoints(options.checkpointDir, options.keepCheckpoints);
    };
    if (step === 0 && options.checkpointDir && options.checkpointEvery) await saveCheckpoint();

    let stopped = false;
    while (step < options.steps) {
      if (stopSignal()) {
        stopped = true;
        break;
      }
      const lr = learningRateAt(step, schedule);
      const batch = options.batch(step, SeededRandom.forStep(seed, step));
      let lossValue: number;
      let gradNorm: number;
      try {
        const { value, grads } = tf.variableGrads(() => options.loss(batch, step), Object.values(params));
        try {
          lossValue = value.dataSync()[0];
          if (!Number.isFinite(lossValue)) {
            throw new Error(`train: the loss is ${lossValue} at step ${step}${lastCheckpoint ? `; the last checkpoint is ${lastCheckpoint}` : ""}. Lower the learning rate or clip gradients.`);
          }
          const named: Record<string, tf.Tensor> = {};
          for (const [variableName, g] of Object.entries(grads)) named[variableNames.get(variableName)!] = g;
          if (options.clipGradNorm !== undefined) {
            const clipped = clipByGlobalNorm(named, options.clipGradNorm);
            gradNorm = clipped.norm;
            optimizer.step(clipped.grads, lr);
            if (clipped.clipped) tf.dispose(Object.values(clipped.grads));
          } else {
            gradNorm = globalNorm(named);
            optimizer.step(named, lr);
          }
        } finally {
          value.dispose();
          tf.dispose(Object.values(grads));
        }
      } finally {
        tf.dispose(batch as unknown as tf.TensorContainer);
      }
      step += 1;
      history.step.push(step);
      history.loss.push(lossValue);
      history.lr.push(lr);
      history.gradNorm.push(gradNorm);
      options.onStep?.({ step, loss: lossValue, lr, gradNorm });
      const metrics = options.evaluate && options.evalEvery && step % options.evalEvery === 0 && step < options.steps ? await evaluate() : undefined;
      progress?.update(step, { loss: lossValue, ...(metrics ?? {}) });
      if (options.checkpointEvery && step % options.checkpointEvery === 0 && step < options.steps) await saveCheckpoint();
      // Let comm messages, the Stop button and interrupts through.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }

    if (!stopped || step > resumedFrom) {
      if (!stopped && step > 0 && !evals.some((e) => e.step === step)) {
        const metrics = await evaluate();
        if (metrics && progress) progress.update(step, metrics);
      }
      if (options.checkpointDir && lastCheckpoint !== stepFolder(options.checkpointDir, step)) await saveCheckpoint();
    }
    progress?.finish(stopped ? "stopped" : "done");
    return { steps: step, stopped, resumedFrom, history, evals, lastCheckpoint, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    progress?.finish("stopped");
    throw error;
  } finally {
    optimizer.dispose();
  }
}

function parametersOf(model: HookedTransformer | Record<string, tf.Variable>): Record<string, tf.Variable> {
  if (model instanceof HookedTransformer) return Object.fromEntries(Object.entries(model.stateDict()).map(([name]) => [name, model.param(name)]));
  if (model === null || typeof model !== "object") throw new Error("train: `model` must be a HookedTransformer or an object of named tf.Variables.");
  const entries = Object.entries(model);
  if (entries.length === 0) throw new Error("train: `model` has no parameters.");
  for (const [name, v] of entries) if (!(v instanceof tf.Variable)) throw new Error(`train: parameter "${name}" is not a tf.Variable (make it with tf.variable(...)).`);
  return model;
}

function checkOptions<B>(options: TrainOptions<B>): void {
  if (typeof options.batch !== "function") throw new Error("train: `batch` must be a function (step, random) => batch.");
  if (typeof options.loss !== "function") throw new Error("train: `loss` must be a function (batch, step) => scalar tensor.");
  if (!Number.isInteger(options.steps) || options.steps < 0) throw new Error(`train: steps must be a whole number ≥ 0, got ${options.steps}.`);
  for (const key of ["evalEvery", "checkpointEvery"] as const) {
    const v = options[key];
    if (v !== undefined && (!Number.isInteger(v) || v <= 0)) throw new Error(`train: ${key} must be a positive whole number, got ${v}.`);
  }
  if ((options.checkpointEvery || options.resume) && !options.checkpointDir) throw new Error("train: checkpointEvery and resume need a checkpointDir.");
  const keep = options.keepCheckpoints;
  if (keep !== undefined && keep !== "all" && (!Number.isInteger(keep) || keep < 1)) throw new Error(`train: keepCheckpoints must be "all" or a whole number ≥ 1, got ${keep}.`);
}

function checkMetrics(metrics: unknown): asserts metrics is Metrics {
  if (metrics === null || typeof metrics !== "object") throw new Error(`train: evaluate must return { name: number }, got ${String(metrics)}.`);
  for (const [name, v] of Object.entries(metrics)) if (typeof v !== "number") throw new Error(`train: evaluate returned a non-number for "${name}" (${typeof v}); give plain numbers (read tensors with dataSync).`);
}
