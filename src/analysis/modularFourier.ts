/**
 * Fourier analysis over Z_p (p an odd prime), the lens of Nanda et al.'s modular-addition work:
 * a network that adds mod p embeds each residue x as cos(2πkx/p), sin(2πkx/p) for a few "key"
 * frequencies k, so its embedding matrix, seen in the Fourier basis, is concentrated on them.
 *
 *   const basis = fourierBasis(113);                        // [113, 113], rows orthonormal
 *   const norms = frequencyNorms(model.W_E, 113);           // one norm per frequency 0 … 56
 *   const { frequencies, share } = keyFrequencies(norms);   // e.g. [14, 35, 41, 42, 52], 0.9
 *
 * The basis (rows indexed by component, columns by x ∈ 0 … p−1):
 *   row 0        constant         1/√p
 *   row 2k − 1   cos k            √(2/p) · cos(2πkx/p)      k = 1 … (p−1)/2
 *   row 2k       sin k            √(2/p) · sin(2πkx/p)
 * Its rows are orthonormal (B·Bᵀ = I), so projecting a matrix W [p, d] onto it, C = B·W [p, d],
 * keeps every norm (‖C‖ = ‖W‖, Parseval), and the energy of W splits exactly over frequencies:
 * ‖W‖² = Σ_k norm(k)², with norm(k)² = ‖C[2k−1]‖² + ‖C[2k]‖² (cos and sin together).
 */
import { tf } from "../backend";

/** Checks p is an odd prime (the cos/sin pairs and Z_p's Fourier structure need it). */
function checkOddPrime(p: number, where: string): void {
  let prime = Number.isInteger(p) && p >= 3;
  for (let d = 2; prime && d * d <= p; d++) if (p % d === 0) prime = false;
  if (!prime) throw new Error(`${where}: p must be an odd prime (the modulus of Z_p), got ${p}.`);
}

/** The names of the basis rows: "const", "cos 1", "sin 1", …, "cos (p−1)/2", "sin (p−1)/2". */
export function fourierComponentNames(p: number): string[] {
  checkOddPrime(p, "fourierComponentNames");
  const names = ["const"];
  for (let k = 1; k <= (p - 1) / 2; k++) names.push(`cos ${k}`, `sin ${k}`);
  return names;
}

/** The basis as plain rows: number[p][p], row per component (see the file comment), column per x. */
export function fourierBasisRows(p: number): number[][] {
  checkOddPrime(p, "fourierBasisRows");
  const rows: number[][] = [Array.from({ length: p }, () => 1 / Math.sqrt(p))];
  const scale = Math.sqrt(2 / p);
  for (let k = 1; k <= (p - 1) / 2; k++) {
    rows.push(Array.from({ length: p }, (_, x) => scale * Math.cos((2 * Math.PI * k * x) / p)));
    rows.push(Array.from({ length: p }, (_, x) => scale * Math.sin((2 * Math.PI * k * x) / p)));
  }
  return rows;
}

/** The orthonormal Fourier basis of Z_p as a tensor [p (component), p (x)]. The caller disposes it. */
export function fourierBasis(p: number): tf.Tensor2D {
  return tf.tensor2d(fourierBasisRows(p));
}

/**
 * A matrix over residues, W [≥ p, d] (rows 0 … p−1 are used: for an embedding W_E [p + 1, d] that
 * drops the "=" token), in the Fourier basis: C = B · W[:p] [p (component), d]. The caller disposes it.
 */
export function fourierCoefficients(W: tf.Tensor, p: number): tf.Tensor2D {
  checkOddPrime(p, "fourierCoefficients");
  if (W.rank !== 2 || W.shape[0] < p) throw new Error(`fourierCoefficients: expected a matrix with at least p = ${p} rows (one per residue), got shape [${W.shape.join(", ")}].`);
  return tf.tidy(() => {
    const basis = fourierBasis(p);
    return tf.matMul(basis, W.slice([0, 0], [p, W.shape[1] as number])) as tf.Tensor2D;
  });
}

/**
 * The norm of W[:p] at each frequency: [(p+1)/2] numbers, index 0 the constant component, index k
 * the cos k and sin k components together, √(‖C[2k−1]‖² + ‖C[2k]‖²). Their squares sum to ‖W[:p]‖².
 */
export function frequencyNorms(W: tf.Tensor, p: number): number[] {
  const squared = tf.tidy(() => {
    const coefficients = fourierCoefficients(W, p);
    return tf.sum(tf.square(coefficients), 1).dataSync() as Float32Array; // [p] energy per component
  });
  const norms = [Math.sqrt(squared[0])];
  for (let k = 1; k <= (p - 1) / 2; k++) norms.push(Math.sqrt(squared[2 * k - 1] + squared[2 * k]));
  return norms;
}

export interface KeyFrequencies {
  /** The key frequencies (1 … (p−1)/2), strongest first. */
  frequencies: number[];
  /** Their share of the non-constant energy: Σ_key norm(k)² / Σ_{k ≥ 1} norm(k)², in [0, 1]. */
  share: number;
  /** Every non-constant frequency's share of that energy, index k − 1 for frequency k. */
  shares: number[];
}

export interface KeyFrequencyOptions {
  /** A frequency is key when it holds at least this share of the non-constant energy (default 0.05; a uniform spread gives each 2/(p−1)). */
  minShare?: number;
  /** At most this many (default 8). */
  maxCount?: number;
}

/**
 * The few frequencies holding most of the energy, from `frequencyNorms` output (index 0 the
 * constant, ignored): those whose share of the non-constant squared norm is at least `minShare`,
 * strongest first, at most `maxCount`.
 */
export function keyFrequencies(norms: number[], options: KeyFrequencyOptions = {}): KeyFrequencies {
  const minShare = options.minShare ?? 0.05;
  const maxCount = options.maxCount ?? 8;
  if (!Array.isArray(norms) || norms.length < 2) throw new Error(`keyFrequencies: expected the per-frequency norms of frequencyNorms (constant first, then 1 … (p−1)/2), got ${norms?.length ?? norms} number(s).`);
  if (!(minShare >= 0 && minShare <= 1)) throw new Error(`keyFrequencies: minShare must be in [0, 1], got ${minShare}.`);
  if (!Number.isInteger(maxCount) || maxCount < 1) throw new Error(`keyFrequencies: maxCount must be a whole number ≥ 1, got ${maxCount}.`);
  const energy = norms.slice(1).map((n) => n * n);
  const total = energy.reduce((s, e) => s + e, 0);
  const shares = energy.map((e) => (total > 0 ? e / total : 0));
  const frequencies = shares
    .map((share, i) => ({ k: i + 1, share }))
    .filter(({ share }) => share >= minShare && share > 0)
    .sort((x, y) => y.share - x.share)
    .slice(0, maxCount)
    .map(({ k }) => k);
  return { frequencies, share: frequencies.reduce((s, k) => s + shares[k - 1], 0), shares };
}
