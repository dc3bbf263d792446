/**
 * modadd: Nanda et al.'s grokking model. A 1-layer transformer (d_model 128, 4 heads of 32,
 * d_mlp 512, ReLU, no LayerNorm) reads [a, b, =] and predicts (a + b) mod p at the last position.
 * Trained full batch on 30% of the p² pairs with AdamW (weight decay 1, betas 0.9/0.98; lr 4e-3,
 * see TRAINING),
 * it first memorises the training pairs (train accuracy 1, test accuracy near chance), then, long
 * after, generalises (grokking): weight decay favours a circuit that embeds residues as
 * cos/sin of a few key frequencies. Checkpoints along training span memorisation, circuit
 * formation and clean-up; history.json holds the train/test loss and accuracy curves.
 *
 * Speed: the loss reads only the last position, so `modaddLogits` computes only what that
 * position needs, from the model's own parameter variables. Positions 0 and 1 hold one of p
 * tokens and position 2 always "=", so keys, values and attention scores are computed once per
 * (position, token) — [2p + 1] rows — and looked up per example; the query is one vector. Only
 * the last position's attention output, MLP and unembedding run per example. Same function as
 * `model.forward` (tests compare them), several times cheaper.
 */
import * as fs from "fs";
import * as path from "path";
import { tf } from "../../backend";
import { frequencyNorms, keyFrequencies } from "../../analysis/modularFourier";
import type { ConfigInput } from "../../model/config";
import { HookedTransformer } from "../../model/hookedTransformer";
import { VocabTokenizer } from "../../tokenizers/vocabTokenizer";
import { train } from "../../train/train";
import type { EvaluationRecord } from "../../train/trainingCheckpoint";
import type { OrganismRecipe } from "../organism";
import { listCheckpoints } from "../../train/trainingCheckpoint";
import { shipCheckpoints } from "../shipCheckpoints";
import { checkModulus, modaddSplit, type ModaddExamples, type ModaddSplit } from "./modaddData";

/** The modulus. */
export const MODADD_P = 113;

export function modaddConfig(p: number): ConfigInput {
  checkModulus(p, "modaddConfig");
  return {
    modelName: `modadd-p${p}`,
    nLayers: 1,
    dModel: 128,
    nHeads: 4,
    dHead: 32,
    dMlp: 512,
    actFn: "relu",
    normalizationType: "none",
    positionalEmbeddingType: "standard",
    dVocab: p + 1, // residues 0 … p−1 and "=" (p)
    dVocabOut: p, // the answer is a residue
    nCtx: 3,
    defaultPrependBos: false,
  };
}

export const MODADD_CONFIG = modaddConfig(MODADD_P);

/**
 * Nanda et al.'s recipe, except the learning rate: 4e-3 rather than 1e-3. On this machine (the
 * wasm backend on a shared CPU core) a full-batch step at p = 113 takes ~0.5 s even computing only
 * the last position, and at lr 1e-3 grokking needs ~12k steps (~2 hours). Time to grok scales
 * roughly as 1/(lr · weightDecay), so 4e-3 groks in a few thousand steps and p stays 113.
 */
const TRAINING = {
  trainFraction: 0.3,
  lr: 4e-3,
  lrNote: "4× Nanda et al.'s 1e-3, so that grokking at p = 113 fits ~40 min of a shared CPU core",
  weightDecay: 1,
  betas: [0.9, 0.98] as [number, number],
  batch: "full (every training pair, every step)",
  evalEvery: 100,
  /** Checkpoints written during training (every this many steps); a chosen few of them ship. */
  candidateCheckpointEvery: 100,
  /** Checkpoints shipped (with step 0 and the last step). */
  shippedCheckpoints: 13,
};

/** Residues "0" … "p−1" and "=" (token p); e.g. tokenizer.encode("3 5 =") → [3, 5, p]. */
export function modaddTokenizer(p: number): VocabTokenizer {
  return new VocabTokenizer([...Array.from({ length: p }, (_, i) => String(i)), "="]);
}

/** p of a modadd model (its output vocabulary), after checking the model has the shape `modaddLogits` computes. */
function modulusOf(model: HookedTransformer): number {
  const c = model.cfg;
  const problems: string[] = [];
  if (c.nLayers !== 1) problems.push(`nLayers ${c.nLayers} (expected 1)`);
  if (c.attnOnly) problems.push("attnOnly (expected an MLP)");
  if (c.normalizationType !== "none") problems.push(`normalizationType "${c.normalizationType}" (expected "none")`);
  if (c.positionalEmbeddingType !== "standard") problems.push(`positionalEmbeddingType "${c.positionalEmbeddingType}" (expected "standard")`);
  if (c.actFn !== "relu" || c.gatedMlp) problems.push(`actFn "${c.actFn}"${c.gatedMlp ? ", gated" : ""} (expected ungated "relu")`);
  if (c.nKeyValueHeads !== c.nHeads) problems.push("grouped-query attention (expected nKeyValueHeads = nHeads)");
  if (c.dVocab !== c.dVocabOut + 1) problems.push(`dVocab ${c.dVocab} and dVocabOut ${c.dVocabOut} (expected p + 1 and p)`);
  if (c.nCtx < 3) problems.push(`nCtx ${c.nCtx} (expected ≥ 3)`);
  if (problems.length > 0) throw new Error(`modaddLogits: not a modadd model: ${problems.join("; ")}.`);
  return c.dVocabOut;
}

/** [heads, dModel, dHead] → [dModel, heads·dHead], so all heads are one matMul. */
function packHeads(weight: tf.Tensor): tf.Tensor2D {
  const [heads, dModel, dHead] = weight.shape;
  return weight.transpose([1, 0, 2]).reshape([dModel, heads * dHead]);
}

/**
 * The logits at the last position of [a, b, =] for each example: [N, p], from int32 a, b [N].
 * Equal to `model.forward(tokens, { returnType: "logits" })` at position 2 (up to float rounding),
 * computed from the model's parameter variables, so gradients reach them. The caller disposes the result.
 */
export function modaddLogits(model: HookedTransformer, a: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor2D {
  const p = modulusOf(model);
  if (a.rank !== 1 || b.rank !== 1 || a.shape[0] !== b.shape[0] || a.dtype !== "int32" || b.dtype !== "int32") {
    throw new Error(`modaddLogits: a and b must be int32 vectors of one length [N]; got ${a.dtype} [${a.shape.join(", ")}] and ${b.dtype} [${b.shape.join(", ")}].`);
  }
  const { dModel: d, nHeads: H, dHead } = model.cfg;
  const n = a.shape[0];
  const param = (name: string) => model.param(name);
  return tf.tidy(() => {
    const W_E = param("embed.W_E");
    const W_pos = param("pos_embed.W_pos");
    const posRow = (i: number) => W_pos.slice([i, 0], [1, d]);
    // The residual stream entering the block for every (position, token) that can occur:
    // rows 0 … p−1 position 0 with token a, rows p … 2p−1 position 1 with token b, row 2p position 2 with "=". [2p+1, d]
    const operands = W_E.slice([0, 0], [p, d]);
    const last = tf.add(W_E.slice([p, 0], [1, d]), posRow(2)); // [1, d]
    const residual = tf.concat([tf.add(operands, posRow(0)), tf.add(operands, posRow(1)), last]);
    const project = (x: tf.Tensor, which: "Q" | "K" | "V") => tf.add(tf.matMul(x as tf.Tensor2D, packHeads(param(`blocks.0.attn.W_${which}`))), param(`blocks.0.attn.b_${which}`).reshape([1, H * dHead]));
    const q = project(last, "Q").reshape([1, H, dHead]); // [1, H, dHead]
    const keys = project(residual, "K").reshape([2 * p + 1, H, dHead]);
    const values = project(residual, "V").reshape([2 * p + 1, H * dHead]);
    // Attention score of the last query to each possible key, per head: [2p+1, H].
    const scoreTable = tf.div(tf.sum(tf.mul(keys, q), 2), model.cfg.attnScale);
    // Rows of the examples' two operands, a then p + b: [2N]. (Split, not slice: its gradient is a concat.)
    const rows = tf.concat([a, tf.add(b, tf.scalar(p, "int32"))]);
    const [s0, s1] = tf.split(tf.gather(scoreTable, rows), 2, 0); // [N, H] each
    const s2 = scoreTable.slice([2 * p, 0], [1, H]); // [1, H], the same for every example
    // Softmax over the three keys, written out: every term is [N, H] (broadcasting s2), so the
    // gradients are elementwise rather than slices and tiles.
    const top = tf.maximum(tf.maximum(s0, s1), tf.add(s2, tf.zerosLike(s0))); // (cancels out of the softmax, value and gradient; no broadcastTo: its gradient is a slow loop)
    const [e0, e1, e2] = [s0, s1, s2].map((s) => tf.exp(tf.sub(s, top)));
    const total = tf.addN([e0, e1, e2]);
    const [w0, w1, w2] = [e0, e1, e2].map((e) => tf.div(e, total)); // pattern[:, :, k], [N, H]
    const [v0, v1] = tf.split(tf.gather(values, rows), 2, 0).map((v) => v.reshape([n, H, dHead]));
    // The "=" value is shared, so its term is a matMul with a block-diagonal [H, H·dHead] (row h holds value h).
    const lastValue = values.slice([2 * p, 0], [1, H * dHead]).reshape([1, H, dHead]);
    const lastValueBlocks = tf.mul(tf.eye(H).reshape([H, H, 1]), lastValue).reshape([H, H * dHead]);
    const z = tf.addN([tf.mul(w0.reshape([n, H, 1]), v0).reshape([n, H * dHead]), tf.mul(w1.reshape([n, H, 1]), v1).reshape([n, H * dHead]), tf.matMul(w2, lastValueBlocks)]); // [N, H·dHead]
    const attnOut = tf.fused.matMul({ a: z as tf.Tensor2D, b: param("blocks.0.attn.W_O").reshape([H * dHead, d]), bias: param("blocks.0.attn.b_O") }); // [N, d]
    const mid = tf.add(last, attnOut); // [N, d]
    const post = tf.fused.matMul({ a: mid, b: param("blocks.0.mlp.W_in") as tf.Tensor2D, bias: param("blocks.0.mlp.b_in"), activation: "relu" }); // [N, dMlp]
    const out = tf.add(mid, tf.fused.matMul({ a: post, b: param("blocks.0.mlp.W_out") as tf.Tensor2D, bias: param("blocks.0.mlp.b_out") })); // [N, d]
    return tf.fused.matMul({ a: out, b: param("unembed.W_U") as tf.Tensor2D, bias: param("unembed.b_U") }); // [N, p]
  }) as tf.Tensor2D;
}

/** Mean cross-entropy of logits [N, p] against one-hot targets [N, p] (oneHot + sum: no gather gradient needed). */
function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), targets), 1))) as tf.Scalar;
}

/** Loss and accuracy of a model on examples (all at once). */
export function modaddAccuracy(model: HookedTransformer, examples: ModaddExamples): { loss: number; accuracy: number } {
  const p = modulusOf(model);
  return tf.tidy(() => {
    const logits = modaddLogits(model, tf.tensor1d(examples.a, "int32"), tf.tensor1d(examples.b, "int32"));
    const labels = tf.tensor1d(examples.labels, "int32");
    const loss = crossEntropy(logits, tf.oneHot(labels, p).toFloat() as tf.Tensor2D).dataSync()[0];
    const accuracy = tf.mean(tf.equal(tf.argMax(logits, 1), labels).toFloat()).dataSync()[0];
    return { loss, accuracy };
  });
}

/** Σ of every squared parameter (the quantity weight decay shrinks; one of Nanda's progress measures). */
export function totalSquaredWeights(model: HookedTransformer): number {
  return tf.tidy(() => tf.addN(model.parameters().map((v) => tf.sum(tf.square(v)))).dataSync()[0]);
}

/** Train/test loss and accuracy on the full split (the numbers history.json records along training). */
export function modaddCurves(model: HookedTransformer, split: ModaddSplit): Record<string, number> {
  const trainSet = modaddAccuracy(model, split.train);
  const testSet = modaddAccuracy(model, split.test);
  return { trainLoss: trainSet.loss, trainAccuracy: trainSet.accuracy, testLoss: testSet.loss, testAccuracy: testSet.accuracy, totalSquaredWeights: totalSquaredWeights(model) };
}

/** The key frequencies of the embedding W_E[:p] (see analysis/modularFourier.ts) and their share of its non-constant energy. */
export function modaddKeyFrequencies(model: HookedTransformer): { frequencies: number[]; share: number } {
  const { frequencies, share } = keyFrequencies(frequencyNorms(model.W_E, modulusOf(model)));
  return { frequencies, share };
}

/** The split a model trained with `seed` saw (the seed is in its config). */
function splitOf(model: HookedTransformer): ModaddSplit {
  const seed = model.cfg.seed;
  if (seed === undefined) throw new Error("modadd: the model's config has no seed, so its train/test split is unknown; use modaddCurves(model, modaddSplit(p, seed)).");
  return modaddSplit(modulusOf(model), seed, TRAINING.trainFraction);
}

/**
 * The checkpoints worth shipping among those written (`candidates`, ascending): step 0, the first
 * with train accuracy ≥ 0.99 (memorised), the first to reach each test accuracy in
 * `TEST_ACCURACY_MARKS` (the jump), the last, then the midpoints of the widest gaps until `count`.
 */
const TEST_ACCURACY_MARKS = [0.05, 0.2, 0.5, 0.8, 0.95, 0.99];
export function chooseCheckpoints(candidates: number[], evals: EvaluationRecord[], count: number): number[] {
  if (candidates.length <= count) return candidates;
  const firstCandidateFrom = (step: number) => candidates.reduce((best, c) => (c >= step && (best < step || c < best) ? c : best), candidates.at(-1)!);
  const firstStep = (ok: (m: Record<string, number>) => boolean) => evals.find((e) => ok(e.metrics))?.step;
  const chosen = new Set<number>([candidates[0], candidates.at(-1)!]);
  const marks = [firstStep((m) => m.trainAccuracy >= 0.99), ...TEST_ACCURACY_MARKS.map((mark) => firstStep((m) => m.testAccuracy >= mark))];
  for (const step of marks) if (step !== undefined && chosen.size < count) chosen.add(firstCandidateFrom(step));
  while (chosen.size < count) {
    const sorted = [...chosen].sort((x, y) => x - y);
    let widest = 0;
    for (let i = 1; i < sorted.length; i++) if (sorted[i] - sorted[i - 1] > sorted[widest + 1] - sorted[widest]) widest = i - 1;
    const middle = (sorted[widest] + sorted[widest + 1]) / 2;
    const pick = candidates.filter((c) => !chosen.has(c)).reduce((best, c) => (Math.abs(c - middle) < Math.abs(best - middle) ? c : best), Infinity);
    if (!Number.isFinite(pick)) break;
    chosen.add(pick);
  }
  return [...chosen].sort((x, y) => x - y);
}

function finalMetrics(model: HookedTransformer): Record<string, number> {
  const curves = modaddCurves(model, splitOf(model));
  const { frequencies, share } = modaddKeyFrequencies(model);
  const metrics: Record<string, number> = { ...curves, keyFrequencyCount: frequencies.length, keyFrequencyShare: share };
  frequencies.forEach((k, i) => (metrics[`keyFrequency${i + 1}`] = k));
  return metrics;
}

export const modaddOrganism: OrganismRecipe<HookedTransformer> = {
  name: "modadd",
  summary: `1-layer transformer on (a + b) mod ${MODADD_P}, trained on 30% of the pairs with weight decay: memorises, then groks; its embedding concentrates on a few key Fourier frequencies`,
  defaultSteps: 5000,
  defaultSeed: 0,

  async train({ outDir, steps, seed, progress, signal }) {
    const p = MODADD_P;
    const split = modaddSplit(p, seed, TRAINING.trainFraction);
    const model = await HookedTransformer.create({ ...MODADD_CONFIG, seed }, { tokenizer: modaddTokenizer(p) });
    const runDir = path.join(outDir, ".run");
    // The full training batch, the same every step: kept outside the loop's per-step disposal.
    const trainA = tf.tensor1d(split.train.a, "int32");
    const trainB = tf.tensor1d(split.train.b, "int32");
    const trainTargets = tf.tidy(() => tf.oneHot(tf.tensor1d(split.train.labels, "int32"), p).toFloat() as tf.Tensor2D);
    try {
      const result = await train({
        model,
        batch: () => ({}),
        loss: () => crossEntropy(modaddLogits(model, trainA, trainB), trainTargets),
        steps,
        lr: TRAINING.lr,
        optimizer: { weightDecay: TRAINING.weightDecay, betas: TRAINING.betas },
        seed,
        evaluate: () => modaddCurves(model, split),
        evalEvery: TRAINING.evalEvery,
        checkpointDir: runDir,
        checkpointEvery: TRAINING.candidateCheckpointEvery,
        saveOptimizerState: true,
        resume: true,
        progress: progress ?? "auto",
        title: "modadd",
        signal,
        metadata: { organism: "modadd" },
      });
      await model.save(outDir, { organism: "modadd", step: result.steps, seed });
      // Ship the checkpoints that show the phases (a stopped run ships all it has, to resume from).
      const written = listCheckpoints(runDir).map(({ step }) => step);
      const keep = result.stopped ? undefined : new Set(chooseCheckpoints(written, result.evals, TRAINING.shippedCheckpoints));
      const checkpoints = shipCheckpoints(runDir, outDir, undefined, keep ? { keep: (step) => keep.has(step) } : {});
      if (!result.stopped) fs.rmSync(runDir, { recursive: true, force: true });
      return {
        seed,
        steps: result.steps,
        stopped: result.stopped,
        wallSeconds: result.seconds,
        metrics: finalMetrics(model),
        checkpoints,
        // history.json: the loss every step, and train/test loss and accuracy every evalEvery steps.
        history: { training: result.history, evals: result.evals },
        settings: {
          config: MODADD_CONFIG,
          p,
          training: { ...TRAINING, steps, optimizer: "AdamW", eps: 1e-8, init: "TransformerLens: weights N(0, (0.8/√d_model)²), biases 0" },
          data: `all ${p}² pairs [a, b, =] → (a + b) mod ${p}; ${split.train.a.length} (30%) for training, chosen by a seeded shuffle (seed ${seed}); the rest is the test set`,
          loss: "cross-entropy at the last position only, computed by modaddLogits (the same function as the model's forward at that position)",
        },
      };
    } finally {
      tf.dispose([trainA, trainB, trainTargets]);
      model.dispose();
    }
  },

  load: (dir) => HookedTransformer.load(dir),

  async evaluate(model) {
    return finalMetrics(model);
  },
};
