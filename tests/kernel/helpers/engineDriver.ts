/**
 * Runs cells through the execution engine in a process of its own, for what a test runner's
 * process cannot host: SIGINT, uncaught exceptions, unhandled rejections, a fresh tfjs.
 *
 *   node --import tsx tests/kernel/helpers/engineDriver.ts '<json: { cwd?, cells: [{ code, waitMs? }] }>'
 *
 * Prints one JSON line per event on fd 1: {type:"ready"}, {type:"start", cell}, {type:"outcome",
 * cell, outcome, ms}, {type:"event", cell, event} (late events included), {type:"done"}.
 */
import { writeSync } from "fs";
import { createExecutionEngine } from "../../../kernel/execution/engine";
import { executeContext, fakeCell, type CellEvent } from "./fakeCellIO";

interface Plan {
  cwd?: string;
  cells: { code: string; waitMs?: number }[];
}

const emit = (line: unknown) => writeSync(1, JSON.stringify(line) + "\n");

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2]) as Plan;
  const engine = createExecutionEngine(undefined, { cwd: plan.cwd, handleSigint: true });
  emit({ type: "ready", startup: await engine.ready });
  for (const [index, { code, waitMs }] of plan.cells.entries()) {
    const cell = fakeCell(async () => "typed");
    // Events are printed as they happen, so late ones show under their cell.
    const push = cell.events.push.bind(cell.events);
    cell.events.push = (...events: CellEvent[]) => {
      for (const event of events) emit({ type: "event", cell: index, event });
      return push(...events);
    };
    emit({ type: "start", cell: index });
    const started = Date.now();
    const outcome = await engine.execute(code, executeContext(cell));
    emit({ type: "outcome", cell: index, outcome, ms: Date.now() - started });
    if (waitMs) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
  engine.shutdown();
  emit({ type: "done" });
  process.exit(0);
}

void main();
