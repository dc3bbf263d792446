/**
 * Checkpoints of a training run, one folder per step under the run's checkpoint directory:
 *
 *   <dir>/step-000100/
 *     config.json + model.safetensors   a HookedTransformer (what `HookedTransformer.load` reads), or
 *     params.safetensors                 plain variables by name
 *     optimizer.safetensors              AdamW moments "m.<name>" / "v.<name>" (for resuming)
 *     trainer.json                       { format, step, seed, optimizerStep, history, evals, metadata }
 *
 * Every folder is complete on its own: training dynamics work loads any of them, and `resume`
 * continues from the latest.
 */
import * as fs from "fs";
import * as path from "path";
import { tf } from "../backend";
import { readSafetensors, writeSafetensors } from "../loading/safetensors";
import { HookedTransformer } from "../model/hookedTransformer";

export const TRAINER_FORMAT = "mechlab-training-state";

/** Per-step records, as columns. */
export interface TrainingHistory {
  step: number[];
  loss: number[];
  lr: number[];
  gradNorm: number[];
}

/** Evaluation results: one entry per evaluation. */
export interface EvaluationRecord {
  step: number;
  metrics: Record<string, number>;
}

export interface TrainerStateFile {
  format: typeof TRAINER_FORMAT;
  /** Steps completed. */
  step: number;
  seed: number;
  optimizerStep: number;
  history: TrainingHistory;
  evals: EvaluationRecord[];
  metadata?: Record<string, unknown>;
}

export function stepFolder(dir: string, step: number): string {
  return path.join(dir, `step-${String(step).padStart(6, "0")}`);
}

/** The checkpoint folders in `dir` (complete ones: with trainer.json), oldest first. */
export function listCheckpoints(dir: string): { step: number; dir: string }[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((name) => ({ name, match: /^step-(\d+)$/.exec(name) }))
    .filter(({ name, match }) => match && fs.existsSync(path.join(dir, name, "trainer.json")))
    .map(({ name, match }) => ({ step: Number(match![1]), dir: path.join(dir, name) }))
    .sort((a, b) => a.step - b.step);
}

export async function writeTrainingCheckpoint(
  folder: string,
  model: HookedTransformer | Record<string, tf.Variable>,
  optimizerState: Record<string, tf.Tensor> | undefined,
  state: TrainerStateFile,
): Promise<void> {
  await fs.promises.mkdir(folder, { recursive: true });
  if (model instanceof HookedTransformer) await model.save(folder, { step: state.step, seed: state.seed, ...(state.metadata ?? {}) });
  else await writeSafetensors(path.join(folder, "params.safetensors"), model);
  if (optimizerState) await writeSafetensors(path.join(folder, "optimizer.safetensors"), optimizerState);
  // trainer.json last: its presence marks the folder complete.
  const file = path.join(folder, "trainer.json");
  await fs.promises.writeFile(`${file}.tmp`, JSON.stringify(state));
  await fs.promises.rename(`${file}.tmp`, file);
}

/**
 * Reads a checkpoint folder into `params` (assigned in place) and returns the trainer state and
 * the optimiser moments (new tensors the caller disposes; undefined when none were saved).
 */
export async function readTrainingCheckpoint(
  folder: string,
  params: Record<string, tf.Variable>,
): Promise<{ state: TrainerStateFile; optimizerState?: Record<string, tf.Tensor> }> {
  const state = JSON.parse(await fs.promises.readFile(path.join(folder, "trainer.json"), "utf8")) as TrainerStateFile;
  if (state.format !== TRAINER_FORMAT) throw new Error(`${folder}/trainer.json is not a mechlab training state (format ${JSON.stringify(state.format)}).`);
  const paramsFile = fs.existsSync(path.join(folder, "model.safetensors")) ? "model.safetensors" : "params.safetensors";
  const { tensors } = await readSafetensors(path.join(folder, paramsFile));
  try {
    for (const [name, variable] of Object.entries(params)) {
      const value = tensors[name];
      if (!value) throw new Error(`The checkpoint ${folder} has no parameter "${name}".`);
      if (value.rank !== variable.rank || !value.shape.every((d, i) => d === variable.shape[i])) {
        throw new Error(`The checkpoint ${folder} has "${name}" of shape [${value.shape.join(", ")}]; the parameter is [${variable.shape.join(", ")}].`);
      }
      variable.assign(value);
    }
  } finally {
    tf.dispose(Object.values(tensors));
  }
  const optimizerPath = path.join(folder, "optimizer.safetensors");
  const optimizerState = fs.existsSync(optimizerPath) ? (await readSafetensors(optimizerPath)).tensors : undefined;
  return { state, optimizerState };
}

/** Removes all but the newest `keep` checkpoint folders. */
export function pruneCheckpoints(dir: string, keep: number): void {
  const all = listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) fs.rmSync(old.dir, { recursive: true, force: true });
}
