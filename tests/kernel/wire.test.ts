import { mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { codePointsToUtf16, utf16ToCodePoints } from "../../kernel/cursor";
import { History, globToRegExp } from "../../kernel/history";
import { ConnectionFileError, endpoint, parseConnectionInfo, readConnectionFile } from "../../kernel/wire/connectionFile";
import { DELIMITER, MessageDecodeError, createMessage, decodeMessage, encodeMessage } from "../../kernel/wire/message";
import { createSigner } from "../../kernel/wire/signer";
import { createHmac } from "crypto";

const VALID = {
  transport: "tcp",
  ip: "127.0.0.1",
  shell_port: 50001,
  control_port: 50002,
  iopub_port: 50003,
  stdin_port: 50004,
  hb_port: 50005,
  key: "secret",
  signature_scheme: "hmac-sha256",
};

describe("signer", () => {
  it("is HMAC-SHA256 over the given frames, hex", () => {
    const frames = ["{}", '{"a":1}'].map((s) => Buffer.from(s));
    const expected = createHmac("sha256", "k").update(frames[0]).update(frames[1]).digest("hex");
    const signer = createSigner("k");
    expect(signer.sign(frames)).toBe(expected);
    expect(signer.verify(expected, frames)).toBe(true);
    expect(signer.verify(expected.replace(/.$/, (c) => (c === "0" ? "1" : "0")), frames)).toBe(false);
    expect(signer.verify("", frames)).toBe(false);
    expect(signer.verify(expected.slice(0, 10), frames)).toBe(false);
  });

  it("does not sign with an empty key and accepts anything", () => {
    const signer = createSigner("");
    expect(signer.sign([Buffer.from("x")])).toBe("");
    expect(signer.verify("whatever", [Buffer.from("x")])).toBe(true);
  });
});

describe("message frames", () => {
  const signer = createSigner("key");
  const parent = createMessage("comm_msg", { comm_id: "c" }, { session: "s", identities: [Buffer.from("peer")] });

  it("encodes identities, delimiter, signature, four JSON frames, then raw buffers", () => {
    const msg = createMessage("comm_msg", { data: 1 }, { session: "s", parent, buffers: [new Uint8Array([1, 2, 3]), new Float32Array([1.5]).buffer] });
    expect(msg.identities).toEqual([Buffer.from("peer")]);
    expect(msg.header.version).toBe("5.3");
    expect(msg.header.msg_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(msg.header.date))).toBe(false);
    const frames = encodeMessage(msg, signer);
    expect(frames.length).toBe(1 + 1 + 1 + 4 + 2);
    expect(frames[1].toString()).toBe(DELIMITER);
    // The signature covers the JSON frames only.
    expect(frames[2].toString()).toBe(signer.sign(frames.slice(3, 7)));
    expect([...frames[7]]).toEqual([1, 2, 3]);
    const decoded = decodeMessage(frames, signer);
    expect(decoded.header).toEqual(msg.header);
    expect(decoded.parent_header).toEqual(parent.header);
    expect(decoded.content).toEqual({ data: 1 });
    expect(decoded.identities).toEqual([Buffer.from("peer")]);
    expect(new Float32Array(new Uint8Array(decoded.buffers[1]).buffer)[0]).toBe(1.5);
  });

  it("rejects bad and missing signatures, and frames without a delimiter", () => {
    const frames = encodeMessage(createMessage("kernel_info_request", {}, { session: "s" }), signer);
    const bad = frames.slice();
    bad[1] = Buffer.from("0".repeat(64));
    expect(() => decodeMessage(bad, signer)).toThrow(/bad signature/);
    const missing = frames.slice();
    missing[1] = Buffer.alloc(0);
    expect(() => decodeMessage(missing, signer)).toThrow(/missing signature/);
    expect(() => decodeMessage(frames.slice(1), signer)).toThrow(MessageDecodeError);
    expect(() => decodeMessage(frames.slice(0, 4), signer)).toThrow(/too few frames/);
  });

  it("verifies a signed message whatever buffers follow", () => {
    const frames = encodeMessage(createMessage("comm_msg", {}, { session: "s" }), signer);
    const withBuffer = [...frames, Buffer.from([9, 9, 9])];
    expect(decodeMessage(withBuffer, signer).buffers).toEqual([Buffer.from([9, 9, 9])]);
  });
});

describe("connection file", () => {
  it("reads a valid file and makes endpoints", () => {
    const dir = mkdtempSync(join(tmpdir(), "mechlab-conn-"));
    const file = join(dir, "k.json");
    writeFileSync(file, JSON.stringify(VALID));
    const info = readConnectionFile(file);
    expect(info.key).toBe("secret");
    expect(endpoint(info, "shell")).toBe("tcp://127.0.0.1:50001");
    expect(endpoint(info, "hb")).toBe("tcp://127.0.0.1:50005");
    expect(endpoint({ ...info, transport: "ipc", ip: "/tmp/k" }, "iopub")).toBe("ipc:///tmp/k-50003");
  });

  it("names the problem in its errors", () => {
    expect(() => readConnectionFile("/nonexistent/k.json")).toThrow(/cannot read connection file \/nonexistent\/k.json/);
    expect(() => parseConnectionInfo([])).toThrow(ConnectionFileError);
    expect(() => parseConnectionInfo({ ...VALID, shell_port: "5" })).toThrow(/shell_port must be a port number/);
    expect(() => parseConnectionInfo({ ...VALID, hb_port: 70000 })).toThrow(/hb_port/);
    expect(() => parseConnectionInfo({ ...VALID, transport: "udp" })).toThrow(/transport must be "tcp" or "ipc"/);
    expect(() => parseConnectionInfo({ ...VALID, signature_scheme: "hmac-md5" })).toThrow(/signature_scheme must be "hmac-sha256"/);
    expect(() => parseConnectionInfo({ ...VALID, key: 5 })).toThrow(/key must be a string/);
    const { control_port: _dropped, ...noControl } = VALID;
    expect(() => parseConnectionInfo(noControl)).toThrow(/control_port/);
  });
});

describe("history", () => {
  const history = new History();
  history.add(1, "a = 1");
  history.add(2, "b = 2");
  history.add(3, "a = 1");
  history.add(4, "print(a)");
  history.setOutput(4, "1");

  it("answers tail with the last n entries, inputs or [input, output]", () => {
    expect(history.query({ hist_access_type: "tail", n: 2 })).toEqual([
      [1, 3, "a = 1"],
      [1, 4, "print(a)"],
    ]);
    expect(history.query({ hist_access_type: "tail", n: 1, output: true })).toEqual([[1, 4, ["print(a)", "1"]]]);
  });

  it("answers range for the current session (0 or its number), stop exclusive", () => {
    expect(history.query({ hist_access_type: "range", session: 0, start: 2, stop: 4 }).map((e) => e[1])).toEqual([2, 3]);
    expect(history.query({ hist_access_type: "range", session: 1, start: 3 }).map((e) => e[1])).toEqual([3, 4]);
    expect(history.query({ hist_access_type: "range", session: 7, start: 1 })).toEqual([]);
  });

  it("answers search with a whole-input glob, unique and n", () => {
    expect(history.query({ hist_access_type: "search", pattern: "a*" }).map((e) => e[1])).toEqual([1, 3]);
    expect(history.query({ hist_access_type: "search", pattern: "a*", unique: true }).map((e) => e[1])).toEqual([3]);
    expect(history.query({ hist_access_type: "search", pattern: "?*", n: 3 }).map((e) => e[1])).toEqual([2, 3, 4]);
    expect(history.query({ hist_access_type: "search", pattern: "?" })).toEqual([]);
    expect(globToRegExp("p(a)*").test("p(a) + [x]")).toBe(true);
    expect(globToRegExp("x?z").test("x\nz")).toBe(true);
  });
});

describe("cursor offsets", () => {
  it("converts code points to UTF-16 indices and back", () => {
    const code = "😀 pr";
    expect(codePointsToUtf16(code, 2)).toBe(3);
    expect(codePointsToUtf16(code, 4)).toBe(5);
    expect(codePointsToUtf16(code, 99)).toBe(5);
    expect(utf16ToCodePoints(code, 3)).toBe(2);
    expect(utf16ToCodePoints(code, 5)).toBe(4);
    expect(utf16ToCodePoints("abc", 2)).toBe(2);
  });
});
