/** Backend selection in fresh processes: default order, the MECHLAB_BACKEND override, bad values, and use before ready(). */
import { execFileSync } from "child_process";
import * as path from "path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");

function runNode(code: string, env: Record<string, string> = {}): { stdout: string; status: number } {
  try {
    const stdout = execFileSync(process.execPath, ["-e", code], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { stdout, status: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; status: number };
    return { stdout: `${e.stdout}${e.stderr}`, status: e.status };
  }
}

describe("backend selection", () => {
  it("picks the best available backend and reports why others were passed over", () => {
    const { stdout } = runNode(`const m = require("mechlab"); m.ready().then((i) => console.log(JSON.stringify(i)));`, { MECHLAB_BACKEND: "" });
    const info = JSON.parse(stdout.trim().split("\n").pop()!);
    expect(["tensorflow", "wasm"]).toContain(info.name);
    if (info.name === "wasm") expect(info.attempts[0]).toMatchObject({ backend: "tensorflow", ok: false });
    expect(info.summary).toContain(info.name);
  });

  it("MECHLAB_BACKEND=cpu forces the cpu backend and the model runs on it", () => {
    const { stdout } = runNode(
      `const m = require("mechlab");
       m.HookedTransformer.create({ nLayers: 1, dModel: 8, nHeads: 2, dHead: 4, dVocab: 10, nCtx: 8, seed: 1 }).then((model) => {
         const l = model.forward([[1, 2, 3]]);
         console.log(JSON.stringify({ backend: m.tf.getBackend(), info: m.backendInfo().name, shape: l.shape }));
       });`,
      { MECHLAB_BACKEND: "cpu" },
    );
    expect(JSON.parse(stdout.trim().split("\n").pop()!)).toEqual({ backend: "cpu", info: "cpu", shape: [1, 3, 10] });
  });

  it("an unknown MECHLAB_BACKEND is a clear error", () => {
    const { stdout } = runNode(`require("mechlab").ready().catch((e) => { console.log(e.message); process.exit(3); });`, { MECHLAB_BACKEND: "webgpu" });
    expect(stdout).toMatch(/MECHLAB_BACKEND="webgpu" is not a backend mechlab knows; expected one of tensorflow, wasm, cpu/);
  });

  it("making a model before ready() says to await ready()", () => {
    const { stdout } = runNode(`const m = require("mechlab"); try { new m.HookedTransformer({ nLayers: 1, dModel: 8, dHead: 4, dVocab: 10, nCtx: 8 }); } catch (e) { console.log(e.message); }`);
    expect(stdout).toMatch(/has not started yet\. Run `await ready\(\)`/);
  });
});
