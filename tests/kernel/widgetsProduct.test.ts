/**
 * Widgets end to end in the product kernel (dist/kernel/main.js, `npm run build` first): a
 * TypeScript cell creates a WidgetModel from "mechlab" and shows it as its result; the client
 * plays the frontend (update with a binary buffer, echo, idle parenting, control comm).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtKernelArgv, KernelClient } from "./protocolClient";
import type { JupyterMessage } from "../../kernel/wire/message";


const types = (messages: JupyterMessage[]) => messages.map((m) => (m.header.msg_type === "status" ? `status:${m.content.execution_state}` : m.header.msg_type));
const floats = (buffer: Buffer) => [...new Float32Array(new Uint8Array(buffer).buffer)];
const execute = (code: string) => ({ code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });
const TIMEOUT = 120_000;

describe("widgets in the product kernel", () => {
  let kernel: KernelClient;
  let modelId: string;

  beforeAll(async () => {
    kernel = await KernelClient.launch(builtKernelArgv(), { readyTimeoutMs: TIMEOUT });
  }, TIMEOUT);
  afterAll(async () => {
    await kernel?.stop();
  });

  it("a cell's widget result opens the comm and shows the widget view", async () => {
    const code = [
      `import { WidgetModel, DOM_WIDGET_DEFAULTS } from "mechlab";`,
      `const w = new WidgetModel({`,
      `  _model_module: "mechlab-test", _model_module_version: "0.1.0", _model_name: "TestModel",`,
      `  _view_module: "mechlab-test", _view_module_version: "0.1.0", _view_name: "TestView",`,
      `  ...DOM_WIDGET_DEFAULTS, value: 1, doubled: 2, data: new Float32Array([0.5, 1.5]) as Float32Array | DataView,`,
      `});`,
      `w.on("change:value", ({ value }) => w.set("doubled", value * 2));`,
      `w`,
    ].join("\n");
    const { reply, iopub } = await kernel.request("shell", "execute_request", execute(code), { timeoutMs: TIMEOUT });
    expect(reply.content.status).toBe("ok");
    const open = iopub.find((m) => m.header.msg_type === "comm_open")!;
    expect(open.metadata).toEqual({ version: "2.1.0" });
    expect(open.content.target_name).toBe("jupyter.widget");
    expect(open.content.data.buffer_paths).toEqual([["data"]]);
    expect(floats(open.buffers[0])).toEqual([0.5, 1.5]);
    modelId = open.content.comm_id;
    const result = iopub.find((m) => m.header.msg_type === "execute_result" || m.header.msg_type === "display_data")!;
    expect(result.content.data["application/vnd.jupyter.widget-view+json"]).toEqual({ model_id: modelId, version_major: 2, version_minor: 0 });
    expect(result.content.data["text/plain"]).toContain("TestModel");
  }, TIMEOUT);

  it("an update with a buffer reaches the cell's state, is echoed, and the idle has the comm_msg as parent", async () => {
    const update = kernel.send(
      "shell",
      "comm_msg",
      { comm_id: modelId, data: { method: "update", state: { value: 21 }, buffer_paths: [["data"]] } },
      { buffers: [new Float32Array([3, 4])] },
    );
    const iopub = await kernel.iopubUntilIdle(update, TIMEOUT);
    expect(types(iopub)).toEqual(["status:busy", "comm_msg", "comm_msg", "status:idle"]);
    expect(iopub[1].content.data).toEqual({ method: "echo_update", state: { value: 21 }, buffer_paths: [["data"]] });
    expect(floats(iopub[1].buffers[0])).toEqual([3, 4]);
    expect(iopub[2].content.data).toEqual({ method: "update", state: { doubled: 42 }, buffer_paths: [] });

    const code = `const d = w.get("data") as DataView; console.log(JSON.stringify({ value: w.get("value"), doubled: w.get("doubled"), data: [d.getFloat32(0, true), d.getFloat32(4, true)] }))`;
    const { iopub: shown } = await kernel.request("shell", "execute_request", execute(code), { timeoutMs: TIMEOUT });
    const stdout = shown.filter((m) => m.header.msg_type === "stream" && m.content.name === "stdout").map((m) => m.content.text).join("");
    expect(JSON.parse(stdout)).toEqual({ value: 21, doubled: 42, data: [3, 4] });
  }, TIMEOUT);

  it("the control comm is registered at start and answers request_states", async () => {
    const open = kernel.send("shell", "comm_open", { comm_id: "control-1", target_name: "jupyter.widget.control", data: {} }, { metadata: { version: "1.0.0" } });
    expect(types(await kernel.iopubUntilIdle(open, TIMEOUT))).toEqual(["status:busy", "status:idle"]);
    const request = kernel.send("shell", "comm_msg", { comm_id: "control-1", data: { method: "request_states" } });
    const iopub = await kernel.iopubUntilIdle(request, TIMEOUT);
    const reply = iopub.find((m) => m.header.msg_type === "comm_msg")!;
    expect(reply.content.data.method).toBe("update_states");
    expect(reply.content.data.states[modelId]).toMatchObject({ model_name: "TestModel", state: { value: 21, doubled: 42 } });
    expect(reply.content.data.buffer_paths).toEqual([[modelId, "state", "data"]]);
    expect(floats(reply.buffers[0])).toEqual([3, 4]);
    await kernel.iopubUntilIdle(kernel.send("shell", "comm_close", { comm_id: "control-1", data: {} }), TIMEOUT);
  }, TIMEOUT);
});
