/**
 * Element types of safetensors files and their conversion to the three dtypes mechlab keeps in
 * memory: float32, int32 and bool. Pure typed-array code, no tfjs.
 *
 * All decoders take the little-endian bytes of one tensor and return a freshly owned typed array
 * (they may reuse `bytes.buffer` only when `bytes` is an exact, aligned view of its own buffer,
 * which is how the safetensors reader allocates them).
 */

/** Element types a safetensors header may name, with their size in bytes. */
export const SAFETENSORS_DTYPE_SIZES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;

export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPE_SIZES;

/** The in-memory dtypes (tfjs names) a safetensors tensor becomes. */
export type RawDtype = "float32" | "int32" | "bool";

export type RawData = Float32Array | Int32Array | Uint8Array;

export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPE_SIZES, value);
}

/** The dtype a file dtype becomes when no cast is asked for. */
export function naturalDtype(dtype: SafetensorsDtype): RawDtype {
  switch (dtype) {
    case "BOOL":
      return "bool";
    case "U8":
    case "I8":
    case "I16":
    case "U16":
    case "I32":
    case "U32":
    case "I64":
    case "U64":
      return "int32";
    default:
      return "float32";
  }
}

/** True when the host stores multi-byte numbers little-endian (every common Node platform). */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses the byte order of each `size`-byte element in place. */
function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/**
 * Bytes of little-endian `size`-byte elements, turned into a buffer whose native typed-array
 * views read them correctly: aligned, exact-length, and byte-swapped on big-endian hosts.
 * Copies unless `bytes` is already an exact aligned view on a little-endian host.
 */
function nativeBuffer(bytes: Uint8Array, size: number): ArrayBuffer {
  const exact = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  if (HOST_IS_LITTLE_ENDIAN && exact) return bytes.buffer as ArrayBuffer;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  if (!HOST_IS_LITTLE_ENDIAN && size > 1) swapBytes(copy, size);
  return copy.buffer;
}

/** Little-endian bytes of a typed array (a view when the host is little-endian). */
export function toLittleEndianBytes(data: RawData): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_IS_LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return view;
  const copy = view.slice();
  swapBytes(copy, data.BYTES_PER_ELEMENT);
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Half-precision floats.

let f16Table: Uint32Array | undefined;

/** float32 bit pattern of one IEEE binary16 value (NaN payloads kept, subnormals normalised). */
export function float16BitsToFloat32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal: shift the mantissa up until its leading 1 reaches the implicit-bit position.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/**
 * The IEEE binary16 bit pattern nearest to a number (round to nearest, ties to even; overflow
 * gives ±Infinity, NaN stays NaN, values below half the smallest subnormal give ±0).
 */
export function float32ToFloat16Bits(value: number): number {
  f32Scratch[0] = value;
  const bits = u32Scratch[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // binary16 exponent field (bias 15 instead of 127)
  if (e >= 0x1f) return sign | 0x7c00;
  // Keep the top bits of the mantissa: 10 for a normal result; for a subnormal result, the
  // mantissa with its implicit 1, shifted so that one unit is 2^-24.
  const shift = e > 0 ? 13 : 14 - e;
  if (shift > 24) return sign;
  const full = e > 0 ? mant : mant | 0x800000;
  let half = e > 0 ? (e << 10) | (full >>> 13) : full >>> shift;
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  // A carry out of the mantissa moves to the next exponent (and from the largest finite to Infinity), as it should.
  if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
  return sign | half;
}

/** Little-endian binary16 bytes of float32 values (rounded to nearest, ties to even). */
export function float32ToFloat16Bytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 2);
  for (let i = 0; i < data.length; i++) {
    const h = float32ToFloat16Bits(data[i]);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
  return out;
}

/** The 65536 float32 bit patterns of all binary16 values, built on first use (256 KB). */
function float16Table(): Uint32Array {
  if (!f16Table) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = float16BitsToFloat32Bits(h);
  }
  return f16Table;
}

/** Converts one float16 bit pattern to a number. */
export function float16ToNumber(h: number): number {
  const bits = new Uint32Array([float16BitsToFloat32Bits(h & 0xffff)]);
  return new Float32Array(bits.buffer)[0];
}

/** Converts one bfloat16 bit pattern to a number. */
export function bfloat16ToNumber(h: number): number {
  const bits = new Uint32Array([(h & 0xffff) << 16]);
  return new Float32Array(bits.buffer)[0];
}

let e4m3Table: Float32Array | undefined;

/** float8 e4m3 ("FN" variant: bias 7, no infinities, S.1111.111 is NaN) values of all 256 bytes. */
function float8E4M3Table(): Float32Array {
  if (!e4m3Table) {
    e4m3Table = new Float32Array(256);
    for (let b = 0; b < 256; b++) {
      const sign = b & 0x80 ? -1 : 1;
      const exp = (b >> 3) & 0xf;
      const mant = b & 0x7;
      if (exp === 0xf && mant === 0x7) e4m3Table[b] = NaN;
      else if (exp === 0) e4m3Table[b] = sign * (mant / 8) * 2 ** -6;
      else e4m3Table[b] = sign * (1 + mant / 8) * 2 ** (exp - 7);
    }
  }
  return e4m3Table;
}

// ---------------------------------------------------------------------------------------------
// Decoding.

/** Thrown (with the offending value) when an integer does not fit the int32 target. */
export class Int32RangeError extends Error {
  constructor(
    readonly index: number,
    readonly value: bigint,
  ) {
    super(`value ${value} at flat index ${index} does not fit in int32`);
  }
}

function decodeToFloat32(dtype: SafetensorsDtype, bytes: Uint8Array, count: number): Float32Array {
  const size = SAFETENSORS_DTYPE_SIZES[dtype];
  if (dtype === "F32") return new Float32Array(nativeBuffer(bytes, 4), 0, count);
  const out = new Float32Array(count);
  switch (dtype) {
    case "F16": {
      const src = new Uint16Array(nativeBuffer(bytes, 2), 0, count);
      const table = float16Table();
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = table[src[i]];
      return out;
    }
    case "BF16": {
      const src = new Uint16Array(nativeBuffer(bytes, 2), 0, count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = src[i] << 16;
      return out;
    }
    case "F8_E5M2": {
      // e5m2 is the upper byte of a binary16 value.
      const table = float16Table();
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = table[bytes[i] << 8];
      return out;
    }
    case "F8_E4M3": {
      const table = float8E4M3Table();
      for (let i = 0; i < count; i++) out[i] = table[bytes[i]];
      return out;
    }
    case "F64": {
      const src = new Float64Array(nativeBuffer(bytes, 8), 0, count);
      for (let i = 0; i < count; i++) out[i] = src[i];
      return out;
    }
    case "I64":
    case "U64": {
      // Pairs of 32-bit words, low word first; exact in float64, then rounded once more to float32.
      const words = new Uint32Array(nativeBuffer(bytes, 8), 0, 2 * count);
      const signed = dtype === "I64";
      for (let i = 0; i < count; i++) {
        const lo = words[2 * i];
        const hi = words[2 * i + 1];
        out[i] = (signed ? hi | 0 : hi) * 4294967296 + lo;
      }
      return out;
    }
    default: {
      const ints = decodeToInt32(dtype, bytes, count, size);
      for (let i = 0; i < count; i++) out[i] = ints[i];
      return out;
    }
  }
}

function decodeToInt32(dtype: SafetensorsDtype, bytes: Uint8Array, count: number, size: number): Int32Array {
  if (dtype === "I32") return new Int32Array(nativeBuffer(bytes, 4), 0, count);
  const out = new Int32Array(count);
  switch (dtype) {
    case "BOOL":
    case "U8":
      for (let i = 0; i < count; i++) out[i] = bytes[i];
      return out;
    case "I8":
      for (let i = 0; i < count; i++) out[i] = (bytes[i] << 24) >> 24;
      return out;
    case "I16":
      out.set(new Int16Array(nativeBuffer(bytes, 2), 0, count));
      return out;
    case "U16":
      out.set(new Uint16Array(nativeBuffer(bytes, 2), 0, count));
      return out;
    case "U32": {
      const src = new Uint32Array(nativeBuffer(bytes, 4), 0, count);
      for (let i = 0; i < count; i++) {
        if (src[i] > 0x7fffffff) throw new Int32RangeError(i, BigInt(src[i]));
        out[i] = src[i];
      }
      return out;
    }
    case "I64":
    case "U64": {
      const words = new Int32Array(nativeBuffer(bytes, 8), 0, 2 * count);
      const signed = dtype === "I64";
      for (let i = 0; i < count; i++) {
        const lo = words[2 * i];
        const hi = words[2 * i + 1];
        // Fits in int32 exactly when the high word is the sign extension of the low word
        // (for unsigned input: high word 0 and low word non-negative).
        const fits = signed ? hi === lo >> 31 : hi === 0 && lo >= 0;
        if (!fits) {
          const value = signed ? (BigInt(hi) << 32n) | BigInt(lo >>> 0) : (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
          throw new Int32RangeError(i, value);
        }
        out[i] = lo;
      }
      return out;
    }
    default:
      throw new Error(`dtype ${dtype} (${size} bytes) cannot be read as int32`);
  }
}

/**
 * Converts the little-endian bytes of `count` elements of `dtype` into `target`
 * (default: the dtype's natural target, see `naturalDtype`).
 * Throws `Int32RangeError` when an integer does not fit an int32 target.
 */
export function decodeElements(dtype: SafetensorsDtype, bytes: Uint8Array, count: number, target: RawDtype = naturalDtype(dtype)): RawData {
  const size = SAFETENSORS_DTYPE_SIZES[dtype];
  if (bytes.byteLength !== count * size) {
    throw new Error(`expected ${count * size} bytes for ${count} ${dtype} elements, got ${bytes.byteLength}`);
  }
  if (target === "float32") return decodeToFloat32(dtype, bytes, count);
  if (target === "int32") return decodeToInt32(dtype, bytes, count, size);
  if (dtype !== "BOOL") throw new Error(`dtype ${dtype} cannot be read as bool`);
  // Any non-zero byte is true; normalise to 0/1.
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = bytes[i] === 0 ? 0 : 1;
  return out;
}
