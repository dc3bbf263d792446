/**
 * The widget protocol 2.1.0 runtime: buffer splitting, state sync messages on the wire (through the
 * kernel's real comm manager over a recording transport), the control comm, events, display, and
 * models without a kernel.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CommManager, framesToDataViews, toFrames } from "../../kernel/comms";
import { createHeader, type JupyterMessage } from "../../kernel/wire/message";
import { setKernelRuntime, type KernelRuntime } from "../../src/notebook/kernelRuntime";
import {
  CONTROL_TARGET,
  DOM_WIDGET_DEFAULTS,
  WIDGET_VIEW_MIME,
  WidgetModel,
  getLiveModel,
  liveModels,
  putBuffers,
  registerWidgetControl,
  removeBuffers,
  type ChangeEvent,
  type DOMWidgetState,
} from "../../src/widgets/runtime";

// ---- buffers ----

describe("removeBuffers / putBuffers", () => {
  const f32 = new Float32Array([1.5, -2, 3.25]);
  const i32 = new Int32Array([7, -8]);
  const u8 = new Uint8Array([1, 2, 255]);
  const f64 = new Float64Array([Math.PI]);
  const u16 = new Uint16Array([65535, 3]);
  const view = new DataView(new Uint8Array([9, 10, 11, 12]).buffer, 1, 2);
  const raw = new Uint8Array([42, 43]).buffer;
  const state = {
    title: "t",
    top: f32,
    nested: { deep: { ints: i32, keep: [1, 2] }, label: "x" },
    list: [u8, "a", { inner: f64, n: null }, [u16, 5]],
    view,
    raw,
    untouched: { a: [1, { b: 2 }] },
  };

  it("removes buffers at object keys and nulls them in lists, recording their paths", () => {
    const split = removeBuffers(state);
    expect(split.bufferPaths).toEqual([
      ["top"],
      ["nested", "deep", "ints"],
      ["list", 0],
      ["list", 2, "inner"],
      ["list", 3, 0],
      ["view"],
      ["raw"],
    ]);
    expect(split.buffers).toEqual([f32, i32, u8, f64, u16, view, raw]);
    expect(split.buffers[0]).toBe(f32);
    expect(split.state).toEqual({
      title: "t",
      nested: { deep: { keep: [1, 2] }, label: "x" },
      list: [null, "a", { n: null }, [null, 5]],
      untouched: { a: [1, { b: 2 }] },
    });
    expect("top" in split.state).toBe(false);
    // The input is left alone; parts without buffers are shared, not copied.
    expect(state.top).toBe(f32);
    expect(state.list[0]).toBe(u8);
    expect(split.state.untouched).toBe(state.untouched);
    expect(JSON.parse(JSON.stringify(split.state))).toEqual(split.state);
  });

  it("round-trips through raw frames: every buffer comes back at its path with its bytes", () => {
    const split = removeBuffers(state);
    // What the wire does: frames out, DataViews over frames in.
    const views = framesToDataViews(toFrames(split.buffers));
    const back = putBuffers(JSON.parse(JSON.stringify(split.state)), split.bufferPaths, views) as any;
    const bytes = (v: ArrayBuffer | ArrayBufferView) =>
      ArrayBuffer.isView(v) ? [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)] : [...new Uint8Array(v)];
    expect(back.top).toBeInstanceOf(DataView);
    expect([...new Float32Array(bytes(back.top).length / 4).map((_, i) => back.top.getFloat32(i * 4, true))]).toEqual([1.5, -2, 3.25]);
    expect(bytes(back.nested.deep.ints)).toEqual(bytes(i32));
    expect(back.nested.deep.keep).toEqual([1, 2]);
    expect(bytes(back.list[0])).toEqual([1, 2, 255]);
    expect(back.list[1]).toBe("a");
    expect(back.list[2].inner.getFloat64(0, true)).toBe(Math.PI);
    expect(back.list[2].n).toBeNull();
    expect(bytes(back.list[3][0])).toEqual(bytes(u16));
    expect(back.list[3][1]).toBe(5);
    expect(bytes(back.view)).toEqual([10, 11]);
    expect(bytes(back.raw)).toEqual([42, 43]);
    expect(back.title).toBe("t");
  });

  it("a state without buffers comes back as the same object with no paths", () => {
    const plain = { a: 1, b: [1, 2, { c: "d" }] };
    const split = removeBuffers(plain);
    expect(split.state).toBe(plain);
    expect(split.bufferPaths).toEqual([]);
    expect(split.buffers).toEqual([]);
  });

  it("putBuffers creates missing containers and rejects a paths/buffers mismatch", () => {
    const target: any = {};
    const v = new DataView(new ArrayBuffer(1));
    putBuffers(target, [["a", 1, "b"]], [v]);
    expect(Array.isArray(target.a)).toBe(true);
    expect(target.a[1].b).toBe(v);
    expect(() => putBuffers({}, [["x"]], [])).toThrow(/0 buffers for 1 buffer paths/);
  });
});

// ---- the kernel side, over the real comm manager ----

interface Sent {
  msgType: string;
  content: Record<string, any>;
  metadata: Record<string, unknown>;
  buffers: Buffer[];
  parent?: JupyterMessage;
}

function incoming(msgType: string, content: Record<string, unknown>, buffers: Buffer[] = []): JupyterMessage {
  return { identities: [], header: createHeader(msgType, "frontend", "user"), parent_header: {}, metadata: {}, content, buffers };
}

let sent: Sent[];
let logs: string[];
let comms: CommManager;
let cell: JupyterMessage;

function installKernel(): void {
  sent = [];
  logs = [];
  cell = incoming("execute_request", { code: "" });
  comms = new CommManager({
    publish: (msgType, content, options) =>
      void sent.push({ msgType, content, metadata: options?.metadata ?? {}, buffers: (options?.buffers ?? []) as Buffer[], parent: options?.parent }),
    log: (line) => void logs.push(line),
    currentParent: () => cell,
  });
  const runtime: KernelRuntime = {
    comms,
    display: () => {},
    clearOutput: () => {},
    requestInput: () => Promise.reject(new Error("no stdin in tests")),
  };
  setKernelRuntime(runtime);
}

/** A frontend message on the model's comm, buffers as frames. */
function fromFrontend(model: WidgetModel<any>, data: Record<string, unknown>, buffers: ArrayBufferView[] = []): JupyterMessage {
  const msg = incoming("comm_msg", { comm_id: model.modelId, data }, toFrames(buffers));
  comms.handler.msg(msg);
  return msg;
}

/** The bundle through the display protocol, as the kernel's display code asks for it. */
const displayOf = (value: object): Record<string, unknown> =>
  (value as Record<symbol, () => Record<string, unknown>>)[Symbol.for("Jupyter.display")]();
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
const floatsOf = (buffer: Buffer) => [...new Float32Array(new Uint8Array(buffer).buffer)];

interface SliderState extends DOMWidgetState {
  value: number;
  max: number;
  label: string;
  data: Float32Array | DataView | null;
}

const SLIDER: SliderState = {
  _model_module: "mechlab-widgets",
  _model_module_version: "^0.1.0",
  _model_name: "SliderModel",
  _view_module: "mechlab-widgets",
  _view_module_version: "^0.1.0",
  _view_name: "SliderView",
  ...DOM_WIDGET_DEFAULTS,
  value: 1,
  max: 10,
  label: "layer",
  data: null,
};

class Slider extends WidgetModel<SliderState> {
  protected override htmlFallback(): string {
    return `<div class="slider">${this.get("label")}=${this.get("value")}</div>`;
  }
}

beforeEach(() => installKernel());
afterEach(() => {
  for (const model of liveModels()) model.close();
  setKernelRuntime(undefined);
});

describe("WidgetModel in a kernel", () => {
  it("opens comm target jupyter.widget with metadata.version 2.1.0 and {state, buffer_paths} plus buffers", () => {
    const data = new Float32Array([0.5, 0.25]);
    const model = new WidgetModel({ ...SLIDER, data });
    expect(sent).toHaveLength(1);
    const [open] = sent;
    expect(open.msgType).toBe("comm_open");
    expect(open.content.target_name).toBe("jupyter.widget");
    expect(open.content.comm_id).toBe(model.modelId);
    expect(open.metadata).toEqual({ version: "2.1.0" });
    const { data: body } = open.content;
    expect(Object.keys(body).sort()).toEqual(["buffer_paths", "state"]);
    expect(body.buffer_paths).toEqual([["data"]]);
    expect(body.state).toEqual({
      _model_module: "mechlab-widgets",
      _model_module_version: "^0.1.0",
      _model_name: "SliderModel",
      _view_module: "mechlab-widgets",
      _view_module_version: "^0.1.0",
      _view_name: "SliderView",
      _dom_classes: [],
      tabbable: null,
      tooltip: null,
      value: 1,
      max: 10,
      label: "layer",
    });
    expect(open.buffers).toHaveLength(1);
    expect(floatsOf(open.buffers[0])).toEqual([0.5, 0.25]);
    expect(open.parent).toBe(cell);
    expect(model.live).toBe(true);
    expect(getLiveModel(model.modelId)).toBe(model);
    expect(comms.handler.info("jupyter.widget")).toEqual({ [model.modelId]: { target_name: "jupyter.widget" } });
  });

  it("batches the sets of one tick into one update with only the changed keys", async () => {
    const model = new WidgetModel(SLIDER);
    sent.length = 0;
    model.set("value", 2);
    model.set({ label: "head", max: 10 }); // max unchanged
    model.set("value", 3);
    expect(sent).toEqual([]); // nothing before the tick ends
    await tick();
    expect(sent).toHaveLength(1);
    expect(sent[0].msgType).toBe("comm_msg");
    expect(sent[0].content).toEqual({ comm_id: model.modelId, data: { method: "update", state: { value: 3, label: "head" }, buffer_paths: [] } });
    expect(sent[0].buffers).toEqual([]);

    model.set("value", 3); // equal: no message
    await tick();
    expect(sent).toHaveLength(1);

    model.set("data", new Float32Array([4, 5]));
    await tick();
    expect(sent[1].content.data).toEqual({ method: "update", state: {}, buffer_paths: [["data"]] });
    expect(floatsOf(sent[1].buffers[0])).toEqual([4, 5]);
  });

  it("resends an object set again after an in-place change; flush() sends at once", () => {
    const model = new WidgetModel({ ...SLIDER, tags: ["a"] } as SliderState & { tags: string[] });
    sent.length = 0;
    const tags = model.get("tags");
    tags.push("b");
    model.set("tags", tags);
    model.flush();
    expect(sent.map((s) => s.content.data)).toEqual([{ method: "update", state: { tags: ["a", "b"] }, buffer_paths: [] }]);
  });

  it("fires change events for kernel-side sets, with old and new values", () => {
    const model = new WidgetModel(SLIDER);
    const events: ChangeEvent<SliderState, "value">[] = [];
    const all: unknown[] = [];
    model.on("change:value", (event) => void events.push(event));
    const off = model.on("change", (event) => void all.push(event.changed));
    model.set({ value: 5, label: "z" });
    off();
    model.set("value", 6);
    expect(events.map(({ name, value, old, fromFrontend }) => ({ name, value, old, fromFrontend }))).toEqual([
      { name: "value", value: 5, old: 1, fromFrontend: false },
      { name: "value", value: 6, old: 5, fromFrontend: false },
    ]);
    expect(events[0].model).toBe(model);
    expect(all).toEqual([{ value: 5, label: "z" }]);
  });

  it("applies a frontend update with a binary buffer, echoes it first, then sends what handlers changed", () => {
    const model = new WidgetModel(SLIDER);
    const seen: unknown[] = [];
    model.on("change:value", ({ value, fromFrontend }) => {
      seen.push(["value", value, fromFrontend]);
      model.set("label", `value is ${value}`); // a derived key: goes back as an update
      model.set("value", value); // the frontend's own value: not sent back
    });
    model.on("change:data", ({ value }) => void seen.push(["data", [...new Float32Array((value as DataView).buffer, (value as DataView).byteOffset, 2)]]));
    sent.length = 0;
    const msg = fromFrontend(model, { method: "update", state: { value: 7 }, buffer_paths: [["data"]] }, [new Float32Array([8, 9])]);

    // The kernel sees the change, with the buffer as a DataView.
    expect(model.get("value")).toBe(7);
    expect(model.get("data")).toBeInstanceOf(DataView);
    expect(seen).toEqual([["value", 7, true], ["data", [8, 9]]]);
    // Wire: echo_update with the same state and buffers, then the handler's update — before the handling ends.
    expect(sent.map((s) => s.content.data.method)).toEqual(["echo_update", "update"]);
    const [echo, update] = sent;
    expect(echo.content).toEqual({ comm_id: model.modelId, data: { method: "echo_update", state: { value: 7 }, buffer_paths: [["data"]] } });
    expect(floatsOf(echo.buffers[0])).toEqual([8, 9]);
    expect(update.content.data).toEqual({ method: "update", state: { label: "value is 7" }, buffer_paths: [] });
    expect(sent.every((s) => s.parent === msg)).toBe(true);
  });

  it("sends a corrected value back when a handler rejects the frontend's value", () => {
    const model = new WidgetModel(SLIDER);
    model.on("change:value", ({ value }) => {
      if (value > model.get("max")) model.set("value", model.get("max"));
    });
    sent.length = 0;
    fromFrontend(model, { method: "update", state: { value: 99 }, buffer_paths: [] });
    expect(sent.map((s) => s.content.data)).toEqual([
      { method: "echo_update", state: { value: 99 }, buffer_paths: [] },
      { method: "update", state: { value: 10 }, buffer_paths: [] },
    ]);
    expect(model.get("value")).toBe(10);
  });

  it("does not echo keys marked noEcho", () => {
    const model = new WidgetModel(SLIDER, { noEcho: ["data"] });
    sent.length = 0;
    fromFrontend(model, { method: "update", state: { value: 2 }, buffer_paths: [["data"]] }, [new Uint8Array([1])]);
    expect(sent.map((s) => s.content.data)).toEqual([{ method: "echo_update", state: { value: 2 }, buffer_paths: [] }]);
    expect(sent[0].buffers).toEqual([]);
    sent.length = 0;
    fromFrontend(model, { method: "update", state: {}, buffer_paths: [["data"]] }, [new Uint8Array([2])]);
    expect(sent).toEqual([]);
  });

  it("answers request_state with the full state as an update, buffers included", () => {
    const model = new WidgetModel({ ...SLIDER, data: new Float32Array([3]) });
    model.set("value", 4);
    sent.length = 0;
    const msg = fromFrontend(model, { method: "request_state" });
    expect(sent).toHaveLength(1);
    const { data } = sent[0].content;
    expect(data.method).toBe("update");
    expect(data.buffer_paths).toEqual([["data"]]);
    const { data: _binary, ...jsonPart } = SLIDER;
    expect(data.state).toEqual({ ...jsonPart, value: 4 });
    expect("data" in data.state).toBe(false);
    expect(floatsOf(sent[0].buffers[0])).toEqual([3]);
    expect(sent[0].parent).toBe(msg);
  });

  it("carries custom messages with buffers both ways", () => {
    const model = new WidgetModel(SLIDER);
    const got: unknown[] = [];
    model.onCustom((content, buffers) => {
      got.push([content, buffers.map((b) => b.getUint8(0))]);
      model.sendCustom({ reply: content }, [new Uint8Array([buffers[0].getUint8(0) + 1])]);
    });
    sent.length = 0;
    const msg = fromFrontend(model, { method: "custom", content: { event: "click", cell: [2, 3] } }, [new Uint8Array([41])]);
    expect(got).toEqual([[{ event: "click", cell: [2, 3] }, [41]]]);
    expect(sent).toHaveLength(1);
    expect(sent[0].content.data).toEqual({ method: "custom", content: { reply: { event: "click", cell: [2, 3] } } });
    expect([...sent[0].buffers[0]]).toEqual([42]);
    expect(sent[0].parent).toBe(msg);
  });

  it("close() sends comm_close and takes the model out of the live set; later sets send nothing", async () => {
    const model = new WidgetModel(SLIDER);
    const closes: boolean[] = [];
    model.on("close", ({ fromFrontend }) => void closes.push(fromFrontend));
    sent.length = 0;
    model.close();
    expect(sent.map((s) => [s.msgType, s.content.comm_id])).toEqual([["comm_close", model.modelId]]);
    expect(model.live).toBe(false);
    expect(getLiveModel(model.modelId)).toBeUndefined();
    expect(closes).toEqual([false]);
    model.set("value", 9);
    await tick();
    expect(sent).toHaveLength(1);
    expect(model.get("value")).toBe(9);
    expect(model.sendCustom({})).toBe(false);
  });

  it("a comm_close from the frontend closes the model", () => {
    const model = new WidgetModel(SLIDER);
    const closes: boolean[] = [];
    model.on("close", ({ fromFrontend }) => void closes.push(fromFrontend));
    comms.handler.close(incoming("comm_close", { comm_id: model.modelId, data: {} }));
    expect(closes).toEqual([true]);
    expect(model.live).toBe(false);
    expect(liveModels()).not.toContain(model);
  });

  it("a throwing listener: kernel-side set throws after applying; a frontend update is logged, the kernel carries on", () => {
    const model = new WidgetModel(SLIDER);
    const later: number[] = [];
    model.on("change:value", () => {
      throw new Error("listener broke");
    });
    model.on("change:value", ({ value }) => void later.push(value));
    expect(() => model.set("value", 3)).toThrow("listener broke");
    expect(model.get("value")).toBe(3);
    sent.length = 0;
    expect(() => fromFrontend(model, { method: "update", state: { value: 4 }, buffer_paths: [] })).not.toThrow();
    expect(later).toEqual([3, 4]);
    expect(logs.some((line) => line.includes("listener broke"))).toBe(true);
    expect(sent.map((s) => s.content.data.method)).toEqual(["echo_update"]);
  });

  it("display bundle: the widget view reference, the subclass's HTML fallback and text/plain", () => {
    const slider = new Slider(SLIDER);
    slider.set("value", 4);
    sent.length = 0;
    const bundle = displayOf(slider);
    // The pending update is sent before the view is shown.
    expect(sent.map((s) => s.content.data)).toEqual([{ method: "update", state: { value: 4 }, buffer_paths: [] }]);
    expect(bundle[WIDGET_VIEW_MIME]).toEqual({ model_id: slider.modelId, version_major: 2, version_minor: 0 });
    expect(bundle["text/html"]).toBe('<div class="slider">layer=4</div>');
    expect(bundle["text/plain"]).toBe('SliderModel(value=4, max=10, label="layer")');
    expect(Object.keys(bundle)).toEqual([WIDGET_VIEW_MIME, "text/html", "text/plain"]);
    const plain = displayOf(new WidgetModel(SLIDER));
    expect("text/html" in plain).toBe(false);
  });
});

describe("the control comm and frontend-created models", () => {
  function openControl(): string {
    registerWidgetControl(comms);
    comms.handler.open(incoming("comm_open", { comm_id: "control-1", target_name: CONTROL_TARGET, data: {} }));
    return "control-1";
  }

  it("answers request_states with update_states: every live model, buffer paths prefixed with the model id", () => {
    const a = new WidgetModel({ ...SLIDER, data: new Float32Array([1, 2]) });
    const b = new WidgetModel({ ...SLIDER, value: 5, grid: [new Int32Array([6]), { w: new Uint8Array([7]) }] } as SliderState & { grid: unknown[] });
    const closed = new WidgetModel(SLIDER);
    closed.close();
    a.set("label", "pending"); // not flushed yet: the reply must still show it
    const controlId = openControl();
    sent.length = 0;
    const request = incoming("comm_msg", { comm_id: controlId, data: { method: "request_states" } });
    comms.handler.msg(request);

    const reply = sent.find((s) => s.content.comm_id === controlId)!;
    expect(reply.msgType).toBe("comm_msg");
    expect(reply.parent).toBe(request);
    const data = reply.content.data;
    expect(data.method).toBe("update_states");
    expect(Object.keys(data.states).sort()).toEqual([a.modelId, b.modelId].sort());
    expect(data.states[a.modelId]).toEqual({
      model_name: "SliderModel",
      model_module: "mechlab-widgets",
      model_module_version: "^0.1.0",
      state: expect.objectContaining({ value: 1, label: "pending", _view_name: "SliderView" }),
    });
    expect("data" in data.states[a.modelId].state).toBe(false);
    expect(data.states[b.modelId].state.grid).toEqual([null, {}]);
    expect(data.buffer_paths).toEqual([
      [a.modelId, "state", "data"],
      [b.modelId, "state", "grid", 0],
      [b.modelId, "state", "grid", 1, "w"],
    ]);
    expect(reply.buffers).toHaveLength(3);

    // What a frontend does with it: strip the model id, put the buffers into that model's entry.
    const states = JSON.parse(JSON.stringify(data.states));
    const views = framesToDataViews(reply.buffers);
    data.buffer_paths.forEach(([id, ...path]: (string | number)[], i: number) => putBuffers(states[id as string], [path], [views[i]]));
    expect(states[a.modelId].state.data.getFloat32(4, true)).toBe(2);
    expect(states[b.modelId].state.grid[0].getInt32(0, true)).toBe(6);
    expect(states[b.modelId].state.grid[1].w.getUint8(0)).toBe(7);
  });

  it("answers an unknown control method by logging, and the control comm closes cleanly", () => {
    const controlId = openControl();
    sent.length = 0;
    comms.handler.msg(incoming("comm_msg", { comm_id: controlId, data: { method: "nonsense" } }));
    expect(sent).toEqual([]);
    expect(logs.some((line) => line.includes("nonsense"))).toBe(true);
    comms.handler.close(incoming("comm_close", { comm_id: controlId, data: {} }));
    expect(comms.handler.info(CONTROL_TARGET)).toEqual({});
  });

  it("turns a jupyter.widget comm opened by the frontend into a live model with its state", () => {
    registerWidgetControl(comms);
    const state = { _model_module: "@jupyter-widgets/base", _model_module_version: "2.0.0", _model_name: "LayoutModel", _view_module: "@jupyter-widgets/base", _view_module_version: "2.0.0", _view_name: "LayoutView", width: "10px" };
    comms.handler.open(incoming("comm_open", { comm_id: "front-model", target_name: "jupyter.widget", data: { state, buffer_paths: [["blob"]] } }, toFrames([new Uint8Array([3])])));
    const model = getLiveModel("front-model")!;
    expect(model).toBeInstanceOf(WidgetModel);
    expect(model.get("width")).toBe("10px");
    expect((model.get("blob") as DataView).getUint8(0)).toBe(3);
    sent.length = 0;
    fromFrontend(model, { method: "request_state" });
    expect(sent[0].content.data.state).toEqual(state);
    expect(sent[0].content.data.buffer_paths).toEqual([["blob"]]);
  });
});

describe("without a kernel", () => {
  beforeEach(() => setKernelRuntime(undefined));

  it("is constructible, keeps state, fires events and displays statically", async () => {
    const slider = new Slider(SLIDER);
    expect(slider.modelId).toMatch(/^[0-9a-f]{32}$/);
    expect(slider.live).toBe(false);
    const values: number[] = [];
    slider.on("change:value", ({ value }) => void values.push(value));
    slider.set("value", 8);
    await tick();
    expect(values).toEqual([8]);
    expect(slider.get("value")).toBe(8);
    expect(sent).toEqual([]); // nothing reached the (uninstalled) kernel
    const bundle = displayOf(slider);
    expect(bundle).toEqual({ "text/html": '<div class="slider">layer=8</div>', "text/plain": 'SliderModel(value=8, max=10, label="layer")' });
    expect(slider.sendCustom({ x: 1 })).toBe(false);
    expect(liveModels()).not.toContain(slider);
    slider.close();
    expect(slider.closed).toBe(true);
  });

  it("can be given a comm registry explicitly", () => {
    const model = new WidgetModel(SLIDER, { comms });
    expect(model.live).toBe(true);
    expect(sent.map((s) => s.msgType)).toEqual(["comm_open"]);
  });
});
