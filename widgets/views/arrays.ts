/**
 * Binary state values as typed arrays, whatever form they arrive in: a DataView over a comm
 * buffer (live widgets), an ArrayBuffer, or a typed array (static pages, tests).
 */

function bytes(value: unknown, what: string): { buffer: ArrayBufferLike; byteOffset: number; byteLength: number } {
  if (value instanceof ArrayBuffer) return { buffer: value, byteOffset: 0, byteLength: value.byteLength };
  if (ArrayBuffer.isView(value)) return { buffer: value.buffer, byteOffset: value.byteOffset, byteLength: value.byteLength };
  throw new TypeError(`${what}: expected binary data (DataView, ArrayBuffer or a typed array), got ${value === null ? "null" : typeof value}`);
}

export function asFloat32(value: unknown, what = "value"): Float32Array {
  if (value instanceof Float32Array) return value;
  const { buffer, byteOffset, byteLength } = bytes(value, what);
  // Copy when unaligned: Float32Array views need 4-byte alignment.
  if (byteOffset % 4 !== 0) return new Float32Array(new Uint8Array(buffer, byteOffset, byteLength).slice().buffer);
  return new Float32Array(buffer, byteOffset, byteLength / 4);
}

export function asInt32(value: unknown, what = "value"): Int32Array {
  if (value instanceof Int32Array) return value;
  const { buffer, byteOffset, byteLength } = bytes(value, what);
  if (byteOffset % 4 !== 0) return new Int32Array(new Uint8Array(buffer, byteOffset, byteLength).slice().buffer);
  return new Int32Array(buffer, byteOffset, byteLength / 4);
}
