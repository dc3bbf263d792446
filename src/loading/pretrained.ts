/**
 * Loading pretrained Hugging Face checkpoints: a local directory in HF layout or a hub model,
 * converted to mechlab's config and TransformerLens-layout state dict and (by default) processed
 * like TransformerLens's from_pretrained (foldLn, centerWritingWeights, centerUnembed,
 * foldValueBiases).
 *
 * A directory in HF layout holds config.json and either model.safetensors or
 * model.safetensors.index.json plus the shards it lists. Only safetensors weights are read.
 * A tokenizer.json there (a Hugging Face fast tokenizer) is reported as `tokenizerDir`.
 */
import * as fs from "fs";
import * as path from "path";
import { ready, tf } from "../backend";
import type { ConfigInput } from "../model/config";
import type { StateDict } from "../model/stateDict";
import { convertHfCheckpoint, detectArchitecture } from "./convert";
import { ensureHubSnapshot, ensureHubTokenizerFiles, type HubOptions, MODEL_ALIASES, resolveRepoId, shardsOfIndex } from "./hub";
import { DEFAULT_PROCESSING, processWeights as runProcessing, type ProcessWeightsOptions } from "./processWeights";
import { readSafetensors } from "./safetensors";

export interface LoadPretrainedOptions extends HubOptions {
  /**
   * Weight processing: true (default) applies every step, false none, an object overrides single
   * steps (those left out stay on), e.g. { centerUnembed: false }.
   */
  processWeights?: boolean | ProcessWeightsOptions;
  /** In-memory dtype; only "float32" (tfjs computes in float32; F16/BF16 files are widened). */
  dtype?: "float32";
}

export interface PretrainedWeights {
  /** The model's config (processing recorded in normalizationApplied). */
  config: ConfigInput;
  /** TransformerLens-layout parameters, owned by the caller (dispose them, or hand them to a model). */
  stateDict: StateDict;
  /** Name of a mechlab tokenizer for this model ("gpt2" for the GPT-2 family), when there is one. */
  tokenizerName?: string;
  /**
   * The directory holding the model's tokenizer.json (with tokenizer_config.json when it has one),
   * when there is one: load it with `HfTokenizer.fromDirectory`. From the hub, the tokenizer files
   * are fetched for models without a mechlab tokenizer (not for the GPT-2 family).
   */
  tokenizerDir?: string;
  /** Where the files were read from, and the hub repository when there was one. */
  source: { dir: string; repoId?: string; revision?: string; fromCache?: boolean };
  /** Processing steps that were skipped and why. */
  notes: string[];
}

/** HF buffers that are not parameters (causal masks, rotary tables): never loaded. */
const BUFFER_NAME = /(^|\.)(attn\.(masked_)?bias|attention\.(masked_)?bias|rotary_emb\.inv_freq)$/;

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function looksLikePath(name: string): boolean {
  return name.startsWith(".") || name.startsWith("/") || name.startsWith("~") || name.includes("\\") || path.isAbsolute(name);
}

function readHfConfig(dir: string): Record<string, unknown> {
  const file = path.join(dir, "config.json");
  if (!isFile(file)) {
    throw new Error(
      `${dir} has no config.json. A model directory in Hugging Face layout needs config.json and model.safetensors ` +
        `(or model.safetensors.index.json with its shards).`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error(`${file} must hold a JSON object.`);
  return parsed as Record<string, unknown>;
}

/** The safetensors files of a directory: [model.safetensors] or the shards of the index. */
function weightFiles(dir: string): string[] {
  if (isFile(path.join(dir, "model.safetensors"))) return [path.join(dir, "model.safetensors")];
  const index = path.join(dir, "model.safetensors.index.json");
  if (isFile(index)) {
    const shards = shardsOfIndex(index);
    for (const shard of shards) {
      if (!isFile(path.join(dir, shard))) throw new Error(`${index} lists shard "${shard}", which is not in ${dir}.`);
    }
    return shards.map((s) => path.join(dir, s));
  }
  const entries = fs.readdirSync(dir);
  const pytorch = entries.filter((f) => /^pytorch_model.*\.bin(\.index\.json)?$/.test(f) || f.endsWith(".pt") || f.endsWith(".pth"));
  if (pytorch.length > 0) {
    throw new Error(
      `${dir} has PyTorch weights (${pytorch.join(", ")}) but no safetensors file; mechlab reads safetensors only ` +
        `(PyTorch pickles cannot be read safely outside Python). Convert once in Python: ` +
        `AutoModelForCausalLM.from_pretrained("${dir}").save_pretrained("<outDir>", safe_serialization=True), then load <outDir>.`,
    );
  }
  throw new Error(`${dir} has no model.safetensors and no model.safetensors.index.json, so there are no weights to load.`);
}

/** Reads every parameter tensor of the files (buffers skipped); on error nothing stays allocated. */
async function readWeights(files: string[], dtype: "float32" | undefined): Promise<Record<string, tf.Tensor>> {
  const all: Record<string, tf.Tensor> = {};
  try {
    for (const file of files) {
      const { tensors } = await readSafetensors(file, { names: (name) => !BUFFER_NAME.test(name), dtype });
      for (const [name, t] of Object.entries(tensors)) {
        if (Object.prototype.hasOwnProperty.call(all, name)) {
          t.dispose();
          throw new Error(`Tensor "${name}" appears in more than one weight file (again in ${file}).`);
        }
        all[name] = t;
      }
    }
  } catch (error) {
    tf.dispose(Object.values(all));
    throw error;
  }
  return all;
}

function processingOptions(option: LoadPretrainedOptions["processWeights"]): ProcessWeightsOptions {
  if (option === undefined || option === true) return { ...DEFAULT_PROCESSING };
  if (option === false) return { foldLn: false, centerWritingWeights: false, centerUnembed: false, foldValueBiases: false };
  return { ...DEFAULT_PROCESSING, ...option };
}

/**
 * Loads a model's weights from a local Hugging Face-layout directory (`nameOrDir` is an existing
 * directory) or from the hub (an alias from MODEL_ALIASES, or "owner/name"; downloaded once into
 * the cache, see hub.ts). Returns a mechlab config and state dict that the caller owns.
 */
export async function loadPretrainedWeights(nameOrDir: string, options: LoadPretrainedOptions = {}): Promise<PretrainedWeights> {
  if (options.dtype !== undefined && options.dtype !== "float32") {
    throw new Error(`loadPretrainedWeights: dtype ${JSON.stringify(options.dtype)} is not supported; tfjs models compute in "float32".`);
  }
  await ready();
  let source: PretrainedWeights["source"];
  let modelName: string;
  if (isDirectory(nameOrDir)) {
    source = { dir: path.resolve(nameOrDir) };
    modelName = path.basename(source.dir);
  } else if (looksLikePath(nameOrDir) || isFile(nameOrDir)) {
    throw new Error(`${nameOrDir} is not a directory. Pass a directory in Hugging Face layout (config.json + model.safetensors) or a hub model name.`);
  } else {
    const repoId = resolveRepoId(nameOrDir);
    const snapshot = await ensureHubSnapshot(repoId, options);
    source = { dir: snapshot.dir, repoId, revision: snapshot.revision, fromCache: snapshot.fromCache };
    modelName = Object.prototype.hasOwnProperty.call(MODEL_ALIASES, nameOrDir.toLowerCase()) ? nameOrDir.toLowerCase() : repoId;
  }

  const hfConfig = readHfConfig(source.dir);
  detectArchitecture(hfConfig); // fail on unknown architectures before reading any weights
  const files = weightFiles(source.dir);
  const hfWeights = await readWeights(files, options.dtype);
  let converted;
  try {
    converted = convertHfCheckpoint(hfConfig, hfWeights);
  } finally {
    tf.dispose(Object.values(hfWeights));
  }
  const config: ConfigInput = { ...converted.config, modelName };
  let processed;
  try {
    processed = runProcessing(config, converted.stateDict, processingOptions(options.processWeights));
  } catch (error) {
    // Disposing twice is harmless, so this also covers a partly consumed dict.
    tf.dispose(Object.values(converted.stateDict));
    throw error;
  }
  const tokenizerNotes: string[] = [];
  if (source.repoId !== undefined && processed.config.tokenizerName === undefined) {
    tokenizerNotes.push(...(await fetchTokenizerFiles(source.repoId, options)));
  }
  const tokenizerDir = isFile(path.join(source.dir, "tokenizer.json")) ? source.dir : undefined;
  return {
    config: { ...processed.config, modelName },
    stateDict: processed.stateDict,
    tokenizerName: processed.config.tokenizerName,
    ...(tokenizerDir !== undefined ? { tokenizerDir } : {}),
    source,
    notes: [...processed.notes, ...tokenizerNotes],
  };
}

/** Fetches the hub's tokenizer files; never throws (the weights are loaded by now): problems become notes. */
async function fetchTokenizerFiles(repoId: string, options: HubOptions): Promise<string[]> {
  try {
    const files = await ensureHubTokenizerFiles(repoId, options);
    if (files.problems.length === 0) return [];
    return [`The tokenizer files could not all be fetched (${files.problems.join("; ")}); load again with the network to get them.`];
  } catch (error) {
    return [`The tokenizer files could not be fetched: ${(error as Error).message}`];
  }
}
