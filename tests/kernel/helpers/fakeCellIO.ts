/**
 * A CellIO that records what a cell sends, for driving the execution engine without sockets.
 */
import type { CellIO, ExecuteContext, MimeBundle } from "../../../kernel/handlers";
import type { JupyterMessage } from "../../../kernel/wire/message";

export type CellEvent =
  | { type: "stream"; name: "stdout" | "stderr"; text: string }
  | { type: "display"; bundle: MimeBundle; displayId?: string; update?: boolean; metadata?: Record<string, unknown> }
  | { type: "result"; bundle: MimeBundle }
  | { type: "error"; ename: string; evalue: string; traceback: string[] }
  | { type: "clear"; wait: boolean }
  | { type: "input"; prompt: string; password: boolean };

export interface FakeCell {
  io: CellIO;
  events: CellEvent[];
  /** All stream text of one stream, concatenated. */
  text(name: "stdout" | "stderr"): string;
}

export function fakeCell(answer: (prompt: string, password: boolean) => Promise<string> = async () => ""): FakeCell {
  const events: CellEvent[] = [];
  const io: CellIO = {
    parent: { header: { msg_id: "test" } } as unknown as JupyterMessage,
    stream: (name, text) => void events.push({ type: "stream", name, text }),
    displayData: (bundle, options = {}) => void events.push({ type: "display", bundle, ...options }),
    executeResult: (bundle) => void events.push({ type: "result", bundle }),
    error: (ename, evalue, traceback) => void events.push({ type: "error", ename, evalue, traceback }),
    clearOutput: (wait) => void events.push({ type: "clear", wait }),
    requestInput: (prompt, password) => {
      events.push({ type: "input", prompt, password });
      return answer(prompt, password);
    },
  };
  const text = (name: "stdout" | "stderr") =>
    events.map((e) => (e.type === "stream" && e.name === name ? e.text : "")).join("");
  return { io, events, text };
}

let executionCount = 0;

/** The context of an execute_request with this cell's IO. */
export function executeContext(cell: FakeCell, overrides: Partial<ExecuteContext> = {}): ExecuteContext {
  executionCount++;
  return {
    parent: cell.io.parent,
    io: cell.io,
    allowStdin: true,
    silent: false,
    storeHistory: true,
    executionCount,
    userExpressions: {},
    ...overrides,
  };
}
