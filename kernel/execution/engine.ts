/**
 * The mechlab kernel's execution engine: runs TypeScript cells on tslab's converter and shows
 * what they produce.
 *
 * - Declarations carry across cells; top-level await; `import ... from "mechlab"` works with
 *   types from any notebook folder.
 * - The last expression's value → execute_result (MIME bundle from mechlab's toMimeBundle).
 * - console / stdout / stderr, display(), clearOutput(), input() of a cell and of the async work
 *   it started → that cell's outputs, also after it finished.
 * - Errors: compile errors written like the compiler's (cell line:column), runtime errors with
 *   stack frames at cell lines; async throws and unhandled rejections reported under their cell.
 * - Interrupt: SIGINT stops a synchronous loop (vm breakOnSigint), interrupt() a pending await;
 *   the next cell runs at once with every variable defined before intact.
 */
import { readFileSync, writeSync } from "fs";
import Module from "module";
import * as path from "path";
import type { CommRegistry } from "../../src/notebook/kernelRuntime";
import { getKernelRuntime, setKernelRuntime } from "../../src/notebook/kernelRuntime";
import { toMimeBundle } from "../../src/display/mimeBundle";
import type { CompleteResult, ExecuteContext, ExecuteOutcome, ExecutionEngine, InspectResult, IsCompleteResult, KernelServices } from "../handlers";
import { createCellCompiler, type CellCompiler, type CompiledCell } from "./cellCompiler";
import { CellOutput, cellContext } from "./cellOutput";
import { CellRegistry } from "./cellRegistry";
import { CellRunner, WRAPPER_LINES } from "./cellRunner";
import { createCellRuntime, unavailableComms } from "./cellRuntime";
import { compileErrorReport, type ErrorReport } from "./compileErrors";
import { complete, inspect, isComplete, pagerRequest } from "./languageServices";
import { installMechlabRequireHook, mechlabPackageRoot } from "./mechlabResolution";
import { captureOutput } from "./outputCapture";
import { handleEscapedErrors, type EscapedKind } from "./processErrors";
import { runtimeErrorReport } from "./runtimeErrors";
import { offsetMap } from "./sourceMap";

export interface EngineOptions {
  /** The comm registry the library reaches through its KernelRuntime (kernel/comms). */
  comms?: CommRegistry;
  /** Folder cells run in: relative imports, fs paths and node_modules resolve from it. Default: process.cwd(). */
  cwd?: string;
  /** The kernel's own log (never a cell). Default: services.log, else stderr. */
  log?: (line: string) => void;
  /** Route SIGINT to interrupt() (default false: the server does it). */
  handleSigint?: boolean;
  /** Report uncaught exceptions / unhandled rejections under their cell (default true). */
  handleProcessErrors?: boolean;
  /** Start mechlab's tensor backend before the first cell (default true). */
  startBackend?: boolean;
}

/** What the engine found at start. */
export interface EngineStartup {
  /** mechlab's backend summary ("tensor backend: wasm (…)"), when it started. */
  backend?: string;
  /** Why it did not start. */
  error?: string;
}

export interface MechlabExecutionEngine extends ExecutionEngine {
  /** Resolves once the backend has started (or failed to): cells wait for it. */
  readonly ready: Promise<EngineStartup>;
  /** Top-level names the cells declared (for tests and tools). */
  readonly locals: Record<string, unknown>;
  /** The TypeScript version cells compile with. */
  readonly typescriptVersion: string;
}

const INTERRUPTED = Symbol("interrupted");

/**
 * mechlab's notebook functions every cell has without importing them (as IPython has display and
 * input); a cell may still import or redeclare them.
 */
const PRELUDE = ["display", "updateDisplay", "clearOutput", "input", "password"] as const;

// Console and stream routing is process-wide: installed by the first engine, removed with the last.
let captureUsers = 0;
let releaseCapture: (() => void) | undefined;

function acquireCapture(): () => void {
  if (captureUsers++ === 0) releaseCapture = captureOutput(() => cellContext.getStore());
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--captureUsers === 0) {
      releaseCapture?.();
      releaseCapture = undefined;
    }
  };
}

/** Straight to file descriptor 2: process.stderr.write may be routed to a cell. */
function defaultLog(line: string): void {
  try {
    writeSync(2, `[mechlab kernel] ${line}\n`);
  } catch {
    /* no stderr */
  }
}

function errorOutcome(report: ErrorReport): ExecuteOutcome {
  return { status: "error", ...report };
}

function interruptedOutcome(label: string): ExecuteOutcome {
  const evalue = `${label} was interrupted`;
  return { status: "error", ename: "Interrupted", evalue, traceback: [`Interrupted: ${evalue}`] };
}

function isSigintStop(error: unknown): boolean {
  return (error as { code?: string })?.code === "ERR_SCRIPT_EXECUTION_INTERRUPTED";
}

class Engine implements MechlabExecutionEngine {
  readonly ready: Promise<EngineStartup>;
  private compilerInstance: CellCompiler | undefined;
  private readonly makeCompiler: () => CellCompiler;
  private readonly runner: CellRunner;
  private readonly registry = new CellRegistry();
  private readonly ownCells = new WeakSet<CellOutput>();
  private readonly cleanups: (() => void)[] = [];
  /** Modules defined by `@module` cells: compiled file → the cell's source. */
  private readonly virtualModules = new Map<string, string>();
  /** Declarations of the cells run so far (what the next cell compiles against). */
  private prevDecl = "";
  private lastCell: CellOutput | undefined;
  private interruptRunning: (() => void) | undefined;
  /** An execute request is in progress (from its arrival, before the engine is even ready). */
  private executing = false;
  /** interrupt() came while this execute request was in progress but before its cell awaited. */
  private interruptRequested = false;
  private startupReported = false;
  private closed = false;

  constructor(
    options: EngineOptions,
    private readonly log: (line: string) => void,
  ) {
    // Deep enough that a cell's frame is still there below tfjs's own (a kernel call is ~10 deep).
    if (Error.stackTraceLimit < 50) Error.stackTraceLimit = 50;
    // Before tfjs-node could load: keep libtensorflow's C++ logging quiet.
    process.env.TF_CPP_MIN_LOG_LEVEL ??= "2";
    const cwd = path.resolve(options.cwd ?? process.cwd());
    const root = mechlabPackageRoot();
    installMechlabRequireHook(root);
    this.runner = new CellRunner(cwd);
    const locals = this.runner.locals;
    this.makeCompiler = () => createCellCompiler({ cwd, mechlabRoot: root, isEarlierCellName: (name) => Object.prototype.hasOwnProperty.call(locals, name) });

    const runtime = createCellRuntime(() => this.currentCell(), options.comms ?? unavailableComms());
    setKernelRuntime(runtime);
    this.cleanups.push(() => {
      if (getKernelRuntime() === runtime) setKernelRuntime(undefined);
    });
    this.cleanups.push(acquireCapture());
    if (options.handleProcessErrors !== false) this.cleanups.push(handleEscapedErrors((kind, error) => this.reportEscaped(kind, error), log));
    if (options.handleSigint) {
      const onSigint = () => this.interrupt();
      process.on("SIGINT", onSigint);
      this.cleanups.push(() => process.off("SIGINT", onSigint));
    }
    const mechlab = this.loadLibrary(cwd, options.comms);
    this.ready = this.start(mechlab, options.startBackend !== false);
  }

  /**
   * The mechlab the notebook's `import ... from "mechlab"` gets (one instance for kernel and
   * cells): quieted, its notebook functions in every cell, its widget comm targets registered.
   */
  private loadLibrary(cwd: string, comms: CommRegistry | undefined): typeof import("../../src/index") | Error {
    try {
      const mechlab = Module.createRequire(path.join(cwd, "[kernel].js"))("mechlab") as typeof import("../../src/index");
      // PROD silences tfjs's console notices (e.g. "looks like you are running TensorFlow.js in Node.js").
      mechlab.tf.env().set("PROD", true);
      this.installPrelude(mechlab);
      // jupyter.widget (frontend-created models) and jupyter.widget.control (request_states).
      if (comms && typeof mechlab.registerWidgetControl === "function") this.cleanups.push(mechlab.registerWidgetControl(comms));
      return mechlab;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  /** The converter (made at start; its compiler takes a second or two to set up). */
  private get compiler(): CellCompiler {
    return (this.compilerInstance ??= this.makeCompiler());
  }

  get locals(): Record<string, unknown> {
    return this.runner.locals;
  }

  get typescriptVersion(): string {
    return this.compiler.ts.version;
  }

  /**
   * After the kernel is up (one turn later, so the server answers meanwhile): sets up the
   * compiler and starts, quietly, the tensor backend the notebook's `import { tf } from "mechlab"`
   * gets; then compiles an import of mechlab once, so the first cell does not wait for its types.
   */
  private async start(mechlab: typeof import("../../src/index") | Error, startBackend: boolean): Promise<EngineStartup> {
    await new Promise((resolve) => setImmediate(resolve));
    let startup: EngineStartup = {};
    try {
      if (mechlab instanceof Error) throw mechlab;
      if (startBackend) {
        const backend = mechlab.ready();
        void this.compiler;
        const info = await backend;
        // Backends announce themselves on first use: let that happen here, not in a cell.
        mechlab.tf.tidy(() => mechlab.tf.scalar(0).dataSync());
        startup = { backend: info.summary };
      }
    } catch (error) {
      const message = (error as Error)?.message ?? String(error);
      this.log(`mechlab could not start: ${message}`);
      startup = { error: message };
    }
    try {
      this.compiler.convert("", startBackend ? `import { tf } from "mechlab";` : "");
    } catch (error) {
      this.log(`the compiler could not start: ${(error as Error)?.stack ?? error}`);
    }
    return startup;
  }


  /** Declares the prelude's names as if an earlier cell had imported them. */
  private installPrelude(mechlab: object): void {
    const exported = mechlab as Record<string, unknown>;
    const names = PRELUDE.filter((name) => typeof exported[name] === "function");
    if (names.length === 0 || this.prevDecl !== "") return;
    for (const name of names) this.runner.locals[name] = exported[name];
    this.prevDecl = `import { ${names.join(", ")} } from "mechlab";\n`;
  }

  private currentCell(): CellOutput | undefined {
    return cellContext.getStore() ?? this.lastCell;
  }

  async execute(code: string, ctx: ExecuteContext): Promise<ExecuteOutcome> {
    this.executing = true;
    this.interruptRequested = false;
    try {
      return await this.executeWhenReady(code, ctx);
    } finally {
      this.executing = false;
      this.interruptRequested = false;
    }
  }

  private async executeWhenReady(code: string, ctx: ExecuteContext): Promise<ExecuteOutcome> {
    const startup = await this.ready;
    const filename = this.registry.cellFilename(ctx.executionCount);
    const cell = new CellOutput(ctx.io, filename, ctx.allowStdin, this.log);
    this.ownCells.add(cell);
    this.lastCell = cell;
    if (startup.error && !this.startupReported) {
      this.startupReported = true;
      cell.stream("stderr", `mechlab could not start its tensor backend: ${startup.error}\n`);
    }
    try {
      // Interrupted while the engine was still starting (backend, compiler): the cell does not run.
      if (this.interruptRequested) return interruptedOutcome(filename);
      const outcome = await this.run(code, cell, filename);
      if (outcome.status === "ok" && ctx.userExpressions && Object.keys(ctx.userExpressions).length > 0) {
        outcome.userExpressions = this.evaluateUserExpressions(ctx.userExpressions, cell);
      }
      return outcome;
    } finally {
      cell.flush();
      cell.finished = true;
    }
  }

  private async run(code: string, cell: CellOutput, filename: string): Promise<ExecuteOutcome> {
    const moduleName = this.moduleCellName(code);
    if (moduleName) return this.defineModule(moduleName, code);
    const pager = pagerRequest(code);
    if (pager) return this.page(pager.expression, pager.detailLevel, cell);

    let compiled: CompiledCell;
    try {
      compiled = this.compiler.convert(this.prevDecl, code);
      this.registerSideOutputs(compiled);
    } catch (error) {
      return errorOutcome({ ename: "InternalError", evalue: `the cell could not be compiled: ${(error as Error)?.message ?? error}`, traceback: [String((error as Error)?.stack ?? error)] });
    }
    if (compiled.diagnostics.length > 0) return errorOutcome(compileErrorReport(this.compiler.ts, compiled, code));
    if (!compiled.output) {
      this.prevDecl = compiled.declOutput ?? this.prevDecl;
      return { status: "ok" };
    }
    this.registry.add({
      filename,
      label: filename,
      source: code,
      // The compiler saw the cell after a one-line prefix tslab adds.
      map: compiled.sourceMap && offsetMap(compiled.sourceMap, WRAPPER_LINES, 1),
    });

    // A SIGINT that came while the cell was compiled is still waiting for its listener, and
    // vm's breakOnSigint would swallow it (Node drops a pending SIGINT when a script starts with
    // breakOnSigint): one event-loop turn delivers it first, so that interrupt is not lost.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.interruptRequested) return interruptedOutcome(filename);

    let pending: Promise<void> | undefined;
    try {
      pending = cellContext.run(cell, () => this.runner.run(compiled.output!, filename, Boolean(compiled.hasToplevelAwait)));
      if (pending) await this.raceInterrupt(pending);
    } catch (error) {
      // What ran before the failure stays defined (as in a REPL).
      this.prevDecl = compiled.declOutput ?? this.prevDecl;
      if (compiled.lastExpressionVar) this.runner.take(compiled.lastExpressionVar);
      if (error === INTERRUPTED || isSigintStop(error)) return interruptedOutcome(filename);
      return errorOutcome(runtimeErrorReport(error, this.registry));
    }
    this.prevDecl = compiled.declOutput ?? this.prevDecl;

    if (compiled.lastExpressionVar) {
      const value = this.runner.take(compiled.lastExpressionVar);
      if (value !== undefined) {
        try {
          // An empty bundle (e.g. a display handle) means "nothing to show".
          const bundle = toMimeBundle(value);
          if (Object.keys(bundle).length > 0) cell.executeResult(bundle);
        } catch (error) {
          cell.stream("stderr", `the value could not be shown: ${(error as Error)?.message ?? error}\n`);
        }
      }
    }
    return { status: "ok" };
  }

  /** `expr?`: the inspection of expr as a pager payload (frontends show it in their pager or inline). */
  private page(expression: string, detailLevel: number, cell: CellOutput): ExecuteOutcome {
    const info = this.inspect(expression, expression.length, detailLevel);
    if (!info.found) {
      cell.stream("stdout", `Nothing known about \`${expression}\`.\n`);
      return { status: "ok" };
    }
    return { status: "ok", payload: [{ source: "page", data: info.data, start: 0 }] };
  }

  /** Waits for a cell's promise, or until interrupt(). */
  private async raceInterrupt(pending: Promise<void>): Promise<void> {
    const interrupted = new Promise<never>((_, reject) => (this.interruptRunning = () => reject(INTERRUPTED)));
    if (this.interruptRequested) this.interruptRunning!();
    try {
      await Promise.race([pending, interrupted]);
    } catch (error) {
      // The abandoned work may still fail later; that is not news once the cell was interrupted.
      if (error === INTERRUPTED) pending.catch(() => undefined);
      throw error;
    } finally {
      this.interruptRunning = undefined;
    }
  }

  /** `/** @module name *\/` cells define a module later cells import as "./name" (as in tslab). */
  private moduleCellName(code: string): string | undefined {
    if (!code.includes("@module")) return undefined;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { getCodeMetadata } = require("tslab/dist/metadata") as typeof import("tslab/dist/metadata");
    return getCodeMetadata(code).module;
  }

  private defineModule(name: string, code: string): ExecuteOutcome {
    const diagnostics = this.compiler.addModule(name, code);
    this.virtualModules.set(path.join(this.compiler.cwd, `${name}.js`).replace(/\\/g, "/"), code);
    if (diagnostics.length === 0) return { status: "ok" };
    return errorOutcome(compileErrorReport(this.compiler.ts, { diagnostics }, code));
  }

  /** .ts files next to the notebook that the cell imports: their code, and maps for their stack frames. */
  private registerSideOutputs(compiled: CompiledCell): void {
    if (!compiled.sideOutputs) return;
    for (const output of compiled.sideOutputs) {
      const map = this.compiler.sourceMapOf(output.data);
      const tsFile = output.path.replace(/\.js$/, ".ts");
      const virtual = this.virtualModules.has(output.path);
      let source = this.virtualModules.get(output.path) ?? "";
      try {
        if (!virtual) source = readFileSync(tsFile, "utf8");
      } catch {
        /* e.g. a .js file: frames keep their own positions */
      }
      this.registry.add({
        filename: output.path,
        label: path.relative(this.compiler.cwd, tsFile),
        source,
        map: map && offsetMap(map, 0, virtual ? 1 : 0),
      });
    }
    this.runner.addSideOutputs(compiled.sideOutputs);
  }

  private evaluateUserExpressions(expressions: Record<string, string>, cell: CellOutput): Record<string, unknown> {
    const results: Record<string, unknown> = {};
    for (const [name, expression] of Object.entries(expressions)) {
      try {
        const compiled = this.compiler.convert(this.prevDecl, expression);
        if (compiled.diagnostics.length > 0) {
          results[name] = { status: "error", ...compileErrorReport(this.compiler.ts, compiled, expression) };
          continue;
        }
        if (compiled.hasToplevelAwait) throw new Error("user expressions cannot await");
        const filename = `${cell.label}.user_expressions.${name}`;
        this.registry.add({ filename, label: `user_expressions.${name}`, source: expression, map: compiled.sourceMap && offsetMap(compiled.sourceMap, WRAPPER_LINES, 1) });
        cellContext.run(cell, () => this.runner.run(compiled.output ?? "", filename, false));
        const value = compiled.lastExpressionVar ? this.runner.take(compiled.lastExpressionVar) : undefined;
        results[name] = { status: "ok", data: toMimeBundle(value), metadata: {} };
      } catch (error) {
        results[name] = { status: "error", ...runtimeErrorReport(error, this.registry) };
      }
    }
    return results;
  }

  /** An async throw or unhandled rejection: an `error` output under the cell it came from. */
  private reportEscaped(kind: EscapedKind, error: unknown): void {
    const fromContext = cellContext.getStore();
    const cell = fromContext && this.ownCells.has(fromContext) ? fromContext : fromContext ? undefined : this.lastCell;
    if (!cell) {
      if (!fromContext) this.log(`${kind} before any cell ran: ${(error as Error)?.stack ?? error}`);
      return;
    }
    const report = runtimeErrorReport(error, this.registry, kind === "unhandledRejection" ? "Uncaught (in promise)" : "Uncaught");
    cell.error(report.ename, report.evalue, report.traceback);
  }

  complete(code: string, cursorPos: number): CompleteResult {
    try {
      return complete(this.compiler, this.prevDecl, code, cursorPos);
    } catch (error) {
      this.log(`completion failed: ${(error as Error)?.stack ?? error}`);
      return { matches: [], cursor_start: cursorPos, cursor_end: cursorPos, metadata: {} };
    }
  }

  inspect(code: string, cursorPos: number, _detailLevel: number): InspectResult {
    try {
      return inspect(this.compiler, this.prevDecl, code, cursorPos);
    } catch (error) {
      this.log(`inspection failed: ${(error as Error)?.stack ?? error}`);
      return { found: false, data: {}, metadata: {} };
    }
  }

  isComplete(code: string): IsCompleteResult {
    try {
      return isComplete(this.compiler, code);
    } catch {
      return { status: "unknown" };
    }
  }

  interrupt(): void {
    // Work the cell started (a training loop, a sweep) sees its interruptSignal() abort; the
    // latest cell is meant when none is running (background work started without await).
    this.lastCell?.interruption.abort(new Error("interrupted"));
    if (this.executing) this.interruptRequested = true;
    this.interruptRunning?.();
  }

  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.interrupt();
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        cleanup();
      } catch (error) {
        this.log(`shutdown step failed: ${(error as Error)?.message ?? error}`);
      }
    }
    this.compilerInstance?.close();
  }
}

/**
 * Makes the engine. The kernel calls it with its services (`defaultPlugins` in kernel/main.ts);
 * tests may call it without.
 */
export function createExecutionEngine(services?: KernelServices, options: EngineOptions = {}): MechlabExecutionEngine {
  const log = options.log ?? (services ? (line: string) => services.log(line) : defaultLog);
  return new Engine(options, log);
}
