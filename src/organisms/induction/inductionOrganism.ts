/**
 * induction-2l: a 2-layer attention-only transformer trained on random tokens with repeated spans
 * (inductionData.ts). It learns the induction circuit: a previous-token head in layer 0 and an
 * induction head in layer 1 that attends from a repeated token to the token after its earlier
 * occurrence. Training shows the phase change of Olsson et al.: loss sits at log(vocab) for a
 * few hundred steps (first learning only "tokens already in the context are likely"), then both
 * heads form together within ~200 steps and the loss on repeats collapses (steps ~800–1100 with
 * the default seed). The shipped checkpoints cover the plateau sparsely and the phase change
 * every 100 steps; history.json has the head scores every 50 steps.
 *
 * Positions are "shortformer" embeddings (added to the queries' and keys' input only, as in
 * Anthropic's and TransformerLens's attn-only models): a previous-token head then needs only
 * positions in its QK circuit, and the residual stream carries token identity only, which is
 * what the induction head's K-composition reads. With standard embeddings the same data gave
 * blurred heads matching multi-token windows instead.
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
import { syllableWords } from "../syllableVocab";
import { repeatedRandomTokens, repeatedSpanSequence } from "./inductionData";

// Large enough that a token rarely recurs by chance in a sequence, so matching one token
// (previous-token head + induction head) is the best way to predict a repeat.
const VOCAB = 512;
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
  positionalEmbeddingType: "shortformer",
  defaultPrependBos: true,
};

const TRAINING = {
  batchSize: 32,
  lr: { lr: 3e-3, warmupSteps: 50 },
  weightDecay: 0.01,
  spanLength: [4, 20] as [number, number],
  checkpointEvery: 100,
  /** Checkpoints shipped: sparse on the plateau, every 100 steps through the phase change. */
  shippedCheckpoints: [0, 300, 600, 700, 800, 900, 1000, 1100, 1200, 1400, 2000],
};

/** Two-syllable words and a BOS token "<s>" (id 512). */
export function inductionTokenizer(): VocabTokenizer {
  return new VocabTokenizer(syllableWords(VOCAB), { bos: "<s>" });
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
  defaultSteps: 2000,
  defaultSeed: 0,

  async train({ outDir, steps, seed, progress, signal }) {
    const model = await HookedTransformer.create({ ...INDUCTION_CONFIG, seed }, { tokenizer: inductionTokenizer() });
    const runDir = path.join(outDir, ".run");
    try {
      const result = await train({
        model,
        batch: (_step, random) =>
          tf.tensor2d(
            Array.from({ length: TRAINING.batchSize }, () => repeatedSpanSequence(random, { length: CONTEXT, vocab: VOCAB, bos: VOCAB, spanLength: TRAINING.spanLength })),
            [TRAINING.batchSize, CONTEXT],
            "int32",
          ),
        loss: (tokens) => model.forward(tokens, { returnType: "loss" }) as tf.Scalar,
        steps,
        lr: TRAINING.lr,
        optimizer: { weightDecay: TRAINING.weightDecay },
        seed,
        evaluate: () => {
          const m = inductionMetrics(model, 16);
          return { inductionScore: m.inductionScore, previousTokenScore: m.previousTokenScore, lossSecondCopy: m.lossSecondCopy };
        },
        evalEvery: 50,
        checkpointDir: runDir,
        checkpointEvery: Math.min(TRAINING.checkpointEvery, steps),
        resume: true,
        progress: progress ?? "auto",
        title: "induction-2l",
        signal,
        metadata: { organism: "induction-2l" },
      });
      await model.save(outDir, { organism: "induction-2l", step: result.steps, seed });
      // The last checkpoint is shipped whatever the step count, so a shorter run still has its end.
      const checkpoints = shipCheckpoints(runDir, outDir, undefined, { keep: (step) => TRAINING.shippedCheckpoints.includes(step) || step === result.steps });
      if (!result.stopped) fs.rmSync(runDir, { recursive: true, force: true });
      return {
        seed,
        steps: result.steps,
        stopped: result.stopped,
        wallSeconds: result.seconds,
        metrics: inductionMetrics(model),
        checkpoints,
        history: { training: result.history, evals: result.evals },
        settings: { config: INDUCTION_CONFIG, training: { ...TRAINING, steps }, data: `random two-syllable words (vocab ${VOCAB}) in sequences of ${CONTEXT}: BOS, then random spans of ${TRAINING.spanLength.join("–")} tokens, each followed by its repeat` },
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
