/**
 * induction-2l: a 2-layer attention-only transformer trained on random tokens with repeated spans
 * (inductionData.ts). It learns the induction circuit: a previous-token head in layer 0 and an
 * induction head in layer 1 that attends from a repeated token to the token after its earlier
 * occurrence. Checkpoints along training show the circuit forming (the induction bump).
 */
import * as fs from "fs";
import * as path from "path";
import { tf } from "../../backend";
import { duplicateTokenScores, inductionScores, previousTokenScores } from "../../analysis/headDetectors";
import { HookedTransformer } from "../../model/hookedTransformer";
import type { ConfigInput } from "../../model/config";
import { VocabTokenizer } from "../../tokenizers/vocabTokenizer";
import { SeededRandom } from "../../train/seededRandom";
import { train } from "../../train/train";
import type { OrganismRecipe } from "../organism";
import { shipCheckpoints } from "../shipCheckpoints";
import { syllables } from "../syllableVocab";
import { repeatedRandomTokens, repeatedSpanSequence } from "./inductionData";

const VOCAB = 64;
const CONTEXT = 48;
/** Tokens in one copy of the evaluation's repeated random sequence (BOS + 2 copies ≤ CONTEXT). */
const EVAL_HALF = 23;

export const INDUCTION_CONFIG: ConfigInput = {
  modelName: "induction-2l",
  nLayers: 2,
  dModel: 64,
  nHeads: 4,
  dHead: 16,
  dVocab: VOCAB + 1,
  nCtx: CONTEXT,
  attnOnly: true,
  normalizationType: "LN",
  positionalEmbeddingType: "standard",
  defaultPrependBos: true,
};

const TRAINING = {
  batchSize: 32,
  lr: { lr: 3e-3, shape: "cosine" as const, warmupSteps: 100, minLr: 3e-4 },
  weightDecay: 0.01,
  repeatProbability: 0.5,
  spanLength: [4, 12] as [number, number],
};

/** Syllable words and a BOS token "<s>" (id 64). */
export function inductionTokenizer(): VocabTokenizer {
  return new VocabTokenizer(syllables(VOCAB), { bos: "<s>" });
}

/** `n` sequences of BOS + 23 random tokens + the same 23 again, from a fixed seed: [n, 47] int32 (the caller disposes). */
export function repeatedRandomBatch(n: number, seed = 12345): tf.Tensor2D {
  const random = new SeededRandom(seed);
  return tf.tensor2d(Array.from({ length: n }, () => repeatedRandomTokens(random, EVAL_HALF, VOCAB, VOCAB)), [n, 2 * EVAL_HALF + 1], "int32");
}

/** Induction and previous-token scores of every head, and the loss on each copy, on repeated random tokens. */
export function inductionMetrics(model: HookedTransformer, n = 32): Record<string, number> {
  const tokens = repeatedRandomBatch(n);
  try {
    const { output, cache } = model.runWithCache(tokens, { namesFilter: (name: string) => name.endsWith("hook_pattern") });
    output.dispose();
    const induction = inductionScores(cache, EVAL_HALF);
    const previous = previousTokenScores(cache);
    const duplicate = duplicateTokenScores(cache, EVAL_HALF);
    cache.dispose();
    // Loss per predicted token [n, 46]: position p predicts token p + 1.
    const perToken = tf.tidy(() => (model.forward(tokens, { returnType: "loss", lossPerToken: true }) as tf.Tensor).mean(0).arraySync() as number[]);
    const first = perToken.slice(0, EVAL_HALF - 1);
    const second = perToken.slice(EVAL_HALF);
    const argmax = (row: number[]) => row.indexOf(Math.max(...row));
    return {
      inductionScore: Math.max(...induction[1]),
      inductionHead: argmax(induction[1]),
      previousTokenScore: Math.max(...previous[0]),
      previousTokenHead: argmax(previous[0]),
      duplicateTokenScore: Math.max(...duplicate.flat()),
      lossFirstCopy: first.reduce((a, b) => a + b, 0) / first.length,
      lossSecondCopy: second.reduce((a, b) => a + b, 0) / second.length,
    };
  } finally {
    tokens.dispose();
  }
}

export const inductionOrganism: OrganismRecipe<HookedTransformer> = {
  name: "induction-2l",
  summary: "2-layer attention-only transformer on random tokens with repeated spans: a previous-token head and an induction head",
  defaultSteps: 3000,
  defaultSeed: 0,

  async train({ outDir, steps, seed, progress, signal }) {
    const model = await HookedTransformer.create({ ...INDUCTION_CONFIG, seed }, { tokenizer: inductionTokenizer() });
    const runDir = path.join(outDir, ".run");
    try {
      const result = await train({
        model,
        batch: (_step, random) =>
          tf.tensor2d(
            Array.from({ length: TRAINING.batchSize }, () => repeatedSpanSequence(random, { length: CONTEXT, vocab: VOCAB, bos: VOCAB, repeatProbability: TRAINING.repeatProbability, spanLength: TRAINING.spanLength })),
            [TRAINING.batchSize, CONTEXT],
            "int32",
          ),
        loss: (tokens) => model.forward(tokens, { returnType: "loss" }) as tf.Scalar,
        steps,
        lr: { ...TRAINING.lr, totalSteps: steps },
        optimizer: { weightDecay: TRAINING.weightDecay },
        seed,
        evaluate: () => {
          const m = inductionMetrics(model, 16);
          return { inductionScore: m.inductionScore, previousTokenScore: m.previousTokenScore, lossSecondCopy: m.lossSecondCopy };
        },
        evalEvery: Math.max(1, Math.round(steps / 30)),
        checkpointDir: runDir,
        checkpointEvery: Math.max(1, Math.round(steps / 10)),
        resume: true,
        progress: progress ?? "auto",
        title: "induction-2l",
        signal,
        metadata: { organism: "induction-2l" },
      });
      await model.save(outDir, { organism: "induction-2l", step: result.steps, seed });
      const checkpoints = shipCheckpoints(runDir, outDir);
      if (!result.stopped) fs.rmSync(runDir, { recursive: true, force: true });
      return {
        seed,
        steps: result.steps,
        stopped: result.stopped,
        wallSeconds: result.seconds,
        metrics: inductionMetrics(model),
        checkpoints,
        settings: { config: INDUCTION_CONFIG, training: { ...TRAINING, steps }, data: `random syllable tokens (vocab ${VOCAB}) in sequences of ${CONTEXT}, spans of ${TRAINING.spanLength.join("–")} tokens repeated with probability ${TRAINING.repeatProbability}` },
      };
    } finally {
      model.dispose();
    }
  },

  load: (dir) => HookedTransformer.load(dir),

  async evaluate(model) {
    return inductionMetrics(model);
  },
};
