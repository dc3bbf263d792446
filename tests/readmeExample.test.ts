/**
 * The README's example, exactly as written, type-checks with the notebook kernel's TypeScript and
 * runs in a plain Node process. "gpt2" is served from a hub cache (MECHLAB_CACHE, HF_HUB_OFFLINE)
 * that this test fills with a small random GPT-2-format checkpoint (12 layers, GPT-2's vocabulary),
 * so the download-free path a user takes after the first download is the one exercised.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { ready } from "../src/backend";
import { repoCacheDir, resolveRepoId } from "../src/loading/hub";
import { writeSafetensors, type RawTensor } from "../src/loading/safetensors";
import { randomHfWeights } from "./reference";
import { ROOT, tslabDiagnostics, tslabTs as ts } from "./helpers/tslabTypecheck";


function readmeExample(): string {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const match = /## Example\s+```ts\n([\s\S]*?)```/.exec(readme);
  if (!match) throw new Error("README.md has no ```ts block under ## Example");
  return match[1];
}

/** Imports stay at the top; the rest (which uses top-level await, as a notebook cell may) runs in an async main. */
function asScript(example: string): string {
  const lines = example.split("\n");
  const imports = lines.filter((l) => l.startsWith("import "));
  const body = lines.filter((l) => !l.startsWith("import "));
  return `${imports.join("\n")}\n(async () => {\n${body.join("\n")}\n})().catch((e) => { console.error(e); process.exit(1); });\n`;
}

let cacheRoot: string;

beforeAll(async () => {
  await ready();
  cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), "mechlab-hub-"));
  const config = {
    model_type: "gpt2",
    architectures: ["GPT2LMHeadModel"],
    n_embd: 32,
    n_layer: 12,
    n_head: 4,
    n_positions: 64,
    n_ctx: 64,
    vocab_size: 50257,
    n_inner: null,
    layer_norm_epsilon: 1e-5,
    activation_function: "gelu_new",
  };
  const dir = repoCacheDir(resolveRepoId("gpt2"), "main", cacheRoot);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
  const weights = randomHfWeights("gpt2", config, 1, 0.1);
  const raw: Record<string, RawTensor> = {};
  for (const [name, w] of Object.entries(weights)) raw[name] = { dtype: "float32", shape: w.shape, data: Float32Array.from(w.data) };
  await writeSafetensors(path.join(dir, "model.safetensors"), raw);
});

describe("README example", () => {
  it("type-checks with tslab's TypeScript", () => {
    expect(tslabDiagnostics(asScript(readmeExample()))).toEqual([]);
  });

  it("runs as written, loading gpt2 from the cache without the network", () => {
    const js = ts.transpileModule(asScript(readmeExample()), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 } }).outputText;
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "mechlab-readme-")), "example.js");
    fs.writeFileSync(script, js);
    const out = execFileSync(process.execPath, [script], {
      cwd: ROOT,
      env: { ...process.env, MECHLAB_CACHE: cacheRoot, HF_HUB_OFFLINE: "1", NODE_PATH: path.join(ROOT, "node_modules") },
      encoding: "utf8",
    });
    // console.log(labels.length, pattern.shape, loss): 1 embed + 1 pos_embed + 12 × (attn_out, mlp_out) = 26 components.
    const last = out.trim().split("\n").pop()!;
    const match = /^26 \[ 1, 4, (\d+), \1 \] (\d+\.\d+)/.exec(last);
    expect(match, last).not.toBeNull();
    expect(Number(match![2])).toBeGreaterThan(0);
  });
});
