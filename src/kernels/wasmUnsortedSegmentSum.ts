/**
 * UnsortedSegmentSum for the wasm backend, which lacks it. tfjs needs it for the gradient of
 * tf.gather (a metric that picks logits with gather, an embedding lookup being trained), so
 * without it `tf.grads` fails on wasm. A plain loop over the backend's memory:
 *   out[segmentIds[i], ...] += x[i, ...]      x [n, ...rest], segmentIds [n] → out [numSegments, ...rest]
 */
import { tf } from "../backend";

interface WasmBackendLike {
  typedArrayFromHeap(info: tf.TensorInfo): ArrayLike<number>;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Float32Array | Int32Array): tf.TensorInfo;
}

const kernel: tf.KernelConfig = {
  kernelName: "UnsortedSegmentSum",
  backendName: "wasm",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
    const { numSegments } = attrs as unknown as { numSegments: number };
    const wasm = backend as unknown as WasmBackendLike;
    const values = wasm.typedArrayFromHeap(x);
    const ids = wasm.typedArrayFromHeap(segmentIds);
    const rowSize = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const rows = x.shape[0] ?? 1;
    const out = x.dtype === "int32" ? new Int32Array(numSegments * rowSize) : new Float32Array(numSegments * rowSize);
    for (let i = 0; i < rows; i++) {
      const segment = ids[i];
      if (segment < 0 || segment >= numSegments) continue; // as TensorFlow: out-of-range ids are dropped
      const from = i * rowSize;
      const to = segment * rowSize;
      for (let j = 0; j < rowSize; j++) out[to + j] += values[from + j];
    }
    return wasm.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype, undefined, out);
  },
};

/** Registers the kernel once, if the wasm backend is loaded and does not have it. */
export function registerWasmUnsortedSegmentSum(): void {
  const has = tf.getKernelsForBackend("wasm").some((k) => k.kernelName === "UnsortedSegmentSum");
  if (!has) tf.registerKernel(kernel);
}
