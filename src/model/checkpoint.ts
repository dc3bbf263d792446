/**
 * mechlab's own checkpoint format for models it trains or edits: a directory with
 *   config.json        { format: "mechlab-checkpoint", version: 1, config: Config, tokenizer?: TokenizerJSON, metadata? }
 *   model.safetensors  the parameters under their TransformerLens names (see stateDict.ts)
 * Written atomically file by file; read back with every shape checked against the config.
 */
import * as fs from "fs";
import * as path from "path";
import { readSafetensors, writeSafetensors } from "../loading/safetensors";
import { tokenizerFromJSON, tokenizerToJSON, type TokenizerJSON } from "../tokenizers/fromJSON";
import { HF_TOKENIZER_FILES } from "../tokenizers/hfTokenizer";
import type { Tokenizer } from "../tokenizers/tokenizer";
import type { Config, ConfigInput } from "./config";
import type { StateDict } from "./stateDict";

export const CHECKPOINT_FORMAT = "mechlab-checkpoint";
export const CHECKPOINT_VERSION = 1;

export interface CheckpointFile {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  config: Config;
  tokenizer?: TokenizerJSON;
  /** Free-form facts about the checkpoint (training step, command, metrics). */
  metadata?: Record<string, unknown>;
}

export async function writeCheckpoint(
  dir: string,
  cfg: Config,
  stateDict: StateDict,
  tokenizer: Tokenizer | undefined,
  metadata?: Record<string, unknown>,
): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true });
  await writeSafetensors(path.join(dir, "model.safetensors"), stateDict, { format: CHECKPOINT_FORMAT });
  let tokenizerJSON = tokenizer ? tokenizerToJSON(tokenizer) : undefined;
  if (tokenizerJSON?.type === "hf") {
    // A Hugging Face tokenizer travels with the checkpoint: its files are copied in and the
    // config names the checkpoint's own folder, so the folder can move.
    const from = path.resolve(tokenizerJSON.dir);
    if (from !== path.resolve(dir)) {
      for (const file of HF_TOKENIZER_FILES) {
        if (fs.existsSync(path.join(from, file))) await fs.promises.copyFile(path.join(from, file), path.join(dir, file));
      }
    }
    tokenizerJSON = { type: "hf", dir: "." };
  }
  const file: CheckpointFile = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    config: cfg,
    ...(tokenizerJSON ? { tokenizer: tokenizerJSON } : {}),
    ...(metadata ? { metadata } : {}),
  };
  const configPath = path.join(dir, "config.json");
  await fs.promises.writeFile(`${configPath}.tmp`, JSON.stringify(file, null, 2) + "\n");
  await fs.promises.rename(`${configPath}.tmp`, configPath);
}

/** Reads a checkpoint; the caller owns the returned tensors. */
export async function readCheckpoint(dir: string): Promise<{ config: ConfigInput; stateDict: StateDict; tokenizer?: Tokenizer; metadata?: Record<string, unknown> }> {
  const configPath = path.join(dir, "config.json");
  let text: string;
  try {
    text = await fs.promises.readFile(configPath, "utf8");
  } catch {
    throw new Error(`${dir} is not a mechlab checkpoint: there is no config.json in it (expected config.json and model.safetensors, as model.save(dir) writes).`);
  }
  let file: CheckpointFile;
  try {
    file = JSON.parse(text);
  } catch (error) {
    throw new Error(`${configPath} is not valid JSON: ${(error as Error).message}`);
  }
  if (file?.format !== CHECKPOINT_FORMAT) {
    throw new Error(
      `${configPath} is not a mechlab checkpoint config (no "format": "${CHECKPOINT_FORMAT}"). ` +
        `For a Hugging Face model directory use HookedTransformer.fromPretrained(dir).`,
    );
  }
  if (file.version > CHECKPOINT_VERSION) {
    throw new Error(`${configPath} has checkpoint version ${file.version}; this mechlab reads up to version ${CHECKPOINT_VERSION}. Update mechlab.`);
  }
  const { tensors } = await readSafetensors(path.join(dir, "model.safetensors"), { dtype: "float32" });
  return {
    config: file.config,
    stateDict: tensors,
    // A relative "hf" folder is the checkpoint's own (or relative to it).
    tokenizer: file.tokenizer ? tokenizerFromJSON(file.tokenizer.type === "hf" && !path.isAbsolute(file.tokenizer.dir) ? { ...file.tokenizer, dir: path.resolve(dir, file.tokenizer.dir) } : file.tokenizer) : undefined,
    metadata: file.metadata,
  };
}
