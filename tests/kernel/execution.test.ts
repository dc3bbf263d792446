/**
 * The execution engine driven in-process with a fake CellIO (no sockets): results as MIME bundles,
 * display, errors at cell lines, declarations across cells, top-level await, interrupting a
 * pending await, late output, input, and `import ... from "mechlab"` from a folder outside the
 * repository. Needs `npm run build` first (cells import the built package, as notebooks do).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExecutionEngine, type MechlabExecutionEngine } from "../../kernel/execution/engine";
import type { ExecuteOutcome } from "../../kernel/handlers";
import { executeContext, fakeCell, type CellEvent, type FakeCell } from "./helpers/fakeCellIO";

process.env.MECHLAB_BACKEND ??= "cpu";

let engine: MechlabExecutionEngine;
let notebookDir: string;

beforeAll(async () => {
  // A notebook folder outside the repository: no node_modules, no package.json.
  notebookDir = fs.mkdtempSync(path.join(os.tmpdir(), "mechlab-notebook-"));
  engine = createExecutionEngine(undefined, { cwd: notebookDir });
  const startup = await engine.ready;
  expect(startup.error).toBeUndefined();
});

afterAll(() => {
  engine?.shutdown();
  fs.rmSync(notebookDir, { recursive: true, force: true });
});

async function run(code: string, cell: FakeCell = fakeCell(), overrides = {}): Promise<{ outcome: ExecuteOutcome; cell: FakeCell }> {
  const outcome = await engine.execute(code, executeContext(cell, overrides));
  return { outcome, cell };
}

function results(cell: FakeCell) {
  return cell.events.filter((e): e is Extract<CellEvent, { type: "result" }> => e.type === "result");
}

function plainResult(cell: FakeCell): string {
  const found = results(cell);
  expect(found).toHaveLength(1);
  return found[0].bundle["text/plain"] as string;
}

function errorOf(outcome: ExecuteOutcome) {
  if (outcome.status !== "error") throw new Error(`expected an error outcome, got ${JSON.stringify(outcome)}`);
  return outcome;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("results of the last expression", () => {
  it("a number, a string (quoted), an object (inspected); undefined gives none", async () => {
    let { outcome, cell } = await run("const a: number = 40;\na + 2");
    expect(outcome).toEqual({ status: "ok" });
    expect(plainResult(cell)).toBe("42");

    ({ cell } = await run(`"hello " + "world"`));
    expect(plainResult(cell)).toBe("'hello world'");

    ({ cell } = await run(`({ name: "gpt", layers: [1, 2], nested: { deep: true } })`));
    expect(plainResult(cell)).toBe("{ name: 'gpt', layers: [ 1, 2 ], nested: { deep: true } }");

    ({ outcome, cell } = await run("const nothing = undefined;\nnothing"));
    expect(outcome.status).toBe("ok");
    expect(results(cell)).toHaveLength(0);
  });

  it("a tensor shows shape, dtype and values", async () => {
    const { cell } = await run(`import { tf } from "mechlab";\ntf.tensor2d([[1, 2.5, 3], [4, 5, 6]])`);
    const [result] = results(cell);
    expect(result.bundle["text/plain"]).toBe("Tensor float32 [2, 3]\n[[1.0, 2.5, 3.0],\n [4.0, 5.0, 6.0]]");
    expect(result.bundle["text/html"]).toContain("<table");
  });

  it("a big tensor is elided and summarised", async () => {
    const { cell } = await run(`tf.range(0, 20000, 1, "int32").reshape([100, 200])`);
    const text = plainResult(cell);
    expect(text.split("\n")[0]).toBe("Tensor int32 [100, 200]  min 0  max 19999  mean 9999.5000");
    expect(text).toContain("[[    0,     1,     2, ...,   197,   198,   199],");
    expect(text).toContain(" ...,\n");
    expect(text.endsWith("[19800, 19801, 19802, ..., 19997, 19998, 19999]]")).toBe(true);
  });

  it("an object with [Symbol.for('Jupyter.display')] gives its own bundle", async () => {
    const { cell } = await run(`({ [Symbol.for("Jupyter.display")]() { return { "text/html": "<b>mine</b>", "text/plain": "mine" }; } })`);
    expect(results(cell)[0].bundle).toEqual({ "text/html": "<b>mine</b>", "text/plain": "mine" });
  });
});

describe("display", () => {
  it("display, updateDisplay and clearOutput go to the running cell", async () => {
    const { outcome, cell } = await run(
      [
        `import { display, updateDisplay, clearOutput } from "mechlab";`,
        `const handle = display("first", { displayId: "progress" });`,
        `updateDisplay("progress", "second");`,
        `handle.update(3);`,
        `display.html("<i>x</i>");`,
        `clearOutput(true);`,
      ].join("\n"),
    );
    expect(outcome.status).toBe("ok");
    const shown = cell.events.filter((e) => e.type === "display" || e.type === "clear");
    expect(shown).toEqual([
      { type: "display", bundle: { "text/plain": "'first'" }, displayId: "progress", update: false, metadata: undefined },
      { type: "display", bundle: { "text/plain": "'second'" }, displayId: "progress", update: true, metadata: undefined },
      { type: "display", bundle: { "text/plain": "3" }, displayId: "progress", update: true, metadata: undefined },
      expect.objectContaining({ type: "display", bundle: { "text/html": "<i>x</i>", "text/plain": "<HTML>" }, update: false }),
      { type: "clear", wait: true },
    ]);
  });

  it("a display handle as a cell's last expression adds no execute_result", async () => {
    const { outcome, cell } = await run(`display.html("<i>x</i>")`);
    expect(outcome.status).toBe("ok");
    expect(cell.events.filter((e) => e.type === "display")).toHaveLength(1);
    expect(results(cell)).toEqual([]);
  });

  it("display and friends need no import; a plain object keyed by MIME types is shown as that bundle", async () => {
    const { outcome, cell } = await run(`display({ "text/markdown": "*md*", "text/plain": "md" });\nclearOutput();`);
    expect(outcome.status).toBe("ok");
    expect(cell.events).toEqual([
      expect.objectContaining({ type: "display", bundle: { "text/markdown": "*md*", "text/plain": "md" } }),
      { type: "clear", wait: false },
    ]);
    // Importing them again, or declaring one's own, is fine.
    expect((await run(`import { display, input } from "mechlab";\ntypeof display`)).outcome.status).toBe("ok");
    const own = await run(`const password = "hunter2";\npassword`);
    expect(plainResult(own.cell)).toBe("'hunter2'");
  });

  it("console and process streams of a cell become its stream outputs, in order", async () => {
    const { cell } = await run(`console.log("a", { n: 1 });\nprocess.stdout.write("b\\n");\nconsole.error("c");\nconsole.log("d");`);
    expect(cell.events.filter((e) => e.type === "stream")).toEqual([
      { type: "stream", name: "stdout", text: "a { n: 1 }\nb\n" },
      { type: "stream", name: "stderr", text: "c\n" },
      { type: "stream", name: "stdout", text: "d\n" },
    ]);
  });
});

describe("errors", () => {
  it("a type error reads like the compiler's, at the cell's line and column", async () => {
    const { outcome, cell } = await run(`const ok = 1;\nconst n: number = "text";`);
    const error = errorOf(outcome);
    expect(error.ename).toBe("CompileError");
    expect(error.evalue).toBe("cell:2:7 - error TS2322: Type 'string' is not assignable to type 'number'.");
    expect(error.traceback[0]).toBe(error.evalue);
    expect(error.traceback).toContain(`2 const n: number = "text";`);
    expect(error.traceback).toContain("        ~");
    // The server publishes the one error output from the outcome; the engine adds none.
    expect(cell.events.filter((e) => e.type === "error")).toHaveLength(0);
  });

  it("several type errors, with message chains, after type-only lines", async () => {
    const { outcome } = await run(
      [`type Pair = { a: { b: number } };`, `interface Box { v: string }`, ``, `const p: Pair = { a: { b: "x" } };`, `const box: Box = { v: 2 };`].join("\n"),
    );
    const error = errorOf(outcome);
    expect(error.evalue.split("\n")).toEqual([
      "cell:4:24 - error TS2322: Type 'string' is not assignable to type 'number'.",
      "cell:5:20 - error TS2322: Type 'number' is not assignable to type 'string'.",
    ]);
    expect(error.traceback.at(-1)).toBe("Found 2 errors.");
  });

  it("a runtime error points at the cell's lines, after a multi-line import and type-only lines", async () => {
    const { outcome } = await run(
      [
        `import {`, // 1
        `  tf,`, // 2
        `} from "mechlab";`, // 3
        `type Pair = [number, number];`, // 4
        `interface Box { v: number }`, // 5
        ``, // 6
        `const box: Box = { v: tf.scalar(1).rank };`, // 7
        `throw new Error("boom on line 8");`, // 8
      ].join("\n"),
    );
    const error = errorOf(outcome);
    expect(error.ename).toBe("Error");
    expect(error.evalue).toBe("boom on line 8");
    expect(error.traceback[0]).toBe("Error: boom on line 8");
    expect(error.traceback[1]).toMatch(/^ {4}at cell\[\d+\]:8:\d+$/);
    // Nothing of the kernel's own machinery.
    expect(error.traceback.join("\n")).not.toMatch(/kernel\/execution|node:vm|node:internal/);
    expect(error.traceback).toContain(`> 8 | throw new Error("boom on line 8");`);
  });

  it("frames inside functions, also of functions an earlier cell defined", async () => {
    const define = await run(
      [
        `// helpers`, // 1
        `function explode(n: number): number {`, // 2
        `  if (n > 2) {`, // 3
        "    throw new RangeError(`too big: ${n}`);", // 4
        `  }`, // 5
        `  return n;`, // 6
        `}`, // 7
      ].join("\n"),
      fakeCell(),
      { executionCount: 1001 },
    );
    expect(define.outcome.status).toBe("ok");
    const { outcome } = await run(`\nexplode(1);\nexplode(5);`, fakeCell(), { executionCount: 1002 });
    const error = errorOf(outcome);
    expect(error.ename).toBe("RangeError");
    expect(error.traceback[1]).toMatch(/^ {4}at explode \(cell\[1001\]:4:\d+\)$/);
    expect(error.traceback[2]).toMatch(/^ {4}at cell\[1002\]:3:1$/);
  });

  it("an error after an await points at its line", async () => {
    const { outcome } = await run([`const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));`, `await wait(5);`, `const gone: any = null;`, `gone.property;`].join("\n"));
    const error = errorOf(outcome);
    expect(error.ename).toBe("TypeError");
    expect(error.traceback[1]).toMatch(/^ {4}at (async )?cell\[\d+\]:4:\d+$/);
  });

  it("a thrown non-error value", async () => {
    const error = errorOf((await run(`throw { code: 7 };`)).outcome);
    expect(error.traceback).toEqual(["Uncaught { code: 7 }"]);
  });
});

describe("state across cells", () => {
  it("declarations carry across cells, with their types", async () => {
    await run(`let counter = 1;\nfunction twice(x: number) { return 2 * x; }\nclass Point { constructor(public x: number) {} }\ntype Id = string;`);
    const { cell } = await run(`counter = twice(counter) + new Point(1).x;\nconst id: Id = "p";\n({ counter, id })`);
    expect(plainResult(cell)).toBe("{ counter: 3, id: 'p' }");
    const wrong = errorOf((await run(`const s: string = twice(1);`)).outcome);
    expect(wrong.evalue).toContain("TS2322");
  });

  it("variables defined before a runtime error stay defined", async () => {
    errorOf((await run(`const beforeError = 5;\nthrow new Error("stop");`)).outcome);
    expect(plainResult((await run(`beforeError * 2`)).cell)).toBe("10");
  });

  it("top-level await", async () => {
    const { cell } = await run(`const value = await new Promise<number>((resolve) => setTimeout(() => resolve(21), 10));\nvalue * 2`);
    expect(plainResult(cell)).toBe("42");
  });
});

describe("interrupt", () => {
  it("stops a pending await; the next cell runs at once with variables intact", async () => {
    await run(`const kept = "still here";`);
    const pending = run(`await new Promise(() => {});\nconst never = 1;`);
    await sleep(100);
    engine.interrupt();
    const error = errorOf((await pending).outcome);
    expect(error.ename).toBe("Interrupted");
    const started = Date.now();
    const { outcome, cell } = await run(`kept`);
    expect(outcome.status).toBe("ok");
    expect(plainResult(cell)).toBe("'still here'");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("interruptSignal() lets long work the cell started stop cleanly", async () => {
    // The loop keeps running after the cell is abandoned, until it sees the signal.
    const pending = run(
      [
        `import { interruptSignal } from "mechlab";`,
        `const state = ((globalThis as any).longWork = { steps: 0, stopped: false });`,
        `const signal = interruptSignal();`,
        `void (async () => { while (!signal.aborted) { state.steps++; await new Promise((r) => setTimeout(r, 5)); } state.stopped = true; })();`,
        `await new Promise(() => {});`,
      ].join("\n"),
    );
    // Wait until the cell runs and its loop has stepped.
    for (let i = 0; i < 200 && !((globalThis as unknown as Record<string, { steps: number } | undefined>).longWork?.steps ?? 0); i++) await sleep(25);
    const work = (globalThis as Record<string, unknown>).longWork as { steps: number; stopped: boolean };
    expect(work.steps).toBeGreaterThan(0);
    expect(work.stopped).toBe(false);
    engine.interrupt();
    expect(errorOf((await pending).outcome).ename).toBe("Interrupted");
    await sleep(50);
    expect(work.stopped).toBe(true);
    // A new cell gets a fresh signal.
    const { cell } = await run(`import { interruptSignal } from "mechlab";\ninterruptSignal().aborted`);
    expect(plainResult(cell)).toBe("false");
  });

  it("interrupt with nothing running does nothing", async () => {
    engine.interrupt();
    expect((await run(`1`)).outcome.status).toBe("ok");
  });
});

describe("async output", () => {
  it("output written after the cell finished lands under that cell", async () => {
    const first = await run(`setTimeout(() => { console.log("late"); import("mechlab").then((m) => m.display("late display")); }, 50);\n"started"`);
    const second = await run(`"next"`);
    await sleep(200);
    expect(first.cell.text("stdout")).toBe("late\n");
    expect(first.cell.events.some((e) => e.type === "display" && e.bundle["text/plain"] === "'late display'")).toBe(true);
    expect(second.cell.events.filter((e) => e.type !== "result")).toEqual([]);
  });
});

describe("input", () => {
  it("input() and password() ask the frontend through the cell", async () => {
    const cell = fakeCell(async (prompt, password) => (password ? "secret" : `answer to ${prompt}`));
    const { outcome } = await run(`import { input, password } from "mechlab";\nconst a = await input("name? ");\nconst b = await password("token: ");\n[a, b]`, cell);
    expect(outcome.status).toBe("ok");
    expect(cell.events.filter((e) => e.type === "input")).toEqual([
      { type: "input", prompt: "name? ", password: false },
      { type: "input", prompt: "token: ", password: true },
    ]);
    expect(plainResult(cell)).toBe("[ 'answer to name? ', 'secret' ]");
  });

  it("without allow_stdin, input() fails with a clear error", async () => {
    const { outcome } = await run(`await input("x")`, fakeCell(), { allowStdin: false });
    expect(errorOf(outcome).evalue).toMatch(/allow_stdin is false/);
  });
});

describe("mechlab from a notebook folder outside the repository", () => {
  it("imports with types and runs", async () => {
    expect(path.relative(path.resolve(__dirname, "../.."), notebookDir).startsWith("..")).toBe(true);
    const { outcome, cell } = await run(`import { HookedTransformer, tf } from "mechlab";\nconst made: typeof HookedTransformer.create = HookedTransformer.create;\ntf.ones([2, 3]).shape`);
    expect(outcome.status).toBe("ok");
    expect(plainResult(cell)).toBe("[ 2, 3 ]");
    // Real types, not `any`: a wrong one is a compile error naming mechlab's types.
    const wrong = errorOf((await run(`const s: string = tf.ones([2]).shape;`)).outcome);
    expect(wrong.evalue).toMatch(/^cell:1:7 - error TS2322: Type '.*number.*' is not assignable to type 'string'\./);
    const hookName = errorOf((await run(`import type { HookName } from "mechlab";\nconst h: HookName = "blocks.0.attn.hook_patern";`)).outcome);
    expect(hookName.evalue).toMatch(/^cell:2:7 - error TS2322/);
  });

  it("a .ts file next to the notebook is importable, its errors mapped to its own lines", async () => {
    fs.writeFileSync(path.join(notebookDir, "helper.ts"), `export function half(x: number): number {\n  if (x < 0) throw new Error("negative");\n  return x / 2;\n}\n`);
    const { cell } = await run(`import { half } from "./helper";\nhalf(8)`);
    expect(plainResult(cell)).toBe("4");
    const error = errorOf((await run(`half(-1)`)).outcome);
    expect(error.traceback[1]).toMatch(/^ {4}at half \(helper\.ts:2:\d+\)$/);
  });
});

describe("language services", () => {
  it("complete, inspect and is_complete", async () => {
    await run(`const modelWidth = 768;`);
    const completion = await engine.complete("modelW", 6);
    expect(completion.matches[0]).toBe("modelWidth");
    expect([completion.cursor_start, completion.cursor_end]).toEqual([0, 6]);
    const info = await engine.inspect("modelWidth", 10, 0);
    expect(info.found).toBe(true);
    expect(info.data["text/plain"]).toContain("const modelWidth: 768");
    expect(await engine.isComplete("function f() {")).toEqual({ status: "incomplete", indent: "  " });
    expect(await engine.isComplete("1 + 1")).toEqual({ status: "complete" });
    expect(await engine.isComplete("const ok = await Promise.resolve(1);")).toEqual({ status: "complete" });
    for (const invalid of ["const = 1;", "let x = );", "}"]) expect(await engine.isComplete(invalid)).toEqual({ status: "invalid" });
  });

  it("`expr?` pages the inspection of expr", async () => {
    const { outcome, cell } = await run("Math.max?");
    expect(outcome.status).toBe("ok");
    const payload = outcome.status === "ok" ? outcome.payload : undefined;
    expect(payload).toHaveLength(1);
    expect(payload![0]).toMatchObject({ source: "page", start: 0 });
    expect((payload![0].data as Record<string, string>)["text/plain"]).toContain("max(...values: number[]): number");
    expect(cell.events).toEqual([]);
  });
});
