/**
 * Trains an organism from scratch into a folder with the shipped layout and records how:
 * training.json (command, seed, steps, wall time, machine, metrics, settings), README.md, and
 * history.json when the recipe logged one.
 * What `mechlab train ORGANISM` runs.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { tf } from "../backend";
import { packageVersion } from "./modelsDir";
import type { OrganismTrainOptions, TrainingRecord } from "./organism";
import { getOrganism } from "./registry";

export async function trainOrganism(name: string, options: OrganismTrainOptions & { command?: string }): Promise<TrainingRecord> {
  const recipe = getOrganism(name);
  const steps = options.steps ?? recipe.defaultSteps;
  const seed = options.seed ?? recipe.defaultSeed;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`train ${name}: steps must be a positive whole number, got ${steps}.`);
  if (!Number.isInteger(seed)) throw new Error(`train ${name}: the seed must be a whole number, got ${seed}.`);
  fs.mkdirSync(options.outDir, { recursive: true });
  const { history, ...result } = await recipe.train({ ...options, steps, seed });
  if (history) fs.writeFileSync(path.join(options.outDir, "history.json"), JSON.stringify(history) + "\n");
  const record: TrainingRecord = {
    organism: name,
    command: options.command ?? `mechlab train ${name} --steps ${steps} --seed ${seed} --out ${options.outDir}`,
    mechlabVersion: packageVersion(),
    machine: `${os.cpus().length} CPU core(s), ${tf.getBackend()} backend, Node ${process.version}`,
    ...result,
  };
  fs.writeFileSync(path.join(options.outDir, "training.json"), JSON.stringify(record, null, 2) + "\n");
  fs.writeFileSync(path.join(options.outDir, "README.md"), readmeOf(record, recipe.summary));
  return record;
}

function readmeOf(record: TrainingRecord, summary: string): string {
  const metrics = Object.entries(record.metrics).map(([k, v]) => `| ${k} | ${Number.isInteger(v) ? v : v.toFixed(4)} |`);
  return [
    `# ${record.organism}`,
    "",
    summary + ".",
    "",
    "## How it was made",
    "",
    "```",
    record.command,
    "```",
    "",
    `- seed ${record.seed}, ${record.steps} steps${record.stopped ? " (stopped early)" : ""}, ${(record.wallSeconds / 60).toFixed(1)} min on ${record.machine}`,
    `- mechlab ${record.mechlabVersion}`,
    `- checkpoints at steps ${record.checkpoints.join(", ") || "none"}`,
    "",
    "## What it shows (measured at the end of training)",
    "",
    "| metric | value |",
    "| --- | --- |",
    ...metrics,
    "",
    "## Settings",
    "",
    "```json",
    JSON.stringify(record.settings, null, 2),
    "```",
    "",
  ].join("\n");
}
