/**
 * Binary comm buffers at the kernel's edge: raw frames in, DataViews out (what library handlers
 * see), and any ArrayBuffer / typed array / DataView back to frames. Neither direction copies.
 */
import type { BinaryBuffer } from "../../src/notebook/kernelRuntime";

/** DataViews over the raw frames of an incoming message (a Buffer may share a larger pool). */
export function framesToDataViews(frames: readonly Uint8Array[] | undefined): DataView[] {
  return (frames ?? []).map((frame) => new DataView(frame.buffer, frame.byteOffset, frame.byteLength));
}

/** Frames for outgoing buffers. */
export function toFrames(buffers: readonly BinaryBuffer[] | undefined): Buffer[] {
  return (buffers ?? []).map((data) => {
    if (Buffer.isBuffer(data)) return data;
    if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    // A brand check rather than instanceof, so buffers from another realm pass too.
    const tag = Object.prototype.toString.call(data);
    if (tag === "[object ArrayBuffer]" || tag === "[object SharedArrayBuffer]") return Buffer.from(data as ArrayBuffer);
    throw new TypeError(`comm buffers must be ArrayBuffers, typed arrays or DataViews, got ${describe(data)}`);
  });
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return typeof value;
}
