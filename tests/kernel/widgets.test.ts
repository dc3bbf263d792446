/**
 * Widgets end to end over real ZeroMQ sockets: a kernel (tests/kernel/widgetKernel.ts: the real
 * server, comm manager and widget runtime, cells from test hooks) opens a widget; the client plays
 * the widget frontend: updates with binary buffers, echo_update, idle parenting, request_state,
 * custom messages, comm_info and the control comm.
 */
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KernelClient } from "./protocolClient";
import type { JupyterMessage } from "../../kernel/wire/message";

const ROOT = join(__dirname, "../..");
const widgetKernelArgv = () => [process.execPath, "--import", "tsx", join(ROOT, "tests/kernel/widgetKernel.ts"), "-f", "{connection_file}"];

const types = (messages: JupyterMessage[]) => messages.map((m) => (m.header.msg_type === "status" ? `status:${m.content.execution_state}` : m.header.msg_type));
const floats = (buffer: Buffer) => [...new Float32Array(new Uint8Array(buffer).buffer)];

function execute(code: string) {
  return { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true };
}

describe("widgets through the kernel (protocol 2.1.0)", () => {
  let kernel: KernelClient;
  let modelId: string;

  beforeAll(async () => {
    kernel = await KernelClient.launch(widgetKernelArgv());
  });
  afterAll(async () => {
    await kernel?.stop();
  });

  it("a cell opens a widget: comm_open on jupyter.widget with version 2.1.0, then the view's display_data", async () => {
    const { request, iopub } = await kernel.request("shell", "execute_request", execute("widget new"));
    const open = iopub.find((m) => m.header.msg_type === "comm_open")!;
    expect(open).toBeDefined();
    expect((open.parent_header as { msg_id: string }).msg_id).toBe(request.header.msg_id);
    expect(open.metadata).toEqual({ version: "2.1.0" });
    expect(open.content.target_name).toBe("jupyter.widget");
    modelId = open.content.comm_id;
    expect(open.content.data.buffer_paths).toEqual([["data"]]);
    expect(open.content.data.state).toMatchObject({ _model_name: "TestModel", _view_name: "TestView", _dom_classes: [], value: 1, doubled: 2 });
    expect(open.buffers).toHaveLength(1);
    expect(floats(open.buffers[0])).toEqual([0.5, 1.5]);

    const display = iopub.find((m) => m.header.msg_type === "display_data")!;
    expect(display.content.data["application/vnd.jupyter.widget-view+json"]).toEqual({ model_id: modelId, version_major: 2, version_minor: 0 });
    expect(display.content.data["text/plain"]).toContain("TestModel");
    expect(types(iopub).indexOf("comm_open")).toBeLessThan(types(iopub).indexOf("display_data"));
  });

  it("an update with a binary buffer: the kernel applies it, echoes it, sends its own change, and the idle has the comm_msg as parent", async () => {
    const update = kernel.send(
      "shell",
      "comm_msg",
      { comm_id: modelId, data: { method: "update", state: { value: 21 }, buffer_paths: [["data"]] } },
      { buffers: [new Float32Array([3, 4, 5])] },
    );
    const iopub = await kernel.iopubUntilIdle(update);
    // iopubUntilIdle collects only messages parented on the update, ending with its idle.
    expect(types(iopub)).toEqual(["status:busy", "comm_msg", "comm_msg", "status:idle"]);
    const [, echo, derived] = iopub;
    expect(echo.content).toEqual({ comm_id: modelId, data: { method: "echo_update", state: { value: 21 }, buffer_paths: [["data"]] } });
    expect(floats(echo.buffers[0])).toEqual([3, 4, 5]);
    expect(derived.content).toEqual({ comm_id: modelId, data: { method: "update", state: { doubled: 42 }, buffer_paths: [] } });

    const { iopub: shown } = await kernel.request("shell", "execute_request", execute("widget show"));
    const stdout = shown.filter((m) => m.header.msg_type === "stream").map((m) => m.content.text).join("");
    expect(JSON.parse(stdout)).toEqual({ value: 21, doubled: 42, data: [3, 4, 5] });
  });

  it("request_state is answered with the full state and its buffer", async () => {
    const request = kernel.send("shell", "comm_msg", { comm_id: modelId, data: { method: "request_state" } });
    const iopub = await kernel.iopubUntilIdle(request);
    expect(types(iopub)).toEqual(["status:busy", "comm_msg", "status:idle"]);
    const { data } = iopub[1].content;
    expect(data.method).toBe("update");
    expect(data.state).toMatchObject({ _model_name: "TestModel", value: 21, doubled: 42 });
    expect(data.buffer_paths).toEqual([["data"]]);
    expect(floats(iopub[1].buffers[0])).toEqual([3, 4, 5]);
  });

  it("custom messages carry buffers both ways", async () => {
    const custom = kernel.send(
      "shell",
      "comm_msg",
      { comm_id: modelId, data: { method: "custom", content: { clicked: [1, 2] } } },
      { buffers: [Buffer.from([1]), Buffer.from([2, 2])] },
    );
    const iopub = await kernel.iopubUntilIdle(custom);
    expect(types(iopub)).toEqual(["status:busy", "comm_msg", "status:idle"]);
    expect(iopub[1].content.data).toEqual({ method: "custom", content: { echo: { clicked: [1, 2] } } });
    expect(iopub[1].buffers.map((b) => [...b])).toEqual([[2, 2], [1]]);
  });

  it("comm_info lists the widget under jupyter.widget", async () => {
    const { reply } = await kernel.request("shell", "comm_info_request", { target_name: "jupyter.widget" });
    expect(reply.header.msg_type).toBe("comm_info_reply");
    expect(reply.content).toEqual({ status: "ok", comms: { [modelId]: { target_name: "jupyter.widget" } } });
  });

  it("the control comm answers request_states with update_states, buffer paths prefixed with the model id", async () => {
    const controlId = "control-comm-1";
    const open = kernel.send("shell", "comm_open", { comm_id: controlId, target_name: "jupyter.widget.control", data: {} }, { metadata: { version: "1.0.0" } });
    expect(types(await kernel.iopubUntilIdle(open))).toEqual(["status:busy", "status:idle"]); // accepted: no comm_close

    const request = kernel.send("shell", "comm_msg", { comm_id: controlId, data: { method: "request_states" } });
    const iopub = await kernel.iopubUntilIdle(request);
    expect(types(iopub)).toEqual(["status:busy", "comm_msg", "status:idle"]);
    const reply = iopub[1];
    expect(reply.content.comm_id).toBe(controlId);
    const { data } = reply.content;
    expect(data.method).toBe("update_states");
    expect(Object.keys(data.states)).toEqual([modelId]);
    expect(data.states[modelId]).toMatchObject({
      model_name: "TestModel",
      model_module: "mechlab-test",
      model_module_version: "0.1.0",
      state: { _view_name: "TestView", value: 21, doubled: 42 },
    });
    expect(data.buffer_paths).toEqual([[modelId, "state", "data"]]);
    expect(floats(reply.buffers[0])).toEqual([3, 4, 5]);

    // The frontend closes the control comm once it has the states.
    await kernel.iopubUntilIdle(kernel.send("shell", "comm_close", { comm_id: controlId, data: {} }));
    const { reply: info } = await kernel.request("shell", "comm_info_request", {});
    expect(info.content.comms).toEqual({ [modelId]: { target_name: "jupyter.widget" } });
  });

  it("a comm_close from the frontend closes the widget", async () => {
    await kernel.iopubUntilIdle(kernel.send("shell", "comm_close", { comm_id: modelId, data: {} }));
    const { reply } = await kernel.request("shell", "comm_info_request", { target_name: "jupyter.widget" });
    expect(reply.content.comms).toEqual({});
    expect(kernel.stderr).not.toMatch(/threw/);
  });
});
