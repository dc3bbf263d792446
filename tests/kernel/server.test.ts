/**
 * The kernel's wire layer and server core over real ZeroMQ, with the stub engine
 * (tests/kernel/stubEngine.ts) and the real comm manager.
 */
import { spawn } from "child_process";
import { readFileSync } from "fs";
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KernelClient, stubKernelArgv } from "./protocolClient";
import type { JupyterMessage } from "../../kernel/wire/message";

const ROOT = join(__dirname, "../..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const tslabTs = JSON.parse(readFileSync(join(ROOT, "node_modules/@tslab/typescript-for-tslab/package.json"), "utf8"));

const types = (messages: JupyterMessage[]) => messages.map((m) => (m.header.msg_type === "status" ? `status:${m.content.execution_state}` : m.header.msg_type));
const parentOf = (m: JupyterMessage) => (m.parent_header as { msg_id?: string }).msg_id;

function execute(code: string, extra: Record<string, unknown> = {}) {
  return { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: true, stop_on_error: true, ...extra };
}

/** busy first, idle last, all with the request as parent. */
function expectBusyIdleAround(request: JupyterMessage, iopub: JupyterMessage[]): void {
  expect(iopub.length).toBeGreaterThanOrEqual(2);
  for (const msg of iopub) expect(parentOf(msg)).toBe(request.header.msg_id);
  expect(types(iopub)[0]).toBe("status:busy");
  expect(types(iopub).at(-1)).toBe("status:idle");
  expect(types(iopub).filter((t) => t.startsWith("status:"))).toEqual(["status:busy", "status:idle"]);
}

describe("kernel server over zeromq (stub engine)", () => {
  let kernel: KernelClient;

  beforeAll(async () => {
    kernel = await KernelClient.launch(stubKernelArgv());
  });
  afterAll(async () => {
    await kernel?.stop();
  });

  it("answers kernel_info completely", async () => {
    const { request, reply, iopub } = await kernel.request("shell", "kernel_info_request", {});
    expect(reply.header.msg_type).toBe("kernel_info_reply");
    expect(reply.header.version).toBe("5.3");
    const c = reply.content;
    expect(c.status).toBe("ok");
    expect(c.protocol_version).toBe("5.3");
    expect(c.implementation).toBe("mechlab");
    expect(c.implementation_version).toBe(pkg.version);
    expect(c.language_info).toMatchObject({
      name: "typescript",
      version: tslabTs.version,
      mimetype: "text/typescript",
      file_extension: ".ts",
      codemirror_mode: { name: "javascript", typescript: true },
    });
    expect(c.banner).toMatch(/^mechlab /);
    expect(c.banner).toMatch(/tensor backend: (tensorflow|wasm|cpu) \(/);
    expect(c.help_links.length).toBeGreaterThan(0);
    for (const link of c.help_links) expect(link.url).toMatch(/^https:\/\//);
    expectBusyIdleAround(request, iopub);
  });

  it("published starting (if seen) before anything else, with no parent", () => {
    const first = kernel.inbox.iopub.all[0];
    if (first?.content.execution_state === "starting") {
      expect(parentOf(first)).toBeUndefined();
      expect(kernel.inbox.iopub.all.filter((m) => m.content.execution_state === "starting")).toHaveLength(1);
    } else {
      // The subscriber may connect after boot; then the first thing seen is a busy of the ready loop.
      expect(first.content.execution_state).toBe("busy");
    }
  });

  it("wraps an execute_request in busy/idle with execute_input first and counts executions", async () => {
    const first = await kernel.request("shell", "execute_request", execute("print hello\nresult 42"));
    expectBusyIdleAround(first.request, first.iopub);
    expect(types(first.iopub)).toEqual(["status:busy", "execute_input", "stream", "execute_result", "status:idle"]);
    const input = first.iopub[1];
    const count = input.content.execution_count;
    expect(input.content.code).toBe("print hello\nresult 42");
    expect(first.iopub[2].content).toEqual({ name: "stdout", text: "hello\n" });
    expect(first.iopub[3].content).toEqual({ execution_count: count, data: { "text/plain": "42" }, metadata: {} });
    expect(first.reply.content).toEqual({ status: "ok", execution_count: count, user_expressions: {}, payload: [] });

    const second = await kernel.request("shell", "execute_request", execute("print again"));
    expect(second.reply.content.execution_count).toBe(count + 1);

    // silent: no execute_input, no execute_result, no new count.
    const silent = await kernel.request("shell", "execute_request", execute("print quiet\nresult 1", { silent: true }));
    expect(types(silent.iopub)).toEqual(["status:busy", "stream", "status:idle"]);
    expect(silent.reply.content.execution_count).toBe(count + 1);
    // store_history false: shown, not counted.
    const unstored = await kernel.request("shell", "execute_request", execute("result 2", { store_history: false }));
    expect(unstored.reply.content.execution_count).toBe(count + 1);
    const third = await kernel.request("shell", "execute_request", execute(""));
    expect(third.reply.content.execution_count).toBe(count + 2);
  });

  it("sends display_data with a display id, update_display_data and clear_output under the cell", async () => {
    const { request, iopub } = await kernel.request("shell", "execute_request", execute("display d1 first\nupdate d1 second\nclear wait\nclear"));
    const outputs = iopub.filter((m) => !["status", "execute_input"].includes(m.header.msg_type));
    expect(outputs.map((m) => [m.header.msg_type, m.content])).toEqual([
      ["display_data", { data: { "text/plain": "first" }, metadata: {}, transient: { display_id: "d1" } }],
      ["update_display_data", { data: { "text/plain": "second" }, metadata: {}, transient: { display_id: "d1" } }],
      ["clear_output", { wait: true }],
      ["clear_output", { wait: false }],
    ]);
    for (const msg of outputs) expect(parentOf(msg)).toBe(request.header.msg_id);
  });

  it("wraps control messages in busy/idle and replies on control", async () => {
    const { request, reply, iopub } = await kernel.request("control", "kernel_info_request", {});
    expect(reply.header.msg_type).toBe("kernel_info_reply");
    expect(kernel.inbox.control.all).toContain(reply);
    expectBusyIdleAround(request, iopub);
  });

  it("wraps comm messages in busy/idle and carries binary buffers both ways", async () => {
    const commId = "comm-under-test";
    // comm_* have no reply: only iopub.
    const open = kernel.send("shell", "comm_open", { comm_id: commId, target_name: "test.echo", data: {} });
    const openIopub = await kernel.iopubUntilIdle(open);
    expectBusyIdleAround(open, openIopub);
    expect(types(openIopub)).toEqual(["status:busy", "status:idle"]);

    const info = await kernel.request("shell", "comm_info_request", { target_name: "test.echo" });
    expect(info.reply.header.msg_type).toBe("comm_info_reply");
    expect(info.reply.content).toEqual({ status: "ok", comms: { [commId]: { target_name: "test.echo" } } });

    const a = new Float32Array([1, 2.5, -3]);
    const b = new Uint8Array([0, 255, 7]);
    const sent = kernel.send("shell", "comm_msg", { comm_id: commId, data: { method: "custom" } }, { buffers: [a, b] });
    const iopub = await kernel.iopubUntilIdle(sent);
    expectBusyIdleAround(sent, iopub);
    expect(types(iopub)).toEqual(["status:busy", "comm_msg", "status:idle"]);
    const echo = iopub[1];
    expect(echo.content).toEqual({ comm_id: commId, data: { echo: { method: "custom" } } });
    expect(echo.buffers.map((buf) => [...buf])).toEqual([[0, 255, 7], [...new Uint8Array(a.buffer)]]);

    const close = await kernel.iopubUntilIdle(kernel.send("shell", "comm_close", { comm_id: commId, data: {} }));
    expect(types(close)).toEqual(["status:busy", "status:idle"]);
    const after = await kernel.request("shell", "comm_info_request", {});
    expect(after.reply.content.comms).toEqual({});
  });

  it("answers a comm_open for an unknown target with comm_close", async () => {
    const iopub = await kernel.iopubUntilIdle(kernel.send("shell", "comm_open", { comm_id: "nobody", target_name: "no.such.target", data: {} }));
    expect(types(iopub)).toEqual(["status:busy", "comm_close", "status:idle"]);
    expect(iopub[1].content.comm_id).toBe("nobody");
  });

  it("drops messages with a bad or missing signature, logs them and keeps serving", async () => {
    const stderrBefore = kernel.stderr.length;
    const badMsg = kernel.message("kernel_info_request", {});
    const bad = kernel.encode(badMsg);
    bad[1] = Buffer.from(bad[1].toString().replace(/^./, (c) => (c === "a" ? "b" : "a")));
    kernel.sendRaw("shell", bad);
    const missingMsg = kernel.message("kernel_info_request", {});
    const missing = kernel.encode(missingMsg);
    missing[1] = Buffer.alloc(0);
    kernel.sendRaw("shell", missing);
    const garbage = [Buffer.from("not a jupyter message")];
    kernel.sendRaw("control", garbage);
    // Sockets deliver in order: once these are answered, the bad ones were handled.
    const next = await kernel.request("shell", "kernel_info_request", {});
    const nextControl = await kernel.request("control", "kernel_info_request", {});
    expect(next.reply.content.status).toBe("ok");
    expect(nextControl.reply.content.status).toBe("ok");
    const dropped = [badMsg.header.msg_id, missingMsg.header.msg_id];
    const all = [...kernel.inbox.shell.all, ...kernel.inbox.control.all, ...kernel.inbox.iopub.all];
    expect(all.filter((m) => dropped.includes(parentOf(m)!))).toEqual([]);
    const log = kernel.stderr.slice(stderrBefore);
    expect(log).toMatch(/dropped a shell message: bad signature/);
    expect(log).toMatch(/dropped a shell message: missing signature/);
    expect(log).toMatch(/dropped a control message: no <IDS\|MSG> delimiter/);
  });

  it("does not sign buffers: a message signed over its JSON frames with a buffer is accepted", async () => {
    await kernel.iopubUntilIdle(kernel.send("shell", "comm_open", { comm_id: "buf", target_name: "test.echo", data: {} }));
    const msg = kernel.message("comm_msg", { comm_id: "buf", data: 1 }, { buffers: [Buffer.from("raw bytes")] });
    const frames = kernel.encode(msg);
    expect(frames.length).toBe(1 + 1 + 4 + 1);
    kernel.sendRaw("shell", frames);
    const iopub = await kernel.iopubUntilIdle(msg);
    expect(types(iopub)).toEqual(["status:busy", "comm_msg", "status:idle"]);
    expect(iopub[1].buffers[0].toString()).toBe("raw bytes");
  });

  it("logs an unknown msg_type and still sends busy/idle", async () => {
    const sent = kernel.send("shell", "no_such_request", {});
    const iopub = await kernel.iopubUntilIdle(sent);
    expectBusyIdleAround(sent, iopub);
    const after = await kernel.request("shell", "kernel_info_request", {});
    expect(after.reply.content.status).toBe("ok");
    expect(kernel.inbox.shell.all.filter((m) => parentOf(m) === sent.header.msg_id)).toEqual([]);
    expect(kernel.stderr).toMatch(/unknown message type no_such_request on shell/);
  });

  it("answers history tail, range and search over the session's inputs", async () => {
    const codes = ["print h1", "print h2", "result h3", "print h1"];
    for (const code of codes) await kernel.request("shell", "execute_request", execute(code));
    const tail = await kernel.request("shell", "history_request", { hist_access_type: "tail", n: 4, output: false, raw: true });
    expect(tail.reply.header.msg_type).toBe("history_reply");
    expect(tail.reply.content.status).toBe("ok");
    const entries = tail.reply.content.history as [number, number, string][];
    expect(entries.map((e) => e[2])).toEqual(codes);
    const [session, start] = entries[0];
    expect(entries.map((e) => e[1])).toEqual([start, start + 1, start + 2, start + 3]);

    const withOutput = await kernel.request("shell", "history_request", { hist_access_type: "tail", n: 2, output: true, raw: true });
    expect(withOutput.reply.content.history).toEqual([
      [session, start + 2, ["result h3", "h3"]],
      [session, start + 3, ["print h1", null]],
    ]);

    const range = await kernel.request("shell", "history_request", { hist_access_type: "range", session, start: start + 1, stop: start + 3, output: false, raw: true });
    expect(range.reply.content.history).toEqual([
      [session, start + 1, "print h2"],
      [session, start + 2, "result h3"],
    ]);
    const current = await kernel.request("shell", "history_request", { hist_access_type: "range", session: 0, start, stop: start + 1, output: false, raw: true });
    expect(current.reply.content.history).toEqual([[session, start, "print h1"]]);

    const search = await kernel.request("shell", "history_request", { hist_access_type: "search", pattern: "print h?", output: false, raw: true });
    expect((search.reply.content.history as [number, number, string][]).filter((e) => e[1] >= start).map((e) => e[2])).toEqual(["print h1", "print h2", "print h1"]);
    const unique = await kernel.request("shell", "history_request", { hist_access_type: "search", pattern: "print h1", unique: true, output: false, raw: true });
    expect(unique.reply.content.history).toEqual([[session, start + 3, "print h1"]]);
    const lastTwo = await kernel.request("shell", "history_request", { hist_access_type: "search", pattern: "*h*", n: 2, output: false, raw: true });
    expect((lastTwo.reply.content.history as unknown[]).length).toBe(2);
  });

  it("delegates complete, inspect and is_complete, converting code-point cursors", async () => {
    const complete = await kernel.request("shell", "complete_request", { code: "😀 pr", cursor_pos: 4 });
    expect(complete.reply.content).toMatchObject({ status: "ok", matches: ["print", "prompt"], cursor_start: 2, cursor_end: 4 });
    expectBusyIdleAround(complete.request, complete.iopub);
    const inspect = await kernel.request("shell", "inspect_request", { code: "😀 abc", cursor_pos: 3, detail_level: 1 });
    expect(inspect.reply.content).toMatchObject({ status: "ok", found: true, data: { "text/plain": "😀 a|1" } });
    const incomplete = await kernel.request("shell", "is_complete_request", { code: "print a \\" });
    expect(incomplete.reply.content).toEqual({ status: "incomplete", indent: "  " });
    const completeCode = await kernel.request("shell", "is_complete_request", { code: "print a" });
    expect(completeCode.reply.content).toEqual({ status: "complete" });
  });

  it("reports an error outcome as one error output and an error reply, aborting cells queued behind it", async () => {
    // The failing cell first waits for input, so the next cell is surely queued when it fails.
    const failing = kernel.send("shell", "execute_request", execute("input go?\nfail ValueError bad thing"));
    const inputRequest = await kernel.waitForInputRequest();
    const queued = kernel.send("shell", "execute_request", execute("print never"));
    // Shell is in order: once this is answered, the queued execute_request has been received.
    await kernel.request("shell", "kernel_info_request", {});
    kernel.inputReply(inputRequest, "yes");
    const failed = await kernel.complete("shell", failing);
    expect(types(failed.iopub)).toEqual(["status:busy", "execute_input", "stream", "error", "status:idle"]);
    expect(failed.iopub[3].content).toEqual({ ename: "ValueError", evalue: "bad thing", traceback: ["ValueError: bad thing"] });
    expect(failed.reply.content).toMatchObject({ status: "error", ename: "ValueError", evalue: "bad thing", traceback: ["ValueError: bad thing"] });
    const aborted = await kernel.complete("shell", queued);
    expect(aborted.reply.content.status).toBe("aborted");
    expect(types(aborted.iopub)).toEqual(["status:busy", "status:idle"]);
    // The next cell runs normally.
    const next = await kernel.request("shell", "execute_request", execute("print fine"));
    expect(next.reply.content.status).toBe("ok");
    expect(types(next.iopub)).toContain("stream");
  });

  it("turns an engine that throws into an error reply and keeps serving", async () => {
    const thrown = await kernel.request("shell", "execute_request", execute("throw engine broke"));
    expect(thrown.reply.content).toMatchObject({ status: "error", ename: "Error", evalue: "engine broke" });
    const ok = await kernel.request("shell", "execute_request", execute("print ok"));
    expect(ok.reply.content.status).toBe("ok");
  });

  it("lands output written after a cell finished under that cell", async () => {
    const first = await kernel.request("shell", "execute_request", execute("late 150 afterwards"));
    expect(first.reply.content.status).toBe("ok");
    const late = await kernel.waitForIopub((m) => m.header.msg_type === "stream" && parentOf(m) === first.request.header.msg_id, 10_000, "late stream");
    expect(late.content.text).toBe("afterwards\n");
  });

  it("serves comm and kernel_info requests while a cell awaits", async () => {
    const running = kernel.send("shell", "execute_request", execute("sleep 600\nprint done"));
    await kernel.waitForIopub((m) => m.header.msg_type === "execute_input" && parentOf(m) === running.header.msg_id, 10_000, "execute_input");
    const info = await kernel.request("shell", "kernel_info_request", {});
    expect(info.reply.content.status).toBe("ok");
    const done = await kernel.complete("shell", running);
    expect(done.reply.content.status).toBe("ok");
    // The kernel_info was answered before the cell finished.
    expect(kernel.inbox.shell.all.indexOf(info.reply)).toBeLessThan(kernel.inbox.shell.all.indexOf(done.reply));
  });

  it("answers heartbeats, also while a cell blocks the main thread", async () => {
    expect((await kernel.heartbeat()).toString()).toMatch(/^ping /);
    const cell = kernel.send("shell", "execute_request", execute("busyloop 1500"));
    await kernel.waitForIopub((m) => m.header.msg_type === "execute_input" && parentOf(m) === cell.header.msg_id, 10_000, "execute_input");
    expect((await kernel.heartbeat()).toString()).toMatch(/^ping /);
    // The echo came from the heartbeat thread while the cell was still running.
    expect(kernel.inbox.shell.all.some((m) => parentOf(m) === cell.header.msg_id)).toBe(false);
    expect((await kernel.complete("shell", cell)).reply.content.status).toBe("ok");
  });

  it("asks for input over stdin when allowed, and refuses clearly when not", async () => {
    const cell = kernel.send("shell", "execute_request", execute("input your name: \nprint next"));
    const request = await kernel.waitForInputRequest();
    expect(request.content).toEqual({ prompt: "your name:", password: false });
    expect(parentOf(request)).toBe(cell.header.msg_id);
    kernel.inputReply(request, "Ada");
    const done = await kernel.complete("shell", cell);
    expect(done.reply.content.status).toBe("ok");
    expect(done.iopub.filter((m) => m.header.msg_type === "stream").map((m) => m.content.text)).toEqual(["got Ada\n", "next\n"]);

    const secret = kernel.send("shell", "execute_request", execute("password key"));
    const pwRequest = await kernel.waitForInputRequest();
    expect(pwRequest.content.password).toBe(true);
    kernel.inputReply(pwRequest, "s3cret");
    expect((await kernel.complete("shell", secret)).iopub.some((m) => m.content.text === "got s3cret\n")).toBe(true);

    const refused = await kernel.request("shell", "execute_request", execute("input x", { allow_stdin: false }));
    expect(refused.reply.content).toMatchObject({ status: "error", ename: "StdinNotAllowedError" });
    expect(refused.reply.content.evalue).toMatch(/allow_stdin/);
  });

  it("interrupts a pending cell with interrupt_request on control; the next cell runs", async () => {
    const cell = kernel.send("shell", "execute_request", execute("wait"));
    await kernel.waitForIopub((m) => m.header.msg_type === "execute_input" && parentOf(m) === cell.header.msg_id, 10_000, "execute_input");
    const interrupt = await kernel.request("control", "interrupt_request", {});
    expect(interrupt.reply.header.msg_type).toBe("interrupt_reply");
    expect(interrupt.reply.content).toEqual({ status: "ok" });
    expectBusyIdleAround(interrupt.request, interrupt.iopub);
    const stopped = await kernel.complete("shell", cell);
    expect(stopped.reply.content).toMatchObject({ status: "error", ename: "Interrupted" });
    const next = await kernel.request("shell", "execute_request", execute("print after"));
    expect(next.reply.content.status).toBe("ok");
  });

  it("interrupts an input request waiting for the frontend", async () => {
    const cell = kernel.send("shell", "execute_request", execute("input never answered"));
    await kernel.waitForInputRequest();
    await kernel.request("control", "interrupt_request", {});
    const stopped = await kernel.complete("shell", cell);
    expect(stopped.reply.content).toMatchObject({ status: "error", ename: "InputInterruptedError" });
  });

  it("routes SIGINT to the engine's interrupt without dying", async () => {
    const cell = kernel.send("shell", "execute_request", execute("wait"));
    await kernel.waitForIopub((m) => m.header.msg_type === "execute_input" && parentOf(m) === cell.header.msg_id, 10_000, "execute_input");
    kernel.process.kill("SIGINT");
    const stopped = await kernel.complete("shell", cell);
    expect(stopped.reply.content).toMatchObject({ status: "error", ename: "Interrupted" });
    expect(kernel.process.exitCode).toBeNull();
    const next = await kernel.request("shell", "execute_request", execute("print alive"));
    expect(next.reply.content.status).toBe("ok");
    expect(kernel.stderr).toMatch(/SIGINT: interrupting/);
  });
});

describe("kernel shutdown and restart", () => {
  it("replies to shutdown_request on control, exits cleanly, and a new kernel binds the same ports", async () => {
    const first = await KernelClient.launch(stubKernelArgv());
    try {
      const { request, reply, iopub } = await first.request("control", "shutdown_request", { restart: true });
      expect(reply.header.msg_type).toBe("shutdown_reply");
      expect(reply.content).toEqual({ status: "ok", restart: true });
      expect(first.inbox.control.all).toContain(reply);
      expectBusyIdleAround(request, iopub);
      expect(await first.waitForExit(10_000)).toEqual({ code: 0, signal: null });
      expect(first.stderr).toMatch(/stub engine: shutdown/);
      expect(first.stderr).toMatch(/shut down \(restart requested\)/);
    } finally {
      await first.stop();
    }

    // Jupyter restarts by launching a new process on the same connection file's ports.
    const second = await KernelClient.launch(stubKernelArgv(), { connection: first.connection });
    try {
      const cell = await second.request("shell", "execute_request", execute("print reborn"));
      expect(cell.reply.content).toMatchObject({ status: "ok", execution_count: 1 });
      const history = await second.request("shell", "history_request", { hist_access_type: "tail", n: 10, output: false, raw: true });
      expect(history.reply.content.history).toEqual([[expect.any(Number), 1, "print reborn"]]);
      const { reply } = await second.request("shell", "shutdown_request", { restart: false });
      expect(second.inbox.shell.all).toContain(reply);
      expect(reply.content).toEqual({ status: "ok", restart: false });
      expect(await second.waitForExit(10_000)).toEqual({ code: 0, signal: null });
    } finally {
      await second.stop();
    }
  });

  it("shuts down cleanly on SIGTERM", async () => {
    const kernel = await KernelClient.launch(stubKernelArgv());
    try {
      kernel.process.kill("SIGTERM");
      expect(await kernel.waitForExit(10_000)).toEqual({ code: 0, signal: null });
      expect(kernel.stderr).toMatch(/stub engine: shutdown/);
    } finally {
      await kernel.stop();
    }
  });

  it("a kernel whose ports are taken exits with a clear error", async () => {
    const first = await KernelClient.launch(stubKernelArgv());
    try {
      const argv = stubKernelArgv().map((arg) => arg.replace("{connection_file}", first.connectionFile));
      const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += String(chunk)));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(code).toBe(1);
      expect(stderr).toMatch(/cannot start: .*Address already in use/);
      // The running kernel is unaffected.
      expect((await first.request("shell", "kernel_info_request", {})).reply.content.status).toBe("ok");
    } finally {
      await first.stop();
    }
  });
});
