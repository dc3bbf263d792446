/**
 * Binary buffers in widget state (protocol 2): any ArrayBuffer, typed array or DataView anywhere
 * in the state travels as its own raw frame. Splitting removes it from the state — an object key is
 * deleted, a list item becomes null — and records its path in `buffer_paths`; merging puts the
 * received buffers (DataViews) back at their paths.
 */
import type { BinaryBuffer } from "../../notebook/kernelRuntime";
import type { BufferPath } from "./protocol";

export interface SplitBuffers<T> {
  /** The state without its buffers (a copy where something was removed; the input is untouched). */
  state: T;
  bufferPaths: BufferPath[];
  buffers: BinaryBuffer[];
}

/** Whether a value travels as a binary buffer. Brand checks, so values from another realm count. */
export function isBinary(value: unknown): value is BinaryBuffer {
  if (typeof value !== "object" || value === null) return false;
  if (ArrayBuffer.isView(value)) return true;
  const tag = Object.prototype.toString.call(value);
  return tag === "[object ArrayBuffer]" || tag === "[object SharedArrayBuffer]";
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Takes the buffers out of `state` (objects and arrays, at any depth). */
export function removeBuffers<T>(state: T): SplitBuffers<T> {
  const bufferPaths: BufferPath[] = [];
  const buffers: BinaryBuffer[] = [];
  // Returns the value with its buffers removed: the same reference when it held none.
  const strip = (value: unknown, path: BufferPath): unknown => {
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      value.forEach((item, i) => {
        if (isBinary(item)) {
          bufferPaths.push([...path, i]);
          buffers.push(item);
          (copy ??= value.slice())[i] = null;
        } else {
          const stripped = strip(item, [...path, i]);
          if (stripped !== item) (copy ??= value.slice())[i] = stripped;
        }
      });
      return copy ?? value;
    }
    if (isPlainObject(value)) {
      let copy: Record<string, unknown> | undefined;
      for (const [key, item] of Object.entries(value)) {
        if (isBinary(item)) {
          bufferPaths.push([...path, key]);
          buffers.push(item);
          copy ??= { ...value };
          delete copy[key];
        } else {
          const stripped = strip(item, [...path, key]);
          if (stripped !== item) (copy ??= { ...value })[key] = stripped;
        }
      }
      return copy ?? value;
    }
    return value;
  };
  if (isBinary(state)) throw new TypeError("widget state must be an object, not a bare binary buffer");
  return { state: strip(state, []) as T, bufferPaths, buffers };
}

/**
 * Puts `buffers` into `state` at `bufferPaths` (in place; returns `state`). Missing containers
 * on the way are created (a list before a numeric key, an object otherwise).
 */
export function putBuffers<T extends object>(state: T, bufferPaths: readonly BufferPath[], buffers: readonly unknown[]): T {
  if (bufferPaths.length !== buffers.length) {
    throw new Error(`widget message has ${buffers.length} buffers for ${bufferPaths.length} buffer paths`);
  }
  bufferPaths.forEach((path, i) => {
    if (!Array.isArray(path) || path.length === 0) throw new Error(`bad buffer path ${JSON.stringify(path)}`);
    let node = state as Record<string | number, unknown>;
    for (let depth = 0; depth < path.length - 1; depth++) {
      const key = path[depth];
      let next = node[key];
      if (typeof next !== "object" || next === null) {
        next = typeof path[depth + 1] === "number" ? [] : {};
        node[key] = next;
      }
      node = next as Record<string | number, unknown>;
    }
    node[path[path.length - 1]] = buffers[i];
  });
  return state;
}
