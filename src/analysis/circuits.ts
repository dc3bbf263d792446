/**
 * The weight-space circuits of attention heads (Elhage et al., "A Mathematical Framework for
 * Transformer Circuits"), in TransformerLens's conventions (row vectors: x W):
 *
 *   QK circuit   W_Q W_Kᵀ [dModel, dModel]: the bilinear form scoring a query residual against a key residual
 *   OV circuit   W_V W_O  [dModel, dModel]: what a head writes for the residual it attends to
 *   full QK      W_E W_Q W_Kᵀ W_Eᵀ [dVocab, dVocab]: query token × key token (direct path, no positions)
 *   full OV      W_E W_V W_O W_U [dVocab, dVocabOut]: attended token → logits (direct path)
 *
 * and the numbers read off them: the OV copying score (how positive the full OV circuit's
 * eigenvalues are: a copying head maps a token to itself) and Q/K/V composition scores between
 * a head writing and a later head reading, ‖W_A W_B‖_F / (‖W_A‖_F ‖W_B‖_F).
 *
 * All circuits are FactoredMatrix objects [nLayers, nHeads, ·, ·] (rank dHead), never
 * materialised. Grouped-query models' key/value heads are repeated to one per query head.
 * Ownership: results belong to the caller (dispose them); the model's weights are not touched.
 */
import { tf } from "../backend";
import type { HookedTransformer } from "../model/hookedTransformer";
import { FactoredMatrix } from "./factoredMatrix";

/** [nLayers, nKeyValueHeads, …] → [nLayers, nHeads, …]: query head h reads key/value head ⌊h / group⌋. */
function perQueryHead(model: HookedTransformer, weights: tf.Tensor): tf.Tensor {
  const group = model.cfg.nHeads / weights.shape[1]!;
  if (group === 1) return weights.clone();
  const index = tf.tensor1d(Array.from({ length: model.cfg.nHeads }, (_, h) => Math.floor(h / group)), "int32");
  const out = tf.gather(weights, index, 1);
  index.dispose();
  return out;
}

function swapLast(t: tf.Tensor): tf.Tensor {
  return tf.transpose(t, [...Array(t.rank - 2).keys(), t.rank - 1, t.rank - 2]);
}

/** QK circuit of every head: W_Q W_Kᵀ, [nLayers, nHeads, dModel, dModel]. */
export function qkCircuit(model: HookedTransformer): FactoredMatrix {
  return factored(() => [model.W_Q.clone(), swapLast(perQueryHead(model, model.W_K))]);
}

/** OV circuit of every head: W_V W_O, [nLayers, nHeads, dModel, dModel]. */
export function ovCircuit(model: HookedTransformer): FactoredMatrix {
  return factored(() => [perQueryHead(model, model.W_V), model.W_O.clone()]);
}

/** A FactoredMatrix from factors computed in a tidy scope (intermediates freed). */
function factored(factors: () => [tf.Tensor, tf.Tensor]): FactoredMatrix {
  const [A, B] = tf.tidy(factors);
  return FactoredMatrix.adopt(A, B);
}

/** Full QK circuit W_E W_Q W_Kᵀ W_Eᵀ, [nLayers, nHeads, dVocab, dVocab] (query token, key token). */
export function fullQkCircuit(model: HookedTransformer): FactoredMatrix {
  const qk = qkCircuit(model);
  try {
    return factored(() => [embedRows(model, qk.A), tf.matMul(qk.B.reshape([-1, qk.rdim]), model.W_E, false, true).reshape([...qk.batchShape, qk.mdim, model.cfg.dVocab])]);
  } finally {
    qk.dispose();
  }
}

/** W_E [dVocab, dModel] times every head's [dModel, dHead] factor: [nLayers, nHeads, dVocab, dHead]. */
function embedRows(model: HookedTransformer, perHead: tf.Tensor): tf.Tensor {
  const [layers, heads, dModel, dHead] = perHead.shape as [number, number, number, number];
  return tf
    .matMul(model.W_E, perHead.transpose([2, 0, 1, 3]).reshape([dModel, -1]))
    .reshape([model.cfg.dVocab, layers, heads, dHead])
    .transpose([1, 2, 0, 3]);
}

/** Full OV circuit W_E W_V W_O W_U, [nLayers, nHeads, dVocab, dVocabOut] (attended token → logits). */
export function fullOvCircuit(model: HookedTransformer): FactoredMatrix {
  const ov = ovCircuit(model);
  try {
    const dVocabOut = model.W_U.shape[1] as number;
    return factored(() => [embedRows(model, ov.A), tf.matMul(ov.B.reshape([-1, ov.rdim]), model.W_U).reshape([...ov.batchShape, ov.mdim, dVocabOut])]);
  } finally {
    ov.dispose();
  }
}

/**
 * OV copying score of every head, [nLayers, nHeads]: Σ Re(λ) / Σ |λ| over the eigenvalues λ of the
 * full OV circuit W_E W_V W_O W_U (which needs dVocab = dVocabOut). Near 1: the head copies the
 * token it attends to into the logits (induction and name-mover heads); near −1: it suppresses it.
 * The non-zero eigenvalues are those of the dHead × dHead matrix W_O W_U W_E W_V.
 */
export function ovCopyingScores(model: HookedTransformer): tf.Tensor2D {
  if (model.W_U.shape[1] !== model.cfg.dVocab) throw new Error(`ovCopyingScores: the full OV circuit must be square; dVocab ${model.cfg.dVocab} ≠ dVocabOut ${model.W_U.shape[1]}.`);
  const ov = ovCircuit(model);
  const unembedEmbed = tf.matMul(model.W_U, model.W_E); // [dModel, dModel]
  // W_V W_O W_U W_E has the same non-zero eigenvalues as W_E W_V W_O W_U (cyclic shift).
  const core = factored(() => [ov.A.clone(), tf.matMul(ov.B.reshape([-1, ov.rdim]), unembedEmbed).reshape(ov.B.shape)]);
  unembedEmbed.dispose();
  ov.dispose();
  const { real, imag } = core.eigenvalues();
  core.dispose();
  return tf.tidy(() => {
    const modulus = tf.sqrt(tf.add(tf.square(real), tf.square(imag)));
    const result = tf.div(tf.sum(real, -1), tf.maximum(tf.sum(modulus, -1), 1e-30)) as tf.Tensor2D;
    real.dispose();
    imag.dispose();
    return result;
  });
}

export type CompositionKind = "Q" | "K" | "V";

/**
 * Composition scores [nLayers, nHeads, nLayers, nHeads]: entry [l1, h1, l2, h2] is how much head
 * (l2, h2) reads, through its query ("Q"), key ("K") or value ("V") input, the subspace head
 * (l1, h1) writes: ‖OV₁ R₂‖_F / (‖OV₁‖_F ‖R₂‖_F) with R₂ = W_Q W_Kᵀ (Q), W_K W_Qᵀ (K) or W_V W_O (V)
 * of the later head. Zero unless l1 < l2. A random baseline is ~ 1/√dModel-ish; K-composition of an
 * induction head with a previous-token head stands out above it.
 *
 * Computed in factored form: with OV₁ = A₁B₁ and R₂ = A₂B₂, ‖A₁(B₁A₂)B₂‖² = Σ M ⊙ (G₁ M G₂) where
 * M = B₁A₂ [dHead, dHead], G₁ = A₁ᵀA₁ and G₂ = B₂B₂ᵀ.
 */
export function compositionScores(model: HookedTransformer, kind: CompositionKind): tf.Tensor4D {
  const { nLayers, nHeads } = model.cfg;
  const writer = ovCircuit(model);
  const reader = kind === "V" ? ovCircuit(model) : kind === "Q" ? qkCircuit(model) : transposedQk(model);
  try {
    return tf.tidy(() => {
      const n = nLayers * nHeads;
      const dHead = writer.mdim;
      const dModel = writer.ldim;
      const a1 = writer.A.reshape([n, dModel, dHead]);
      const b1 = writer.B.reshape([n, dHead, dModel]);
      const a2 = reader.A.reshape([n, dModel, dHead]);
      const b2 = reader.B.reshape([n, dHead, dModel]);
      const g1 = tf.matMul(a1, a1, true, false); // [n, dHead, dHead]
      const g2 = tf.matMul(b2, b2, false, true); // [n, dHead, dHead]
      const writerNorm = tf.sqrt(tf.sum(tf.mul(g1, tf.matMul(b1, b1, false, true)), [1, 2])); // [n]
      const readerNorm = tf.sqrt(tf.sum(tf.mul(tf.matMul(a2, a2, true, false), g2), [1, 2])); // [n]
      // M = B₁A₂ for every (writer, reader) pair, one writer layer at a time (memory ∝ nHeads · n · dHead²).
      const allA2 = a2.transpose([1, 0, 2]).reshape([dModel, n * dHead]);
      const rows: tf.Tensor[] = [];
      for (let layer = 0; layer < nLayers; layer++) {
        const heads = tf.range(layer * nHeads, (layer + 1) * nHeads, 1, "int32");
        const m = tf
          .matMul(tf.gather(b1, heads).reshape([nHeads * dHead, dModel]), allA2)
          .reshape([nHeads, dHead, n, dHead])
          .transpose([0, 2, 1, 3])
          .reshape([nHeads * n, dHead, dHead]);
        const g1m = tf.matMul(tf.tile(tf.gather(g1, heads).expandDims(1), [1, n, 1, 1]).reshape([nHeads * n, dHead, dHead]), m);
        const g1mg2 = tf.matMul(g1m, tf.tile(g2.expandDims(0), [nHeads, 1, 1, 1]).reshape([nHeads * n, dHead, dHead]));
        rows.push(tf.sqrt(tf.relu(tf.sum(tf.mul(m, g1mg2), [1, 2]))).reshape([nHeads, n]));
      }
      const productNorm = tf.concat(rows, 0); // [n, n]
      const scores = tf.div(productNorm, tf.maximum(tf.mul(writerNorm.expandDims(1), readerNorm.expandDims(0)), 1e-30));
      // Only earlier → later layers compose.
      const layerOf = tf.tensor1d(Array.from({ length: n }, (_, i) => Math.floor(i / nHeads)), "int32");
      const earlier = tf.less(layerOf.expandDims(1), layerOf.expandDims(0));
      return tf.where(earlier, scores, tf.zerosLike(scores)).reshape([nLayers, nHeads, nLayers, nHeads]) as tf.Tensor4D;
    });
  } finally {
    writer.dispose();
    reader.dispose();
  }
}

/** (W_Q W_Kᵀ)ᵀ = W_K W_Qᵀ: the key side's reading of the residual. */
function transposedQk(model: HookedTransformer): FactoredMatrix {
  const qk = qkCircuit(model);
  const t = qk.transpose();
  qk.dispose();
  return t;
}
