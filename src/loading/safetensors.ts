/**
 * Reading and writing safetensors files (the Hugging Face weight format).
 *
 * Layout: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON
 *   { "__metadata__"?: { string: string }, "<name>": { dtype, shape, data_offsets: [begin, end] }, ... }
 * then the data section; offsets are relative to its start. Tensors are little-endian, row-major.
 *
 * Every header is fully validated before any tensor memory is allocated. Files are read tensor by
 * tensor through a file handle, never whole. F16 / BF16 / F64 / F8 become float32; integer types
 * become int32 (an error when a value does not fit); BOOL becomes bool.
 *
 * Writing produces F32, I32 and BOOL (one byte 0/1 per element), names sorted, data 8-byte
 * aligned, via a temporary file renamed into place.
 */
import * as fs from "fs";
import { tf, assertReady } from "../backend";
import {
  SAFETENSORS_DTYPE_SIZES,
  Int32RangeError,
  decodeElements,
  isSafetensorsDtype,
  naturalDtype,
  toLittleEndianBytes,
  float32ToFloat16Bytes,
  type RawData,
  type RawDtype,
  type SafetensorsDtype,
} from "./dtypes";

export type { SafetensorsDtype, RawDtype, RawData } from "./dtypes";

/** Largest header mechlab accepts, in bytes (checked before the header is read). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Largest single read or write issued to the OS (2 GiB or more fails on some platforms). */
const READ_CHUNK = 1 << 30;

const METADATA_KEY = "__metadata__";

/** One tensor as the header describes it. */
export interface SafetensorsTensorInfo {
  dtype: SafetensorsDtype;
  shape: number[];
  /** [begin, end) in bytes, relative to the start of the data section. */
  dataOffsets: [number, number];
}

/** A validated safetensors header. */
export interface SafetensorsHeader {
  /** The file path (or the label given to `parseSafetensors`), used in error messages. */
  source: string;
  /** N: length of the JSON header in bytes (padding included). */
  headerLength: number;
  /** Absolute byte position where the data section starts (8 + N). */
  dataStart: number;
  /** Length of the data section in bytes. */
  dataLength: number;
  /** The `__metadata__` entry, or {} when absent. */
  metadata: Record<string, string>;
  /** Tensor entries by name, in the header's key order. */
  tensors: Record<string, SafetensorsTensorInfo>;
}

/**
 * A tensor as plain typed arrays, without tfjs. `data` has product(shape) elements in row-major
 * order: Float32Array for float32, Int32Array for int32, Uint8Array of 0/1 for bool.
 */
export interface RawTensor {
  dtype: RawDtype;
  shape: number[];
  data: RawData;
}

/** Which tensors to load and what to convert them to. */
export interface ReadSafetensorsOptions {
  /** Names to load (each must exist), or a predicate over names. Default: every tensor. */
  names?: string[] | ((name: string) => boolean);
  /** Cast every tensor (integer and bool ones too) to float32. */
  dtype?: "float32";
}

export interface RawSafetensors {
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

export interface Safetensors {
  tensors: Record<string, tf.Tensor>;
  metadata: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

/** Sets an own property even for keys such as "__proto__" (plain assignment would not). */
function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

function hasOwn(record: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(record, key);
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? text.slice(0, 77) + "..." : text;
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Whether a string is well-formed UTF-16 (no lone surrogates), so it survives UTF-8 encoding. */
function isWellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  return `${n} bytes`;
}

// ---------------------------------------------------------------------------------------------
// Header validation (shared by files and in-memory buffers).

/**
 * Checks the 8-byte length prefix against the total size. Returns N as a number; never allocates.
 */
function checkHeaderLength(source: string, prefix: Uint8Array, totalSize: number): number {
  if (totalSize < 8) {
    throw new Error(
      `${source}: the file is only ${totalSize} bytes, but a safetensors file starts with an 8-byte header length (empty or not a safetensors file?)`,
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  const available = totalSize - 8;
  if (n > BigInt(available)) {
    throw new Error(
      `${source}: the header length prefix says ${n} bytes, but only ${available} bytes follow it (file truncated, or not a safetensors file?)`,
    );
  }
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new Error(`${source}: the header length prefix says ${n} bytes, more than the ${MAX_HEADER_BYTES}-byte limit for a safetensors header`);
  }
  if (n < 2n) throw new Error(`${source}: the header length prefix says ${n} bytes, too short for a JSON object header`);
  return Number(n);
}

/** Parses and validates the JSON header; `dataLength` is the size of the data section. */
function parseHeaderJson(source: string, headerBytes: Uint8Array, dataLength: number): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
  } catch {
    throw new Error(`${source}: the header is not valid UTF-8 (not a safetensors file?)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${source}: the header is not valid JSON (${reason}); it starts with ${describe(text.slice(0, 40))}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error(`${source}: the header must be a JSON object, found ${Array.isArray(json) ? "an array" : describe(json)}`);
  }
  const entries = json as Record<string, unknown>;

  const metadata: Record<string, string> = {};
  const rawMetadata = entries[METADATA_KEY];
  if (rawMetadata !== undefined && rawMetadata !== null) {
    if (typeof rawMetadata !== "object" || Array.isArray(rawMetadata)) {
      throw new Error(`${source}: "${METADATA_KEY}" must be an object of strings, found ${describe(rawMetadata)}`);
    }
    for (const [key, value] of Object.entries(rawMetadata as Record<string, unknown>)) {
      if (typeof value !== "string") {
        throw new Error(`${source}: "${METADATA_KEY}" value for '${key}' must be a string, found ${describe(value)}`);
      }
      setOwn(metadata, key, value);
    }
  }

  const tensors: Record<string, SafetensorsTensorInfo> = {};
  const ranges: { name: string; begin: number; end: number }[] = [];
  for (const name of Object.keys(entries)) {
    if (name === METADATA_KEY) continue;
    const info = checkEntry(source, name, entries[name], dataLength);
    setOwn(tensors, name, info);
    const [begin, end] = info.dataOffsets;
    // Zero-byte tensors occupy no bytes, so they cannot overlap anything.
    if (end > begin) ranges.push({ name, begin, end });
  }

  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1];
    const cur = ranges[i];
    if (cur.begin < prev.end) {
      throw new Error(
        `${source}: tensors '${prev.name}' (bytes ${prev.begin}..${prev.end}) and '${cur.name}' (bytes ${cur.begin}..${cur.end}) overlap; ` +
          `expected each tensor to start at or after the end of the previous one`,
      );
    }
  }

  return { source, headerLength: headerBytes.byteLength, dataStart: 0, dataLength, metadata, tensors };
}

function checkEntry(source: string, name: string, entry: unknown, dataLength: number): SafetensorsTensorInfo {
  const where = `${source}: tensor '${name}'`;
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    throw new Error(`${where}: expected an object with dtype, shape and data_offsets, found ${describe(entry)}`);
  }
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (!isSafetensorsDtype(dtype)) {
    throw new Error(`${where} has dtype ${describe(dtype)}, which mechlab cannot read; known dtypes: ${Object.keys(SAFETENSORS_DTYPE_SIZES).join(", ")}`);
  }
  if (!Array.isArray(shape)) throw new Error(`${where}: expected shape to be an array of non-negative integers, found ${describe(shape)}`);
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw new Error(`${where}: shape ${describe(shape)} contains ${describe(d)}; expected non-negative integers`);
    }
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => typeof o === "number" && Number.isSafeInteger(o) && o >= 0)) {
    throw new Error(`${where}: expected data_offsets to be [begin, end] with non-negative integers, found ${describe(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw new Error(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLength) {
    throw new Error(`${where} ends at byte ${end} but the file's data section is only ${dataLength} bytes (file truncated?)`);
  }
  const size = SAFETENSORS_DTYPE_SIZES[dtype];
  const count = product(shape as number[]);
  const expected = count * size;
  if (end - begin !== expected) {
    throw new Error(
      `${where}: shape [${(shape as number[]).join(", ")}] of ${dtype} needs ${count} × ${size} = ${expected} bytes, ` +
        `but data_offsets [${begin}, ${end}] span ${end - begin} bytes`,
    );
  }
  return { dtype, shape: (shape as number[]).slice(), dataOffsets: [begin, end] };
}

// ---------------------------------------------------------------------------------------------
// Reading.

/** Names selected by `options.names`, in header order; unknown requested names are an error. */
function selectNames(header: SafetensorsHeader, names: ReadSafetensorsOptions["names"]): string[] {
  const all = Object.keys(header.tensors);
  if (names === undefined) return all;
  if (typeof names === "function") return all.filter((name) => names(name));
  const missing = names.filter((name) => !hasOwn(header.tensors, name));
  if (missing.length > 0) {
    const shown = all.slice(0, 20).map((n) => `'${n}'`).join(", ");
    const more = all.length > 20 ? ` (and ${all.length - 20} more)` : "";
    throw new Error(
      `${header.source}: no tensor named ${missing.map((n) => `'${n}'`).join(", ")}; ` +
        (all.length === 0 ? "the file has no tensors" : `the file has ${all.length} tensors: ${shown}${more}`),
    );
  }
  const wanted = new Set(names);
  return all.filter((name) => wanted.has(name));
}

/** Decodes one tensor's bytes, turning range errors into messages that name the tensor. */
function decodeTensor(header: SafetensorsHeader, name: string, bytes: Uint8Array, cast: "float32" | undefined): RawTensor {
  const info = header.tensors[name];
  const target = cast ?? naturalDtype(info.dtype);
  try {
    return { dtype: target, shape: info.shape.slice(), data: decodeElements(info.dtype, bytes, product(info.shape), target) };
  } catch (error) {
    if (error instanceof Int32RangeError) {
      throw new Error(
        `${header.source}: tensor '${name}' (${info.dtype}) holds ${error.value} at flat index ${error.index}, which does not fit in int32; ` +
          `read it with { dtype: "float32" } instead`,
      );
    }
    throw error;
  }
}

async function readFully(source: string, handle: fs.promises.FileHandle, target: Uint8Array, position: number, what: string): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const length = Math.min(target.byteLength - done, READ_CHUNK);
    const { bytesRead } = await handle.read(target, done, length, position + done);
    if (bytesRead === 0) {
      throw new Error(`${source}: unexpected end of file reading ${what} (got ${done} of ${target.byteLength} bytes; file truncated or changed while reading?)`);
    }
    done += bytesRead;
  }
}

async function readHeaderFrom(source: string, handle: fs.promises.FileHandle): Promise<SafetensorsHeader> {
  const { size } = await handle.stat();
  const prefix = new Uint8Array(8);
  if (size >= 8) await readFully(source, handle, prefix, 0, "the header length");
  const n = checkHeaderLength(source, prefix, size);
  const headerBytes = new Uint8Array(n);
  await readFully(source, handle, headerBytes, 8, "the header");
  const header = parseHeaderJson(source, headerBytes, size - 8 - n);
  header.dataStart = 8 + n;
  return header;
}

/**
 * Reads and validates only the header of a safetensors file (two small reads; no tensor data).
 * Throws an Error naming the file, the tensor and the problem for any malformed header.
 */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const handle = await fs.promises.open(path, "r");
  try {
    return await readHeaderFrom(path, handle);
  } finally {
    await handle.close();
  }
}

/** Reads the selected tensors one at a time (in file order) and hands each to `use`. */
async function forEachTensor(
  path: string,
  options: ReadSafetensorsOptions,
  use: (name: string, tensor: RawTensor) => void,
): Promise<SafetensorsHeader> {
  const handle = await fs.promises.open(path, "r");
  try {
    const header = await readHeaderFrom(path, handle);
    const names = selectNames(header, options.names);
    // Read in file order for sequential I/O; callers restore header order if they care.
    const byOffset = names.slice().sort((a, b) => header.tensors[a].dataOffsets[0] - header.tensors[b].dataOffsets[0]);
    for (const name of byOffset) {
      const [begin, end] = header.tensors[name].dataOffsets;
      // Own, exact buffer per tensor: decoders may keep it as the result without copying.
      const bytes = new Uint8Array(end - begin);
      await readFully(path, handle, bytes, header.dataStart + begin, `tensor '${name}'`);
      use(name, decodeTensor(header, name, bytes, options.dtype));
    }
    return header;
  } finally {
    await handle.close();
  }
}

/** Orders a record's keys like `names` (header order). */
function inOrder<T>(names: string[], unordered: Map<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const name of names) if (unordered.has(name)) setOwn(out, name, unordered.get(name) as T);
  return out;
}

/**
 * Reads tensors from a safetensors file as plain typed arrays (no tfjs needed).
 * The returned arrays are freshly allocated and belong to the caller.
 */
export async function readSafetensorsRaw(path: string, options: ReadSafetensorsOptions = {}): Promise<RawSafetensors> {
  const found = new Map<string, RawTensor>();
  const header = await forEachTensor(path, options, (name, tensor) => found.set(name, tensor));
  return { tensors: inOrder(Object.keys(header.tensors), found), metadata: header.metadata };
}

/**
 * Makes a tf tensor from a raw tensor. The tensor is new and owned by the caller (dispose it);
 * tfjs may keep `raw.data` as its storage, so do not modify the array afterwards.
 */
export function rawToTensor(raw: RawTensor): tf.Tensor {
  return tf.tensor(raw.data, raw.shape, raw.dtype);
}

/**
 * Reads tensors from a safetensors file into tf tensors, one tensor's bytes at a time.
 *
 * Ownership: every returned tensor is new and belongs to the caller, who must dispose it
 * (`tf.dispose(Object.values(result.tensors))`). On error, tensors already made are disposed.
 */
export async function readSafetensors(path: string, options: ReadSafetensorsOptions = {}): Promise<Safetensors> {
  assertReady("readSafetensors");
  const made = new Map<string, tf.Tensor>();
  try {
    const header = await forEachTensor(path, options, (name, raw) => made.set(name, rawToTensor(raw)));
    return { tensors: inOrder(Object.keys(header.tensors), made), metadata: header.metadata };
  } catch (error) {
    tf.dispose([...made.values()]);
    throw error;
  }
}

/** Validates the header of an in-memory safetensors buffer (no tensor data is copied). */
export function parseSafetensorsHeader(bytes: Uint8Array, source = "safetensors buffer"): SafetensorsHeader {
  const n = checkHeaderLength(source, bytes.subarray(0, 8), bytes.byteLength);
  const header = parseHeaderJson(source, bytes.subarray(8, 8 + n), bytes.byteLength - 8 - n);
  header.dataStart = 8 + n;
  return header;
}

/**
 * Parses an in-memory safetensors buffer into plain typed arrays, with the same validation and
 * conversions as `readSafetensorsRaw`. The arrays are copies: they never alias `bytes`.
 * `source` names the buffer in error messages. Use `rawToTensor` for tf tensors.
 */
export function parseSafetensors(bytes: Uint8Array, options: ReadSafetensorsOptions & { source?: string } = {}): RawSafetensors {
  const header = parseSafetensorsHeader(bytes, options.source);
  const tensors: Record<string, RawTensor> = {};
  for (const name of selectNames(header, options.names)) {
    const [begin, end] = header.tensors[name].dataOffsets;
    // Copy (a Node Buffer's slice() would be a view): results must not alias the caller's bytes.
    const own = new Uint8Array(bytes.subarray(header.dataStart + begin, header.dataStart + end));
    setOwn(tensors, name, decodeTensor(header, name, own, options.dtype));
  }
  return { tensors, metadata: header.metadata };
}

// ---------------------------------------------------------------------------------------------
// Writing.

const FILE_DTYPE: Record<RawDtype, SafetensorsDtype> = { float32: "F32", int32: "I32", bool: "BOOL" };

interface PlannedTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Produces the little-endian bytes (a tf tensor is only read when needed). */
  bytes: () => Uint8Array | Promise<Uint8Array>;
  byteLength: number;
}

function isTfTensor(value: unknown): value is tf.Tensor {
  return value instanceof tf.Tensor || (typeof value === "object" && value !== null && typeof (value as tf.Tensor).dataSync === "function");
}

function boolBytes(data: RawData): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ? 1 : 0;
  return out;
}

function tensorBytes(dtype: RawDtype, data: RawData, fileDtype: SafetensorsDtype): Uint8Array {
  if (fileDtype === "F16") return float32ToFloat16Bytes(data as Float32Array);
  return dtype === "bool" ? boolBytes(data) : toLittleEndianBytes(data);
}

/** Checks names, metadata and tensors, and orders them for writing. */
function plan(
  tensors: Record<string, tf.Tensor | RawTensor>,
  metadata: Record<string, string> | undefined,
  sync: boolean,
  options: WriteSafetensorsOptions,
): { header: Uint8Array; planned: PlannedTensor[]; dataLength: number } {
  if (metadata !== undefined) {
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
      throw new Error(`safetensors metadata must be an object of strings, got ${describe(metadata)}`);
    }
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== "string") throw new Error(`safetensors metadata value for '${key}' must be a string, got ${typeof value} ${describe(value)}`);
      if (!isWellFormed(key) || !isWellFormed(value)) throw new Error(`safetensors metadata '${key}' contains a lone UTF-16 surrogate, which UTF-8 cannot encode`);
    }
  }

  const floatDtype = options.floatDtype ?? "F32";
  if (floatDtype !== "F32" && floatDtype !== "F16") throw new Error(`safetensors floatDtype must be "F32" or "F16", got ${describe(floatDtype)}`);
  const fileDtypeOf = (dtype: RawDtype): SafetensorsDtype => (dtype === "float32" ? floatDtype : FILE_DTYPE[dtype]);
  const planned: PlannedTensor[] = [];
  for (const name of Object.keys(tensors).sort()) {
    if (name === METADATA_KEY) throw new Error(`'${METADATA_KEY}' is reserved in safetensors files and cannot name a tensor`);
    if (name.length === 0) throw new Error(`a safetensors tensor name cannot be empty`);
    if (!isWellFormed(name)) throw new Error(`tensor name ${JSON.stringify(name)} contains a lone UTF-16 surrogate, which UTF-8 cannot encode`);
    const value = tensors[name];
    if (isTfTensor(value)) {
      const dtype = value.dtype;
      if (dtype !== "float32" && dtype !== "int32" && dtype !== "bool") {
        throw new Error(`tensor '${name}' has dtype ${dtype}; safetensors writing supports float32, int32 and bool`);
      }
      if (value.isDisposed) throw new Error(`tensor '${name}' is disposed`);
      const fileDtype = fileDtypeOf(dtype);
      planned.push({
        name,
        dtype: fileDtype,
        shape: value.shape.slice(),
        byteLength: value.size * SAFETENSORS_DTYPE_SIZES[fileDtype],
        bytes: sync
          ? () => tensorBytes(dtype, value.dataSync() as RawData, fileDtype)
          : async () => tensorBytes(dtype, (await value.data()) as RawData, fileDtype),
      });
    } else {
      const raw = value as RawTensor;
      const expected = raw?.dtype === "float32" ? Float32Array : raw?.dtype === "int32" ? Int32Array : raw?.dtype === "bool" ? Uint8Array : undefined;
      if (!expected) throw new Error(`tensor '${name}' must be a tf.Tensor or a RawTensor with dtype float32, int32 or bool, got ${describe(raw?.dtype)}`);
      if (!(raw.data instanceof expected)) throw new Error(`tensor '${name}' has dtype ${raw.dtype} but its data is a ${raw.data?.constructor?.name}, expected ${expected.name}`);
      if (!Array.isArray(raw.shape) || !raw.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw new Error(`tensor '${name}': shape ${describe(raw.shape)} must be an array of non-negative integers`);
      }
      if (product(raw.shape) !== raw.data.length) {
        throw new Error(`tensor '${name}': shape [${raw.shape.join(", ")}] has ${product(raw.shape)} elements but data has ${raw.data.length}`);
      }
      const fileDtype = fileDtypeOf(raw.dtype);
      planned.push({
        name,
        dtype: fileDtype,
        shape: raw.shape.slice(),
        byteLength: raw.data.length * SAFETENSORS_DTYPE_SIZES[fileDtype],
        bytes: () => tensorBytes(raw.dtype, raw.data, fileDtype),
      });
    }
  }

  // Data order: wider elements first, then by name, so every tensor stays aligned to its element size.
  const dataOrder = planned
    .slice()
    .sort((a, b) => SAFETENSORS_DTYPE_SIZES[b.dtype] - SAFETENSORS_DTYPE_SIZES[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const offsets = new Map<string, [number, number]>();
  let dataLength = 0;
  for (const t of dataOrder) {
    offsets.set(t.name, [dataLength, dataLength + t.byteLength]);
    dataLength += t.byteLength;
  }

  // Built by hand so keys keep this order (object keys that look like integers would be reordered).
  const parts: string[] = [];
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    const meta = Object.keys(metadata).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`);
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${meta.join(",")}}`);
  }
  for (const t of planned) {
    const entry = { dtype: t.dtype, shape: t.shape, data_offsets: offsets.get(t.name) };
    parts.push(`${JSON.stringify(t.name)}:${JSON.stringify(entry)}`);
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const padded = Math.ceil(json.byteLength / 8) * 8; // 8 + padded is then a multiple of 8
  if (padded > MAX_HEADER_BYTES) throw new Error(`the safetensors header would be ${formatBytes(padded)}, over the ${MAX_HEADER_BYTES}-byte limit readers accept`);
  const header = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, 8);
  return { header, planned: dataOrder, dataLength };
}

/** How tensors are stored. */
export interface WriteSafetensorsOptions {
  /**
   * The file dtype of float32 tensors: "F32" (default, exact) or "F16" (half the size; values
   * rounded to the nearest binary16, ~3 significant digits, |x| above 65504 becomes ±Infinity).
   * Reading gives float32 back either way.
   */
  floatDtype?: "F32" | "F16";
}

/**
 * Serialises tensors to safetensors bytes in memory (F32, or F16 with floatDtype; I32; BOOL). tf tensors are read with
 * `dataSync` and stay owned by the caller. Output is deterministic: names sorted in the header,
 * data ordered by element size then name, header padded with spaces to 8-byte alignment.
 */
export function serializeSafetensors(tensors: Record<string, tf.Tensor | RawTensor>, metadata?: Record<string, string>, options: WriteSafetensorsOptions = {}): Uint8Array {
  const { header, planned, dataLength } = plan(tensors, metadata, true, options);
  const out = new Uint8Array(header.byteLength + dataLength);
  out.set(header, 0);
  let position = header.byteLength;
  for (const t of planned) {
    out.set(t.bytes() as Uint8Array, position);
    position += t.byteLength;
  }
  return out;
}

/** Writes all of `bytes` at `position` (in chunks; a write may be partial). Returns the end position. */
async function writeFully(handle: fs.promises.FileHandle, bytes: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < bytes.byteLength) {
    const length = Math.min(bytes.byteLength - done, READ_CHUNK);
    const { bytesWritten } = await handle.write(bytes, done, length, position + done);
    if (bytesWritten === 0) throw new Error(`writing stopped after ${position + done} bytes (disk full?)`);
    done += bytesWritten;
  }
  return position + done;
}

/**
 * Writes tensors to a safetensors file, in the same layout as `serializeSafetensors`, streaming
 * one tensor at a time. tf tensors are read with `data()` and stay owned by the caller.
 * Atomic: writes `path + ".tmp"`, then renames it over `path` (the temporary is removed on error).
 */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, tf.Tensor | RawTensor>,
  metadata?: Record<string, string>,
  options: WriteSafetensorsOptions = {},
): Promise<void> {
  const { header, planned } = plan(tensors, metadata, false, options);
  const tmp = `${path}.tmp`;
  const handle = await fs.promises.open(tmp, "w");
  try {
    try {
      let position = await writeFully(handle, header, 0);
      for (const t of planned) {
        const bytes = await t.bytes();
        if (bytes.byteLength !== t.byteLength) throw new Error(`tensor '${t.name}' changed size while being written`);
        position = await writeFully(handle, bytes, position);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(tmp, path);
  } catch (error) {
    await fs.promises.rm(tmp, { force: true });
    throw error;
  }
}
