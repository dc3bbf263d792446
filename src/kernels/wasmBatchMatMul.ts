/**
 * A faster BatchMatMul for the wasm backend. Its kernel hands a product to XNNPACK only when
 * neither input is transposed and both have batch size 1; anything else (every gradient of a
 * matMul, which transposes one side, and a batch of rows times one weight matrix) runs a plain
 * triple loop, 10–40× slower. This wrapper, in front of the backend's own kernel:
 *   - transposes a flagged input explicitly (the wasm Transpose kernel is fast), and
 *   - folds a's batch into its rows when b is one matrix: [B, m, k] · [1, k, n] = [1, B·m, k] · [1, k, n],
 * so those products take the XNNPACK path. Results are the same products (up to summation order).
 */
import { tf } from "../backend";

interface WasmBackendLike {
  disposeData(dataId: object): void;
}

type Info = tf.TensorInfo;

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Wraps the registered wasm BatchMatMul once; a no-op when the wasm backend is not loaded. */
export function registerWasmBatchMatMul(): void {
  const original = tf.getKernel("BatchMatMul", "wasm");
  const transpose = tf.getKernel("Transpose", "wasm");
  if (!original || !transpose || (original.kernelFunc as { mechlabWrapped?: boolean }).mechlabWrapped) return;
  const originalFunc = original.kernelFunc;

  const kernelFunc: tf.KernelFunc = (args) => {
    const backend = args.backend as unknown as WasmBackendLike;
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    let { a, b } = args.inputs as { a: Info; b: Info };
    const temporaries: Info[] = [];
    const swapLastTwo = (x: Info): Info => {
      const perm = x.shape.map((_, i) => i);
      const r = perm.length;
      [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
      const out = transpose.kernelFunc({ inputs: { x }, backend: args.backend, attrs: { perm } }) as Info;
      temporaries.push(out);
      return out;
    };
    try {
      if (transposeA) a = swapLastTwo(a);
      if (transposeB) b = swapLastTwo(b);
      let outShape: number[] | undefined;
      const aBatch = a.shape.slice(0, -2);
      if (size(b.shape.slice(0, -2)) === 1 && size(aBatch) > 1 && b.shape.length <= a.shape.length) {
        const [m, k] = a.shape.slice(-2);
        const n = b.shape[b.shape.length - 1];
        outShape = [...aBatch, m, n];
        // Same data, read as one tall matrix (TensorInfo is only dataId + shape + dtype).
        a = { dataId: a.dataId, dtype: a.dtype, shape: [1, size(aBatch) * m, k] };
        b = { dataId: b.dataId, dtype: b.dtype, shape: [1, k, n] };
      }
      const out = originalFunc({ ...args, inputs: { a, b }, attrs: { ...args.attrs, transposeA: false, transposeB: false } }) as Info;
      if (outShape) (out as { shape: number[] }).shape = outShape;
      return out;
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  };
  (kernelFunc as { mechlabWrapped?: boolean }).mechlabWrapped = true;
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({ ...original, kernelFunc });
}
