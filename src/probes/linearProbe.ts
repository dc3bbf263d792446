/**
 * Linear probes: multiclass logistic regression from cached activations to labels, to ask whether
 * a property is linearly decodable from a layer (Alain & Bengio; Li et al.'s Othello probes).
 *
 *   const split = trainTestSplit(acts.shape[0], { testFraction: 0.2, seed: 0 });
 *   const probe = await trainLinearProbe(gatherRows(acts, split.train), gatherLabels(labels, split.train), { classes: 3 });
 *   probe.evaluate(testActs, testLabels)   // { accuracy, headAccuracy, precision, recall, confusion, ... }
 *   probe.directions()                     // [heads, classes, d] tensor (e.g. for steering)
 *   probe.dispose();
 *
 * One probe can have several heads that share the input: labels [n, heads], each head a softmax
 * over `classes` (e.g. 36 board squares × {empty, mine, theirs}). For a single head, labels [n].
 * The model of head h:  p(class c | x) = softmax_c(x · W[:, h, c] + b[h, c]),
 * trained by minimising the mean cross-entropy over rows and heads with AdamW.
 *
 * Ownership: the caller keeps the activations and labels it passes; a LinearProbe owns its weights
 * (free them with `dispose()`); tensors returned by its methods belong to the caller.
 */
import { tf } from "../backend";
import { AdamW } from "../train/adamW";
import { SeededRandom } from "../train/seededRandom";

/** Labels: class ids, [n] for one head or [n, heads] for several (number arrays or an int tensor). */
export type ProbeLabels = tf.Tensor | readonly number[] | readonly (readonly number[])[];

export interface LinearProbeOptions {
  /** Classes per head (≥ 2). */
  classes: number;
  /** Optimiser steps (default 300). */
  steps?: number;
  /** AdamW learning rate (default 0.01). */
  lr?: number;
  /** AdamW decoupled weight decay of the weights, not the biases (default 0). */
  weightDecay?: number;
  /** Rows per step; default all rows (full-batch). */
  batchSize?: number;
  /** Seed of the minibatch order (weights start at zero, so full-batch training is seed-free). */
  seed?: number;
  /** Stops training after the current step. */
  signal?: AbortSignal;
}

export interface ProbeEvaluation {
  /** Fraction of (row, head) pairs classified correctly. */
  accuracy: number;
  /** Accuracy of each head. [heads] */
  headAccuracy: number[];
  /** Per class, pooled over heads: of the predictions of class c, the fraction that are c. NaN if c is never predicted. [classes] */
  precision: number[];
  /** Per class, pooled over heads: of the rows whose label is c, the fraction predicted c. NaN if c never occurs. [classes] */
  recall: number[];
  /** Rows (× heads) with each true class. [classes] */
  support: number[];
  /** confusion[true][predicted], pooled over heads. [classes][classes] */
  confusion: number[][];
  /** Mean cross-entropy (nats). */
  loss: number;
}

export class LinearProbe {
  readonly inputSize: number;
  readonly heads: number;
  readonly classes: number;
  /** Weights [d, heads * classes] (column h * classes + c belongs to head h, class c). Owned by the probe. */
  readonly W: tf.Variable;
  /** Biases [heads * classes]. Owned by the probe. */
  readonly b: tf.Variable;
  /** Training loss after each step. */
  readonly lossHistory: number[] = [];
  /** Whether labels were [n] (one head, predictions [n]) rather than [n, heads]. */
  readonly singleHead: boolean;
  private disposed = false;

  constructor(inputSize: number, heads: number, classes: number, singleHead = heads === 1) {
    this.inputSize = inputSize;
    this.heads = heads;
    this.classes = classes;
    this.singleHead = singleHead;
    const [w, b] = [tf.zeros([inputSize, heads * classes]), tf.zeros([heads * classes])];
    this.W = tf.variable(w, true);
    this.b = tf.variable(b, true);
    // A variable keeps its own copy; the initial values are freed.
    tf.dispose([w, b]);
  }

  /** Logits [n, heads, classes] of activations [n, d] (the caller disposes). */
  logits(activations: tf.Tensor2D): tf.Tensor3D {
    this.checkAlive("logits");
    this.checkActivations(activations, "logits");
    return tf.tidy(() => activations.matMul(this.W).add(this.b).reshape([activations.shape[0], this.heads, this.classes]) as tf.Tensor3D);
  }

  /** Most likely class of each head: int32 [n, heads], or [n] for a single-head probe (the caller disposes). */
  predict(activations: tf.Tensor2D): tf.Tensor {
    return tf.tidy(() => {
      const classes = this.logits(activations).argMax(-1).toInt();
      return this.singleHead ? classes.reshape([activations.shape[0]]) : classes;
    });
  }

  /**
   * The probe's directions [heads, classes, d]: W's column for (head, class), i.e. the direction
   * in activation space that raises that class's logit (the caller disposes). Differences of two
   * classes' directions (e.g. mine − theirs) are the usual directions to steer or erase along.
   */
  directions(): tf.Tensor3D {
    this.checkAlive("directions");
    return tf.tidy(() => this.W.reshape([this.inputSize, this.heads, this.classes]).transpose([1, 2, 0]) as tf.Tensor3D);
  }

  /** Accuracy, per-head accuracy, per-class precision and recall, confusion and loss on held-out data. */
  evaluate(activations: tf.Tensor2D, labels: ProbeLabels): ProbeEvaluation {
    this.checkAlive("evaluate");
    const n = activations.shape[0];
    const truth = labelRows(labels, n, this.heads, this.classes, "evaluate");
    const [predicted, loss] = tf.tidy(() => {
      const logits = this.logits(activations);
      const logProbs = tf.logSoftmax(logits);
      const oneHot = tf.oneHot(tf.tensor2d(truth.flat(), [n, this.heads], "int32"), this.classes);
      const ce = tf.neg(tf.sum(tf.mul(logProbs, oneHot))).div(n * this.heads);
      return [Array.from(logits.argMax(-1).dataSync()), ce.dataSync()[0]] as const;
    });
    const confusion = Array.from({ length: this.classes }, () => new Array<number>(this.classes).fill(0));
    const headCorrect = new Array<number>(this.heads).fill(0);
    let correct = 0;
    for (let i = 0; i < n; i++) {
      for (let h = 0; h < this.heads; h++) {
        const t = truth[i][h];
        const p = predicted[i * this.heads + h];
        confusion[t][p]++;
        if (t === p) {
          correct++;
          headCorrect[h]++;
        }
      }
    }
    const support = confusion.map((row) => row.reduce((a, b) => a + b, 0));
    const predictedCount = confusion[0].map((_, c) => confusion.reduce((a, row) => a + row[c], 0));
    return {
      accuracy: correct / (n * this.heads),
      headAccuracy: headCorrect.map((c) => c / n),
      precision: confusion.map((row, c) => (predictedCount[c] > 0 ? row[c] / predictedCount[c] : NaN)),
      recall: confusion.map((row, c) => (support[c] > 0 ? row[c] / support[c] : NaN)),
      support,
      confusion,
      loss,
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.W.dispose();
    this.b.dispose();
  }

  private checkAlive(what: string): void {
    if (this.disposed) throw new Error(`LinearProbe.${what}: the probe has been disposed.`);
  }

  private checkActivations(activations: tf.Tensor, what: string): void {
    if (!(activations instanceof tf.Tensor) || activations.rank !== 2 || activations.shape[1] !== this.inputSize) {
      const got = activations instanceof tf.Tensor ? `shape [${activations.shape.join(", ")}]` : typeof activations;
      throw new Error(`LinearProbe.${what}: activations must be a tensor [n, d=${this.inputSize}]; got ${got}.`);
    }
  }
}

/**
 * Trains a linear probe on activations [n, d] and labels [n] or [n, heads] (class ids in
 * [0, classes)). Weights start at zero; full-batch training is deterministic. Awaits the event
 * loop every few steps, so a notebook stays responsive.
 */
export async function trainLinearProbe(activations: tf.Tensor2D, labels: ProbeLabels, options: LinearProbeOptions): Promise<LinearProbe> {
  if (!(activations instanceof tf.Tensor) || activations.rank !== 2) {
    throw new Error(`trainLinearProbe: activations must be a 2-D tensor [n, d]; got ${activations instanceof tf.Tensor ? `shape [${activations.shape.join(", ")}]` : typeof activations}. Flatten batch and position first (e.g. reshape([-1, d])).`);
  }
  const { classes } = options;
  if (!Number.isInteger(classes) || classes < 2) throw new Error(`trainLinearProbe: classes must be a whole number ≥ 2, got ${classes}.`);
  const steps = options.steps ?? 300;
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`trainLinearProbe: steps must be a whole number ≥ 0, got ${steps}.`);
  const [n, d] = activations.shape;
  if (n === 0) throw new Error("trainLinearProbe: no rows to train on.");
  const singleHead = labelRank(labels) === 1;
  const heads = singleHead ? 1 : labelHeads(labels);
  const rows = labelRows(labels, n, heads, classes, "trainLinearProbe");
  const batchSize = options.batchSize ?? n;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`trainLinearProbe: batchSize must be a whole number ≥ 1, got ${batchSize}.`);

  const probe = new LinearProbe(d, heads, classes, singleHead);
  const optimizer = new AdamW({ W: probe.W, b: probe.b }, { lr: options.lr ?? 0.01, weightDecay: options.weightDecay ?? 0, decays: (name) => name === "W" });
  const targets = tf.tidy(() => tf.oneHot(tf.tensor2d(rows.flat(), [n, heads], "int32"), classes)); // [n, heads, classes]
  const random = new SeededRandom(options.seed ?? 0);
  const order = Array.from({ length: n }, (_, i) => i);
  let cursor = n;
  try {
    for (let step = 0; step < steps; step++) {
      if (options.signal?.aborted) break;
      let index: tf.Tensor1D | undefined;
      if (batchSize < n) {
        if (cursor + batchSize > n) {
          random.shuffle(order);
          cursor = 0;
        }
        index = tf.tensor1d(order.slice(cursor, cursor + batchSize), "int32");
        cursor += batchSize;
      }
      try {
        const { value, grads } = tf.variableGrads(() =>
          tf.tidy(() => {
            const x = index ? tf.gather(activations, index) : activations;
            const y = index ? tf.gather(targets, index) : targets;
            const m = x.shape[0];
            const logits = x.matMul(probe.W).add(probe.b).reshape([m, heads, classes]);
            return tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), y))).div(m * heads) as tf.Scalar;
          }),
          [probe.W, probe.b],
        );
        try {
          probe.lossHistory.push(value.dataSync()[0]);
          optimizer.step({ W: grads[probe.W.name], b: grads[probe.b.name] });
        } finally {
          value.dispose();
          tf.dispose(Object.values(grads));
        }
      } finally {
        index?.dispose();
      }
      if (step % 25 === 24) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } catch (error) {
    probe.dispose();
    throw error;
  } finally {
    optimizer.dispose();
    targets.dispose();
  }
  return probe;
}

/** A seeded random split of row indices 0 … n−1 into train and test (each sorted). */
export function trainTestSplit(n: number, options: { testFraction?: number; seed?: number } = {}): { train: number[]; test: number[] } {
  const testFraction = options.testFraction ?? 0.2;
  if (!Number.isInteger(n) || n < 2) throw new Error(`trainTestSplit: n must be a whole number ≥ 2, got ${n}.`);
  if (!(testFraction > 0 && testFraction < 1)) throw new Error(`trainTestSplit: testFraction must be in (0, 1), got ${testFraction}.`);
  const order = new SeededRandom(options.seed ?? 0).shuffle(Array.from({ length: n }, (_, i) => i));
  const nTest = Math.min(n - 1, Math.max(1, Math.round(n * testFraction)));
  return { test: order.slice(0, nTest).sort((a, b) => a - b), train: order.slice(nTest).sort((a, b) => a - b) };
}

/** Rows `indices` of a tensor (the caller disposes the result). */
export function gatherRows<T extends tf.Tensor>(tensor: T, indices: readonly number[]): T {
  return tf.tidy(() => tf.gather(tensor, tf.tensor1d(indices as number[], "int32")) as T);
}

/** Rows `indices` of labels given as arrays. */
export function gatherLabels<L extends number | readonly number[]>(labels: readonly L[], indices: readonly number[]): L[] {
  return indices.map((i) => labels[i]);
}

/**
 * The accuracy on `testLabels` of always guessing each head's most frequent class in
 * `trainLabels`: the baseline a probe must beat to show it decodes anything.
 */
export function majorityBaseline(trainLabels: ProbeLabels, testLabels: ProbeLabels, classes: number): number {
  const heads = labelRank(trainLabels) === 1 ? 1 : labelHeads(trainLabels);
  const train = labelRows(trainLabels, labelCount(trainLabels), heads, classes, "majorityBaseline");
  const test = labelRows(testLabels, labelCount(testLabels), heads, classes, "majorityBaseline");
  const majority = Array.from({ length: heads }, (_, h) => {
    const counts = new Array<number>(classes).fill(0);
    for (const row of train) counts[row[h]]++;
    return counts.indexOf(Math.max(...counts));
  });
  let correct = 0;
  for (const row of test) for (let h = 0; h < heads; h++) if (row[h] === majority[h]) correct++;
  return correct / (test.length * heads);
}

// ------------------------------------------------------------------ labels

function labelRank(labels: ProbeLabels): number {
  if (labels instanceof tf.Tensor) return labels.rank;
  if (!Array.isArray(labels)) throw new Error(`Probe labels must be an array or a tensor of class ids; got ${typeof labels}.`);
  return labels.length > 0 && Array.isArray(labels[0]) ? 2 : 1;
}

function labelCount(labels: ProbeLabels): number {
  return labels instanceof tf.Tensor ? labels.shape[0] : labels.length;
}

function labelHeads(labels: ProbeLabels): number {
  if (labels instanceof tf.Tensor) return labels.rank === 2 ? labels.shape[1]! : 1;
  return labels.length > 0 && Array.isArray(labels[0]) ? (labels[0] as number[]).length : 1;
}

/** Labels as rows [n][heads] of checked class ids. */
function labelRows(labels: ProbeLabels, n: number, heads: number, classes: number, where: string): number[][] {
  const rank = labelRank(labels);
  if (rank !== 1 && rank !== 2) throw new Error(`${where}: labels must be [n] or [n, heads]; got rank ${rank}.`);
  const count = labelCount(labels);
  if (count !== n) throw new Error(`${where}: ${count} label rows for ${n} activation rows.`);
  const width = rank === 1 ? 1 : labelHeads(labels);
  if (width !== heads) throw new Error(`${where}: labels have ${width} head(s); expected ${heads}.`);
  let rows: number[][];
  if (labels instanceof tf.Tensor) {
    const flat = Array.from(labels.dataSync());
    rows = Array.from({ length: n }, (_, i) => flat.slice(i * heads, (i + 1) * heads));
  } else rows = rank === 1 ? (labels as readonly number[]).map((v) => [v]) : (labels as readonly (readonly number[])[]).map((r) => [...r]);
  rows.forEach((row, i) => {
    if (row.length !== heads) throw new Error(`${where}: label row ${i} has ${row.length} entries; expected ${heads}.`);
    row.forEach((v, h) => {
      if (!Number.isInteger(v) || v < 0 || v >= classes) throw new Error(`${where}: label [${i}${heads > 1 ? `, ${h}` : ""}] is ${v}; class ids must be whole numbers in [0, ${classes}).`);
    });
  });
  return rows;
}
