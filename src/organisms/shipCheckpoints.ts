/**
 * From a training run's checkpoint folders to the shipped layout: the model files of each
 * checkpoint (no optimiser state, no trainer state) under <outDir>/checkpoints/step-NNNNNN/.
 *
 * Checkpoints along training are for training-dynamics work (curves, circuits forming), where
 * half precision (~3 significant digits) is plenty, so their safetensors files are stored as F16
 * by default: half the size on disk, float32 again when loaded. The final model, written by the
 * recipe itself, stays full precision.
 */
import * as fs from "fs";
import * as path from "path";
import { parseSafetensors, serializeSafetensors } from "../loading/safetensors";
import { HF_TOKENIZER_FILES } from "../tokenizers/hfTokenizer";
import { listCheckpoints } from "../train/trainingCheckpoint";

export interface ShipCheckpointsOptions {
  /** Store float tensors of .safetensors files as "F16" (default) or exactly ("F32"). */
  floatDtype?: "F16" | "F32";
  /** Ship only the checkpoints whose step passes this test (default all). */
  keep?: (step: number) => boolean;
}

/** Copies the model files of every checkpoint in `runDir` (default a HookedTransformer's); returns their steps. */
export function shipCheckpoints(runDir: string, outDir: string, modelFiles: string[] = ["config.json", "model.safetensors"], options: ShipCheckpointsOptions = {}): number[] {
  const floatDtype = options.floatDtype ?? "F16";
  const target = path.join(outDir, "checkpoints");
  fs.rmSync(target, { recursive: true, force: true });
  const steps: number[] = [];
  for (const { step, dir } of listCheckpoints(runDir)) {
    if (options.keep && !options.keep(step)) continue;
    const to = path.join(target, path.basename(dir));
    fs.mkdirSync(to, { recursive: true });
    for (const file of modelFiles) {
      const from = path.join(dir, file);
      if (file.endsWith(".safetensors") && floatDtype === "F16") {
        const { tensors, metadata } = parseSafetensors(fs.readFileSync(from), { source: from });
        fs.writeFileSync(path.join(to, file), serializeSafetensors(tensors, metadata, { floatDtype }));
      } else fs.copyFileSync(from, path.join(to, file));
    }
    // A Hugging Face tokenizer saved with the model lives in its folder (see model/checkpoint.ts).
    for (const file of HF_TOKENIZER_FILES) {
      if (!modelFiles.includes(file) && fs.existsSync(path.join(dir, file))) fs.copyFileSync(path.join(dir, file), path.join(to, file));
    }
    steps.push(step);
  }
  return steps;
}
