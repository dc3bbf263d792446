/**
 * Starting the mechlab kernel: `node dist/kernel/main.js -f <connection_file>` (what the kernelspec
 * and `mechlab kernel -f {connection_file}` run), or `startKernel` / `runKernel` from code.
 */
import { writeSync } from "fs";
import type { CommHandler, ExecutionEngine, KernelServices, PlugIn } from "./handlers";
import { CommManager } from "./comms";
import { backendSummary, kernelInfoContent } from "./kernelInfo";
import { KernelServer, type ShutdownResult } from "./server";
import { readConnectionFile } from "./wire/connectionFile";
import type { CommRegistry } from "../src/notebook/kernelRuntime";

export interface StartKernelOptions {
  engine: PlugIn<ExecutionEngine>;
  comms?: PlugIn<CommHandler>;
  /** kernel_info_reply content; default: mechlab's, with the tensor backend in the banner. */
  kernelInfo?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  log?: (line: string) => void;
  handleSigint?: boolean;
}

/** Reads the connection file, binds its sockets and serves until shutdown (see server.closed). */
export async function startKernel(connectionFilePath: string, options: StartKernelOptions): Promise<KernelServer> {
  const connection = readConnectionFile(connectionFilePath);
  const kernelInfo = options.kernelInfo ?? defaultKernelInfo();
  const server = await KernelServer.start({
    connection,
    engine: options.engine,
    comms: options.comms,
    kernelInfo,
    log: options.log,
    handleSigint: options.handleSigint,
  });
  // Sockets first (clients watch the heartbeat from launch), then the tensor backend.
  if (!options.kernelInfo) void kernelInfo();
  return server;
}

/**
 * kernel_info with the tensor backend in the banner: the backend starts on the first call
 * (startKernel makes it right after binding) and the reply waits for it (at most 30 s).
 */
export function defaultKernelInfo(): () => Promise<Record<string, unknown>> {
  let backend: Promise<string> | undefined;
  return async () => {
    backend ??= withTimeout(Promise.resolve().then(backendSummary), 30_000).catch(
      (error) => `tensor backend: not started (${(error as Error)?.message ?? error})`,
    );
    return { ...kernelInfoContent(await backend) };
  };
}

/** The execution engine module (kernel/execution/engine.ts). */
interface EngineModule {
  createExecutionEngine(services: KernelServices, options: { comms: CommRegistry }): ExecutionEngine;
}

/**
 * The product plug-ins: kernel/comms' CommManager and kernel/execution's engine, sharing one
 * comm registry (the one the library finds through its KernelRuntime).
 */
export function defaultPlugins(): { engine: PlugIn<ExecutionEngine>; comms: PlugIn<CommHandler> } {
  let manager: CommManager | undefined;
  const commsOf = (services: KernelServices) => (manager ??= CommManager.fromServices(services));
  return {
    engine: (services) => {
      // Loaded at start, not import time, so the wire layer loads without the engine's weight.
      let engineModule: EngineModule;
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        engineModule = require("./execution/engine") as EngineModule;
      } catch (error) {
        throw new Error(`the execution engine (kernel/execution/engine) cannot be loaded: ${(error as Error)?.message ?? error}`);
      }
      return engineModule.createExecutionEngine(services, { comms: commsOf(services) });
    },
    comms: (services) => commsOf(services).handler,
  };
}

function log(line: string): void {
  try {
    writeSync(2, `[mechlab kernel ${new Date().toISOString()}] ${line}\n`);
  } catch {
    /* no stderr */
  }
}

/**
 * Runs the kernel process to its end: starts (by default with the product plug-ins), keeps the
 * process alive through stray errors, shuts down on shutdown_request or SIGTERM and exits 0;
 * exits 1 when it cannot start (unreadable connection file, a port already taken).
 */
export async function runKernel(connectionFilePath: string, options: Partial<StartKernelOptions> = {}): Promise<never> {
  // Last resort only: the engine reports user errors under their cells; nothing may kill the kernel.
  process.on("uncaughtException", (error) => log(`uncaught exception: ${error?.stack ?? error}`));
  process.on("unhandledRejection", (reason) => log(`unhandled rejection: ${(reason as Error)?.stack ?? reason}`));
  let server: KernelServer;
  try {
    const plugins = options.engine ? { engine: options.engine, comms: options.comms } : defaultPlugins();
    server = await startKernel(connectionFilePath, { log, ...options, ...plugins });
  } catch (error) {
    log(`cannot start: ${(error as Error)?.message ?? error}`);
    process.exit(1);
  }
  process.once("SIGTERM", () => void server.shutdown(false));
  const result: ShutdownResult = await server.closed;
  log(`shut down${result.restart ? " (restart requested)" : ""}`);
  process.exit(0);
}

/** `-f <file>`, `-f=<file>`, `--connection-file <file>` or a lone path. */
export function parseConnectionFileArg(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-f" || arg === "--connection-file" || arg === "--f") return argv[i + 1];
    const match = /^(?:-f|--f|--connection-file)=(.+)$/.exec(arg);
    if (match) return match[1];
  }
  const positional = argv.filter((arg) => !arg.startsWith("-"));
  return positional.length === 1 ? positional[0] : undefined;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error)),
    );
  });
}

if (require.main === module) {
  const file = parseConnectionFileArg(process.argv.slice(2));
  if (!file) {
    process.stderr.write("usage: node dist/kernel/main.js -f <connection_file>\n");
    process.exit(2);
  }
  void runKernel(file);
}
