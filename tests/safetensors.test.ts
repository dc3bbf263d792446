import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../src/backend";
import {
  parseSafetensors,
  parseSafetensorsHeader,
  readSafetensors,
  readSafetensorsHeader,
  readSafetensorsRaw,
  serializeSafetensors,
  writeSafetensors,
  type RawTensor,
} from "../src/loading/safetensors";

let dir: string;

beforeAll(async () => {
  await ready();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mechlab-safetensors-"));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function tmpFile(name: string, bytes?: Uint8Array): string {
  const file = path.join(dir, name);
  if (bytes) fs.writeFileSync(file, bytes);
  return file;
}

/** Builds a safetensors file by hand, following the format description (not our writer). */
function buildFile(header: object | string, data: Uint8Array = new Uint8Array(0), lengthPrefix?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthPrefix ?? BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  out.set(data, 8 + padded);
  return out;
}

/** Little-endian bytes written element by element with DataView. */
function le(kind: "u16" | "f32" | "f64" | "i64" | "i32", values: (number | bigint)[]): Uint8Array {
  const size = { u16: 2, f32: 4, f64: 8, i64: 8, i32: 4 }[kind];
  const bytes = new Uint8Array(values.length * size);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    if (kind === "u16") view.setUint16(i * 2, v as number, true);
    else if (kind === "f32") view.setFloat32(i * 4, v as number, true);
    else if (kind === "f64") view.setFloat64(i * 8, v as number, true);
    else if (kind === "i32") view.setInt32(i * 4, v as number, true);
    else view.setBigInt64(i * 8, v as bigint, true);
  });
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function bitsOf(values: ArrayLike<number>): number[] {
  return Array.from(new Uint32Array(Float32Array.from(values).buffer));
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected a rejection");
}

function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

describe("round trip", () => {
  it("writes and reads float32 (NaN, ±Inf, -0, subnormal), int32, bool, scalar and empty tensors bit-exactly", async () => {
    const start = tf.memory().numTensors;
    const floats = new Float32Array([1.5, NaN, Infinity, -Infinity, -0, 1e-45, 3.4028234663852886e38, -7.25]);
    const ints = new Int32Array([-2147483648, 2147483647, 0, -1, 42, 7]);
    const bools = new Uint8Array([1, 0, 0, 1]);
    const inputs = {
      "h.0.attn.W_Q": tf.tensor(floats, [2, 4]),
      ids: tf.tensor(ints, [3, 2], "int32"),
      mask: tf.tensor(bools, [2, 2], "bool"),
      scalar: tf.scalar(3.25),
      empty: tf.zeros([0, 3]),
      "7": tf.tensor([9, 8], [2], "int32"), // integer-like name: must not reorder the header
    };
    const rawInput: RawTensor = { dtype: "float32", shape: [3], data: new Float32Array([0.1, -0.2, 0.3]) };
    const file = tmpFile("roundtrip.safetensors");
    await writeSafetensors(file, { ...inputs, raw: rawInput }, { format: "pt", note: "héllo ✓" });
    expect(fs.existsSync(file + ".tmp")).toBe(false);

    const header = await readSafetensorsHeader(file);
    expect(header.dataStart % 8).toBe(0);
    expect(Object.keys(header.tensors).sort()).toEqual(["7", "empty", "h.0.attn.W_Q", "ids", "mask", "raw", "scalar"]);
    expect(header.tensors.mask.dtype).toBe("BOOL");
    expect(header.tensors.ids.dtype).toBe("I32");
    expect(header.tensors.scalar).toMatchObject({ dtype: "F32", shape: [] });
    // Every tensor starts aligned to its element size.
    for (const info of Object.values(header.tensors)) {
      const size = info.dtype === "BOOL" ? 1 : 4;
      expect(info.dataOffsets[0] % size).toBe(0);
    }

    const { tensors, metadata } = await readSafetensors(file);
    expect(metadata).toEqual({ format: "pt", note: "héllo ✓" });
    expect(tensors["h.0.attn.W_Q"].dtype).toBe("float32");
    expect(tensors["h.0.attn.W_Q"].shape).toEqual([2, 4]);
    expect(Array.from(new Uint32Array((tensors["h.0.attn.W_Q"].dataSync() as Float32Array).slice().buffer))).toEqual(bitsOf(floats));
    expect(tensors.ids.dtype).toBe("int32");
    expect(tensors.ids.shape).toEqual([3, 2]);
    expect(Array.from(tensors.ids.dataSync())).toEqual(Array.from(ints));
    expect(tensors.mask.dtype).toBe("bool");
    expect(Array.from(tensors.mask.dataSync())).toEqual([1, 0, 0, 1]);
    expect(tensors.scalar.shape).toEqual([]);
    expect(tensors.scalar.dataSync()[0]).toBe(3.25);
    expect(tensors.empty.shape).toEqual([0, 3]);
    expect(tensors.empty.size).toBe(0);
    expect(Array.from(tensors["7"].dataSync())).toEqual([9, 8]);
    expect(bitsOf(tensors.raw.dataSync())).toEqual(bitsOf(rawInput.data));

    // The raw reader agrees, and the in-memory parser reads the same file identically.
    const raw = await readSafetensorsRaw(file);
    expect(raw.tensors.mask).toEqual({ dtype: "bool", shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) });
    expect(bitsOf(raw.tensors["h.0.attn.W_Q"].data)).toEqual(bitsOf(floats));
    const parsed = parseSafetensors(new Uint8Array(fs.readFileSync(file)));
    expect(parsed.tensors.ids.data).toEqual(ints);
    expect(parsed.metadata).toEqual(metadata);

    // Writing is deterministic: the file equals the in-memory serialisation of the same tensors.
    const again = serializeSafetensors({ ...inputs, raw: rawInput }, { note: "héllo ✓", format: "pt" });
    expect(Buffer.from(again).equals(fs.readFileSync(file))).toBe(true);

    tf.dispose(Object.values(tensors));
    tf.dispose(Object.values(inputs));
    expect(tf.memory().numTensors).toBe(start);
  });

  it("selects tensors by name list or predicate and casts to float32 on request", async () => {
    const start = tf.memory().numTensors;
    const file = tmpFile("select.safetensors");
    await writeSafetensors(file, {
      a: { dtype: "float32", shape: [2], data: new Float32Array([1, 2]) },
      b: { dtype: "int32", shape: [2], data: new Int32Array([3, -4]) },
      c: { dtype: "bool", shape: [1], data: new Uint8Array([1]) },
    });
    const byList = await readSafetensors(file, { names: ["b"] });
    expect(Object.keys(byList.tensors)).toEqual(["b"]);
    const byPredicate = await readSafetensors(file, { names: (n) => n !== "a", dtype: "float32" });
    expect(Object.keys(byPredicate.tensors)).toEqual(["b", "c"]);
    expect(byPredicate.tensors.b.dtype).toBe("float32");
    expect(Array.from(byPredicate.tensors.b.dataSync())).toEqual([3, -4]);
    expect(byPredicate.tensors.c.dtype).toBe("float32");
    expect(Array.from(byPredicate.tensors.c.dataSync())).toEqual([1]);
    tf.dispose([...Object.values(byList.tensors), ...Object.values(byPredicate.tensors)]);
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe("format conformance (hand-built bytes)", () => {
  it("the writer produces exactly the bytes the format prescribes", () => {
    const bytes = serializeSafetensors(
      {
        b: { dtype: "int32", shape: [1], data: new Int32Array([1]) },
        a: { dtype: "float32", shape: [2], data: new Float32Array([1, -2]) },
        m: { dtype: "bool", shape: [1], data: new Uint8Array([1]) },
      },
      { format: "pt" },
    );
    const json =
      '{"__metadata__":{"format":"pt"},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"b":{"dtype":"I32","shape":[1],"data_offsets":[8,12]},' +
      '"m":{"dtype":"BOOL","shape":[1],"data_offsets":[12,13]}}';
    const expected = buildFile(json, new Uint8Array([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x00, 0x01]));
    expect((8 + Math.ceil(json.length / 8) * 8) % 8).toBe(0);
    expect(Array.from(bytes)).toEqual(Array.from(expected));
  });

  it("decodes F32, F16, BF16, F64, I64 and small integer types from a hand-built file", async () => {
    const f32 = le("f32", [1, -2.5]);
    const f16 = le("u16", [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x3555]);
    const bf16 = le("u16", [0x3f80, 0xc000, 0x4049, 0x7f80, 0x7fc0, 0x0001]);
    const f64 = le("f64", [1.5, -0.1, 1e300, NaN, 2 ** -140]);
    const i64 = le("i64", [-1n, 2147483647n, -2147483648n, 42n]);
    const i8 = new Uint8Array([0xff, 0x7f, 0x80]);
    const u8 = new Uint8Array([0xff, 0x00]);
    const bool = new Uint8Array([0, 1, 2]);
    const i16 = new Uint8Array([0xfe, 0xff, 0x00, 0x80]); // -2, -32768
    // Place each block after the previous one; offsets relative to the data section.
    const blocks: [string, string, number[], Uint8Array][] = [
      ["f32", "F32", [2], f32],
      ["f16", "F16", [2, 5], f16],
      ["bf16", "BF16", [6], bf16],
      ["f64", "F64", [5], f64],
      ["i64", "I64", [2, 2], i64],
      ["i8", "I8", [3], i8],
      ["u8", "U8", [2], u8],
      ["bool", "BOOL", [3], bool],
      ["i16", "I16", [2], i16],
    ];
    const header: Record<string, unknown> = { __metadata__: { source: "by hand" } };
    let at = 0;
    for (const [name, dtype, shape, bytes] of blocks) {
      header[name] = { dtype, shape, data_offsets: [at, at + bytes.length] };
      at += bytes.length;
    }
    const fileBytes = buildFile(header, concat(...blocks.map((b) => b[3])));
    const file = tmpFile("handbuilt.safetensors", fileBytes);

    const start = tf.memory().numTensors;
    const { tensors, metadata } = await readSafetensors(file);
    expect(metadata).toEqual({ source: "by hand" });
    expect(Array.from(tensors.f32.dataSync())).toEqual([1, -2.5]);

    expect(tensors.f16.dtype).toBe("float32");
    expect(tensors.f16.shape).toEqual([2, 5]);
    const h = Array.from(tensors.f16.dataSync());
    expect(h.slice(0, 7)).toEqual([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, Infinity, -Infinity]);
    expect(h[7]).toBeNaN();
    expect(Object.is(h[8], -0)).toBe(true);
    expect(h[9]).toBe(0.333251953125); // 0x3555 = (1 + 341/1024) * 2^-2

    const b = Array.from(tensors.bf16.dataSync());
    expect(b.slice(0, 4)).toEqual([1, -2, 3.140625, Infinity]);
    expect(b[4]).toBeNaN();
    expect(b[5]).toBe(2 ** -133);

    const d = Array.from(tensors.f64.dataSync());
    expect(d[0]).toBe(1.5);
    expect(d[1]).toBe(Math.fround(-0.1));
    expect(d[2]).toBe(Infinity); // beyond float32 range
    expect(d[3]).toBeNaN();
    expect(d[4]).toBe(2 ** -140); // float32 subnormal

    expect(tensors.i64.dtype).toBe("int32");
    expect(tensors.i64.shape).toEqual([2, 2]);
    expect(Array.from(tensors.i64.dataSync())).toEqual([-1, 2147483647, -2147483648, 42]);
    expect(Array.from(tensors.i8.dataSync())).toEqual([-1, 127, -128]);
    expect(tensors.u8.dtype).toBe("int32");
    expect(Array.from(tensors.u8.dataSync())).toEqual([255, 0]);
    expect(tensors.bool.dtype).toBe("bool");
    expect(Array.from(tensors.bool.dataSync())).toEqual([0, 1, 1]);
    expect(Array.from(tensors.i16.dataSync())).toEqual([-2, -32768]);

    // The in-memory parser gives the same values (compared bitwise for the float tensors).
    const parsed = parseSafetensors(fileBytes);
    expect(bitsOf(parsed.tensors.f16.data)).toEqual(bitsOf(h));
    expect(bitsOf(parsed.tensors.bf16.data)).toEqual(bitsOf(b));
    expect(Array.from(parsed.tensors.i64.data)).toEqual([-1, 2147483647, -2147483648, 42]);

    tf.dispose(Object.values(tensors));
    expect(tf.memory().numTensors).toBe(start);
  });

  it("decodes float8 (e5m2 and e4m3) bytes", () => {
    // e5m2: 0x3C = 1.0, 0xC0 = -2.0, 0x7C = Inf. e4m3 (bias 7, no Inf): 0x38 = 1.0, 0x01 = 2^-9, 0x7E = 448, 0x7F = NaN.
    const bytes = buildFile(
      {
        e5: { dtype: "F8_E5M2", shape: [3], data_offsets: [0, 3] },
        e4: { dtype: "F8_E4M3", shape: [4], data_offsets: [3, 7] },
      },
      new Uint8Array([0x3c, 0xc0, 0x7c, 0x38, 0x01, 0x7e, 0x7f]),
    );
    const { tensors } = parseSafetensors(bytes);
    expect(Array.from(tensors.e5.data)).toEqual([1, -2, Infinity]);
    const e4 = Array.from(tensors.e4.data);
    expect(e4.slice(0, 3)).toEqual([1, 2 ** -9, 448]);
    expect(e4[3]).toBeNaN();
  });

  it("parseSafetensors results never alias the input buffer", () => {
    const bytes = Buffer.from(serializeSafetensors({ w: { dtype: "float32", shape: [2], data: new Float32Array([1, 2]) } }));
    const { tensors } = parseSafetensors(bytes);
    bytes.fill(0);
    expect(Array.from(tensors.w.data)).toEqual([1, 2]);
  });

  it("reads I64 beyond int32 only when cast to float32, otherwise names the value", async () => {
    const data = le("i64", [1n, 2n ** 40n, -(2n ** 31n) - 1n]);
    const bytes = buildFile({ "pos.ids": { dtype: "I64", shape: [3], data_offsets: [0, 24] } }, data);
    const message = thrown(() => parseSafetensors(bytes, { source: "ids.safetensors" }));
    expect(message).toContain("ids.safetensors: tensor 'pos.ids' (I64) holds 1099511627776 at flat index 1");
    expect(message).toContain("does not fit in int32");
    const asFloat = parseSafetensors(bytes, { dtype: "float32" });
    expect(asFloat.tensors["pos.ids"].dtype).toBe("float32");
    expect(Array.from(asFloat.tensors["pos.ids"].data)).toEqual([1, 2 ** 40, Math.fround(-(2 ** 31) - 1)]);
  });
});

describe("errors", () => {
  const valid = () =>
    serializeSafetensors({
      "h.0.attn.c_attn.weight": { dtype: "float32", shape: [2, 3], data: new Float32Array(6).fill(0.5) },
      "h.0.ln_1.bias": { dtype: "float32", shape: [3], data: new Float32Array(3) },
    });

  it("truncated file: names the tensor, where it ends and the data size", async () => {
    const bytes = valid();
    const file = tmpFile("truncated.safetensors", bytes.subarray(0, bytes.length - 5));
    const message = await rejection(readSafetensorsHeader(file));
    expect(message).toMatch(/truncated\.safetensors: tensor '[^']+' ends at byte 36 but the file's data section is only 31 bytes \(file truncated\?\)/);
    await expect(readSafetensors(file)).rejects.toThrow(/file truncated\?/);
  });

  it("file shorter than the length prefix", async () => {
    const file = tmpFile("tiny.safetensors", new Uint8Array([1, 2, 3]));
    expect(await rejection(readSafetensorsHeader(file))).toMatch(/tiny\.safetensors: the file is only 3 bytes.*8-byte header length/);
  });

  it("header length larger than the file", async () => {
    const file = tmpFile("long-header.safetensors", buildFile("{}", new Uint8Array(10), 1000n));
    expect(await rejection(readSafetensorsHeader(file))).toMatch(/header length prefix says 1000 bytes, but only 18 bytes follow it \(file truncated/);
  });

  it("huge header length (2^60) fails fast without allocating", async () => {
    const file = tmpFile("huge-header.safetensors", buildFile("{}", new Uint8Array(0), 2n ** 60n));
    const t0 = Date.now();
    const message = await rejection(readSafetensorsHeader(file));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(message).toContain("header length prefix says 1152921504606846976 bytes");
    expect(thrown(() => parseSafetensorsHeader(buildFile("{}", new Uint8Array(0), 2n ** 60n)))).toContain("1152921504606846976");
  });

  it("header length over the 100 MB limit (sparse file larger than the claimed header)", async () => {
    const file = tmpFile("over-limit.safetensors", buildFile("{}", new Uint8Array(0), 150_000_000n));
    fs.truncateSync(file, 160_000_000); // sparse: no real disk use
    const message = await rejection(readSafetensorsHeader(file));
    expect(message).toContain("150000000 bytes, more than the 100000000-byte limit");
  });

  it("bad JSON, non-object JSON and invalid UTF-8", () => {
    expect(thrown(() => parseSafetensors(buildFile('{"a": {"dtype": "F32",', new Uint8Array(0)), { source: "bad.json" }))).toMatch(
      /bad\.json: the header is not valid JSON/,
    );
    expect(thrown(() => parseSafetensors(buildFile("[1, 2]")))).toContain("the header must be a JSON object, found an array");
    const bytes = buildFile("{}     ");
    bytes[9] = 0xff;
    expect(thrown(() => parseSafetensors(bytes))).toContain("not valid UTF-8");
  });

  it("unknown dtype", async () => {
    const file = tmpFile("q4.safetensors", buildFile({ w: { dtype: "Q4_K", shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)));
    const message = await rejection(readSafetensorsHeader(file));
    expect(message).toContain("q4.safetensors: tensor 'w' has dtype \"Q4_K\", which mechlab cannot read");
    expect(message).toContain("BF16");
  });

  it("shape and offsets disagree on the size", () => {
    const bytes = buildFile({ w: { dtype: "F32", shape: [2, 2], data_offsets: [0, 12] } }, new Uint8Array(16));
    expect(thrown(() => parseSafetensorsHeader(bytes, "m.safetensors"))).toBe(
      "m.safetensors: tensor 'w': shape [2, 2] of F32 needs 4 × 4 = 16 bytes, but data_offsets [0, 12] span 12 bytes",
    );
  });

  it("overlapping tensors", () => {
    const bytes = buildFile(
      {
        a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        c: { dtype: "F32", shape: [0], data_offsets: [4, 4] }, // empty: occupies nothing
        b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
      },
      new Uint8Array(12),
    );
    const message = thrown(() => parseSafetensors(bytes));
    expect(message).toContain("tensors 'a' (bytes 0..8) and 'b' (bytes 4..12) overlap");
  });

  it("negative, non-integer or non-numeric shape entries", () => {
    const header = (shape: unknown) => buildFile({ w: { dtype: "F32", shape, data_offsets: [0, 0] } });
    expect(thrown(() => parseSafetensors(header([-1, 2])))).toContain("tensor 'w': shape [-1,2] contains -1; expected non-negative integers");
    expect(thrown(() => parseSafetensors(header([1.5])))).toContain("shape [1.5] contains 1.5; expected non-negative integers");
    expect(thrown(() => parseSafetensors(header(["3"])))).toContain('contains "3"');
    expect(thrown(() => parseSafetensors(header(3)))).toContain("expected shape to be an array");
  });

  it("malformed offsets", () => {
    const withOffsets = (data_offsets: unknown) => buildFile({ w: { dtype: "U8", shape: [0], data_offsets } }, new Uint8Array(8));
    expect(thrown(() => parseSafetensors(withOffsets([4, 2])))).toContain("data_offsets [4, 2] end before they begin");
    expect(thrown(() => parseSafetensors(withOffsets([-1, 0])))).toContain("expected data_offsets to be [begin, end]");
    expect(thrown(() => parseSafetensors(withOffsets([0])))).toContain("expected data_offsets to be [begin, end]");
  });

  it("non-string metadata in a file", () => {
    const bytes = buildFile({ __metadata__: { format: "pt", step: 3 } });
    expect(thrown(() => parseSafetensors(bytes))).toContain("\"__metadata__\" value for 'step' must be a string, found 3");
  });

  it("a requested name that is not in the file lists the available names (first 20)", async () => {
    const many: Record<string, RawTensor> = {};
    for (let i = 0; i < 25; i++) many[`t${String(i).padStart(2, "0")}`] = { dtype: "int32", shape: [1], data: new Int32Array([i]) };
    const file = tmpFile("many.safetensors");
    await writeSafetensors(file, many);
    const start = tf.memory().numTensors;
    const message = await rejection(readSafetensors(file, { names: ["t01", "nope"] }));
    expect(message).toContain("many.safetensors: no tensor named 'nope'; the file has 25 tensors: 't00', 't01'");
    expect(message).toContain("'t19' (and 5 more)");
    expect(message).not.toContain("'t20'");
    expect(tf.memory().numTensors).toBe(start);
  });

  it("a failure part-way through readSafetensors disposes the tensors already made", async () => {
    const bytes = buildFile(
      {
        ok: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
        big: { dtype: "I64", shape: [1], data_offsets: [8, 16] },
      },
      concat(le("f32", [1]), new Uint8Array(4), le("i64", [2n ** 33n])),
    );
    const file = tmpFile("partial.safetensors", bytes);
    const start = tf.memory().numTensors;
    expect(await rejection(readSafetensors(file))).toContain("tensor 'big' (I64) holds 8589934592");
    expect(tf.memory().numTensors).toBe(start);
  });

  it("writing rejects non-string metadata, reserved or malformed names and inconsistent raw tensors", async () => {
    const w: RawTensor = { dtype: "float32", shape: [1], data: new Float32Array([1]) };
    const file = tmpFile("rejected.safetensors");
    expect(await rejection(writeSafetensors(file, { w }, { step: 3 } as unknown as Record<string, string>))).toContain(
      "metadata value for 'step' must be a string",
    );
    expect(fs.existsSync(file) || fs.existsSync(file + ".tmp")).toBe(false);
    expect(thrown(() => serializeSafetensors({ __metadata__: w }))).toContain("'__metadata__' is reserved");
    expect(thrown(() => serializeSafetensors({ "bad\ud800name": w }))).toContain("lone UTF-16 surrogate");
    expect(thrown(() => serializeSafetensors({ w: { dtype: "float32", shape: [2], data: new Float32Array(3) } }))).toContain(
      "shape [2] has 2 elements but data has 3",
    );
    expect(thrown(() => serializeSafetensors({ w: { dtype: "int32", shape: [1], data: new Float32Array(1) } as unknown as RawTensor }))).toContain(
      "its data is a Float32Array, expected Int32Array",
    );
  });
});
