/**
 * Model-organism benchmark: for every shipped organism, its size on disk (final model and
 * checkpoints), the time `loadOrganism` takes (cold: the first load in this process, then the
 * median of warm loads), the time of one forward pass over a batch of its own evaluation data
 * through `evaluate`, and the wall time and steps its training recorded. Prints figures only;
 * asserts nothing.
 *
 *   npm run bench:organisms
 */
import * as fs from "fs";
import * as path from "path";
import { ready, tf } from "../src/backend";
import { loadOrganism, type OrganismName } from "../src/organisms/loadOrganism";
import { modelsDir } from "../src/organisms/modelsDir";
import { getOrganism, organismNames } from "../src/organisms/registry";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function folderBytes(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => {
    const full = path.join(dir, entry.name);
    return sum + (entry.isDirectory() ? folderBytes(full) : fs.statSync(full).size);
  }, 0);
}

function disposeModel(model: unknown): void {
  (model as { dispose(): void }).dispose();
}

async function main(): Promise<void> {
  await ready();
  console.log(`backend ${tf.getBackend()}, models in ${modelsDir()}`);
  console.log("organism            | total MB | checkpoints MB | cold load ms | warm load ms | evaluate ms | trained (steps, min)");
  let total = 0;
  for (const name of organismNames()) {
    const dir = path.join(modelsDir(), name);
    if (!fs.existsSync(path.join(dir, "training.json"))) {
      console.log(`${name.padEnd(19)} | not shipped`);
      continue;
    }
    const bytes = folderBytes(dir);
    total += bytes;
    let started = performance.now();
    let model = await loadOrganism(name as OrganismName);
    const cold = performance.now() - started;
    const warm: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      disposeModel(model);
      started = performance.now();
      model = await loadOrganism(name as OrganismName);
      warm.push(performance.now() - started);
    }
    started = performance.now();
    await getOrganism(name).evaluate(model);
    const evaluate = performance.now() - started;
    disposeModel(model);
    const record = JSON.parse(fs.readFileSync(path.join(dir, "training.json"), "utf8")) as { steps: number; wallSeconds: number };
    warm.sort((a, b) => a - b);
    console.log(
      [
        name.padEnd(19),
        (bytes / 1e6).toFixed(2).padStart(8),
        (folderBytes(path.join(dir, "checkpoints")) / 1e6).toFixed(2).padStart(14),
        cold.toFixed(0).padStart(12),
        warm[Math.floor(warm.length / 2)].toFixed(0).padStart(12),
        evaluate.toFixed(0).padStart(11),
        ` ${record.steps}, ${(record.wallSeconds / 60).toFixed(1)}`,
      ].join(" | "),
    );
  }
  console.log(`all shipped organisms: ${(total / 1e6).toFixed(2)} MB`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
