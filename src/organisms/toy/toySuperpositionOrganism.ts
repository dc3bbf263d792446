/**
 * toy-superposition: Elhage et al.'s toy model, 5 features → 2 dimensions, importance 0.9^i,
 * eight instances over a sparsity sweep (feature probability 50^−t for t in 0 … 1) trained
 * together. Dense instances keep the two most important features orthogonally; sparse ones pack
 * all five into a pentagon; between them, antipodal pairs.
 */
import * as fs from "fs";
import * as path from "path";
import { superpositionGeometry, representedFeatures } from "../../toy/superpositionAnalysis";
import { ToySuperpositionModel, type ToyModelConfig } from "../../toy/toyModel";
import { loadToyModel, saveToyModel, TOY_MODEL_FILES } from "../../toy/toyModelFiles";
import { trainToyModel } from "../../toy/trainToyModel";
import type { OrganismRecipe } from "../organism";
import { shipCheckpoints } from "../shipCheckpoints";

/** Feature probability 50^−t, t = 0, 1/7, …, 1: from dense (1) to sparse (0.02). */
export const SPARSITY_SWEEP = Array.from({ length: 8 }, (_, i) => 50 ** -(i / 7));

export const TOY_CONFIG: Omit<ToyModelConfig, "seed"> = { nFeatures: 5, dHidden: 2, featureProbability: SPARSITY_SWEEP };

const TRAINING = { batchSize: 1024, lr: 1e-3 };

/** The number of features each instance represents (norm > 0.5), keyed by its feature probability. */
function representedCounts(model: ToySuperpositionModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const g of superpositionGeometry(model)) out[`represented[p=${g.featureProbability.toPrecision(2)}]`] = representedFeatures(g).length;
  return out;
}

export const toySuperpositionOrganism: OrganismRecipe<ToySuperpositionModel> = {
  name: "toy-superposition",
  summary: "5 features in 2 dimensions over a sparsity sweep: orthogonal pair, antipodal pairs, pentagon",
  defaultSteps: 5000,
  defaultSeed: 0,

  async train({ outDir, steps, seed, progress, signal }) {
    const model = new ToySuperpositionModel({ ...TOY_CONFIG, seed });
    const runDir = path.join(outDir, ".run");
    try {
      const result = await trainToyModel(model, {
        steps,
        seed,
        batchSize: TRAINING.batchSize,
        lr: TRAINING.lr,
        progress: progress ?? "auto",
        signal,
        loop: { checkpointDir: runDir, checkpointEvery: Math.max(1, Math.round(steps / 5)), resume: true },
      });
      await saveToyModel(model, outDir, { organism: "toy-superposition", step: result.steps, seed });
      // The loop's checkpoints hold the variables (W, b) as params.safetensors: give each the toy layout.
      const checkpoints = shipCheckpoints(runDir, outDir, ["params.safetensors"]);
      for (const step of checkpoints) {
        const dir = path.join(outDir, "checkpoints", `step-${String(step).padStart(6, "0")}`);
        fs.renameSync(path.join(dir, "params.safetensors"), path.join(dir, TOY_MODEL_FILES[1]));
        fs.writeFileSync(path.join(dir, TOY_MODEL_FILES[0]), JSON.stringify({ format: "mechlab-toy-model", config: model.config, metadata: { step } }, null, 2));
      }
      if (!result.stopped) fs.rmSync(runDir, { recursive: true, force: true });
      return {
        seed,
        steps: result.steps,
        stopped: result.stopped,
        wallSeconds: result.seconds,
        metrics: representedCounts(model),
        checkpoints,
        settings: { config: TOY_CONFIG, training: { ...TRAINING, steps, optimizer: "AdamW, no weight decay" } },
      };
    } finally {
      model.dispose();
    }
  },

  load: (dir) => loadToyModel(dir),

  async evaluate(model) {
    return representedCounts(model);
  },
};
