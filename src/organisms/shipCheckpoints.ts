/**
 * From a training run's checkpoint folders to the shipped layout: the model files of each
 * checkpoint (no optimiser state, no trainer state) under <outDir>/checkpoints/step-NNNNNN/.
 */
import * as fs from "fs";
import * as path from "path";
import { listCheckpoints } from "../train/trainingCheckpoint";

/** Copies the model files of every checkpoint in `runDir`; returns their steps. */
export function shipCheckpoints(runDir: string, outDir: string, modelFiles: string[] = ["config.json", "model.safetensors"]): number[] {
  const target = path.join(outDir, "checkpoints");
  fs.rmSync(target, { recursive: true, force: true });
  const steps: number[] = [];
  for (const { step, dir } of listCheckpoints(runDir)) {
    const to = path.join(target, path.basename(dir));
    fs.mkdirSync(to, { recursive: true });
    for (const file of modelFiles) fs.copyFileSync(path.join(dir, file), path.join(to, file));
    steps.push(step);
  }
  return steps;
}
