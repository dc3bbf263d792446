/**
 * Routes what user code prints (console.*, process.stdout.write, process.stderr.write) to the
 * cell it belongs to, found through the async context (so output of timers, promises and handlers
 * a cell started lands under that cell, even after it finished). Anything printed outside a
 * cell's context (the kernel's own logs) goes where it went before.
 */
import { Console } from "console";
import type { CellOutput, StreamName } from "./cellOutput";

type Write = typeof process.stdout.write;

const CONSOLE_METHODS = [
  "log", "info", "debug", "warn", "error", "dir", "dirxml", "table", "trace", "assert",
  "count", "countReset", "group", "groupCollapsed", "groupEnd", "time", "timeEnd", "timeLog",
] as const;

function decode(chunk: unknown, encoding: unknown): string {
  if (typeof chunk === "string") return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString(typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8");
  return String(chunk);
}

/** Installs the routing; returns a function that restores the previous console and streams. */
export function captureOutput(currentCell: () => CellOutput | undefined): () => void {
  const streams: [NodeJS.WriteStream, StreamName, Write][] = [
    [process.stdout, "stdout", process.stdout.write],
    [process.stderr, "stderr", process.stderr.write],
  ];
  for (const [stream, name, original] of streams) {
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
      const cell = currentCell();
      if (!cell) return (original as (...args: unknown[]) => boolean).apply(this, [chunk, encoding, callback].filter((a) => a !== undefined));
      cell.stream(name, decode(chunk, encoding));
      const done = typeof encoding === "function" ? encoding : callback;
      if (typeof done === "function") process.nextTick(done as () => void);
      return true;
    } as Write;
  }

  // console.* formats through a Console of its own whose streams write to the cell being served;
  // the global console may not write through process.stdout (test runners replace it).
  let target: CellOutput | undefined;
  const sink = (name: StreamName) => ({ write: (chunk: unknown) => (target?.stream(name, decode(chunk, undefined)), true) });
  const cellConsole = new Console({ stdout: sink("stdout") as unknown as NodeJS.WritableStream, stderr: sink("stderr") as unknown as NodeJS.WritableStream, colorMode: false, ignoreErrors: false });
  const globalConsole = console as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  for (const method of CONSOLE_METHODS) {
    const original = globalConsole[method];
    if (typeof original !== "function") continue;
    originals.set(method, original);
    globalConsole[method] = function (this: unknown, ...args: unknown[]) {
      const cell = currentCell();
      if (!cell) return original.apply(console, args);
      const previous = target;
      target = cell;
      try {
        return (cellConsole as unknown as Record<string, (...a: unknown[]) => unknown>)[method](...args);
      } finally {
        target = previous;
      }
    };
  }

  return () => {
    for (const [stream, , original] of streams) stream.write = original;
    for (const [method, original] of originals) globalConsole[method] = original;
  };
}
