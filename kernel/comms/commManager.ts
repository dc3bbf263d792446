/**
 * The kernel's comm manager: the CommRegistry the library uses (src/notebook/kernelRuntime.ts)
 * and the CommHandler the server feeds with comm_open / comm_msg / comm_close / comm_info.
 *
 * Parents: everything a handler sends while it handles an incoming comm message (synchronously or
 * from async work it starts) has that message as parent — the widget frontend matches echo_update
 * and replies by parent. Outside a handler the parent is the transport's current request (the
 * execute_request running now), if any.
 *
 * A handler that throws or rejects is logged to the kernel's log; the kernel carries on.
 */
import { AsyncLocalStorage } from "async_hooks";
import { randomUUID } from "crypto";
import type { CommHandler, KernelServices } from "../handlers";
import type { JupyterMessage } from "../wire/message";
import type { Comm, CommRegistry, CommSendOptions } from "../../src/notebook/kernelRuntime";
import { framesToDataViews, toFrames } from "./frames";
import { KernelComm, type CommOwner } from "./kernelComm";

/** What the manager needs from the server. */
export interface CommTransport {
  /** Publishes an iopub message (comm_open / comm_msg / comm_close). */
  publish: KernelServices["publish"];
  /** Writes a line to the kernel's own log (stderr). */
  log(message: string): void;
  /** The request in progress when no comm message is being handled (e.g. the running execute_request). */
  currentParent?(): JupyterMessage | undefined;
}

export type CommOpenHandler = (comm: Comm, data: unknown, buffers: DataView[]) => void;

type CommMsgType = "comm_open" | "comm_msg" | "comm_close";

export class CommManager implements CommRegistry {
  private readonly comms = new Map<string, KernelComm>();
  private readonly targets = new Map<string, CommOpenHandler>();
  /** The incoming comm message whose handlers are running (and the async work they started). */
  private readonly handling = new AsyncLocalStorage<JupyterMessage>();
  private readonly owner: CommOwner;

  /** The server side: give this to the server as its CommHandler plug-in. */
  readonly handler: CommHandler;

  constructor(private readonly transport: CommTransport) {
    this.owner = {
      publish: (msgType, content, options) => this.publish(msgType, content, options),
      guard: (what, run) => void this.guard(what, run),
      forget: (comm) => {
        if (this.comms.get(comm.commId) === comm) this.comms.delete(comm.commId);
      },
    };
    this.handler = {
      open: (msg) => this.handleOpen(msg),
      msg: (msg) => this.handleMsg(msg),
      close: (msg) => this.handleClose(msg),
      info: (targetName) => this.info(targetName),
    };
  }

  /** A manager over the server's services: publishes on iopub, parents on the running cell. */
  static fromServices(services: KernelServices): CommManager {
    return new CommManager({
      publish: (msgType, content, options) => services.publish(msgType, content, options),
      log: (message) => services.log(message),
      currentParent: () => services.currentCell()?.parent,
    });
  }

  // ---- CommRegistry (library side) ----

  registerTarget(targetName: string, onOpen: CommOpenHandler): () => void {
    this.targets.set(targetName, onOpen);
    return () => {
      if (this.targets.get(targetName) === onOpen) this.targets.delete(targetName);
    };
  }

  open(targetName: string, data?: unknown, options?: CommSendOptions): Comm {
    const comm = new KernelComm(randomUUID().replace(/-/g, ""), targetName, this.owner);
    this.comms.set(comm.commId, comm);
    this.publish("comm_open", { comm_id: comm.commId, target_name: targetName, data: data ?? {} }, options);
    return comm;
  }

  list(targetName?: string): Comm[] {
    return [...this.comms.values()].filter((comm) => targetName === undefined || comm.targetName === targetName);
  }

  /** Open comms (optionally of one target) as comm_info_reply's `comms`: comm_id → { target_name }. */
  info(targetName?: string): Record<string, { target_name: string }> {
    const comms: Record<string, { target_name: string }> = {};
    for (const comm of this.list(targetName)) comms[comm.commId] = { target_name: comm.targetName };
    return comms;
  }

  // ---- incoming (server side) ----

  private handleOpen(msg: JupyterMessage): void {
    const { comm_id: commId, target_name: targetName, data } = msg.content;
    if (typeof commId !== "string" || typeof targetName !== "string") {
      this.transport.log(`comm_open without a string comm_id and target_name: ${JSON.stringify(msg.content)}`);
      return;
    }
    this.handling.run(msg, () => {
      const onOpen = this.targets.get(targetName);
      if (!onOpen) {
        // Nobody listens: tell the frontend its comm is dead.
        this.transport.log(`comm_open for unregistered target "${targetName}" (comm ${commId}): answered with comm_close`);
        this.publish("comm_close", { comm_id: commId, data: {} });
        return;
      }
      if (this.comms.has(commId)) this.transport.log(`comm_open reuses the id of open comm ${commId}: the old comm is replaced`);
      const comm = new KernelComm(commId, targetName, this.owner);
      this.comms.set(commId, comm);
      const ok = this.guard(`comm target "${targetName}" opening comm ${commId}`, () => onOpen(comm, data, framesToDataViews(msg.buffers)));
      // A target that fails to take the comm leaves it unusable: close it on both sides.
      if (!ok) comm.close();
    });
  }

  private handleMsg(msg: JupyterMessage): void {
    const comm = this.lookup(msg, "comm_msg");
    if (!comm) return;
    this.handling.run(msg, () => comm.deliverMsg(msg.content.data, framesToDataViews(msg.buffers)));
  }

  private handleClose(msg: JupyterMessage): void {
    const comm = this.lookup(msg, "comm_close");
    if (!comm) return;
    this.handling.run(msg, () => comm.deliverClose(msg.content.data));
  }

  private lookup(msg: JupyterMessage, what: string): KernelComm | undefined {
    const commId = msg.content.comm_id;
    const comm = typeof commId === "string" ? this.comms.get(commId) : undefined;
    if (!comm) this.transport.log(`${what} for unknown comm ${JSON.stringify(commId)}: ignored`);
    return comm;
  }

  // ---- plumbing ----

  private publish(msgType: CommMsgType, content: Record<string, unknown>, options?: CommSendOptions): void {
    const parent = this.handling.getStore() ?? this.transport.currentParent?.();
    this.transport.publish(msgType, content, {
      ...(parent ? { parent } : {}),
      metadata: options?.metadata ?? {},
      buffers: toFrames(options?.buffers),
    });
  }

  /** Runs a handler; a throw or a rejection is logged. Returns false when it threw synchronously. */
  private guard(what: string, run: () => unknown): boolean {
    try {
      const result = run();
      if (isThenable(result)) result.then(undefined, (error) => this.report(what, error));
      return true;
    } catch (error) {
      this.report(what, error);
      return false;
    }
  }

  private report(what: string, error: unknown): void {
    const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
    this.transport.log(`${what} threw: ${detail}`);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}
