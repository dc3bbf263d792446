/**
 * Value equality for widget state: whether setting `next` over `current` changes anything worth a
 * message. JSON-like values compare structurally, binary buffers byte by byte.
 */
import { isBinary } from "./buffers";

/** Structural equality of JSON-like values and binary buffers. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (isBinary(a) || isBinary(b)) return isBinary(a) && isBinary(b) && bytesEqual(a, b);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const rb = b as Record<string, unknown>;
  return ka.every((key) => Object.prototype.hasOwnProperty.call(rb, key) && deepEqual((a as Record<string, unknown>)[key], rb[key]));
}

/**
 * Whether `next` leaves `current` as it was. Setting the very same object or buffer again counts
 * as a change: the caller most likely mutated it in place and wants it sent.
 */
export function isUnchanged(current: unknown, next: unknown): boolean {
  if (current === next) return typeof next !== "object" || next === null;
  return deepEqual(current, next);
}

function bytes(value: ArrayBuffer | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
}

function bytesEqual(a: ArrayBuffer | ArrayBufferView, b: ArrayBuffer | ArrayBufferView): boolean {
  // Same bytes in differently typed views (Float32Array vs DataView) are the same wire value,
  // but a different element type is a different value to the views reading it.
  if (a.constructor !== b.constructor && !(a instanceof DataView) && !(b instanceof DataView)) return false;
  return Buffer.compare(bytes(a), bytes(b)) === 0;
}
