/**
 * Attribution patching (Nanda; Syed et al.): the first-order approximation of activation
 * patching. Patching a slice of an activation from the clean run into the corrupted run changes
 * the metric by about
 *
 *     Δmetric ≈ Σ_slice (a_clean − a_corrupted) · ∂metric/∂a |_corrupted
 *
 * so one forward and one backward pass on the corrupted prompts (plus a clean forward) give the
 * whole grid, for every activation kind and grid shape `activationPatching` has. Exact for
 * patches the metric depends on linearly (e.g. the last layer's residual stream into the logits);
 * elsewhere an approximation whose quality `compareWithActivationPatching` reports.
 *
 * Same options and result as activationPatching (values normalised so 0 = corrupted, 1 = clean);
 * `raw` holds the approximated metric (corrupted metric + attribution). The caller owns the
 * result's tensors.
 */
import { tf } from "../backend";
import type { HookedTransformer } from "../model/hookedTransformer";
import { activationPatching, patchingGrid, type ActivationPatchingOptions, type PatchCell, type PatchingResult } from "./activationPatching";

/** Σ over the cell's slice of Δactivation · gradient, summed over prompts. Layouts as in patchMask. */
function cellAttribution(activation: ActivationPatchingOptions["activation"], product: tf.Tensor, cell: PatchCell): number {
  return tf.tidy(() => {
    // product: [prompts, ...] elementwise Δa · ∂metric/∂a.
    let t = product;
    if (activation === "pattern") {
      // [prompts, head, query, key]
      if (cell.head !== undefined) t = t.slice([0, cell.head, 0, 0], [-1, 1, -1, -1]);
      if (cell.pos !== undefined) t = t.slice([0, 0, cell.pos, 0], [-1, -1, 1, -1]);
    } else {
      // [prompts, pos, ...] and heads on axis 2
      if (cell.pos !== undefined) t = t.slice(new Array(t.rank).fill(0).map((_, a) => (a === 1 ? cell.pos! : 0)), t.shape.map((_, a) => (a === 1 ? 1 : -1)));
      if (cell.head !== undefined) t = t.slice(new Array(t.rank).fill(0).map((_, a) => (a === 2 ? cell.head! : 0)), t.shape.map((_, a) => (a === 2 ? 1 : -1)));
    }
    return t.sum().dataSync()[0];
  });
}

export async function attributionPatching(model: HookedTransformer, options: Omit<ActivationPatchingOptions, "batchSize">): Promise<PatchingResult> {
  const { clean, corrupted, metric, activation } = options;
  if (!(clean instanceof tf.Tensor) || !(corrupted instanceof tf.Tensor) || clean.rank !== 2 || corrupted.rank !== 2 || clean.shape.join() !== corrupted.shape.join()) {
    throw new Error(`attributionPatching: clean and corrupted must be int32 token ids [prompts, pos] of the same shape.`);
  }
  const [prompts, length] = clean.shape;
  const positions = (metric.positions ?? [-1]).map((p) => (p < 0 ? length + p : p));
  const perPosition = options.perPosition ?? !["z", "q", "k", "v", "result", "pattern"].includes(activation);
  const { cells, axes, shape } = patchingGrid(model, activation, length, perPosition);
  const hooks = new Set(cells.map((c) => c.hook));
  const promptOfRow = Array.from({ length: prompts }, (_, p) => p);
  // The metric as a scalar of full logits: the mean over prompts, as activation patching reports it.
  const scalarMetric = (logits: tf.Tensor3D): tf.Scalar => metric.compute(tf.gather(logits, tf.tensor1d(positions, "int32"), 1) as tf.Tensor3D, promptOfRow).mean() as tf.Scalar;

  const { output: cleanLogits, cache: cleanCache } = model.runWithCache(clean, { namesFilter: (name: string) => hooks.has(name) });
  const cleanMetric = tf.tidy(() => scalarMetric(cleanLogits).dataSync()[0]);
  cleanLogits.dispose();
  const { output: corruptedLogits, cache: corruptedCache } = model.runWithCache(corrupted, { namesFilter: (name: string) => hooks.has(name), includeGradients: true, metric: scalarMetric });
  const corruptedMetric = tf.tidy(() => scalarMetric(corruptedLogits).dataSync()[0]);
  corruptedLogits.dispose();

  const raw = new Float32Array(cells.length);
  try {
    let i = 0;
    for (const hook of hooks) {
      const product = tf.tidy(() => tf.mul(tf.sub(cleanCache.get(hook), corruptedCache.get(hook)), corruptedCache.grad(hook)));
      try {
        // Cells are in row-major grid order, so a cell's position in `cells` is its flat index.
        cells.forEach((cell, index) => {
          if (cell.hook === hook) raw[index] = corruptedMetric + cellAttribution(activation, product, cell);
        });
      } finally {
        product.dispose();
      }
      options.onProgress?.({ done: (i += cells.filter((c) => c.hook === hook).length), total: cells.length, cells: [] });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    cleanCache.dispose();
    corruptedCache.dispose();
  }
  const normalize = options.normalize ?? true;
  const scaled = Array.from(raw, (v) => (normalize ? (v - corruptedMetric) / (cleanMetric - corruptedMetric) : v));
  return { values: tf.tensor(scaled, shape), raw: tf.tensor(raw, shape), axes, cleanMetric, corruptedMetric, stopped: false, forwardPasses: 3 };
}

/** How well attribution patching approximates activation patching on one grid. */
export interface AttributionComparison {
  /** Pearson correlation of the two grids' normalised values. */
  correlation: number;
  /** Largest absolute difference of normalised values. */
  maxAbsDifference: number;
  attribution: PatchingResult;
  activation: PatchingResult;
}

/** Runs both on the same grid and reports their agreement (the caller owns both results' tensors). */
export async function compareWithActivationPatching(model: HookedTransformer, options: ActivationPatchingOptions): Promise<AttributionComparison> {
  const attribution = await attributionPatching(model, options);
  const activation = await activationPatching(model, options);
  const a = Array.from(attribution.values.dataSync());
  const b = Array.from(activation.values.dataSync());
  return { correlation: pearson(a, b), maxAbsDifference: Math.max(...a.map((x, i) => Math.abs(x - b[i]))), attribution, activation };
}

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}
