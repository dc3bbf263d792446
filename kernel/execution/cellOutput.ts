/**
 * Everything a cell's code (and the async work it started) shows goes through the cell's
 * CellOutput. Stream text is coalesced: writes in one turn of the event loop become one `stream`
 * message, and pending text always goes out before any other output of the cell, so order holds.
 */
import { AsyncLocalStorage } from "async_hooks";
import type { CellIO, MimeBundle } from "../handlers";

export type StreamName = "stdout" | "stderr";

export class CellOutput {
  private pending: { name: StreamName; text: string }[] = [];
  private flushScheduled = false;
  /** Set once the execute_request has been answered (output may still arrive, e.g. from timers). */
  finished = false;
  /** Aborted when the user interrupts this cell; long work it started polls `signal` to stop cleanly. */
  readonly interruption = new AbortController();

  constructor(
    readonly io: CellIO,
    /** `cell[3]`: how tracebacks and logs name this cell. */
    readonly label: string,
    readonly allowStdin: boolean,
    private readonly log: (line: string) => void,
  ) {}

  stream(name: StreamName, text: string): void {
    if (!text) return;
    const last = this.pending[this.pending.length - 1];
    if (last?.name === name) last.text += text;
    else this.pending.push({ name, text });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends pending stream text now. */
  flush(): void {
    this.flushScheduled = false;
    const pending = this.pending;
    this.pending = [];
    for (const { name, text } of pending) this.guard("stream", () => this.io.stream(name, text));
  }

  displayData(bundle: MimeBundle, options?: { metadata?: Record<string, unknown>; displayId?: string; update?: boolean }): void {
    this.flush();
    this.io.displayData(bundle, options);
  }

  executeResult(bundle: MimeBundle): void {
    this.flush();
    this.guard("execute_result", () => this.io.executeResult(bundle));
  }

  error(ename: string, evalue: string, traceback: string[]): void {
    this.flush();
    this.guard("error", () => this.io.error(ename, evalue, traceback));
  }

  clearOutput(wait: boolean): void {
    this.flush();
    this.io.clearOutput(wait);
  }

  requestInput(prompt: string, password: boolean): Promise<string> {
    this.flush();
    if (!this.allowStdin) {
      return Promise.reject(
        new Error(`input()/password() cannot be answered: the frontend that ran ${this.label} does not accept input (allow_stdin is false, e.g. a headless run).`),
      );
    }
    return this.io.requestInput(prompt, password);
  }

  /** Output the kernel sends on its own behalf: a failure to send is logged, never thrown into user code. */
  private guard(what: string, send: () => void): void {
    try {
      send();
    } catch (error) {
      this.log(`could not send ${what} for ${this.label}: ${(error as Error)?.stack ?? error}`);
    }
  }
}

/** The cell whose code is running, or that started the async work running now. */
export const cellContext = new AsyncLocalStorage<CellOutput>();
