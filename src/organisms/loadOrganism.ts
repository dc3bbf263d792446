/**
 * Loads a shipped model organism, offline, from models/<name>/ in the package:
 *
 *   const model = await loadOrganism("toy-superposition");                     // the final model
 *   const early = await loadOrganism("toy-superposition", { checkpoint: 1000 }); // a checkpoint along training
 *   listOrganismCheckpoints("toy-superposition")                               // [0, 1000, 2000, ...]
 *
 * The caller owns the returned model (dispose it).
 */
import * as fs from "fs";
import * as path from "path";
import type { ToySuperpositionModel } from "../toy/toyModel";
import { modelsDir } from "./modelsDir";
import type { OrganismTrainingHistory, TrainingRecord } from "./organism";
import { getOrganism } from "./registry";

/** The model type of each organism. */
export interface OrganismModels {
  "induction-2l": import("../model/hookedTransformer").HookedTransformer;
  "text-lm": import("../model/hookedTransformer").HookedTransformer;
  "toy-superposition": ToySuperpositionModel;
  modadd: import("../model/hookedTransformer").HookedTransformer;
  othello: import("../model/hookedTransformer").HookedTransformer;
  "ioi-toy": import("../model/hookedTransformer").HookedTransformer;
}

export type OrganismName = keyof OrganismModels;

export interface LoadOrganismOptions {
  /** A training step with a shipped checkpoint (see listOrganismCheckpoints); default the final model. */
  checkpoint?: number;
  /** Where the organism folders are (default models/ in the package, or MECHLAB_MODELS). */
  modelsDir?: string;
}

function organismDir(name: string, options: { modelsDir?: string } = {}): string {
  getOrganism(name);
  const dir = path.join(options.modelsDir ?? modelsDir(), name);
  if (!fs.existsSync(path.join(dir, "training.json"))) {
    throw new Error(`The organism "${name}" is not in ${path.dirname(dir)} (no ${name}/training.json). Train it with \`mechlab train ${name} --out ${dir}\`.`);
  }
  return dir;
}

export async function loadOrganism<N extends OrganismName>(name: N, options: LoadOrganismOptions = {}): Promise<OrganismModels[N]> {
  const dir = organismDir(name, options);
  if (options.checkpoint === undefined) return (await getOrganism(name).load(dir)) as OrganismModels[N];
  const steps = listOrganismCheckpoints(name, options);
  if (!steps.includes(options.checkpoint)) throw new Error(`"${name}" has no checkpoint at step ${options.checkpoint}; it has ${steps.join(", ")}.`);
  return (await getOrganism(name).load(path.join(dir, "checkpoints", `step-${String(options.checkpoint).padStart(6, "0")}`))) as OrganismModels[N];
}

/** The training steps of the shipped checkpoints, in order. */
export function listOrganismCheckpoints(name: OrganismName, options: { modelsDir?: string } = {}): number[] {
  const dir = path.join(organismDir(name, options), "checkpoints");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((entry) => /^step-(\d+)$/.exec(entry))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** The loss every step and the evaluations along training of a shipped organism, if its training logged them. */
export function organismTrainingHistory(name: OrganismName, options: { modelsDir?: string } = {}): OrganismTrainingHistory | undefined {
  const file = path.join(organismDir(name, options), "history.json");
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as OrganismTrainingHistory) : undefined;
}

/** What training recorded for a shipped organism (command, seed, wall time, metrics). */
export function organismTrainingRecord(name: OrganismName, options: { modelsDir?: string } = {}): TrainingRecord {
  return JSON.parse(fs.readFileSync(path.join(organismDir(name, options), "training.json"), "utf8")) as TrainingRecord;
}
