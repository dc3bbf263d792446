/**
 * The execution engine in a process of its own (tests/kernel/helpers/engineDriver.ts), for what
 * the test runner's process cannot host: SIGINT stopping a synchronous loop and a pending await,
 * uncaught exceptions and unhandled rejections (reported under their cell, the process lives on),
 * and a fresh TensorFlow.js whose Node.js banner must not reach a cell.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import type { ExecuteOutcome } from "../../kernel/handlers";
import type { CellEvent } from "./helpers/fakeCellIO";

const ROOT = path.resolve(__dirname, "../..");
const DRIVER = path.join(__dirname, "helpers/engineDriver.ts");

type Line =
  | { type: "ready"; startup: { backend?: string; error?: string } }
  | { type: "start"; cell: number }
  | { type: "outcome"; cell: number; outcome: ExecuteOutcome; ms: number }
  | { type: "event"; cell: number; event: CellEvent }
  | { type: "done" };

interface DriverRun {
  lines: Line[];
  stderr: string;
  code: number | null;
  outcome(cell: number): ExecuteOutcome;
  events(cell: number): CellEvent[];
}

/** Runs cells in a driver process; `onStart(cell, signal)` may signal the process when a cell starts. */
function drive(cells: { code: string; waitMs?: number }[], onStart?: (cell: number, kill: (signal: NodeJS.Signals) => void) => void): Promise<DriverRun> {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "mechlab-driver-"));
  // tsx loaded into node itself (not its CLI, which relays signals through a process of its own).
  const child = spawn(process.execPath, ["--import", "tsx", DRIVER, JSON.stringify({ cwd, cells })], { cwd: ROOT, env: { ...process.env, MECHLAB_BACKEND: "cpu" } });
  const lines: Line[] = [];
  let stderr = "";
  let buffered = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const text = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (!text.startsWith("{")) continue;
      const line = JSON.parse(text) as Line;
      lines.push(line);
      if (line.type === "start") onStart?.(line.cell, (signal) => child.kill(signal));
    }
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  return new Promise((resolve) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      fs.rmSync(cwd, { recursive: true, force: true });
      resolve({
        lines,
        stderr,
        code,
        outcome(cell) {
          const found = lines.find((l): l is Extract<Line, { type: "outcome" }> => l.type === "outcome" && l.cell === cell);
          if (!found) throw new Error(`cell ${cell} has no outcome; driver stderr:\n${stderr}`);
          return found.outcome;
        },
        events: (cell) => lines.flatMap((l) => (l.type === "event" && l.cell === cell ? [l.event] : [])),
      });
    });
  });
}

describe("interrupting with SIGINT", () => {
  it("stops a synchronous loop; the next cell runs at once with variables intact", async () => {
    let startedLoop = 0;
    const run = await drive(
      [
        { code: `let spins = 0;\nconst before = "defined before";` },
        { code: `while (true) { spins++; }` },
        { code: `[before, spins > 0]` },
      ],
      (cell, kill) => {
        if (cell !== 1) return;
        startedLoop = Date.now();
        setTimeout(() => kill("SIGINT"), 500);
      },
    );
    expect(run.code).toBe(0);
    expect(run.outcome(0).status).toBe("ok");
    const interrupted = run.outcome(1);
    expect(interrupted).toMatchObject({ status: "error", ename: "Interrupted" });
    expect(startedLoop).toBeGreaterThan(0);
    expect(run.outcome(2).status).toBe("ok");
    expect(run.events(2)).toEqual([{ type: "result", bundle: { "text/plain": "[ 'defined before', true ]" } }]);
    const next = run.lines.find((l) => l.type === "outcome" && l.cell === 2) as Extract<Line, { type: "outcome" }>;
    expect(next.ms).toBeLessThan(1000);
  });

  it("a SIGINT that arrives as the first cell starts (the engine may still be starting) interrupts it", async () => {
    const run = await drive(
      [{ code: `await new Promise((resolve) => setTimeout(resolve, 60_000));\n(globalThis as any).finished = true;` }, { code: `(globalThis as any).finished === true` }],
      (cell, kill) => cell === 0 && kill("SIGINT"),
    );
    expect(run.outcome(0)).toMatchObject({ status: "error", ename: "Interrupted" });
    expect(run.events(1)).toEqual([{ type: "result", bundle: { "text/plain": "false" } }]);
  });

  it("stops a pending await", async () => {
    const run = await drive(
      [{ code: `const x = 1;\nawait new Promise((resolve) => setTimeout(resolve, 60_000));` }, { code: `x + 1` }],
      (cell, kill) => cell === 0 && setTimeout(() => kill("SIGINT"), 500),
    );
    expect(run.outcome(0)).toMatchObject({ status: "error", ename: "Interrupted" });
    expect(run.events(1)).toEqual([{ type: "result", bundle: { "text/plain": "2" } }]);
  });
});

describe("errors that escape a cell", () => {
  it("an unhandled rejection and an async throw are reported under their cells; the kernel lives on", async () => {
    const run = await drive([
      { code: `Promise.reject(new TypeError("nobody awaits this"));\n"first"` },
      { code: `setTimeout(() => {\n  throw new RangeError("thrown later");\n}, 50);\n"second"`, waitMs: 300 },
      { code: `setTimeout(() => console.log("written later"), 20);\n"third"` },
      { code: `"fourth"`, waitMs: 200 },
    ]);
    expect(run.code).toBe(0);
    for (const cell of [0, 1, 2, 3]) expect(run.outcome(cell).status).toBe("ok");

    const rejection = run.events(0).find((e) => e.type === "error") as Extract<CellEvent, { type: "error" }>;
    expect(rejection).toMatchObject({ ename: "TypeError", evalue: "nobody awaits this" });
    expect(rejection.traceback[0]).toBe("Uncaught (in promise) TypeError: nobody awaits this");
    expect(rejection.traceback[1]).toMatch(/^ {4}at cell\[\d+\]:1:\d+$/);

    const thrown = run.events(1).find((e) => e.type === "error") as Extract<CellEvent, { type: "error" }>;
    expect(thrown).toMatchObject({ ename: "RangeError", evalue: "thrown later" });
    expect(thrown.traceback[0]).toBe("Uncaught RangeError: thrown later");
    expect(thrown.traceback[1]).toMatch(/cell\[\d+\]:2:\d+/);

    expect(run.events(2)).toContainEqual({ type: "stream", name: "stdout", text: "written later\n" });
    expect(run.events(3)).toEqual([{ type: "result", bundle: { "text/plain": "'fourth'" } }]);
  });
});

describe("TensorFlow.js noise", () => {
  it("no banner or notice reaches a cell's stderr (MECHLAB_BACKEND=cpu)", async () => {
    const run = await drive([
      { code: `import { tf, backendInfo } from "mechlab";\nconst t = tf.tensor([1, 2, 3]);\nconsole.log(backendInfo().name, t.sum().dataSync()[0]);` },
      { code: `await tf.setBackend("cpu");\ntf.ones([2]).dataSync().length` },
    ]);
    expect(run.lines[0]).toMatchObject({ type: "ready", startup: { backend: expect.stringContaining("cpu") } });
    expect(run.outcome(0).status).toBe("ok");
    expect(run.outcome(1).status).toBe("ok");
    const streams = [...run.events(0), ...run.events(1)].filter((e) => e.type === "stream");
    expect(streams).toEqual([{ type: "stream", name: "stdout", text: "cpu 6\n" }]);
    expect(run.stderr).not.toMatch(/TensorFlow\.js|tfjs-node/);
  });
});
