/**
 * The built package as its users meet it: `import { HookedTransformer } from "mechlab"` type-checks
 * with the TypeScript the notebook kernel bundles (tslab's 5.0, node10 resolution, CommonJS), and
 * runs from a plain Node script. Needs `npm run build` first (the test command does it).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { ROOT, tslabDiagnostics, tslabTs as ts } from "./helpers/tslabTypecheck";

describe("the published types", () => {
  it("compile with tslab's TypeScript 5.0 under node10 resolution", () => {
    expect(ts.version.startsWith("5.0")).toBe(true);
    const errors = tslabDiagnostics(`
      import { HookedTransformer, ready, tf, backendInfo, type HookName } from "mechlab";
      async function main() {
        await ready();
        const model = await HookedTransformer.create({ nLayers: 1, dModel: 8, nHeads: 2, dHead: 4, dVocab: 10, nCtx: 8 });
        const name: HookName = "blocks.0.attn.hook_pattern";
        const { output, cache } = model.runWithCache([[1, 2, 3]], { namesFilter: [name] });
        const pattern: tf.Tensor = cache.get("pattern", 0);
        const loss: tf.Tensor = model.forward([[1, 2, 3]], { returnType: "loss" });
        console.log(backendInfo().summary, output.shape, pattern.shape, loss.shape);
      }
      main();
    `);
    expect(errors).toEqual([]);
  });

  it("a misspelled hook name fails to compile", () => {
    const errors = tslabDiagnostics(`
      import type { HookName } from "mechlab";
      const name: HookName = "blocks.0.attn.hook_patern";
      export { name };
    `);
    expect(errors.join("\n")).toMatch(/hook_patern/);
  });

  it("runs from a plain Node script with require('mechlab')", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mechlab-script-"));
    const script = path.join(dir, "script.js");
    fs.writeFileSync(
      script,
      `const { HookedTransformer, backendInfo } = require(${JSON.stringify(path.join(ROOT, "node_modules/mechlab"))});
       HookedTransformer.create({ nLayers: 1, dModel: 8, nHeads: 2, dHead: 4, dVocab: 10, nCtx: 8, seed: 1 }).then((m) => {
         const logits = m.forward([[1, 2, 3]]);
         console.log(JSON.stringify({ shape: logits.shape, backend: backendInfo().name }));
       });`,
    );
    const out = execFileSync(process.execPath, [script], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    const result = JSON.parse(out.trim().split("\n").pop()!);
    expect(result.shape).toEqual([1, 3, 10]);
    expect(["tensorflow", "wasm", "cpu"]).toContain(result.backend);
  });
});
