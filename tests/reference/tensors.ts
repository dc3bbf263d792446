/**
 * Conversions between row-major `RefWeight`/`RefTensor` and nested JS arrays, which the references
 * use internally so that every formula can be written with plain indices (W[h][i][d]).
 */
import type { RefTensor, RefWeight, RefWeights } from "./types";

export type Vec = number[];
export type Mat = number[][];
export type Cube = number[][][];

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/** The named parameter, checked against the expected shape. */
export function getWeight(weights: RefWeights, name: string, shape: readonly number[]): RefWeight {
  const w = weights[name];
  if (w === undefined) throw new Error(`reference: missing parameter "${name}" (expected shape [${shape.join(", ")}]).`);
  if (!sameShape(w.shape, shape)) {
    throw new Error(`reference: parameter "${name}" has shape [${w.shape.join(", ")}], expected [${shape.join(", ")}].`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (w.data.length !== size) throw new Error(`reference: parameter "${name}" has ${w.data.length} values, its shape needs ${size}.`);
  return w;
}

export function to1d(w: RefWeight): Vec {
  return Array.from(w.data, Number);
}

/** [n0, n1] row-major → m[i][j]. */
export function to2d(w: RefWeight): Mat {
  const [n0, n1] = w.shape;
  const out: Mat = [];
  for (let i = 0; i < n0; i++) {
    const row: Vec = [];
    for (let j = 0; j < n1; j++) row.push(w.data[i * n1 + j]);
    out.push(row);
  }
  return out;
}

/** [n0, n1, n2] row-major → c[i][j][k]. */
export function to3d(w: RefWeight): Cube {
  const [n0, n1, n2] = w.shape;
  const out: Cube = [];
  for (let i = 0; i < n0; i++) {
    const mat: Mat = [];
    for (let j = 0; j < n1; j++) {
      const row: Vec = [];
      for (let k = 0; k < n2; k++) row.push(w.data[(i * n1 + j) * n2 + k]);
      mat.push(row);
    }
    out.push(mat);
  }
  return out;
}

/** A nested array of numbers, any depth. */
export type Nested = number | Nested[];

/** Flattens a rectangular nested array into a RefTensor; the shape is read from the nesting. */
export function fromNested(nested: Nested): RefTensor {
  const shape: number[] = [];
  let probe: Nested = nested;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0];
  }
  const values: number[] = [];
  const walk = (node: Nested, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(node)) throw new Error("fromNested: ragged nesting (too deep).");
      values.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) throw new Error("fromNested: ragged nesting.");
    for (const child of node) walk(child, depth + 1);
  };
  walk(nested, 0);
  return { shape, data: Float64Array.from(values) };
}

/** The value at a multi-index of a row-major tensor. */
export function at(t: { shape: readonly number[]; data: ArrayLike<number> }, ...index: number[]): number {
  if (index.length !== t.shape.length) throw new Error(`at: ${index.length} indices for a rank-${t.shape.length} tensor.`);
  let flat = 0;
  for (let i = 0; i < index.length; i++) {
    if (index[i] < 0 || index[i] >= t.shape[i]) throw new Error(`at: index ${index[i]} out of range on axis ${i} (size ${t.shape[i]}).`);
    flat = flat * t.shape[i] + index[i];
  }
  return t.data[flat];
}
