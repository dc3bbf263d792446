/**
 * The plug-in interfaces of the kernel server (kernel/server.ts).
 *
 * The server owns the wire: sockets, signatures, busy/idle, execution counts, history, stdin and
 * replies. What runs code (ExecutionEngine, kernel/execution/) and what keeps comms (CommHandler,
 * kernel/comms/) plug in through these interfaces and talk back through KernelServices.
 */
import type { BufferLike, JupyterMessage } from "./wire/message";

/** A Jupyter MIME bundle: MIME type → data. */
export type MimeBundle = Record<string, unknown>;

/**
 * Output channel of one execute_request. Every method publishes on iopub with that request as
 * parent, so it stays usable after the cell finished: late async output lands under its cell.
 */
export interface CellIO {
  /** The execute_request this IO belongs to. */
  readonly parent: JupyterMessage;
  /** iopub `stream`. */
  stream(name: "stdout" | "stderr", text: string): void;
  /** iopub `display_data`, or `update_display_data` with `update: true` (needs displayId). */
  displayData(bundle: MimeBundle, options?: { metadata?: Record<string, unknown>; displayId?: string; update?: boolean }): void;
  /** iopub `execute_result` with the request's execution_count. Dropped for silent requests. */
  executeResult(bundle: MimeBundle, metadata?: Record<string, unknown>): void;
  /**
   * iopub `error`. Only for errors the outcome does not carry (e.g. an async throw after the cell
   * finished): the server publishes the `error` for an ExecuteOutcome with status "error" itself.
   */
  error(ename: string, evalue: string, traceback: string[]): void;
  /** iopub `clear_output`; with wait, the frontend clears when the next output arrives. */
  clearOutput(wait: boolean): void;
  /**
   * Asks the frontend for a line over the stdin channel (input_request / input_reply).
   * Rejects with a clear error when the request had allow_stdin false, or on interrupt.
   */
  requestInput(prompt: string, password: boolean): Promise<string>;
}

/** What the engine gets for one execute_request. */
export interface ExecuteContext {
  parent: JupyterMessage;
  io: CellIO;
  allowStdin: boolean;
  silent: boolean;
  storeHistory: boolean;
  /** The count this execution is shown with (already incremented when it stores history). */
  executionCount: number;
  /** content.user_expressions: name → expression to evaluate after the code. */
  userExpressions: Record<string, string>;
}

/** How an execution ended. For "error" the server publishes the one iopub `error` and the reply. */
export type ExecuteOutcome =
  | { status: "ok"; userExpressions?: Record<string, unknown>; payload?: Record<string, unknown>[] }
  | { status: "error"; ename: string; evalue: string; traceback: string[] }
  | { status: "aborted" };

export interface CompleteResult {
  matches: string[];
  cursor_start: number;
  cursor_end: number;
  metadata?: Record<string, unknown>;
}

export interface InspectResult {
  found: boolean;
  /** MIME bundle shown in the pager/tooltip; empty when not found. */
  data: MimeBundle;
  metadata?: Record<string, unknown>;
}

export interface IsCompleteResult {
  status: "complete" | "incomplete" | "invalid" | "unknown";
  /** With "incomplete": the indent for the next line. */
  indent?: string;
}

/**
 * Runs code. execute() calls arrive one at a time (the server queues execute_requests); the other
 * methods may be called while an execution is pending (e.g. during a top-level await).
 * Cursor positions here are JS string indices (UTF-16 units): the server converts the protocol's
 * code-point offsets both ways.
 */
export interface ExecutionEngine {
  execute(code: string, ctx: ExecuteContext): Promise<ExecuteOutcome>;
  complete(code: string, cursorPos: number): CompleteResult | Promise<CompleteResult>;
  inspect(code: string, cursorPos: number, detailLevel: number): InspectResult | Promise<InspectResult>;
  isComplete(code: string): IsCompleteResult | Promise<IsCompleteResult>;
  /** interrupt_request on control, or SIGINT to the process: stop the running cell. */
  interrupt(): void;
  /** Called once before the process exits (shutdown_request or restart). */
  shutdown(): void | Promise<void>;
}

/**
 * Comm messages from the frontend. The server wraps each in busy/idle with the message as parent
 * and sends the comm_info_reply; the handler answers through KernelServices.publish (comm_msg,
 * comm_close, with buffers). Messages arrive as decoded, buffers as the raw frames.
 */
export interface CommHandler {
  open(msg: JupyterMessage): void | Promise<void>;
  msg(msg: JupyterMessage): void | Promise<void>;
  close(msg: JupyterMessage): void | Promise<void>;
  /** Open comms (optionally only of one target): comm_id → { target_name }. */
  info(targetName?: string): Record<string, { target_name: string }>;
}

/** What the server offers plug-ins. */
export interface KernelServices {
  /** The kernel session id (header.session of everything the kernel sends). */
  readonly session: string;
  /**
   * Publishes any iopub message (comm_open / comm_msg / comm_close from the kernel side,
   * display_data outside a cell, …). Without a parent the message has an empty parent_header.
   */
  publish(
    msgType: string,
    content: Record<string, unknown>,
    options?: { parent?: JupyterMessage; metadata?: Record<string, unknown>; buffers?: BufferLike[] },
  ): void;
  /** The CellIO of the execute_request running now, or of the last one; undefined before any. */
  currentCell(): CellIO | undefined;
  /** Writes a line to the kernel's own log (its stderr), never to a cell. */
  log(message: string): void;
}

/** Plug-ins are given directly or made from the services once the server is up. */
export type PlugIn<T> = T | ((services: KernelServices) => T);
