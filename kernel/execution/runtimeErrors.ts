/**
 * A thrown value as a Jupyter error (ename, evalue, traceback) whose stack frames point at the
 * cells' own lines:
 *
 *   TypeError: Cannot read properties of undefined (reading 'x')
 *       at f (cell[3]:5:12)
 *       at cell[4]:1:1
 *
 *   cell[3]:5
 *     4 | function f(o: any) {
 *   > 5 |   return o.a.x;
 *
 * Frames of the kernel itself and of Node's internals are left out.
 */
import * as path from "path";
import * as util from "util";
import type { CellRegistry, RunCode } from "./cellRegistry";
import type { ErrorReport } from "./compileErrors";

// "    at name (file:line:col)" or "    at file:line:col"; file names may contain spaces.
const FRAME = /^(\s*at (?:.*? \()?)(.+?):(\d+):(\d+)(\)?)\s*$/;

/** The kernel's own code (its frames are the machinery calling into a cell). */
const KERNEL_DIR = path.resolve(__dirname, "..");

function isKernelFile(file: string): boolean {
  return file.startsWith(KERNEL_DIR + path.sep) || file === "node:vm" || file.startsWith("node:internal/vm");
}

interface Rewritten {
  frames: string[];
  /** The first frame in a cell, for the code excerpt. */
  top?: { code: RunCode & { lines: string[] }; line: number };
}

/** Frames kept from each run of library frames (tfjs, mechlab) between cell frames. */
const LIBRARY_FRAMES_KEPT = 2;

function rewriteFrames(frameLines: string[], registry: CellRegistry): Rewritten {
  const frames: string[] = [];
  let top: Rewritten["top"];
  let libraryRun = 0;
  const endLibraryRun = () => {
    if (libraryRun > LIBRARY_FRAMES_KEPT) frames.push(`    ... ${libraryRun - LIBRARY_FRAMES_KEPT} more frame${libraryRun - LIBRARY_FRAMES_KEPT === 1 ? "" : "s"}`);
    libraryRun = 0;
  };
  const library = (frame: string) => {
    if (++libraryRun <= LIBRARY_FRAMES_KEPT) frames.push(frame);
  };
  for (const frame of frameLines) {
    const match = FRAME.exec(frame);
    if (!match) {
      library(frame);
      continue;
    }
    const [, before, file, line, column, close] = match;
    // Below the kernel's call into the cell there is only the kernel (and whatever runs it).
    if (isKernelFile(file)) break;
    if (file.startsWith("node:")) continue;
    if (!registry.has(file)) {
      library(frame);
      continue;
    }
    const resolved = registry.resolve(file, Number(line), Number(column));
    // Wrapper code around a cell maps to no line of it.
    if (!resolved) continue;
    const { code, position } = resolved;
    // Functions of earlier cells are called on the cells' shared exports object, a Proxy.
    const caller = before.replace(/^(\s*at (?:async )?)Proxy\./, "$1");
    endLibraryRun();
    frames.push(`${caller}${code.label}:${position.line}:${position.column}${close}`);
    top ??= { code, line: position.line };
  }
  endLibraryRun();
  return { frames, top };
}

function excerpt(top: NonNullable<Rewritten["top"]>): string[] {
  const first = Math.max(1, top.line - 2);
  const width = String(top.line).length;
  const lines = [`${top.code.label}:${top.line}`];
  for (let n = first; n <= top.line; n++) {
    lines.push(`${n === top.line ? ">" : " "} ${String(n).padStart(width)} | ${top.code.lines[n - 1] ?? ""}`);
  }
  return lines;
}

function errorName(error: Error): string {
  if (typeof error.name === "string" && error.name) return error.name;
  return error.constructor?.name || "Error";
}

function isErrorLike(value: unknown): value is Error {
  return value instanceof Error || (typeof value === "object" && value !== null && typeof (value as Error).message === "string" && typeof (value as Error).stack === "string");
}

/** Header lines and rewritten frames of one error (and of its causes). */
function describe(error: Error, registry: CellRegistry, depth: number): { lines: string[]; top?: Rewritten["top"] } {
  const stack = typeof error.stack === "string" ? error.stack : "";
  const stackLines = stack.split("\n");
  const firstFrame = stackLines.findIndex((line) => /^\s+at /.test(line));
  const header = firstFrame > 0 ? stackLines.slice(0, firstFrame) : [`${errorName(error)}: ${error.message}`];
  const { frames, top } = rewriteFrames(firstFrame >= 0 ? stackLines.slice(firstFrame) : [], registry);
  const lines = [...header, ...frames];
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined && depth < 3) {
    if (isErrorLike(cause)) {
      const inner = describe(cause, registry, depth + 1);
      lines.push(`Caused by: ${inner.lines[0]}`, ...inner.lines.slice(1));
    } else {
      lines.push(`Caused by: ${util.inspect(cause)}`);
    }
  }
  return { lines, top };
}

/**
 * The report for a value thrown by user code. `prefix` (e.g. "Uncaught") is put before the first
 * line for errors that escaped the cell (async throws, unhandled rejections).
 */
export function runtimeErrorReport(thrown: unknown, registry: CellRegistry, prefix?: string): ErrorReport {
  if (!isErrorLike(thrown)) {
    const shown = util.inspect(thrown, { depth: 2 });
    return { ename: "Uncaught", evalue: shown, traceback: [`${prefix ?? "Uncaught"} ${shown}`] };
  }
  const { lines, top } = describe(thrown, registry, 0);
  if (prefix) lines[0] = `${prefix} ${lines[0]}`;
  const traceback = top ? [...lines, "", ...excerpt(top)] : lines;
  return { ename: errorName(thrown), evalue: thrown.message, traceback };
}
