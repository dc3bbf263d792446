/**
 * A model organism: a model whose behaviour is known because the project trained it, with the
 * data generator, config and recipe that made it, and a check of the capability it shows.
 *
 * Shipped organisms live in models/<name>/ in the package:
 *   config.json + model.safetensors   the final model (HookedTransformer.load reads it), or the
 *                                     organism's own files (toy models)
 *   checkpoints/step-NNNNNN/          models along training (for training-dynamics work)
 *   training.json                     command, seed, steps, wall time, machine, final metrics
 *   history.json                      the loss every step and the evaluations along training (optional)
 *   README.md                         the same, for people
 */
import type { EvaluationRecord, TrainingHistory } from "../train/trainingCheckpoint";

export interface OrganismTrainOptions {
  /** Where the trained organism is written (its models/<name>/ layout). */
  outDir: string;
  /** Steps to train (default: the recipe's). */
  steps?: number;
  /** Seed of initial weights and data (default: the recipe's). */
  seed?: number;
  /** Show progress (terminal line / notebook view); default "auto". */
  progress?: "auto" | false;
  signal?: AbortSignal;
}

/** What training an organism records next to its weights. */
export interface TrainingRecord {
  organism: string;
  /** The command that reproduces it. */
  command: string;
  seed: number;
  steps: number;
  /** Whether training stopped early (interrupted). */
  stopped: boolean;
  wallSeconds: number;
  /** Cores and backend the run used. */
  machine: string;
  mechlabVersion: string;
  /** The capability measured at the end (see the organism's `evaluate`). */
  metrics: Record<string, number>;
  /** Training steps of the shipped checkpoints. */
  checkpoints: number[];
  /** The recipe's settings (model config, optimiser, data), for the README. */
  settings: Record<string, unknown>;
}

/** What a recipe's training logged along the way (history.json): for training-dynamics plots. */
export interface OrganismTrainingHistory {
  /** Loss, learning rate and gradient norm of every step. */
  training: TrainingHistory;
  /** The recipe's evaluation metrics every few steps. */
  evals: EvaluationRecord[];
}

export interface OrganismRecipe<Model> {
  name: string;
  /** One line: what it is and what it shows. */
  summary: string;
  defaultSteps: number;
  defaultSeed: number;
  /** Trains from scratch into options.outDir (model, checkpoints); returns the record (without the command). */
  train(
    options: Required<Pick<OrganismTrainOptions, "outDir" | "steps" | "seed">> & OrganismTrainOptions,
  ): Promise<Omit<TrainingRecord, "command" | "organism" | "mechlabVersion" | "machine"> & { history?: OrganismTrainingHistory }>;
  /** Loads the organism from a folder with its layout (the final model, or a checkpoint folder). */
  load(dir: string): Promise<Model>;
  /** The capability metrics of a loaded organism (the numbers its test checks). */
  evaluate(model: Model): Promise<Record<string, number>>;
}
