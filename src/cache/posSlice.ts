/**
 * Index selections along one axis, for the cache's analysis methods (TransformerLens's Slice).
 *
 *   a number n      one index (negative counts from the end); the axis is DROPPED,
 *                   so posSlice -1 turns [batch, pos, dModel] into [batch, dModel]
 *   [start, end)    a range (negatives count from the end); the axis is KEPT
 *   undefined/null  everything
 *
 * runWithCache's posSlice and the analysis methods both follow TransformerLens here.
 */
import { tf } from "../backend";

export type IndexSlice = number | [number, number] | null | undefined;
/** Positions to analyse; see the file comment. */
export type PosSlice = IndexSlice;

export interface ResolvedSlice {
  start: number;
  end: number;
  /** Whether the axis goes away (a single integer index). */
  drop: boolean;
}

/** [start, end) and whether to drop the axis, for an axis of `length`. Throws when nothing is selected. */
export function resolveSlice(selection: IndexSlice, length: number, what: string): ResolvedSlice {
  if (selection === undefined || selection === null) return { start: 0, end: length, drop: false };
  if (typeof selection === "number") {
    if (!Number.isInteger(selection)) throw new Error(`${what} must be an integer index or [start, end); got ${selection}.`);
    const index = selection < 0 ? length + selection : selection;
    if (index < 0 || index >= length) throw new Error(`${what} ${selection} is out of range for an axis of length ${length}.`);
    return { start: index, end: index + 1, drop: true };
  }
  if (!Array.isArray(selection) || selection.length !== 2 || !selection.every((v) => Number.isInteger(v))) {
    throw new Error(`${what} must be an integer index or a pair [start, end) of integers; got ${JSON.stringify(selection)}.`);
  }
  const start = selection[0] < 0 ? length + selection[0] : selection[0];
  const end = selection[1] < 0 ? length + selection[1] : Math.min(selection[1], length);
  if (!(start >= 0 && start < end && end <= length)) {
    throw new Error(`${what} ${JSON.stringify(selection)} selects nothing of an axis of length ${length}.`);
  }
  return { start, end, drop: false };
}

/** `t` restricted along `axis` (the same tensor when nothing is sliced away). */
export function sliceAlong(t: tf.Tensor, selection: IndexSlice, axis: number, what: string): tf.Tensor {
  if (selection === undefined || selection === null) return t;
  const { start, end, drop } = resolveSlice(selection, t.shape[axis], what);
  const begin = t.shape.map((_, i) => (i === axis ? start : 0));
  const size = t.shape.map((d, i) => (i === axis ? end - start : d));
  const sliced = t.slice(begin, size);
  return drop ? sliced.squeeze([axis]) : sliced;
}

/** The indices a selection picks from an axis of `length` (for labels). */
export function sliceIndices(selection: IndexSlice, length: number, what: string): number[] {
  const { start, end } = resolveSlice(selection, length, what);
  return Array.from({ length: end - start }, (_, i) => start + i);
}
