/**
 * Training a toy model of superposition with the project's training loop (AdamW, progress,
 * stopping). Canonical settings (Elhage et al.; ARENA): AdamW lr 1e-3, batch 1024, 5–10k steps.
 */
import type { tf } from "../backend";
import { train, type TrainOptions, type TrainResult } from "../train/train";
import type { TrainingProgressWidget } from "../train/trainingProgress";
import type { ToySuperpositionModel } from "./toyModel";

export interface TrainToyOptions {
  /** Default 5000. */
  steps?: number;
  /** Default 1024. */
  batchSize?: number;
  /** Default 1e-3. */
  lr?: number;
  /** Seed of the batches (default 0). */
  seed?: number;
  progress?: "auto" | false | TrainingProgressWidget;
  signal?: AbortSignal;
  /** Extra options for the loop (checkpoints, evaluation...). */
  loop?: Partial<TrainOptions<tf.Tensor3D>>;
}

/** Trains `model` in place; resolves with the loop's result (loss history per step). */
export function trainToyModel(model: ToySuperpositionModel, options: TrainToyOptions = {}): Promise<TrainResult> {
  const batchSize = options.batchSize ?? 1024;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`trainToyModel: batchSize must be a positive whole number, got ${batchSize}.`);
  return train<tf.Tensor3D>({
    model: model.parameters(),
    batch: (_step, random) => model.generateBatch(batchSize, random),
    loss: (x) => model.loss(x),
    steps: options.steps ?? 5000,
    lr: options.lr ?? 1e-3,
    // Weight decay would pull unused features to zero on its own; the toy setting has none.
    optimizer: { weightDecay: 0 },
    seed: options.seed ?? 0,
    progress: options.progress ?? "auto",
    title: `toy model: ${model.config.nFeatures} features → ${model.config.dHidden} dims, ${model.config.nInstances} instance(s)`,
    signal: options.signal,
    ...options.loop,
  });
}
