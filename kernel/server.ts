/**
 * The kernel server: receives shell, control and stdin messages, wraps every shell and control
 * message in busy/idle (that message as parent), answers what the kernel itself knows
 * (kernel_info, history, shutdown, interrupt, comm_info) and hands the rest to the plug-ins
 * (ExecutionEngine, CommHandler; see handlers.ts).
 *
 * execute_requests run one at a time in arrival order; every other request is served at once,
 * also while a cell awaits, so widgets keep talking to a running cell.
 */
import { writeSync } from "fs";
import { randomUUID } from "crypto";
import type {
  CellIO,
  CommHandler,
  ExecuteOutcome,
  ExecutionEngine,
  KernelServices,
  MimeBundle,
  PlugIn,
} from "./handlers";
import { codePointsToUtf16, utf16ToCodePoints } from "./cursor";
import { History, type HistoryQuery } from "./history";
import { StdinRequests } from "./stdin";
import type { ConnectionInfo } from "./wire/connectionFile";
import { createMessage, decodeMessage, encodeMessage, type BufferLike, type JupyterMessage } from "./wire/message";
import { createSigner, type Signer } from "./wire/signer";
import { KernelSockets, type RouterChannel } from "./wire/sockets";

export type * from "./handlers";

export interface KernelServerOptions {
  connection: ConnectionInfo;
  engine: PlugIn<ExecutionEngine>;
  comms?: PlugIn<CommHandler>;
  /** kernel_info_reply content (status, protocol_version, language_info, banner, …). */
  kernelInfo: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** The kernel's own log; default: its stderr (fd 2, untouched by any cell output capture). */
  log?: (line: string) => void;
  /** Route SIGINT to the engine's interrupt (interrupt_mode "signal"). Default true. */
  handleSigint?: boolean;
}

export interface ShutdownResult {
  restart: boolean;
}

type ReplyChannel = "shell" | "control";

function defaultLog(line: string): void {
  try {
    writeSync(2, `[mechlab kernel ${new Date().toISOString()}] ${line}\n`);
  } catch {
    /* stderr gone: nothing to tell */
  }
}

export class KernelServer implements KernelServices {
  readonly session = randomUUID();
  /** Resolves once the kernel shut down (sockets closed); the caller decides about process exit. */
  readonly closed: Promise<ShutdownResult>;

  private engine!: ExecutionEngine;
  private comms: CommHandler | undefined;
  private readonly signer: Signer;
  private readonly history = new History();
  private readonly stdin: StdinRequests;
  private executionCount = 0;
  private executeQueue: { msg: JupyterMessage; channel: ReplyChannel }[] = [];
  private executing = false;
  /** execute_requests aborted because an earlier cell failed with stop_on_error. */
  private readonly aborted = new Set<JupyterMessage>();
  private commChain: Promise<void> = Promise.resolve();
  private current: CellIO | undefined;
  private shuttingDown = false;
  private resolveClosed!: (result: ShutdownResult) => void;
  private readonly sigint = () => {
    this.log("SIGINT: interrupting");
    this.interrupt();
  };
  readonly log: (line: string) => void;

  private constructor(
    private readonly sockets: KernelSockets,
    private readonly options: KernelServerOptions,
    log: (line: string) => void,
  ) {
    this.log = log;
    this.signer = createSigner(options.connection.key, options.connection.signature_scheme);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.stdin = new StdinRequests((parent, content) => {
      const request = createMessage("input_request", content, { session: this.session, parent });
      void this.sockets.send("stdin", encodeMessage(request, this.signer));
      return request.header.msg_id;
    });
  }

  /** Binds the sockets, makes the plug-ins, publishes `starting` and starts serving. */
  static async start(options: KernelServerOptions): Promise<KernelServer> {
    const log = options.log ?? defaultLog;
    const sockets = await KernelSockets.bind(options.connection, log);
    const server = new KernelServer(sockets, options, log);
    try {
      server.engine = typeof options.engine === "function" ? options.engine(server) : options.engine;
      server.comms = typeof options.comms === "function" ? options.comms(server) : options.comms;
    } catch (error) {
      await sockets.close();
      throw error;
    }
    if (options.handleSigint !== false) process.on("SIGINT", server.sigint);
    server.publish("status", { execution_state: "starting" });
    for (const channel of ["shell", "control", "stdin"] as RouterChannel[]) {
      void sockets.listen(channel, (frames) => server.receive(channel, frames));
    }
    return server;
  }

  // ---- KernelServices -------------------------------------------------------------------------

  publish(
    msgType: string,
    content: Record<string, unknown>,
    options: { parent?: JupyterMessage; metadata?: Record<string, unknown>; buffers?: BufferLike[] } = {},
  ): void {
    const msg = createMessage(msgType, content, {
      session: this.session,
      parent: options.parent,
      metadata: options.metadata,
      buffers: options.buffers,
      // iopub topic (the first frame); subscribers here subscribe to everything.
      identities: [Buffer.from(`kernel.${this.session}.${msgType}`)],
    });
    void this.sockets.send("iopub", encodeMessage(msg, this.signer));
  }

  currentCell(): CellIO | undefined {
    return this.current;
  }

  // ---- Receiving ------------------------------------------------------------------------------

  private receive(channel: RouterChannel, frames: Buffer[]): void | Promise<void> {
    if (this.shuttingDown) return;
    let msg: JupyterMessage;
    try {
      msg = decodeMessage(frames, this.signer);
    } catch (error) {
      this.log(`dropped a ${channel} message: ${(error as Error).message}`);
      return;
    }
    if (channel === "stdin") {
      if (msg.header.msg_type !== "input_reply" || !this.stdin.reply(msg)) {
        this.log(`ignored ${msg.header.msg_type} on stdin (no input request waiting for it)`);
      }
      return;
    }
    if (msg.header.msg_type === "execute_request") {
      this.executeQueue.push({ msg, channel });
      void this.runExecuteQueue();
      return;
    }
    void this.handle(channel, msg);
  }

  /** busy → the handler (which replies) → idle, all with `msg` as parent. */
  private async withBusy(msg: JupyterMessage, body: () => Promise<void>): Promise<void> {
    this.publish("status", { execution_state: "busy" }, { parent: msg });
    try {
      await body();
    } catch (error) {
      this.log(`${msg.header.msg_type} failed: ${(error as Error)?.stack ?? error}`);
    } finally {
      this.publish("status", { execution_state: "idle" }, { parent: msg });
    }
  }

  private reply(channel: ReplyChannel, parent: JupyterMessage, msgType: string, content: Record<string, unknown>): Promise<void> {
    const msg = createMessage(msgType, content, { session: this.session, parent });
    return this.sockets.send(channel, encodeMessage(msg, this.signer));
  }

  private handle(channel: ReplyChannel, msg: JupyterMessage): Promise<void> {
    const type = msg.header.msg_type;
    const c = msg.content ?? {};
    // Comm messages are applied in arrival order, each in its own busy/idle.
    if (type === "comm_open" || type === "comm_msg" || type === "comm_close") {
      const run = () => this.withBusy(msg, () => this.handleComm(type, msg));
      this.commChain = this.commChain.then(run, run);
      return this.commChain;
    }
    return this.withBusy(msg, async () => {
      switch (type) {
        case "kernel_info_request":
          await this.reply(channel, msg, "kernel_info_reply", await this.options.kernelInfo());
          return;
        case "shutdown_request":
          await this.reply(channel, msg, "shutdown_reply", { status: "ok", restart: c.restart === true });
          // idle goes out (finally above) before the sockets close.
          setImmediate(() => void this.shutdown(c.restart === true));
          return;
        case "interrupt_request":
          this.interrupt();
          await this.reply(channel, msg, "interrupt_reply", { status: "ok" });
          return;
        case "history_request":
          await this.reply(channel, msg, "history_reply", { status: "ok", history: this.history.query(c as HistoryQuery) });
          return;
        case "is_complete_request": {
          const result = await this.engine.isComplete(String(c.code ?? ""));
          await this.reply(channel, msg, "is_complete_reply", { ...result });
          return;
        }
        case "complete_request": {
          const code = String(c.code ?? "");
          const result = await this.engine.complete(code, cursorPos(c.cursor_pos, code));
          await this.reply(channel, msg, "complete_reply", {
            status: "ok",
            metadata: {},
            ...result,
            cursor_start: utf16ToCodePoints(code, result.cursor_start),
            cursor_end: utf16ToCodePoints(code, result.cursor_end),
          });
          return;
        }
        case "inspect_request": {
          const code = String(c.code ?? "");
          const result = await this.engine.inspect(code, cursorPos(c.cursor_pos, code), Number(c.detail_level ?? 0));
          await this.reply(channel, msg, "inspect_reply", { status: "ok", metadata: {}, ...result });
          return;
        }
        case "comm_info_request": {
          const target = typeof c.target_name === "string" ? c.target_name : undefined;
          await this.reply(channel, msg, "comm_info_reply", { status: "ok", comms: this.comms?.info(target) ?? {} });
          return;
        }
        default:
          this.log(`unknown message type ${type} on ${channel}: no reply`);
      }
    });
  }

  private async handleComm(type: "comm_open" | "comm_msg" | "comm_close", msg: JupyterMessage): Promise<void> {
    if (!this.comms) {
      if (type === "comm_open") {
        // Nobody can serve this comm: tell the frontend it is closed.
        this.publish("comm_close", { comm_id: msg.content.comm_id, data: {} }, { parent: msg });
      }
      return;
    }
    if (type === "comm_open") await this.comms.open(msg);
    else if (type === "comm_msg") await this.comms.msg(msg);
    else await this.comms.close(msg);
  }

  // ---- Execution ------------------------------------------------------------------------------

  private async runExecuteQueue(): Promise<void> {
    if (this.executing) return;
    this.executing = true;
    try {
      for (let next = this.executeQueue.shift(); next; next = this.executeQueue.shift()) {
        if (this.shuttingDown) return;
        const { msg, channel } = next;
        await this.withBusy(msg, () => this.execute(channel, msg));
      }
    } finally {
      this.executing = false;
    }
  }

  private async execute(channel: ReplyChannel, msg: JupyterMessage): Promise<void> {
    if (this.aborted.delete(msg)) {
      await this.reply(channel, msg, "execute_reply", { status: "aborted", execution_count: this.executionCount });
      return;
    }
    const c = msg.content ?? {};
    const code = String(c.code ?? "");
    const silent = c.silent === true;
    const storeHistory = silent ? false : c.store_history !== false;
    const allowStdin = c.allow_stdin !== false;
    if (storeHistory) this.executionCount++;
    const executionCount = this.executionCount;
    if (!silent) this.publish("execute_input", { code, execution_count: executionCount }, { parent: msg });
    if (storeHistory) this.history.add(executionCount, code);

    const io = this.cellIO(msg, executionCount, silent, storeHistory);
    this.current = io;
    let outcome: ExecuteOutcome;
    try {
      outcome = await this.engine.execute(code, {
        parent: msg,
        io,
        allowStdin,
        silent,
        storeHistory,
        executionCount,
        userExpressions: (c.user_expressions ?? {}) as Record<string, string>,
      });
    } catch (error) {
      // The engine should report errors as an outcome; this keeps the kernel answering if not.
      const err = error instanceof Error ? error : new Error(String(error));
      outcome = { status: "error", ename: err.name, evalue: err.message, traceback: [err.stack ?? `${err.name}: ${err.message}`] };
    }

    if (outcome.status === "error") {
      const { ename, evalue, traceback } = outcome;
      this.publish("error", { ename, evalue, traceback }, { parent: msg });
      if (c.stop_on_error !== false) {
        // Cells queued behind a failed one are not run (Run All stops at the error).
        for (const queued of this.executeQueue) this.aborted.add(queued.msg);
      }
      await this.reply(channel, msg, "execute_reply", { status: "error", execution_count: executionCount, ename, evalue, traceback });
    } else if (outcome.status === "aborted") {
      await this.reply(channel, msg, "execute_reply", { status: "aborted", execution_count: executionCount });
    } else {
      await this.reply(channel, msg, "execute_reply", {
        status: "ok",
        execution_count: executionCount,
        user_expressions: outcome.userExpressions ?? {},
        payload: outcome.payload ?? [],
      });
    }
  }

  /** The output channel of one execute_request (usable after it finished). */
  private cellIO(parent: JupyterMessage, executionCount: number, silent: boolean, storeHistory: boolean): CellIO {
    const publish = (type: string, content: Record<string, unknown>) => this.publish(type, content, { parent });
    return {
      parent,
      stream: (name, text) => publish("stream", { name, text }),
      displayData: (bundle: MimeBundle, options = {}) => {
        if (options.update && !options.displayId) throw new Error("update_display_data needs a displayId");
        publish(options.update ? "update_display_data" : "display_data", {
          data: bundle,
          metadata: options.metadata ?? {},
          transient: options.displayId ? { display_id: options.displayId } : {},
        });
      },
      executeResult: (bundle: MimeBundle, metadata = {}) => {
        if (silent) return;
        if (storeHistory && typeof bundle["text/plain"] === "string") this.history.setOutput(executionCount, bundle["text/plain"]);
        publish("execute_result", { execution_count: executionCount, data: bundle, metadata });
      },
      error: (ename, evalue, traceback) => publish("error", { ename, evalue, traceback }),
      clearOutput: (wait) => publish("clear_output", { wait }),
      requestInput: (prompt, password) => this.stdin.request(parent, prompt, password),
    };
  }

  // ---- Interrupt and shutdown -----------------------------------------------------------------

  /** Stops the running cell (engine) and any input request waiting for the frontend. */
  interrupt(): void {
    this.stdin.cancelAll("interrupted while waiting for input");
    try {
      this.engine.interrupt();
    } catch (error) {
      this.log(`engine.interrupt failed: ${(error as Error)?.stack ?? error}`);
    }
  }

  /** Stops serving, shuts the engine down, closes the sockets (ports are free afterwards). */
  async shutdown(restart = false): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    process.off("SIGINT", this.sigint);
    this.stdin.cancelAll("the kernel is shutting down");
    try {
      await withTimeout(Promise.resolve(this.engine.shutdown()), 5000, "engine.shutdown");
    } catch (error) {
      this.log(`engine.shutdown failed: ${(error as Error)?.message ?? error}`);
    }
    await this.sockets.close();
    this.resolveClosed({ restart });
  }
}

/** The request's cursor_pos (code points; missing means end of code) as a JS string index. */
function cursorPos(value: unknown, code: string): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? codePointsToUtf16(code, value) : code.length;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error)),
    );
  });
}
