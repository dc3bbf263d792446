/**
 * othello: a small GPT trained on synthetic random legal 6×6 Othello games (othelloGames.ts), in
 * the manner of Othello-GPT (Li et al.). It sees only the moves ("<s> C2 B3 …") and learns to
 * predict legal next moves; a linear probe on its middle residual stream decodes each square as
 * empty / mine / theirs (relative to the player to move) far above the majority baseline, while
 * the same probe for black / white does worse.
 *
 * Training target: at every position, the uniform distribution over the legal next moves. Since
 * the games' next move is drawn uniformly from the legal moves, this is the expected next-token
 * cross-entropy on such games, with less noise per game (the model still sees only moves).
 *
 * Positions: position 0 is BOS (the start position, black to move); position t holds move t and
 * its residual stream describes the board after move t. Board labels are relative to the player
 * to move next (passes resolved), which the model must infer from the moves.
 */
import * as fs from "fs";
import * as path from "path";
import { tf } from "../../backend";
import type { ConfigInput } from "../../model/config";
import { HookedTransformer } from "../../model/hookedTransformer";
import { majorityBaseline, trainLinearProbe } from "../../probes/linearProbe";
import type { SeededRandom } from "../../train/seededRandom";
import { train } from "../../train/train";
import type { OrganismRecipe } from "../organism";
import { shipCheckpoints } from "../shipCheckpoints";
import { gameTokens, othelloTokenizer, playableSquares, randomGame, randomGames, traceGame } from "./othelloGames";

export const OTHELLO_SIZE = 6;
const SQUARES = playableSquares(OTHELLO_SIZE).length; // 32 move tokens
/** BOS + at most one token per playable square. */
const CONTEXT = SQUARES + 1;

export const OTHELLO_CONFIG: ConfigInput = {
  modelName: "othello-6x6",
  nLayers: 4,
  dModel: 128,
  nHeads: 4,
  dHead: 32,
  dMlp: 256,
  dVocab: SQUARES + 2, // squares, BOS, pad
  dVocabOut: SQUARES, // only moves are predicted
  nCtx: CONTEXT,
  actFn: "gelu",
  normalizationType: "LN",
  positionalEmbeddingType: "standard",
  defaultPrependBos: true,
};

/** The layer the probe reads: the residual stream after half the blocks. */
export const OTHELLO_PROBE_HOOK = `blocks.${OTHELLO_CONFIG.nLayers / 2}.hook_resid_pre`;

const TRAINING = {
  batchSize: 32,
  lr: { lr: 3e-3, shape: "cosine" as const, warmupSteps: 100, minLr: 3e-4 },
  weightDecay: 0.01,
  clipGradNorm: 1,
};

/** Seeds of the held-out games (training games come from the run's seed and step; see train.ts). */
export const HELD_OUT_SEEDS = { legality: 1_000_001, probeTrain: 1_000_002, probeTest: 1_000_003 } as const;
const EVAL = { legalityGames: 200, probeTrainGames: 100, probeTestGames: 60, probeSteps: 100, probeLr: 0.03 };

export function othelloGameTokenizer() {
  return othelloTokenizer(OTHELLO_SIZE);
}

/**
 * The organism's model before training: random weights from `seed`, the same as the start of
 * training with that seed (a control for probes: what an untrained model's activations decode).
 * The caller disposes it.
 */
export function createOthelloModel(seed: number): Promise<HookedTransformer> {
  return HookedTransformer.create({ ...OTHELLO_CONFIG, seed }, { tokenizer: othelloGameTokenizer() });
}

/** `n` held-out games (squares played), repeatable from `seed`. */
export function heldOutGames(n: number, seed: number = HELD_OUT_SEEDS.legality): number[][] {
  return randomGames(n, { size: OTHELLO_SIZE, seed });
}

/** Token ids [n, CONTEXT]: BOS, the moves, then pad (the caller disposes). */
export function gamesToTokens(games: readonly (readonly number[])[]): tf.Tensor2D {
  const pad = SQUARES + 1;
  const rows = games.map((g) => {
    const ids = gameTokens(g, OTHELLO_SIZE);
    if (ids.length > CONTEXT) throw new Error(`gamesToTokens: a game of ${g.length} moves; at most ${CONTEXT - 1} fit.`);
    return [...ids, ...new Array<number>(CONTEXT - ids.length).fill(pad)];
  });
  return tf.tensor2d(rows.flat(), [games.length, CONTEXT], "int32");
}

/** Targets of a batch of games: the uniform distribution over legal next moves [n, CONTEXT, SQUARES] and where it is defined [n, CONTEXT]. */
export function legalMoveTargets(games: readonly (readonly number[])[]): { targets: tf.Tensor3D; mask: tf.Tensor2D } {
  const targets = new Float32Array(games.length * CONTEXT * SQUARES);
  const mask = new Float32Array(games.length * CONTEXT);
  games.forEach((game, b) => {
    traceGame(game, OTHELLO_SIZE).legalTokens.forEach((legal, t) => {
      if (legal.length === 0) return;
      mask[b * CONTEXT + t] = 1;
      for (const id of legal) targets[(b * CONTEXT + t) * SQUARES + id] = 1 / legal.length;
    });
  });
  return { targets: tf.tensor3d(targets, [games.length, CONTEXT, SQUARES]), mask: tf.tensor2d(mask, [games.length, CONTEXT]) };
}

/** A training batch: tokens, legal-move targets and where they are defined (see legalMoveTargets). */
export interface OthelloBatch {
  tokens: tf.Tensor2D;
  targets: tf.Tensor3D;
  mask: tf.Tensor2D;
}

/** `batchSize` fresh random games from `random`, as a training batch (the caller disposes its tensors). */
export function othelloTrainingBatch(random: SeededRandom, batchSize: number): OthelloBatch {
  const games = Array.from({ length: batchSize }, () => randomGame(random, OTHELLO_SIZE));
  return { tokens: gamesToTokens(games), ...legalMoveTargets(games) };
}

/** Cross-entropy of the model's next-move distribution against the uniform distribution over legal moves, averaged over positions where a move follows. */
export function legalMoveLoss(model: HookedTransformer, batch: OthelloBatch): tf.Scalar {
  return tf.tidy(() => {
    const logProbs = tf.logSoftmax(model.forward(batch.tokens)); // [n, CONTEXT, SQUARES]
    const perPosition = tf.neg(tf.sum(tf.mul(logProbs, batch.targets), -1)); // [n, CONTEXT]
    return tf.div(tf.sum(tf.mul(perPosition, batch.mask)), tf.maximum(tf.sum(batch.mask), 1)) as tf.Scalar;
  });
}

/**
 * Top-1 legality: over every position of the games where a move follows, the fraction at which
 * the model's most likely next move is legal.
 */
export function legalityRate(model: HookedTransformer, games: readonly (readonly number[])[] = heldOutGames(EVAL.legalityGames)): number {
  let legal = 0;
  let total = 0;
  for (let start = 0; start < games.length; start += 100) {
    const chunk = games.slice(start, start + 100);
    const tokens = gamesToTokens(chunk);
    const predicted = tf.tidy(() => model.forward(tokens).argMax(-1).arraySync() as number[][]);
    tokens.dispose();
    chunk.forEach((game, b) => {
      traceGame(game, OTHELLO_SIZE).legalTokens.forEach((moves, t) => {
        if (moves.length === 0) return;
        total++;
        if (moves.includes(predicted[b][t])) legal++;
      });
    });
  }
  return legal / total;
}

/** Activations and board labels of a set of games at one hook, over every position where a move follows. */
export interface OthelloProbeData {
  /** Residual stream (or any [batch, pos, d] activation) at the hook. [rows, d] (the caller disposes) */
  activations: tf.Tensor2D;
  /** Each square relative to the player to move: 0 empty, 1 mine, 2 theirs. [rows][size²] */
  relative: number[][];
  /** Each square in colours: 0 empty, 1 black, 2 white. [rows][size²] */
  absolute: number[][];
  /** Game and position of each row. */
  rows: { game: number; position: number }[];
}

/** Caches `hook` on the games and pairs each position's activation with the board after its move. */
export function othelloProbeData(model: HookedTransformer, games: readonly (readonly number[])[], hook: string = OTHELLO_PROBE_HOOK): OthelloProbeData {
  const picked: number[] = [];
  const data: Omit<OthelloProbeData, "activations"> = { relative: [], absolute: [], rows: [] };
  games.forEach((game, g) => {
    const trace = traceGame(game, OTHELLO_SIZE);
    trace.legalTokens.forEach((moves, t) => {
      if (moves.length === 0) return;
      picked.push(g * CONTEXT + t);
      data.relative.push(trace.relative[t]);
      data.absolute.push(trace.absolute[t]);
      data.rows.push({ game: g, position: t });
    });
  });
  const tokens = gamesToTokens(games);
  // Run only as far as the hook's block.
  const layer = /^blocks\.(\d+)\./.exec(hook);
  const stopAtLayer = layer ? Math.min(model.cfg.nLayers, Number(layer[1]) + 1) : undefined;
  try {
    const { output, cache } = model.runWithCache(tokens, { namesFilter: [hook], stopAtLayer });
    output.dispose();
    const acts = cache.get(hook) as tf.Tensor;
    if (acts.rank !== 3) {
      cache.dispose();
      throw new Error(`othelloProbeData: "${hook}" has shape [${acts.shape.join(", ")}]; expected [batch, pos, d].`);
    }
    const activations = tf.tidy(() => tf.gather(acts.reshape([-1, acts.shape[2]!]), tf.tensor1d(picked, "int32")) as tf.Tensor2D);
    cache.dispose();
    return { activations, ...data };
  } finally {
    tokens.dispose();
  }
}

/**
 * Probe metrics at a hook: a probe (36 squares × 3 classes) trained on the activations of
 * `probeTrainGames` held-out games, tested on `probeTestGames` others; for mine/theirs/empty and
 * for black/white/empty, with each one's majority baseline.
 */
export async function othelloProbeMetrics(model: HookedTransformer, hook: string = OTHELLO_PROBE_HOOK): Promise<Record<string, number>> {
  const train = othelloProbeData(model, heldOutGames(EVAL.probeTrainGames, HELD_OUT_SEEDS.probeTrain), hook);
  const test = othelloProbeData(model, heldOutGames(EVAL.probeTestGames, HELD_OUT_SEEDS.probeTest), hook);
  try {
    const out: Record<string, number> = {};
    for (const [name, key] of [["MineTheirs", "relative"], ["BlackWhite", "absolute"]] as const) {
      const probe = await trainLinearProbe(train.activations, train[key], { classes: 3, steps: EVAL.probeSteps, lr: EVAL.probeLr });
      out[`probeAccuracy${name}`] = probe.evaluate(test.activations, test[key]).accuracy;
      out[`majorityBaseline${name}`] = majorityBaseline(train[key], test[key], 3);
      probe.dispose();
    }
    return out;
  } finally {
    train.activations.dispose();
    test.activations.dispose();
  }
}

/** Everything the organism's test checks: legality and probe metrics. */
export async function othelloMetrics(model: HookedTransformer): Promise<Record<string, number>> {
  return { legality: legalityRate(model), ...(await othelloProbeMetrics(model)) };
}

export const othelloOrganism: OrganismRecipe<HookedTransformer> = {
  name: "othello",
  summary: "4-layer GPT on synthetic random legal 6×6 Othello games: predicts legal next moves; a linear probe at the middle layer decodes each square as empty/mine/theirs",
  defaultSteps: 2500,
  defaultSeed: 0,

  async train({ outDir, steps, seed, progress, signal }) {
    const model = await createOthelloModel(seed);
    const runDir = path.join(outDir, ".run");
    // A checkpoint halfway is shipped (the untrained model is createOthelloModel with the
    // same config and seed; the final model ships in full precision).
    const checkpointEvery = Math.max(1, Math.round(steps / 2));
    try {
      const result = await train({
        model,
        batch: (_step, random) => othelloTrainingBatch(random, TRAINING.batchSize),
        loss: (batch) => legalMoveLoss(model, batch),
        steps,
        lr: { ...TRAINING.lr, warmupSteps: Math.min(TRAINING.lr.warmupSteps, Math.max(1, Math.floor(steps / 10))), totalSteps: steps },
        optimizer: { weightDecay: TRAINING.weightDecay },
        clipGradNorm: TRAINING.clipGradNorm,
        seed,
        evaluate: () => ({ legality: legalityRate(model, heldOutGames(100)) }),
        evalEvery: Math.max(1, Math.round(steps / 20)),
        checkpointDir: runDir,
        checkpointEvery,
        resume: true,
        progress: progress ?? "auto",
        title: "othello",
        signal,
        metadata: { organism: "othello" },
      });
      await model.save(outDir, { organism: "othello", step: result.steps, seed });
      // Ship the checkpoints strictly between the start and the final step.
      const checkpoints = shipCheckpoints(runDir, outDir, undefined, { keep: (step) => step > 0 && step < result.steps });
      if (!result.stopped) fs.rmSync(runDir, { recursive: true, force: true });
      return {
        seed,
        steps: result.steps,
        stopped: result.stopped,
        wallSeconds: result.seconds,
        metrics: await othelloMetrics(model),
        checkpoints,
        history: { training: result.history, evals: result.evals },
        settings: {
          config: OTHELLO_CONFIG,
          training: { ...TRAINING, steps, target: "uniform distribution over legal next moves at every position" },
          data: `random legal ${OTHELLO_SIZE}×${OTHELLO_SIZE} Othello games (uniform over legal moves, passes not tokens), generated from the seed`,
          evaluation: { ...EVAL, heldOutSeeds: HELD_OUT_SEEDS, probeHook: OTHELLO_PROBE_HOOK },
        },
      };
    } finally {
      model.dispose();
    }
  },

  load: (dir) => HookedTransformer.load(dir),

  evaluate: (model) => othelloMetrics(model),
};
