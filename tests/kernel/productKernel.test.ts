/**
 * The product kernel (dist/kernel/main.js, built by `npm test`) driven over zeromq by the project's
 * own protocol client, for what Debian's conformance suite does not cover: interrupting a
 * synchronous loop (SIGINT, as Jupyter does for interrupt_mode "signal") and a pending await
 * (interrupt_request), stdin from a real cell, errors thrown after a cell ended, a message with a
 * bad signature, tensors as results, and restart on the same ports.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JupyterMessage } from "../../kernel/wire/message";
import { builtKernelArgv, KernelClient } from "./protocolClient";

const TIMEOUT = 120_000;
const execute = (code: string, extra: Record<string, unknown> = {}) => ({
  code, silent: false, store_history: true, user_expressions: {}, allow_stdin: true, stop_on_error: true, ...extra,
});
const parentOf = (m: JupyterMessage) => (m.parent_header as { msg_id?: string }).msg_id;
const streams = (messages: JupyterMessage[]) => messages.filter((m) => m.header.msg_type === "stream").map((m) => String(m.content.text)).join("");

let kernel: KernelClient;

beforeAll(async () => {
  kernel = await KernelClient.launch(builtKernelArgv(), { readyTimeoutMs: TIMEOUT });
}, TIMEOUT);

afterAll(async () => {
  await kernel?.stop();
});

async function startedCell(code: string): Promise<JupyterMessage> {
  const cell = kernel.send("shell", "execute_request", execute(code));
  await kernel.waitForIopub((m) => m.header.msg_type === "execute_input" && parentOf(m) === cell.header.msg_id, 30_000, "execute_input");
  return cell;
}

describe("the product kernel over zeromq", () => {
  it("shows a tensor as an execute_result with shape, dtype and values", async () => {
    const { reply, iopub } = await kernel.request("shell", "execute_request", execute(`import { tf } from "mechlab";\nconst t = tf.tensor2d([[1, 2], [3, 4]]);\nt`));
    expect(reply.content.status).toBe("ok");
    const result = iopub.find((m) => m.header.msg_type === "execute_result")!;
    const text = String((result.content.data as Record<string, unknown>)["text/plain"]);
    expect(text).toMatch(/float32/);
    expect(text).toMatch(/\[2, 2\]|2 × 2|2x2/);
    expect(text).toMatch(/3/);
  }, TIMEOUT);

  it("SIGINT stops a synchronous loop; the next cell runs at once with earlier variables intact", async () => {
    await kernel.request("shell", "execute_request", execute(`let kept = 41;`));
    const cell = await startedCell(`while (true) {}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    kernel.process.kill("SIGINT");
    const stopped = await kernel.complete("shell", cell);
    expect(stopped.reply.content.status).toBe("error");
    expect(stopped.iopub.filter((m) => m.header.msg_type === "error")).toHaveLength(1);
    const next = await kernel.request("shell", "execute_request", execute(`kept + 1`));
    expect(next.reply.content.status).toBe("ok");
    const result = next.iopub.find((m) => m.header.msg_type === "execute_result")!;
    expect((result.content.data as Record<string, unknown>)["text/plain"]).toBe("42");
  }, TIMEOUT);

  it("interrupt_request stops a pending await; the kernel stays usable", async () => {
    const cell = await startedCell(`await new Promise(() => {});`);
    const interrupt = await kernel.request("control", "interrupt_request", {});
    expect(interrupt.reply.content).toEqual({ status: "ok" });
    const stopped = await kernel.complete("shell", cell);
    expect(stopped.reply.content.status).toBe("error");
    const next = await kernel.request("shell", "execute_request", execute(`"still here"`));
    expect(next.reply.content.status).toBe("ok");
  }, TIMEOUT);

  it("await input() and password() read from the stdin channel", async () => {
    const cell = kernel.send("shell", "execute_request", execute(`const name = await input("name? ");\nconst secret = await password("secret? ");\nconsole.log(name + ":" + secret.length);`));
    const first = await kernel.waitForInputRequest();
    expect(first.content).toEqual({ prompt: "name? ", password: false });
    kernel.inputReply(first, "Ada");
    const second = await kernel.waitForInputRequest();
    expect(second.content.password).toBe(true);
    kernel.inputReply(second, "hunter2");
    const done = await kernel.complete("shell", cell);
    expect(done.reply.content.status).toBe("ok");
    expect(streams(done.iopub)).toBe("Ada:7\n");
  }, TIMEOUT);

  it("an error thrown after its cell ended is reported under that cell and the kernel lives on", async () => {
    const cell = await kernel.request("shell", "execute_request", execute(`setTimeout(() => { throw new Error("late boom"); }, 50);\n"scheduled"`));
    expect(cell.reply.content.status).toBe("ok");
    const late = await kernel.waitForIopub((m) => m.header.msg_type === "error" && parentOf(m) === cell.request.header.msg_id, 30_000, "the late error");
    expect(String(late.content.evalue)).toMatch(/late boom/);
    const next = await kernel.request("shell", "execute_request", execute(`1 + 1`));
    expect(next.reply.content.status).toBe("ok");
  }, TIMEOUT);

  it("drops a message with a bad signature and keeps serving", async () => {
    const request = kernel.message("kernel_info_request", {});
    const frames = kernel.encode(request);
    const signatureIndex = frames.findIndex((f) => f.toString() === "<IDS|MSG>") + 1;
    frames[signatureIndex] = Buffer.from("0".repeat(64));
    kernel.sendRaw("shell", frames);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(kernel.inbox.shell.all.some((m) => parentOf(m) === request.header.msg_id)).toBe(false);
    const info = await kernel.request("shell", "kernel_info_request", {});
    expect(info.reply.content.status).toBe("ok");
    expect(String(info.reply.content.banner)).toMatch(/tensor backend/);
  }, TIMEOUT);
});

describe("restart", () => {
  it("after shutdown_request with restart, a new product kernel serves the same ports with a fresh state", async () => {
    const first = await KernelClient.launch(builtKernelArgv(), { readyTimeoutMs: TIMEOUT });
    try {
      await first.request("shell", "execute_request", execute(`const before = 1;`));
      const { reply } = await first.request("control", "shutdown_request", { restart: true });
      expect(reply.content).toEqual({ status: "ok", restart: true });
      expect((await first.waitForExit(30_000)).code).toBe(0);
    } finally {
      await first.stop();
    }
    const second = await KernelClient.launch(builtKernelArgv(), { connection: first.connection, readyTimeoutMs: TIMEOUT });
    try {
      const cell = await second.request("shell", "execute_request", execute(`1 + 1`));
      expect(cell.reply.content).toMatchObject({ status: "ok", execution_count: 1 });
      // The earlier kernel's declarations are gone: the name no longer compiles.
      const stale = await second.request("shell", "execute_request", execute(`before`));
      expect(stale.reply.content).toMatchObject({ status: "error", ename: "CompileError" });
      expect(String(stale.reply.content.evalue)).toMatch(/Cannot find name 'before'/);
    } finally {
      await second.stop();
    }
  }, TIMEOUT);
});
