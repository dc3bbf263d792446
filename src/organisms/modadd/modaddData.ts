/**
 * Data of the modadd organism (Nanda et al., "Progress measures for grokking"): every pair
 * (a, b) with a, b in 0 … p−1, written as the three tokens [a, b, =] with "=" the token p, and
 * labelled (a + b) mod p. A seeded shuffle puts a fraction of the p² pairs (30%) in the training
 * split and the rest in the test split; the model sees only the training split, full batch.
 *
 * Examples are plain typed arrays (no tensors), so nothing here needs disposing; `modaddTokens`
 * makes the token tensor when one is wanted.
 */
import { tf } from "../../backend";
import { SeededRandom } from "../../train/seededRandom";

/** N examples as columns: a, b (the operands) and label = (a + b) mod p, each [N]. */
export interface ModaddExamples {
  a: Int32Array;
  b: Int32Array;
  labels: Int32Array;
}

export interface ModaddSplit {
  p: number;
  /** Seed of the shuffle that chose the training pairs. */
  seed: number;
  trainFraction: number;
  /** floor(trainFraction · p²) pairs (3,830 at p = 113). */
  train: ModaddExamples;
  /** The other pairs. */
  test: ModaddExamples;
}

/** Whether n is prime (trial division; p here is small). */
export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** Throws unless p is a prime ≥ 3 (the task and the Fourier analysis of Z_p need a prime). */
export function checkModulus(p: number, where: string): void {
  if (!isPrime(p) || p < 3) throw new Error(`${where}: the modulus p must be a prime ≥ 3, got ${p}.`);
}

/** Every pair (a, b) in order a·p + b: [p²] columns. */
export function modaddAllPairs(p: number): ModaddExamples {
  checkModulus(p, "modaddAllPairs");
  return examplesOf(p, Array.from({ length: p * p }, (_, i) => i));
}

/**
 * The seeded train/test split of all p² pairs: a Fisher–Yates shuffle of the pair indices with
 * SeededRandom(seed); the first floor(trainFraction · p²) are the training split. Both splits
 * keep the shuffled order.
 */
export function modaddSplit(p: number, seed: number, trainFraction = 0.3): ModaddSplit {
  checkModulus(p, "modaddSplit");
  if (!(trainFraction > 0 && trainFraction < 1)) throw new Error(`modaddSplit: trainFraction must be in (0, 1), got ${trainFraction}.`);
  if (!Number.isInteger(seed)) throw new Error(`modaddSplit: the seed must be a whole number, got ${seed}.`);
  const order = new SeededRandom(seed).shuffle(Array.from({ length: p * p }, (_, i) => i));
  const nTrain = Math.floor(trainFraction * p * p);
  return { p, seed, trainFraction, train: examplesOf(p, order.slice(0, nTrain)), test: examplesOf(p, order.slice(nTrain)) };
}

/** Pair indices i = a·p + b → columns. */
function examplesOf(p: number, indices: number[]): ModaddExamples {
  const n = indices.length;
  const out: ModaddExamples = { a: new Int32Array(n), b: new Int32Array(n), labels: new Int32Array(n) };
  indices.forEach((index, i) => {
    out.a[i] = Math.floor(index / p);
    out.b[i] = index % p;
    out.labels[i] = (out.a[i] + out.b[i]) % p;
  });
  return out;
}

/** The model's input for the examples: int32 [N, 3] rows [a, b, p] ("=" is token p). The caller disposes it. */
export function modaddTokens(examples: ModaddExamples, p: number): tf.Tensor2D {
  const n = examples.a.length;
  const values = new Int32Array(3 * n);
  for (let i = 0; i < n; i++) {
    values[3 * i] = examples.a[i];
    values[3 * i + 1] = examples.b[i];
    values[3 * i + 2] = p;
  }
  return tf.tensor2d(values, [n, 3], "int32");
}
