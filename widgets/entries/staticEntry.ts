/**
 * The static bundle (IIFE): sets `globalThis.mechlabWidgets = { renderStatic, … }`, which the
 * self-contained text/html of every widget calls with its inlined state and base64 buffers.
 */
import { getView, registerView, viewNames } from "../views/index";
import { MemoryModel } from "../views/memoryModel";

/** A binary state value as the page carries it (see src/widgets/staticHtml.ts). */
export interface StaticBuffer {
  path: (string | number)[];
  kind: string;
  data: string;
}

const KINDS: Record<string, (buffer: ArrayBuffer) => unknown> = {
  Float32Array: (b) => new Float32Array(b),
  Float64Array: (b) => new Float64Array(b),
  Int8Array: (b) => new Int8Array(b),
  Int16Array: (b) => new Int16Array(b),
  Int32Array: (b) => new Int32Array(b),
  Uint8Array: (b) => new Uint8Array(b),
  Uint8ClampedArray: (b) => new Uint8ClampedArray(b),
  Uint16Array: (b) => new Uint16Array(b),
  Uint32Array: (b) => new Uint32Array(b),
  DataView: (b) => new DataView(b),
  ArrayBuffer: (b) => b,
};

/** Decodes a base64 buffer into the typed array it was. */
export function decodeBuffer(buffer: StaticBuffer): unknown {
  const binary = atob(buffer.data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const make = KINDS[buffer.kind] ?? KINDS.ArrayBuffer!;
  return make(bytes.buffer);
}

/** Puts decoded buffers back into `state` at their paths. */
export function putStaticBuffers(state: Record<string, unknown>, buffers: StaticBuffer[]): Record<string, unknown> {
  for (const buffer of buffers) {
    let target: Record<string | number, unknown> = state;
    buffer.path.slice(0, -1).forEach((key) => (target = target[key] as Record<string | number, unknown>));
    target[buffer.path[buffer.path.length - 1]!] = decodeBuffer(buffer);
  }
  return state;
}

/** Renders view `viewName` into `el` from inlined state; returns the page-local model. */
export function renderStatic(el: HTMLElement, viewName: string, state: Record<string, unknown>, buffers: StaticBuffer[] = []): MemoryModel | undefined {
  const render = getView(viewName);
  if (!render) {
    el.textContent = `mechlab: no view named ${viewName} (known: ${viewNames().join(", ")})`;
    return undefined;
  }
  const model = new MemoryModel(putStaticBuffers(state, buffers));
  render({ model, el });
  return model;
}

(globalThis as { mechlabWidgets?: unknown }).mechlabWidgets = { renderStatic, registerView, getView, viewNames };
