/**
 * Writing float32 tensors as binary16 (F16): the encoder is checked against the decoder on every
 * one of the 65,536 half-precision patterns and, for arbitrary floats, against a brute-force
 * nearest-value search; a file written with floatDtype "F16" is half the size and reads back to
 * the rounded values.
 */
import { describe, expect, it } from "vitest";
import { float16ToNumber, float32ToFloat16Bits } from "../src/loading/dtypes";
import { parseSafetensors, serializeSafetensors, type RawTensor } from "../src/loading/safetensors";
import { SeededRandom } from "../src/train/seededRandom";

/** All finite binary16 values with their bit patterns, sorted by value (−0 and +0 both kept). */
function finiteHalves(): { bits: number; value: number }[] {
  const out: { bits: number; value: number }[] = [];
  for (let h = 0; h < 0x10000; h++) if ((h & 0x7c00) !== 0x7c00) out.push({ bits: h, value: float16ToNumber(h) });
  return out.sort((a, b) => a.value - b.value);
}

/** The float16 nearest to x by exhaustive search (ties to the even pattern), or ±Infinity beyond the range. */
function nearestHalfByBruteForce(x: number, halves: { bits: number; value: number }[]): number {
  const f = Math.fround(x);
  if (Math.abs(f) >= 65520) return f > 0 ? 0x7c00 : 0xfc00; // 65520 is halfway between 65504 and the next step
  let best = halves[0];
  for (const h of halves) {
    const d = Math.abs(h.value - f);
    const bestD = Math.abs(best.value - f);
    if (d < bestD || (d === bestD && (h.bits & 1) === 0 && (best.bits & 1) === 1)) best = h;
  }
  // Keep the sign of zero results.
  if (best.value === 0) return f < 0 || Object.is(f, -0) ? 0x8000 : 0;
  return best.bits;
}

describe("float32 → float16", () => {
  it("every finite half value encodes back to its own pattern", () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      expect(float32ToFloat16Bits(float16ToNumber(h))).toBe(h);
    }
  });

  it("rounds arbitrary floats to the nearest half, ties to even, like an exhaustive search", () => {
    const halves = finiteHalves();
    const random = new SeededRandom(7);
    const samples: number[] = [];
    // Across the whole range: subnormals, normals, near overflow; plus exact ties.
    for (let i = 0; i < 300; i++) samples.push((random.next() * 2 - 1) * 2 ** (Math.floor(random.next() * 44) - 28));
    for (const h of [1, 2, 0x3c00, 0x3c01, 0x7bfe, 0x0400]) samples.push((float16ToNumber(h) + float16ToNumber(h + 1)) / 2);
    samples.push(65504, 65519, 65520, -70000, 2 ** -25, 2 ** -26, 0, -0);
    for (const x of samples) expect({ x, bits: float32ToFloat16Bits(x) }).toEqual({ x, bits: nearestHalfByBruteForce(x, halves) });
  });

  it("keeps infinities and NaN", () => {
    expect(float32ToFloat16Bits(Infinity)).toBe(0x7c00);
    expect(float32ToFloat16Bits(-Infinity)).toBe(0xfc00);
    expect(Number.isNaN(float16ToNumber(float32ToFloat16Bits(NaN)))).toBe(true);
  });
});

describe("safetensors with floatDtype F16", () => {
  it("stores float tensors in half the bytes and reads back the rounded values; integers stay exact", () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10);
    const tensors: Record<string, RawTensor> = {
      w: { dtype: "float32", shape: [10, 100], data: values },
      ids: { dtype: "int32", shape: [3], data: Int32Array.from([1, -2, 70000]) },
    };
    const full = serializeSafetensors(tensors, { note: "half" });
    const half = serializeSafetensors(tensors, { note: "half" }, { floatDtype: "F16" });
    expect(full.byteLength - half.byteLength).toBeGreaterThanOrEqual(2000 - 8); // header alignment may differ by a few bytes
    const read = parseSafetensors(half);
    expect(read.metadata).toEqual({ note: "half" });
    expect(Array.from(read.tensors.ids.data)).toEqual([1, -2, 70000]);
    expect(read.tensors.w.shape).toEqual([10, 100]);
    const back = read.tensors.w.data as Float32Array;
    for (let i = 0; i < values.length; i++) {
      expect(back[i]).toBe(float16ToNumber(float32ToFloat16Bits(values[i])));
      expect(Math.abs(back[i] - values[i])).toBeLessThanOrEqual(Math.abs(values[i]) * 2 ** -11 + 2 ** -25);
    }
  });

  it("rejects an unknown float dtype", () => {
    expect(() => serializeSafetensors({ w: { dtype: "float32", shape: [1], data: Float32Array.from([1]) } }, undefined, { floatDtype: "F8" as never })).toThrow(/floatDtype must be "F32" or "F16", got/);
  });
});
