/**
 * Showing things in a notebook from code: `display(value)`, updating an output in place, clearing
 * the cell's output. In the mechlab kernel they go to the cell that runs (or that started the
 * async work calling them); in plain Node `display` prints the value's text/plain.
 *
 *   const progress = display("epoch 0");
 *   for (...) progress.update(`epoch ${epoch}`);
 *   display.html("<b>done</b>");
 */
import { randomUUID } from "crypto";
import { JUPYTER_DISPLAY, toMimeBundle } from "../display/mimeBundle";
import { getKernelRuntime, type MimeBundle } from "./kernelRuntime";

export interface DisplayValueOptions {
  /** Names this output so `updateDisplay(displayId, …)` can replace it later (default: a fresh id). */
  displayId?: string;
  /** Output metadata (e.g. `{ "image/png": { width: 200 } }`). */
  metadata?: Record<string, unknown>;
}

/** An output shown by `display`, updatable in place. */
export interface DisplayHandle {
  readonly displayId: string;
  /** Replaces the output with `value` (wherever it is shown). */
  update(value: unknown, options?: { metadata?: Record<string, unknown> }): void;
}

function print(bundle: MimeBundle): void {
  const text = bundle["text/plain"];
  process.stdout.write(`${typeof text === "string" ? text : JSON.stringify(bundle)}\n`);
}

function show(bundle: MimeBundle, displayId: string, update: boolean, metadata?: Record<string, unknown>): void {
  const runtime = getKernelRuntime();
  if (runtime) runtime.display(bundle, { displayId, update, metadata });
  else print(bundle);
}

/** A raw MIME bundle, shown as is. */
class Bundle {
  constructor(readonly bundle: MimeBundle) {}
  [JUPYTER_DISPLAY](): MimeBundle {
    return this.bundle;
  }
}

const MIME_TYPE = /^[a-z]+\/[-+.\w]+$/;

/** A plain object whose keys are all MIME types (`{ "text/html": …, "text/plain": … }`) is a bundle. */
function asGivenBundle(value: unknown): MimeBundle | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => MIME_TYPE.test(key)) ? (value as MimeBundle) : undefined;
}

function bundleOf(value: unknown): MimeBundle {
  return asGivenBundle(value) ?? toMimeBundle(value);
}

/**
 * Shows `value` as a new output of the running cell: its MIME bundle (see toMimeBundle), or, for
 * a plain object keyed by MIME types, that object as the bundle.
 */
function displayValue(value: unknown, options: DisplayValueOptions = {}): DisplayHandle {
  const displayId = options.displayId ?? randomUUID();
  show(bundleOf(value), displayId, false, options.metadata);
  return {
    displayId,
    update: (next, updateOptions) => updateDisplay(displayId, next, updateOptions),
    // As the last expression of a cell the handle shows nothing: the output is already there.
    [Symbol.for("Jupyter.display")]: () => ({}),
  } as DisplayHandle;
}

const asBundle = (mime: string, data: unknown, text: string) => new Bundle({ [mime]: data, "text/plain": text });

/** `display(value)`, plus helpers for content of a given MIME type. */
export const display = Object.assign(displayValue, {
  /** Shows a MIME bundle exactly as given (add text/plain for frontends that need it). */
  bundle: (bundle: MimeBundle, options?: DisplayValueOptions) => displayValue(new Bundle(bundle), options),
  html: (html: string, options?: DisplayValueOptions) => displayValue(asBundle("text/html", html, "<HTML>"), options),
  markdown: (markdown: string, options?: DisplayValueOptions) => displayValue(asBundle("text/markdown", markdown, markdown), options),
  latex: (latex: string, options?: DisplayValueOptions) => displayValue(asBundle("text/latex", latex, latex), options),
  svg: (svg: string, options?: DisplayValueOptions) => displayValue(asBundle("image/svg+xml", svg, "<SVG>"), options),
  json: (json: unknown, options?: DisplayValueOptions) => displayValue(asBundle("application/json", json, JSON.stringify(json, null, 2)), options),
  /** PNG image bytes. */
  png: (bytes: Uint8Array, options?: DisplayValueOptions) => displayValue(asBundle("image/png", Buffer.from(bytes).toString("base64"), "<PNG image>"), options),
  /** JPEG image bytes. */
  jpeg: (bytes: Uint8Array, options?: DisplayValueOptions) => displayValue(asBundle("image/jpeg", Buffer.from(bytes).toString("base64"), "<JPEG image>"), options),
  /** Plain text, shown unquoted. */
  text: (text: string, options?: DisplayValueOptions) => displayValue(new Bundle({ "text/plain": text }), options),
});

/** Replaces the output shown with `displayId` by `value`. */
export function updateDisplay(displayId: string, value: unknown, options: { metadata?: Record<string, unknown> } = {}): void {
  show(bundleOf(value), displayId, true, options.metadata);
}

/** Clears the running cell's output; with `wait`, only once the next output arrives (no flicker). */
export function clearOutput(wait = false): void {
  getKernelRuntime()?.clearOutput(wait);
}
