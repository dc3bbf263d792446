/**
 * A toy model on disk: toy-model.json (its config) and toy-model.safetensors (W [instance, d, n],
 * b [instance, n]).
 */
import * as fs from "fs";
import * as path from "path";
import { tf } from "../backend";
import { readSafetensors, writeSafetensors } from "../loading/safetensors";
import { ToySuperpositionModel, type ResolvedToyConfig } from "./toyModel";

export const TOY_MODEL_FILES = ["toy-model.json", "toy-model.safetensors"];

export async function saveToyModel(model: ToySuperpositionModel, dir: string, metadata: Record<string, unknown> = {}): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true });
  await writeSafetensors(path.join(dir, "toy-model.safetensors"), { W: model.W, b: model.b });
  await fs.promises.writeFile(path.join(dir, "toy-model.json"), JSON.stringify({ format: "mechlab-toy-model", config: model.config, metadata }, null, 2));
}

/** Loads a toy model saved by `saveToyModel` (the caller disposes it). */
export async function loadToyModel(dir: string): Promise<ToySuperpositionModel> {
  const file = path.join(dir, "toy-model.json");
  if (!fs.existsSync(file)) throw new Error(`No toy model in ${dir} (toy-model.json is missing).`);
  const { format, config } = JSON.parse(await fs.promises.readFile(file, "utf8")) as { format: string; config: ResolvedToyConfig };
  if (format !== "mechlab-toy-model") throw new Error(`${file} is not a mechlab toy model (format ${JSON.stringify(format)}).`);
  const { tensors } = await readSafetensors(path.join(dir, "toy-model.safetensors"));
  try {
    return new ToySuperpositionModel(config, { W: tensors.W, b: tensors.b });
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
