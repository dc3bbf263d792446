/**
 * LEACE, LEAst-squares Concept Erasure (Belrose et al., 2023): the affine edit of activations
 * that makes a concept linearly undecodable, changing them as little as possible (in the
 * whitened norm). After it, the activations' cross-covariance with the concept is zero, so no
 * linear probe does better than predicting a constant.
 *
 * Closed form, for activations X [n, d] with mean μ and covariance Σ, and the concept Z [n, k]
 * (one-hot classes, or any numeric features):
 *
 *     W = Σ^{-1/2} (whitening; pseudo-inverse on Σ's null space),  W⁺ = Σ^{1/2}
 *     P = orthogonal projection onto the column space of W Σ_XZ
 *     x' = x − W⁺ P W (x − μ)
 *
 *   const eraser = fitLeace(acts, labels);           // labels: class ids [n], or Z [n, k]
 *   const erased = eraser.apply(acts);               // [n, d]
 *   model.addHook("blocks.2.hook_resid_post", eraser.hook());   // erase inside the model ([batch, pos, d])
 *   eraser.dispose();
 *
 * Fitting runs in float64 on the CPU (ml-matrix eigendecomposition of the d × d covariance).
 * Ownership: the caller keeps what it passes; the eraser owns its mean and matrix (dispose()).
 */
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from "ml-matrix";
import { tf } from "../backend";
import type { HookFn } from "../hooks/hookPoint";

export interface LeaceOptions {
  /** Eigenvalues of Σ (relative to the largest) and singular values of W Σ_XZ below this are treated as 0 (default 1e-6). */
  tolerance?: number;
}

export class LeaceEraser {
  /** μ [d] */
  readonly mean: tf.Tensor1D;
  /** M = (W⁺ P W)ᵀ [d, d], so that erase(x) = x − (x − μ) M for row vectors. */
  readonly projection: tf.Tensor2D;
  /** Rank of the erased subspace (≤ number of concept features). */
  readonly rank: number;

  constructor(mean: tf.Tensor1D, projection: tf.Tensor2D, rank: number) {
    this.mean = mean;
    this.projection = projection;
    this.rank = rank;
  }

  /** Erased activations [..., d] (any leading axes). */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const d = this.mean.shape[0];
      if (x.shape[x.rank - 1] !== d) throw new Error(`LeaceEraser.apply: activations must end in d = ${d}; got [${x.shape}].`);
      const flat = x.reshape([-1, d]);
      const erased = tf.sub(flat, tf.matMul(tf.sub(flat, this.mean), this.projection));
      return erased.reshape(x.shape);
    });
  }

  /** A hook function that erases the concept from the activation at a hook point. */
  hook(): HookFn {
    return (activation) => this.apply(activation);
  }

  dispose(): void {
    this.mean.dispose();
    this.projection.dispose();
  }
}

/** Z [n, k] from class ids (one-hot over the classes present) or a numeric matrix. */
function conceptMatrix(labels: tf.Tensor | readonly number[] | readonly (readonly number[])[], n: number): number[][] {
  const data = labels instanceof tf.Tensor ? (labels.arraySync() as number[] | number[][]) : (labels as number[] | number[][]);
  if (data.length !== n) throw new Error(`fitLeace: ${data.length} labels for ${n} rows of activations.`);
  if (typeof data[0] === "number") {
    const ids = data as number[];
    if (!ids.every((c) => Number.isInteger(c) && c >= 0)) throw new Error("fitLeace: class labels must be whole numbers ≥ 0 (or give a numeric matrix [n, k]).");
    const classes = [...new Set(ids)].sort((a, b) => a - b);
    return ids.map((c) => classes.map((k) => (k === c ? 1 : 0)));
  }
  return data as number[][];
}

/** Fits the LEACE eraser of the concept `labels` from activations [n, d]. */
export function fitLeace(activations: tf.Tensor2D, labels: tf.Tensor | readonly number[] | readonly (readonly number[])[], options: LeaceOptions = {}): LeaceEraser {
  if (!(activations instanceof tf.Tensor) || activations.rank !== 2) throw new Error(`fitLeace: activations must be a [n, d] tensor.`);
  const [n, d] = activations.shape;
  if (n < 2) throw new Error(`fitLeace: need at least 2 rows of activations; got ${n}.`);
  const tolerance = options.tolerance ?? 1e-6;
  const x = activations.arraySync();
  const z = conceptMatrix(labels, n);
  const k = z[0].length;

  // Means, covariance Σ [d, d] and cross-covariance Σ_XZ [d, k], in float64.
  const mu = new Array<number>(d).fill(0);
  const zMean = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) mu[j] += x[i][j] / n;
    for (let j = 0; j < k; j++) zMean[j] += z[i][j] / n;
  }
  const xc = new Matrix(x.map((row) => row.map((v, j) => v - mu[j])));
  const zc = new Matrix(z.map((row) => row.map((v, j) => v - zMean[j])));
  const sigma = xc.transpose().mmul(xc).div(n);
  const sigmaXZ = xc.transpose().mmul(zc).div(n);

  // Σ = V diag(λ) Vᵀ: W = V diag(λ^-1/2) Vᵀ and W⁺ = V diag(λ^1/2) Vᵀ over the non-zero λ.
  const eig = new EigenvalueDecomposition(sigma, { assumeSymmetric: true });
  const lambda = eig.realEigenvalues;
  const vectors = eig.eigenvectorMatrix;
  const floor = Math.max(...lambda.map(Math.abs)) * tolerance;
  const scaled = (power: number) => {
    const diag = Matrix.diag(lambda.map((l) => (l > floor ? l ** power : 0)));
    return vectors.mmul(diag).mmul(vectors.transpose());
  };
  const whiten = scaled(-0.5);
  const unwhiten = scaled(0.5);

  // P: projection onto the column space of W Σ_XZ (its left singular vectors with non-zero singular values).
  const a = whiten.mmul(sigmaXZ);
  const svd = new SingularValueDecomposition(a, { autoTranspose: true });
  const top = Math.max(...svd.diagonal, 0);
  const keep = svd.diagonal.map((s, i) => [s, i] as const).filter(([s]) => top > 0 && s > top * tolerance).map(([, i]) => i);
  const u = svd.leftSingularVectors;
  const basis = new Matrix(d, keep.length);
  keep.forEach((col, c) => {
    for (let r = 0; r < d; r++) basis.set(r, c, u.get(r, col));
  });
  const projection = basis.mmul(basis.transpose());
  // For row vectors: x' = x − (x − μ) (W⁺ P W)ᵀ = x − (x − μ) W P W⁺ (all three symmetric).
  const m = whiten.mmul(projection).mmul(unwhiten);
  return new LeaceEraser(tf.tensor1d(mu), tf.tensor2d(m.to2DArray(), [d, d]), keep.length);
}
