/**
 * The contract between the mechlab library and the notebook kernel it runs in.
 *
 * The kernel (kernel/) installs a KernelRuntime on a global symbol when it starts; library code
 * (display, input, widgets) looks it up with `getKernelRuntime()` and falls back to plain Node
 * behaviour when there is none (a script, a test). The library never imports kernel code.
 */

/** A Jupyter MIME bundle: MIME type → data (string for text types, JSON for +json types). */
export type MimeBundle = Record<string, unknown>;

/** Binary data carried by comm messages as raw frames. */
export type BinaryBuffer = ArrayBuffer | ArrayBufferView;

export interface CommSendOptions {
  metadata?: Record<string, unknown>;
  buffers?: BinaryBuffer[];
}

/** One end of a Jupyter comm (kernel side). */
export interface Comm {
  readonly commId: string;
  readonly targetName: string;
  readonly closed: boolean;
  /** Sends comm_msg { comm_id, data } with optional metadata and raw buffers. */
  send(data: unknown, options?: CommSendOptions): void;
  /** Sends comm_close (once) and stops delivering messages. */
  close(data?: unknown, options?: CommSendOptions): void;
  /** Called for every comm_msg from the frontend; buffers arrive as DataViews over the raw frames. */
  onMsg(handler: (data: unknown, buffers: DataView[]) => void): void;
  /** Called when the frontend closes the comm (not when the kernel does). */
  onClose(handler: (data: unknown) => void): void;
}

/** The kernel's comm registry. */
export interface CommRegistry {
  /**
   * Handles comm_open from the frontend for `targetName`. Returns a function that unregisters it.
   * A comm_open for a target nobody registered is answered with comm_close.
   */
  registerTarget(targetName: string, onOpen: (comm: Comm, data: unknown, buffers: DataView[]) => void): () => void;
  /** Opens a comm from the kernel (comm_open { comm_id, target_name, data }). */
  open(targetName: string, data?: unknown, options?: CommSendOptions): Comm;
  /** Open comms, optionally for one target. */
  list(targetName?: string): Comm[];
}

export interface DisplayOptions {
  metadata?: Record<string, unknown>;
  /** transient.display_id: lets a later `update: true` call replace this output in place. */
  displayId?: string;
  /** Send update_display_data for `displayId` instead of a new display_data. */
  update?: boolean;
}

export interface KernelRuntime {
  comms: CommRegistry;
  /** Sends display_data (or update_display_data) under the cell that is running (or that started the current async work). */
  display(bundle: MimeBundle, options?: DisplayOptions): void;
  /** Sends clear_output; with wait, the frontend clears when the next output arrives. */
  clearOutput(wait?: boolean): void;
  /** Asks the frontend for a line of input over the stdin channel; rejects if the request did not allow stdin. */
  requestInput(prompt: string, password: boolean): Promise<string>;
  /** Aborted when the user interrupts the cell that started the current work. */
  interruptSignal?(): AbortSignal;
}

const RUNTIME = Symbol.for("mechlab.kernel.runtime");

/** The runtime of the kernel this process runs in, or undefined outside a kernel. */
export function getKernelRuntime(): KernelRuntime | undefined {
  return (globalThis as Record<symbol, unknown>)[RUNTIME] as KernelRuntime | undefined;
}

/** Installs (or, with undefined, removes) the kernel runtime. Called by the kernel only. */
export function setKernelRuntime(runtime: KernelRuntime | undefined): void {
  (globalThis as Record<symbol, unknown>)[RUNTIME] = runtime;
}
