/**
 * Input requests over the stdin channel: input_request goes to the identities of the
 * execute_request's shell message (the frontend that ran the cell), input_reply comes back with
 * the input_request as parent. Requests are asked one at a time, in order.
 */
import type { JupyterMessage } from "./wire/message";

export class StdinNotAllowedError extends Error {
  override name = "StdinNotAllowedError";
}

export class InputInterruptedError extends Error {
  override name = "InputInterruptedError";
}

interface Pending {
  requestId: string;
  resolve: (value: string) => void;
  reject: (error: Error) => void;
}

export class StdinRequests {
  private pending: Pending | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private generation = 0;

  /** `send` sends an input_request with `parent` as parent and returns its msg_id. */
  constructor(private readonly send: (parent: JupyterMessage, content: { prompt: string; password: boolean }) => string) {}

  request(parent: JupyterMessage, prompt: string, password: boolean): Promise<string> {
    if (parent.content?.allow_stdin === false) {
      return Promise.reject(
        new StdinNotAllowedError(
          "This frontend does not accept input: the execute_request had allow_stdin false (e.g. a headless run), so input()/password() cannot be answered.",
        ),
      );
    }
    const generation = this.generation;
    const asked = this.chain.then(
      () =>
        new Promise<string>((resolve, reject) => {
          if (generation !== this.generation) return reject(new InputInterruptedError("input request interrupted"));
          const requestId = this.send(parent, { prompt, password });
          this.pending = { requestId, resolve, reject };
        }),
    );
    this.chain = asked.catch(() => undefined);
    return asked;
  }

  /** Handles an input_reply from the stdin channel; returns false when nothing was waiting for it. */
  reply(msg: JupyterMessage): boolean {
    const pending = this.pending;
    if (!pending) return false;
    const parentId = (msg.parent_header as { msg_id?: string }).msg_id;
    if (parentId !== undefined && parentId !== pending.requestId) return false;
    this.pending = undefined;
    if (msg.content?.status === "error") pending.reject(new InputInterruptedError("the frontend answered the input request with an error"));
    else pending.resolve(String(msg.content?.value ?? ""));
    return true;
  }

  /** Rejects the waiting request and every queued one (interrupt, shutdown). */
  cancelAll(reason: string): void {
    this.generation++;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(new InputInterruptedError(reason));
  }
}
