/**
 * The geometry of a toy model's features (Elhage et al. 2022), per instance, from W [d, n]:
 *   - feature norm ‖W_i‖: whether feature i is represented at all (≈1) or dropped (≈0);
 *   - interference Σ_{j≠i} (Ŵ_i · W_j)²: how much other features project onto feature i's direction;
 *   - feature dimensionality D_i = ‖W_i‖² / Σ_j (Ŵ_i · W_j)² (including j = i): the share of a
 *     hidden dimension feature i gets (1 alone in its direction, 1/2 in an antipodal pair, 2/5 in
 *     a pentagon); Σ_i D_i ≤ d;
 *   - dimensions per feature: d / ‖W‖_F²;
 *   - WᵀW [n, n].
 * Plain numbers (no tensors are kept).
 */
import type { ToySuperpositionModel } from "./toyModel";

export interface InstanceGeometry {
  instance: number;
  featureProbability: number;
  /** [n] */
  featureNorms: number[];
  /** [n] */
  interference: number[];
  /** [n] */
  dimensionality: number[];
  dimensionsPerFeature: number;
  /** [n][n] */
  gram: number[][];
  /** W as [d][n] (columns are feature directions). */
  W: number[][];
}

/** The geometry of every instance of `model`. */
export function superpositionGeometry(model: ToySuperpositionModel): InstanceGeometry[] {
  const { nInstances: k, dHidden: d, nFeatures: n, featureProbability } = model.config;
  const all = model.W.dataSync(); // [k, d, n]
  return Array.from({ length: k }, (_, instance) => {
    const W = Array.from({ length: d }, (_, r) => Array.from(all.subarray((instance * d + r) * n, (instance * d + r + 1) * n)));
    return { instance, featureProbability: featureProbability[instance], ...geometryOf(W) };
  });
}

/** The geometry of one W [d][n]. */
export function geometryOf(W: number[][]): Omit<InstanceGeometry, "instance" | "featureProbability"> {
  const d = W.length;
  const n = W[0]?.length ?? 0;
  const column = (i: number): number[] => W.map((row) => row[i]);
  const dot = (a: number[], b: number[]): number => a.reduce((s, v, r) => s + v * b[r], 0);
  const columns = Array.from({ length: n }, (_, i) => column(i));
  const gram = columns.map((a) => columns.map((b) => dot(a, b)));
  const featureNorms = columns.map((c) => Math.sqrt(dot(c, c)));
  const projections = columns.map((ci, i) => {
    const norm = featureNorms[i] || 1;
    return columns.map((cj) => dot(ci, cj) / norm);
  });
  const interference = projections.map((row, i) => row.reduce((s, p, j) => (j === i ? s : s + p * p), 0));
  const dimensionality = projections.map((row, i) => {
    const total = row.reduce((s, p) => s + p * p, 0);
    return total > 0 ? (featureNorms[i] ** 2) / total : 0;
  });
  const frobenius = featureNorms.reduce((s, v) => s + v * v, 0);
  return { featureNorms, interference, dimensionality, dimensionsPerFeature: frobenius > 0 ? d / frobenius : Infinity, gram, W: W.map((row) => [...row]) };
}

/** Features with norm above `threshold` (default 0.5): those the instance represents. */
export function representedFeatures(geometry: Pick<InstanceGeometry, "featureNorms">, threshold = 0.5): number[] {
  return geometry.featureNorms.flatMap((norm, i) => (norm > threshold ? [i] : []));
}
