/** The kernel's comm manager over a recording transport: both directions, routing, parents, errors. */
import { describe, expect, it } from "vitest";
import { CommManager } from "../../kernel/comms";
import type { KernelServices } from "../../kernel/handlers";
import { createHeader, type JupyterMessage } from "../../kernel/wire/message";
import type { Comm } from "../../src/notebook/kernelRuntime";

interface Published {
  msgType: string;
  content: Record<string, any>;
  parent?: JupyterMessage;
  metadata?: Record<string, unknown>;
  buffers: Buffer[];
}

function setup(currentParent?: JupyterMessage) {
  const published: Published[] = [];
  const logs: string[] = [];
  const manager = new CommManager({
    publish: (msgType, content, options) =>
      void published.push({ msgType, content, parent: options?.parent, metadata: options?.metadata, buffers: (options?.buffers ?? []) as Buffer[] }),
    log: (line) => void logs.push(line),
    currentParent: () => currentParent,
  });
  return { manager, handler: manager.handler, published, logs };
}

/** A message as the server hands it over: decoded JSON, buffers as raw frames. */
function incoming(msgType: string, content: Record<string, unknown>, buffers: Buffer[] = []): JupyterMessage {
  return { identities: [], header: createHeader(msgType, "frontend-session", "user"), parent_header: {}, metadata: {}, content, buffers };
}

/** A frame that is a slice of a larger allocation, as zeromq may hand them over. */
function frameAt(offset: number, bytes: number[]): Buffer {
  const backing = Buffer.alloc(offset + bytes.length + 5, 0xee);
  Buffer.from(bytes).copy(backing, offset);
  return backing.subarray(offset, offset + bytes.length);
}

const bytesOf = (view: DataView): number[] => [...new Uint8Array(view.buffer, view.byteOffset, view.byteLength)];

describe("comms opened by the frontend", () => {
  it("gives the target handler the comm, data and buffers as DataViews over the frames", () => {
    const { manager, handler, published } = setup();
    const opened: { comm: Comm; data: unknown; buffers: DataView[] }[] = [];
    manager.registerTarget("test.target", (comm, data, buffers) => void opened.push({ comm, data, buffers }));
    handler.open(incoming("comm_open", { comm_id: "c1", target_name: "test.target", data: { hello: 1 } }, [frameAt(7, [1, 2, 3])]));
    expect(opened).toHaveLength(1);
    const [{ comm, data, buffers }] = opened;
    expect(comm.commId).toBe("c1");
    expect(comm.targetName).toBe("test.target");
    expect(comm.closed).toBe(false);
    expect(data).toEqual({ hello: 1 });
    expect(buffers[0]).toBeInstanceOf(DataView);
    expect(bytesOf(buffers[0])).toEqual([1, 2, 3]);
    expect(published).toEqual([]);
    expect(manager.list().map((c) => c.commId)).toEqual(["c1"]);
  });

  it("routes comm_msg to onMsg with DataView buffers; replies have the comm_msg as parent", () => {
    const { manager, handler, published } = setup();
    const received: [unknown, number[][]][] = [];
    manager.registerTarget("echo", (comm) => {
      comm.onMsg((data, buffers) => {
        received.push([data, buffers.map(bytesOf)]);
        comm.send({ got: data }, { buffers: [new Float32Array([1.5]), buffers[0]], metadata: { m: 1 } });
      });
    });
    handler.open(incoming("comm_open", { comm_id: "c2", target_name: "echo", data: {} }));
    const msg = incoming("comm_msg", { comm_id: "c2", data: { x: 1 } }, [frameAt(3, [9, 8]), frameAt(0, [7])]);
    handler.msg(msg);
    expect(received).toEqual([[{ x: 1 }, [[9, 8], [7]]]]);
    expect(published).toHaveLength(1);
    const reply = published[0];
    expect(reply.msgType).toBe("comm_msg");
    expect(reply.content).toEqual({ comm_id: "c2", data: { got: { x: 1 } } });
    expect(reply.parent).toBe(msg);
    expect(reply.metadata).toEqual({ m: 1 });
    expect(reply.buffers.map((b) => [...b])).toEqual([[...Buffer.from(new Float32Array([1.5]).buffer)], [9, 8]]);
  });

  it("keeps the comm_msg as parent for what async work started by the handler sends later", async () => {
    const cell = incoming("execute_request", { code: "" });
    const { manager, handler, published } = setup(cell);
    manager.registerTarget("later", (comm) => {
      comm.onMsg(async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        comm.send({ late: true });
      });
    });
    handler.open(incoming("comm_open", { comm_id: "c3", target_name: "later", data: {} }));
    const msg = incoming("comm_msg", { comm_id: "c3", data: {} });
    handler.msg(msg);
    // Outside any handler the transport's current request is the parent.
    manager.list("later")[0].send({ now: true });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(published.map((p) => [p.content.data, p.parent])).toEqual([
      [{ now: true }, cell],
      [{ late: true }, msg],
    ]);
  });

  it("delivers comm_close to onClose, forgets the comm and sends nothing back", () => {
    const { manager, handler, published, logs } = setup();
    const closes: unknown[] = [];
    const msgs: unknown[] = [];
    let theComm: Comm | undefined;
    manager.registerTarget("t", (comm) => {
      theComm = comm;
      comm.onClose((data) => void closes.push(data));
      comm.onMsg((data) => void msgs.push(data));
    });
    handler.open(incoming("comm_open", { comm_id: "c4", target_name: "t", data: {} }));
    handler.close(incoming("comm_close", { comm_id: "c4", data: { bye: true } }));
    expect(closes).toEqual([{ bye: true }]);
    expect(theComm!.closed).toBe(true);
    expect(manager.list()).toEqual([]);
    expect(handler.info()).toEqual({});
    handler.msg(incoming("comm_msg", { comm_id: "c4", data: { late: 1 } }));
    expect(msgs).toEqual([]);
    expect(logs.some((line) => line.includes("unknown comm") && line.includes("c4"))).toBe(true);
    expect(published).toEqual([]);
    expect(() => theComm!.send({})).toThrow(/closed/);
  });

  it("answers comm_open for an unregistered target with comm_close for that comm", () => {
    const { manager, handler, published } = setup();
    const open = incoming("comm_open", { comm_id: "nobody-1", target_name: "no.such.target", data: {} });
    handler.open(open);
    expect(published).toHaveLength(1);
    expect(published[0].msgType).toBe("comm_close");
    expect(published[0].content).toEqual({ comm_id: "nobody-1", data: {} });
    expect(published[0].parent).toBe(open);
    expect(manager.list()).toEqual([]);
  });

  it("an unregistered target stops being served", () => {
    const { manager, handler, published } = setup();
    const opened: string[] = [];
    const off = manager.registerTarget("t", (comm) => void opened.push(comm.commId));
    handler.open(incoming("comm_open", { comm_id: "a", target_name: "t", data: {} }));
    off();
    handler.open(incoming("comm_open", { comm_id: "b", target_name: "t", data: {} }));
    expect(opened).toEqual(["a"]);
    expect(published.map((p) => [p.msgType, p.content.comm_id])).toEqual([["comm_close", "b"]]);
  });
});

describe("comms opened by the kernel", () => {
  it("sends comm_open with target, data, metadata and buffers, parented on the running request", () => {
    const cell = incoming("execute_request", { code: "" });
    const { manager, published } = setup(cell);
    const floats = new Float32Array([0, 1, 2, 3]).subarray(1, 3); // a view with an offset
    const comm = manager.open("my.target", { state: { a: 1 } }, { metadata: { version: "2.1.0" }, buffers: [floats, new Uint8Array([5]).buffer] });
    expect(comm.commId).toMatch(/^[0-9a-f]{32}$/);
    expect(published).toHaveLength(1);
    const [open] = published;
    expect(open.msgType).toBe("comm_open");
    expect(open.content).toEqual({ comm_id: comm.commId, target_name: "my.target", data: { state: { a: 1 } } });
    expect(open.metadata).toEqual({ version: "2.1.0" });
    expect(open.parent).toBe(cell);
    expect(Buffer.isBuffer(open.buffers[0])).toBe(true);
    expect([...new Float32Array(new Uint8Array(open.buffers[0]).buffer)]).toEqual([1, 2]);
    expect([...open.buffers[1]]).toEqual([5]);
  });

  it("receives the frontend's comm_msg and comm_close; close() sends comm_close once", () => {
    const { manager, handler, published } = setup();
    const comm = manager.open("k.target");
    const got: unknown[] = [];
    comm.onMsg((data, buffers) => void got.push([data, buffers.map(bytesOf)]));
    handler.msg(incoming("comm_msg", { comm_id: comm.commId, data: { method: "x" } }, [frameAt(2, [4, 2])]));
    expect(got).toEqual([[{ method: "x" }, [[4, 2]]]]);

    comm.close({ reason: "done" });
    comm.close();
    expect(comm.closed).toBe(true);
    const closes = published.filter((p) => p.msgType === "comm_close");
    expect(closes.map((p) => p.content)).toEqual([{ comm_id: comm.commId, data: { reason: "done" } }]);
    expect(manager.list()).toEqual([]);
    expect(() => comm.send({})).toThrow(/closed/);
  });

  it("calls onClose when the frontend closes a kernel-opened comm", () => {
    const { manager, handler } = setup();
    const comm = manager.open("k.target");
    const closed: unknown[] = [];
    comm.onClose((data) => void closed.push(data));
    handler.close(incoming("comm_close", { comm_id: comm.commId, data: {} }));
    expect(closed).toEqual([{}]);
    expect(comm.closed).toBe(true);
  });
});

describe("comm_info", () => {
  it("lists open comms, filtered by target name", () => {
    const { manager, handler } = setup();
    manager.registerTarget("front", () => {});
    handler.open(incoming("comm_open", { comm_id: "f1", target_name: "front", data: {} }));
    const k1 = manager.open("jupyter.widget");
    const k2 = manager.open("jupyter.widget");
    const other = manager.open("other");
    expect(handler.info()).toEqual({
      f1: { target_name: "front" },
      [k1.commId]: { target_name: "jupyter.widget" },
      [k2.commId]: { target_name: "jupyter.widget" },
      [other.commId]: { target_name: "other" },
    });
    expect(handler.info("jupyter.widget")).toEqual({ [k1.commId]: { target_name: "jupyter.widget" }, [k2.commId]: { target_name: "jupyter.widget" } });
    expect(handler.info("nothing")).toEqual({});
    k1.close();
    expect(Object.keys(handler.info("jupyter.widget"))).toEqual([k2.commId]);
    expect(manager.list("front").map((c) => c.commId)).toEqual(["f1"]);
  });
});

describe("handler errors", () => {
  it("an onOpen that throws is logged and its comm closed; the manager keeps working", () => {
    const { manager, handler, published, logs } = setup();
    manager.registerTarget("bad", () => {
      throw new Error("open exploded");
    });
    const open = incoming("comm_open", { comm_id: "bad-1", target_name: "bad", data: {} });
    expect(() => handler.open(open)).not.toThrow();
    expect(logs.some((line) => line.includes("open exploded") && line.includes('"bad"'))).toBe(true);
    expect(published.map((p) => [p.msgType, p.content.comm_id, p.parent])).toEqual([["comm_close", "bad-1", open]]);
    expect(manager.list()).toEqual([]);
    // Still serving.
    manager.registerTarget("good", () => {});
    handler.open(incoming("comm_open", { comm_id: "good-1", target_name: "good", data: {} }));
    expect(Object.keys(handler.info())).toEqual(["good-1"]);
  });

  it("a throwing onMsg handler is logged and the other handlers still run", () => {
    const { manager, handler, logs } = setup();
    const seen: string[] = [];
    manager.registerTarget("t", (comm) => {
      comm.onMsg(() => {
        throw new TypeError("first handler broke");
      });
      comm.onMsg(() => void seen.push("second"));
    });
    handler.open(incoming("comm_open", { comm_id: "e1", target_name: "t", data: {} }));
    expect(() => handler.msg(incoming("comm_msg", { comm_id: "e1", data: {} }))).not.toThrow();
    expect(seen).toEqual(["second"]);
    expect(logs.some((line) => line.includes("TypeError: first handler broke") && line.includes("e1"))).toBe(true);
  });

  it("a rejected async handler and a throwing onClose are logged, not thrown", async () => {
    const { manager, handler, logs } = setup();
    manager.registerTarget("t", (comm) => {
      comm.onMsg(async () => {
        await Promise.resolve();
        throw new Error("async failure");
      });
      comm.onClose(() => {
        throw new Error("close failure");
      });
    });
    handler.open(incoming("comm_open", { comm_id: "e2", target_name: "t", data: {} }));
    handler.msg(incoming("comm_msg", { comm_id: "e2", data: {} }));
    expect(() => handler.close(incoming("comm_close", { comm_id: "e2", data: {} }))).not.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(logs.some((line) => line.includes("async failure"))).toBe(true);
    expect(logs.some((line) => line.includes("close failure"))).toBe(true);
  });

  it("ignores a comm_open without comm_id or target_name (logged)", () => {
    const { handler, published, logs } = setup();
    handler.open(incoming("comm_open", { target_name: "t" }));
    expect(published).toEqual([]);
    expect(logs).toHaveLength(1);
  });
});

describe("CommManager.fromServices", () => {
  it("publishes through the services and parents on the current cell", () => {
    const cell = incoming("execute_request", { code: "1" });
    const calls: [string, Record<string, unknown>, JupyterMessage | undefined][] = [];
    const services = {
      session: "s",
      publish: (msgType: string, content: Record<string, unknown>, options?: { parent?: JupyterMessage }) => void calls.push([msgType, content, options?.parent]),
      currentCell: () => ({ parent: cell }),
      log: () => {},
    } as unknown as KernelServices;
    const manager = CommManager.fromServices(services);
    const comm = manager.open("x");
    expect(calls).toEqual([["comm_open", { comm_id: comm.commId, target_name: "x", data: {} }, cell]]);
  });
});
