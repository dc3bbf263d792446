/**
 * The kernel's end of one comm. It sends through its manager (which picks the parent and turns
 * buffers into frames) and receives what the manager routes to it: comm_msg → onMsg handlers,
 * comm_close from the frontend → onClose handlers.
 */
import type { Comm, CommSendOptions } from "../../src/notebook/kernelRuntime";

/** What a comm needs from the manager that owns it. */
export interface CommOwner {
  publish(msgType: "comm_msg" | "comm_close", content: Record<string, unknown>, options?: CommSendOptions): void;
  /** Runs a handler so that a throw (or a rejected promise) is logged and goes no further. */
  guard(what: string, run: () => unknown): void;
  /** Forgets the comm (it was closed from either side). */
  forget(comm: KernelComm): void;
}

type MsgHandler = (data: unknown, buffers: DataView[]) => void;
type CloseHandler = (data: unknown) => void;

export class KernelComm implements Comm {
  private _closed = false;
  private readonly msgHandlers: MsgHandler[] = [];
  private readonly closeHandlers: CloseHandler[] = [];

  constructor(
    readonly commId: string,
    readonly targetName: string,
    private readonly owner: CommOwner,
  ) {}

  get closed(): boolean {
    return this._closed;
  }

  send(data: unknown, options?: CommSendOptions): void {
    if (this._closed) throw new Error(`comm ${this.commId} (target "${this.targetName}") is closed; cannot send`);
    this.owner.publish("comm_msg", { comm_id: this.commId, data: data ?? {} }, options);
  }

  close(data?: unknown, options?: CommSendOptions): void {
    if (this._closed) return;
    this._closed = true;
    this.owner.forget(this);
    this.owner.publish("comm_close", { comm_id: this.commId, data: data ?? {} }, options);
  }

  onMsg(handler: MsgHandler): void {
    this.msgHandlers.push(handler);
  }

  onClose(handler: CloseHandler): void {
    this.closeHandlers.push(handler);
  }

  /** A comm_msg from the frontend. */
  deliverMsg(data: unknown, buffers: DataView[]): void {
    if (this._closed) return;
    for (const handler of this.msgHandlers) {
      this.owner.guard(`comm_msg handler of comm ${this.commId} (target "${this.targetName}")`, () => handler(data, buffers));
    }
  }

  /** A comm_close from the frontend: no comm_close goes back. */
  deliverClose(data: unknown): void {
    if (this._closed) return;
    this._closed = true;
    this.owner.forget(this);
    for (const handler of this.closeHandlers) {
      this.owner.guard(`comm_close handler of comm ${this.commId} (target "${this.targetName}")`, () => handler(data));
    }
  }
}
