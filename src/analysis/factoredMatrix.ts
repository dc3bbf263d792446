/**
 * A matrix kept as the product of its two factors, M = A B, with A [..., m, k] and B [..., k, n]
 * (TransformerLens's FactoredMatrix). Attention heads are low rank (k = dHead), so a head's QK
 * circuit W_Q W_Kᵀ or OV circuit W_V W_O ([dModel, dModel], or [dVocab, dVocab] through the
 * embeddings) is far cheaper to keep, multiply, normalise and decompose in factored form than
 * materialised: every operation here works on k × k matrices except `AB()`.
 *
 *   const ov = new FactoredMatrix(model.W_V, model.W_O);  // [nLayers, nHeads, dModel, dModel], rank dHead
 *   const { S } = ov.svd();                                // singular values [nLayers, nHeads, dHead]
 *   const fullOV = ov.leftMatmul(model.W_E).matmul(model.W_U);  // [l, h, dVocab, dVocab], still factored
 *
 * Leading (batch) axes must be equal in A and B, or broadcast (size 1 against size n).
 * Ownership: the constructor keeps its own references (clones) of A and B, so the caller may
 * dispose what it passed (model weights stay the model's); `dispose()` frees them. Every method
 * returns new tensors or FactoredMatrix objects that the caller owns.
 * SVD and eigenvalues run on the CPU in float64 (ml-matrix) on the k × k cores.
 */
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from "ml-matrix";
import { tf } from "../backend";

export class FactoredMatrix {
  /** [..., m, k] */
  readonly A: tf.Tensor;
  /** [..., k, n] */
  readonly B: tf.Tensor;

  constructor(A: tf.Tensor, B: tf.Tensor) {
    if (A.rank < 2 || B.rank < 2) throw new Error(`FactoredMatrix: A and B must be matrices (rank ≥ 2), got shapes [${A.shape}] and [${B.shape}].`);
    if (A.shape[A.rank - 1] !== B.shape[B.rank - 2]) {
      throw new Error(`FactoredMatrix: the inner dimensions must match: A is [${A.shape}] (…, m, k), B is [${B.shape}] (…, k, n); k = ${A.shape[A.rank - 1]} vs ${B.shape[B.rank - 2]}.`);
    }
    broadcastShape(A.shape.slice(0, -2), B.shape.slice(0, -2), "FactoredMatrix: the leading axes of A and B");
    if (A.dtype !== "float32" || B.dtype !== "float32") throw new Error(`FactoredMatrix: A and B must be float32, got ${A.dtype} and ${B.dtype}.`);
    this.A = A.clone();
    this.B = B.clone();
  }

  /** A FactoredMatrix that takes over A and B (disposing them) instead of keeping clones. Not inside tf.tidy. */
  static adopt(A: tf.Tensor, B: tf.Tensor): FactoredMatrix {
    try {
      return new FactoredMatrix(A, B);
    } finally {
      A.dispose();
      B.dispose();
    }
  }

  /** The leading (batch) axes. */
  get batchShape(): number[] {
    return broadcastShape(this.A.shape.slice(0, -2), this.B.shape.slice(0, -2), "");
  }
  /** Rows m. */
  get ldim(): number {
    return this.A.shape[this.A.rank - 2];
  }
  /** The inner dimension k (an upper bound on the rank). */
  get mdim(): number {
    return this.A.shape[this.A.rank - 1];
  }
  /** Columns n. */
  get rdim(): number {
    return this.B.shape[this.B.rank - 1];
  }
  /** [..., m, n] */
  get shape(): number[] {
    return [...this.batchShape, this.ldim, this.rdim];
  }

  /** The materialised product A B [..., m, n]. */
  AB(): tf.Tensor {
    return batchMatMul(this.A, this.B);
  }

  /** B A [..., k, k]: same non-zero eigenvalues as A B (square A B only). */
  BA(): tf.Tensor {
    if (this.ldim !== this.rdim) throw new Error(`FactoredMatrix.BA: A B must be square, it is ${this.ldim} × ${this.rdim}.`);
    return batchMatMul(this.B, this.A);
  }

  /** (A B)ᵀ = Bᵀ Aᵀ. */
  transpose(): FactoredMatrix {
    return owned(transposeLast(this.B), transposeLast(this.A));
  }

  /** (A B) C for a tensor C [..., n, p] or another FactoredMatrix; the result keeps the smaller inner dimension. */
  matmul(other: tf.Tensor | FactoredMatrix): FactoredMatrix {
    if (other instanceof FactoredMatrix) {
      checkInner(this.rdim, other.ldim, "matmul");
      // (A B)(C D): keep the narrower of the two inner dimensions as the new one.
      const middle = batchMatMul(this.B, other.A); // [..., k, k']
      try {
        if (this.mdim <= other.mdim) return owned(this.A.clone(), batchMatMul(middle, other.B));
        return owned(batchMatMul(this.A, middle), other.B.clone());
      } finally {
        middle.dispose();
      }
    }
    checkInner(this.rdim, other.shape[other.rank - 2], "matmul");
    return owned(this.A.clone(), batchMatMul(this.B, other));
  }

  /** C (A B) for a tensor C [..., p, m]. */
  leftMatmul(other: tf.Tensor): FactoredMatrix {
    checkInner(other.shape[other.rank - 1], this.ldim, "leftMatmul");
    return owned(batchMatMul(other, this.A), this.B.clone());
  }

  /**
   * Frobenius norm of A B [...batch], without materialising it:
   * ‖A B‖² = trace(Bᵀ Aᵀ A B) = Σᵢⱼ (AᵀA)ᵢⱼ (B Bᵀ)ᵢⱼ, two k × k Gram matrices.
   */
  norm(): tf.Tensor {
    return tf.tidy(() => {
      const gramA = batchMatMul(transposeLast(this.A), this.A);
      const gramB = batchMatMul(this.B, transposeLast(this.B));
      return tf.sqrt(tf.relu(tf.sum(tf.mul(gramA, gramB), [-2, -1])));
    });
  }

  /**
   * Compact singular value decomposition A B = U diag(S) Vh with U [..., m, k], S [..., k]
   * (descending), Vh [..., k, n]. From the SVDs A = Ua Sa Vaᵀ and B = Ub Sb Vbᵀ,
   * A B = Ua (Sa Vaᵀ Ub Sb) Vbᵀ: the small core in parentheses is decomposed and its singular
   * vectors carried out to m and n by Ua and Vb. When m or n is below k the extra singular
   * values are 0 (and their vectors 0).
   */
  svd(): { U: tf.Tensor; S: tf.Tensor; Vh: tf.Tensor } {
    const [A, B] = this.broadcastFactors();
    const batch = this.batchShape;
    const count = batch.reduce((a, b) => a * b, 1);
    const [m, k, n] = [this.ldim, this.mdim, this.rdim];
    const aData = A.dataSync();
    const bData = B.dataSync();
    A.dispose();
    B.dispose();
    const U = new Float32Array(count * m * k);
    const S = new Float32Array(count * k);
    const Vh = new Float32Array(count * k * n);
    for (let i = 0; i < count; i++) {
      const a = matrixFrom(aData, i * m * k, m, k);
      const b = matrixFrom(bData, i * k * n, k, n);
      const { u, s, vh } = factoredSvd(a, b);
      U.set(Float32Array.from(u.to1DArray()), i * m * k);
      S.set(Float32Array.from(s), i * k);
      Vh.set(Float32Array.from(vh.to1DArray()), i * k * n);
    }
    return { U: tf.tensor(U, [...batch, m, k]), S: tf.tensor(S, [...batch, k]), Vh: tf.tensor(Vh, [...batch, k, n]) };
  }

  /** Singular values [..., k], descending. */
  singularValues(): tf.Tensor {
    const { U, S, Vh } = this.svd();
    U.dispose();
    Vh.dispose();
    return S;
  }

  /**
   * The k eigenvalues of B A [..., k] (real and imaginary parts), which are the non-zero
   * eigenvalues of the square A B (its other m − k are zero); sorted by modulus, largest first.
   */
  eigenvalues(): { real: tf.Tensor; imag: tf.Tensor } {
    const ba = this.BA();
    const data = ba.dataSync();
    ba.dispose();
    const batch = this.batchShape;
    const k = this.mdim;
    const count = batch.reduce((a, b) => a * b, 1);
    const real = new Float32Array(count * k);
    const imag = new Float32Array(count * k);
    for (let i = 0; i < count; i++) {
      const e = new EigenvalueDecomposition(matrixFrom(data, i * k * k, k, k));
      const pairs = e.realEigenvalues.map((re, j) => [re, e.imaginaryEigenvalues[j]]);
      pairs.sort((p, q) => Math.hypot(q[0], q[1]) - Math.hypot(p[0], p[1]) || q[0] - p[0] || q[1] - p[1]);
      pairs.forEach(([re, im], j) => {
        real[i * k + j] = re;
        imag[i * k + j] = im;
      });
    }
    return { real: tf.tensor(real, [...batch, k]), imag: tf.tensor(imag, [...batch, k]) };
  }

  /** The top-left `size` × `size` corner of A B, materialised (for a look at a large product). */
  corner(size = 3): tf.Tensor {
    return tf.tidy(() => {
      const rows = Math.min(size, this.ldim);
      const cols = Math.min(size, this.rdim);
      const a = this.A.slice(new Array(this.A.rank).fill(0), [...this.A.shape.slice(0, -2), rows, this.mdim]);
      const b = this.B.slice(new Array(this.B.rank).fill(0), [...this.B.shape.slice(0, -1), cols]);
      return batchMatMul(a, b);
    });
  }

  dispose(): void {
    this.A.dispose();
    this.B.dispose();
  }

  /** A and B with their leading axes broadcast to `batchShape` (caller disposes). */
  private broadcastFactors(): [tf.Tensor, tf.Tensor] {
    const batch = this.batchShape;
    return [
      tf.broadcastTo(this.A, [...batch, this.ldim, this.mdim]),
      tf.broadcastTo(this.B, [...batch, this.mdim, this.rdim]),
    ];
  }
}

function owned(A: tf.Tensor, B: tf.Tensor): FactoredMatrix {
  return FactoredMatrix.adopt(A, B);
}

function checkInner(left: number, right: number, op: string): void {
  if (left !== right) throw new Error(`FactoredMatrix.${op}: inner dimensions differ (${left} vs ${right}).`);
}

/** The broadcast of two shapes (numpy rules, aligned from the right), or an error naming `what`. */
function broadcastShape(a: number[], b: number[], what: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`${what} do not broadcast: [${a}] vs [${b}].`);
    out.push(Math.max(x, y));
  }
  return out;
}

/** Swaps the last two axes. */
function transposeLast(t: tf.Tensor): tf.Tensor {
  const perm = [...Array(t.rank - 2).keys(), t.rank - 1, t.rank - 2];
  return tf.transpose(t, perm);
}

/** Matrix product over the last two axes with the leading axes broadcast (made explicit, so every backend takes it). */
function batchMatMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2), "matmul: the leading axes");
    const [m, k] = a.shape.slice(-2);
    const n = b.shape[b.rank - 1];
    if (batch.length === 0) return tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
    const count = batch.reduce((x, y) => x * y, 1);
    const a3 = tf.broadcastTo(a, [...batch, m, k]).reshape([count, m, k]) as tf.Tensor3D;
    const b3 = tf.broadcastTo(b, [...batch, k, n]).reshape([count, k, n]) as tf.Tensor3D;
    return tf.matMul(a3, b3).reshape([...batch, m, n]);
  });
}

function matrixFrom(data: ArrayLike<number>, offset: number, rows: number, cols: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m.set(r, c, data[offset + r * cols + c]);
  return m;
}

/** Compact SVD of a b (a [m, k], b [k, n]) through the k × k core; singular values descending. */
function factoredSvd(a: Matrix, b: Matrix): { u: Matrix; s: number[]; vh: Matrix } {
  const k = a.columns;
  const svdA = new SingularValueDecomposition(a, { autoTranspose: true });
  const svdB = new SingularValueDecomposition(b, { autoTranspose: true });
  // a = Ua diag(Sa) Vaᵀ (Ua [m, r], r = min(m, k)); b = Ub diag(Sb) Vbᵀ (Vb [n, r'], r' = min(k, n)).
  const ua = svdA.leftSingularVectors;
  const va = svdA.rightSingularVectors;
  const ub = svdB.leftSingularVectors;
  const vb = svdB.rightSingularVectors;
  const core = Matrix.diag(svdA.diagonal).mmul(va.transpose()).mmul(ub).mmul(Matrix.diag(svdB.diagonal));
  const svdCore = new SingularValueDecomposition(core, { autoTranspose: true });
  const u = ua.mmul(svdCore.leftSingularVectors);
  const vh = svdCore.rightSingularVectors.transpose().mmul(vb.transpose());
  const s = svdCore.diagonal;
  // Pad to k components when m or n is smaller than k (the extra singular values are 0).
  return { u: padColumns(u, k), s: [...s, ...new Array(Math.max(0, k - s.length)).fill(0)], vh: padColumns(vh.transpose(), k).transpose() };
}

function padColumns(m: Matrix, columns: number): Matrix {
  if (m.columns >= columns) return m.columns === columns ? m : m.subMatrix(0, m.rows - 1, 0, columns - 1);
  const out = Matrix.zeros(m.rows, columns);
  out.setSubMatrix(m, 0, 0);
  return out;
}
