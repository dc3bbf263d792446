/**
 * Data types shared by the plain-loop references (the test oracle). No tfjs anywhere in
 * tests/reference: everything is plain JS numbers and typed arrays, row-major.
 */

/** One parameter: its shape and its values, row-major. */
export interface RefWeight {
  shape: number[];
  data: Float32Array | Float64Array;
}

/** Parameters by name (TransformerLens names for the hooked reference, HF names for the HF ones). */
export type RefWeights = Record<string, RefWeight>;

/** A result of a reference computation: double precision, row-major. */
export interface RefTensor {
  shape: number[];
  data: Float64Array;
}
