/**
 * `mechlab train ORGANISM [--steps N] [--seed S] [--out DIR]`: trains a model organism from
 * scratch with mechlab's own code, into DIR with the shipped layout (models/<name>/), and records
 * the command, seed, wall time, machine and final metrics in DIR/training.json and DIR/README.md.
 * Progress goes to the terminal; Ctrl-C stops after the current step, keeping the last checkpoint,
 * and running the same command again resumes from it.
 */
import { resolve } from "path";
import { UsageError } from "./cliError";
import { numberOption, parseCommandLine, stringOption } from "./commandLine";

export const TRAIN_USAGE = `Usage: mechlab train ORGANISM [--steps N] [--seed S] [--out DIR]

Trains a model organism from scratch and writes it to DIR (default ./organisms/ORGANISM) in the
layout of the shipped ones (models/ORGANISM in the package): the final model, checkpoints along
training, training.json and README.md with the command, seed, wall time and final metrics.
Ctrl-C stops after the current step and keeps a checkpoint; the same command then resumes.

  --steps N   training steps (default: the organism's recipe)
  --seed S    seed of the initial weights and the data (default: the recipe's)
  --out DIR   where to write

Organisms:
  ORGANISM_NAMES`;

export async function trainCommand(argv: string[]): Promise<number> {
  // The library (and its tensor backend) loads only when training.
  const { organismNames, getOrganism } = await import("../../src/organisms/registry");
  const usage = TRAIN_USAGE.replace("ORGANISM_NAMES", organismNames().map((n) => `${n} (${getOrganism(n).summary})`).join("\n  "));
  const parsed = parseCommandLine("train", argv, { steps: { type: "string" }, seed: { type: "string" }, out: { type: "string" } });
  if (parsed.help) {
    console.log(usage);
    return 0;
  }
  if (parsed.positionals.length !== 1) throw new UsageError(`mechlab train: name one organism (${organismNames().join(", ")}). See \`mechlab train --help\`.`);
  const name = parsed.positionals[0];
  if (!organismNames().includes(name)) throw new UsageError(`mechlab train: unknown organism "${name}"; the organisms are ${organismNames().join(", ")}.`);
  const steps = numberOption("train", parsed, "steps", true);
  const seed = numberOption("train", parsed, "seed", true);
  const out = resolve(stringOption(parsed, "out") ?? `organisms/${name}`);

  const { ready } = await import("../../src/backend");
  const { trainOrganism } = await import("../../src/organisms/trainOrganism");
  await ready();
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    console.error("\nmechlab train: stopping after this step (Ctrl-C again to quit at once)…");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  try {
    const command = ["mechlab train", name, ...(steps !== undefined ? ["--steps", String(steps)] : []), ...(seed !== undefined ? ["--seed", String(seed)] : []), "--out", stringOption(parsed, "out") ?? `organisms/${name}`].join(" ");
    const record = await trainOrganism(name, { outDir: out, steps, seed, progress: "auto", signal: controller.signal, command });
    console.log(`${name}: ${record.steps} steps in ${(record.wallSeconds / 60).toFixed(1)} min${record.stopped ? " (stopped; run again to resume)" : ""} → ${out}`);
    for (const [metric, value] of Object.entries(record.metrics)) console.log(`  ${metric}: ${Number.isInteger(value) ? value : value.toFixed(4)}`);
    return record.stopped ? 130 : 0;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
