/**
 * mechlab's own Jupyter protocol client for the kernel tests: launches a kernel process from a
 * kernelspec-style argv with a fresh connection file (free ports, random key), connects Dealer
 * sockets to shell/control/stdin and a Subscriber to iopub, and offers request/wait helpers.
 *
 *   const kernel = await KernelClient.launch(stubKernelArgv());
 *   const { reply, iopub } = await kernel.request("shell", "kernel_info_request", {});
 *   await kernel.stop();
 */
import { spawn, type ChildProcess } from "child_process";
import { randomBytes, randomUUID } from "crypto";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { createServer } from "net";
import { tmpdir } from "os";
import { join, resolve } from "path";
import * as zmq from "zeromq";
import { endpoint, type ConnectionInfo } from "../../kernel/wire/connectionFile";
import { createHeader, decodeMessage, encodeMessage, toBuffer, type BufferLike, type JupyterMessage } from "../../kernel/wire/message";
import { createSigner, type Signer } from "../../kernel/wire/signer";

export type ClientChannel = "shell" | "control" | "stdin";

const ROOT = resolve(__dirname, "../..");

/** argv of the kernel with the stub engine, run from TypeScript source (no build needed). */
export function stubKernelArgv(): string[] {
  return [process.execPath, "--import", "tsx", join(ROOT, "tests/kernel/stubKernel.ts"), "-f", "{connection_file}"];
}

/** argv of the built product kernel (`npm run build` first). */
export function builtKernelArgv(): string[] {
  return [process.execPath, join(ROOT, "dist/kernel/main.js"), "-f", "{connection_file}"];
}

/** Five distinct free TCP ports on 127.0.0.1. */
export async function freePorts(count = 5): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<import("net").Server>((ok, fail) => {
      const server = createServer();
      server.once("error", fail);
      server.listen(0, "127.0.0.1", () => ok(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as import("net").AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((ok) => server.close(ok))));
  return ports;
}

export async function newConnectionInfo(key = randomBytes(16).toString("hex")): Promise<ConnectionInfo> {
  const [shell, control, iopub, stdin, hb] = await freePorts(5);
  return {
    transport: "tcp",
    ip: "127.0.0.1",
    shell_port: shell,
    control_port: control,
    iopub_port: iopub,
    stdin_port: stdin,
    hb_port: hb,
    key,
    signature_scheme: "hmac-sha256",
    kernel_name: "mechlab",
  };
}

export interface RequestOptions {
  buffers?: BufferLike[];
  metadata?: Record<string, unknown>;
  timeoutMs?: number;
}

export interface RequestResult {
  request: JupyterMessage;
  reply: JupyterMessage;
  /** Every iopub message with the request as parent, from its busy up to and including its idle. */
  iopub: JupyterMessage[];
}

interface Waiter {
  match: (msg: JupyterMessage) => boolean;
  resolve: (msg: JupyterMessage) => void;
}

/** Messages received on one socket, with waiters for what has not arrived yet. */
class Inbox {
  readonly all: JupyterMessage[] = [];
  private unread: JupyterMessage[] = [];
  private waiters: Waiter[] = [];

  push(msg: JupyterMessage): void {
    this.all.push(msg);
    const waiter = this.waiters.find((w) => w.match(msg));
    if (waiter) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(msg);
    } else {
      this.unread.push(msg);
    }
  }

  /** The first unread message matching, now or when it arrives; rejects after timeoutMs. */
  take(match: (msg: JupyterMessage) => boolean, timeoutMs: number, what: string): Promise<JupyterMessage> {
    const index = this.unread.findIndex(match);
    if (index >= 0) return Promise.resolve(this.unread.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (msg) => {
          clearTimeout(timer);
          resolve(msg);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Unread messages matching, removed from the inbox. */
  drain(match: (msg: JupyterMessage) => boolean = () => true): JupyterMessage[] {
    const taken = this.unread.filter(match);
    this.unread = this.unread.filter((msg) => !match(msg));
    return taken;
  }
}

const parentId = (msg: JupyterMessage): string | undefined => (msg.parent_header as { msg_id?: string }).msg_id;

/** Every live client, so a crashed test file still kills its kernels on exit. */
const live = new Set<KernelClient>();
process.once("exit", () => {
  for (const client of live) client.process.kill("SIGKILL");
});

export class KernelClient {
  readonly session = randomUUID();
  readonly inbox: Record<ClientChannel | "iopub", Inbox> = {
    shell: new Inbox(),
    control: new Inbox(),
    stdin: new Inbox(),
    iopub: new Inbox(),
  };
  /** What the kernel wrote to stdout and stderr so far. */
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly signer: Signer;
  private readonly dealers: Record<ClientChannel, zmq.Dealer>;
  private readonly subscriber: zmq.Subscriber;
  private readonly sendTails = new Map<zmq.Writable, Promise<void>>();
  private closed = false;

  private constructor(
    readonly process: ChildProcess,
    readonly connection: ConnectionInfo,
    readonly connectionFile: string,
    private readonly tempDir: string,
  ) {
    this.signer = createSigner(connection.key);
    const identity = `mechlab-test-${this.session}`;
    this.dealers = {
      shell: new zmq.Dealer({ linger: 0, routingId: identity }),
      control: new zmq.Dealer({ linger: 0, routingId: identity }),
      stdin: new zmq.Dealer({ linger: 0, routingId: identity }),
    };
    this.subscriber = new zmq.Subscriber({ linger: 0 });
    this.subscriber.subscribe();
    process.stdout?.on("data", (chunk) => (this.stdout += String(chunk)));
    process.stderr?.on("data", (chunk) => (this.stderr += String(chunk)));
    this.exited = new Promise((ok) => {
      if (process.exitCode !== null || process.signalCode !== null) ok({ code: process.exitCode, signal: process.signalCode });
      else process.once("exit", (code, signal) => ok({ code, signal }));
    });
    void this.exited.then(() => live.delete(this));
  }

  /**
   * Starts the kernel: `argv` is a kernelspec argv where "{connection_file}" is replaced by a fresh
   * connection file's path. Resolves once the kernel answers kernel_info and iopub is subscribed.
   */
  static async launch(
    argv: string[],
    options: { connection?: ConnectionInfo; env?: NodeJS.ProcessEnv; cwd?: string; readyTimeoutMs?: number } = {},
  ): Promise<KernelClient> {
    const connection = options.connection ?? (await newConnectionInfo());
    const tempDir = mkdtempSync(join(tmpdir(), "mechlab-kernel-test-"));
    const connectionFile = join(tempDir, "kernel.json");
    writeFileSync(connectionFile, JSON.stringify(connection, null, 2));
    const args = argv.map((arg) => arg.replace("{connection_file}", connectionFile));
    const child = spawn(args[0], args.slice(1), {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const client = new KernelClient(child, connection, connectionFile, tempDir);
    live.add(client);
    try {
      client.connect();
      await client.waitForReady(options.readyTimeoutMs ?? 60_000);
    } catch (error) {
      await client.stop();
      throw new Error(`${(error as Error).message}\nkernel stderr:\n${client.stderr}`);
    }
    return client;
  }

  private connect(): void {
    for (const channel of ["shell", "control", "stdin"] as ClientChannel[]) {
      this.dealers[channel].connect(endpoint(this.connection, channel));
      void this.receiveLoop(this.dealers[channel], this.inbox[channel]);
    }
    this.subscriber.connect(endpoint(this.connection, "iopub"));
    void this.receiveLoop(this.subscriber, this.inbox.iopub);
  }

  private async receiveLoop(socket: zmq.Dealer | zmq.Subscriber, inbox: Inbox): Promise<void> {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await socket.receive();
      } catch {
        if (this.closed) return;
        continue;
      }
      try {
        inbox.push(decodeMessage(frames, this.signer));
      } catch (error) {
        // A kernel message that fails to decode is a test failure: keep it visible.
        this.stderr += `\n[client] undecodable message: ${(error as Error).message}\n`;
      }
    }
  }

  /**
   * jupyter_client's wait-for-ready: repeat kernel_info until one is answered and its busy/idle
   * reached iopub (a Subscriber misses what is published before its subscription lands).
   */
  private async waitForReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.process.exitCode !== null || this.process.signalCode !== null) {
        throw new Error(`the kernel exited (${this.process.exitCode ?? this.process.signalCode}) before it was ready`);
      }
      if (Date.now() > deadline) throw new Error(`the kernel was not ready after ${timeoutMs} ms`);
      const request = this.send("shell", "kernel_info_request", {});
      try {
        await this.inbox.shell.take((m) => parentId(m) === request.header.msg_id, 1000, "kernel_info_reply");
        await this.inbox.iopub.take(
          (m) => parentId(m) === request.header.msg_id && m.header.msg_type === "status" && m.content.execution_state === "idle",
          500,
          "idle",
        );
        break;
      } catch {
        /* not yet */
      }
    }
    // What the ready loop left behind belongs to no test.
    this.inbox.shell.drain();
    this.inbox.iopub.drain((m) => m.header.msg_type === "status" && m.content.execution_state !== "starting");
  }

  /** Builds a message from this client's session. */
  message(msgType: string, content: Record<string, unknown>, options: RequestOptions = {}): JupyterMessage {
    return {
      identities: [],
      header: createHeader(msgType, this.session, "mechlab-test"),
      parent_header: {},
      metadata: options.metadata ?? {},
      content,
      buffers: (options.buffers ?? []).map(toBuffer),
    };
  }

  /** Sends a message without waiting for anything; returns it. */
  send(channel: ClientChannel, msgType: string, content: Record<string, unknown>, options: RequestOptions = {}): JupyterMessage {
    const msg = this.message(msgType, content, options);
    this.sendFrames(channel, encodeMessage(msg, this.signer));
    return msg;
  }

  /** Sends frames exactly as given (for tampering: bad signatures, missing frames). */
  sendRaw(channel: ClientChannel, frames: Buffer[]): void {
    this.sendFrames(channel, frames);
  }

  /** The frames `send` would produce, for tampering before sendRaw. */
  encode(msg: JupyterMessage): Buffer[] {
    return encodeMessage(msg, this.signer);
  }

  private sendFrames(channel: ClientChannel, frames: Buffer[]): void {
    const socket = this.dealers[channel];
    const tail = (this.sendTails.get(socket) ?? Promise.resolve()).then(() => socket.send(frames)).catch(() => undefined);
    this.sendTails.set(socket, tail);
  }

  /** Sends a request and resolves with its reply and all iopub messages it caused up to its idle. */
  async request(channel: ClientChannel, msgType: string, content: Record<string, unknown>, options: RequestOptions = {}): Promise<RequestResult> {
    const request = this.send(channel, msgType, content, options);
    return this.complete(channel, request, options.timeoutMs);
  }

  /** The reply to an already sent request, and its iopub messages up to its idle. */
  async complete(channel: ClientChannel, request: JupyterMessage, timeoutMs = 30_000): Promise<RequestResult> {
    const [reply, iopub] = await Promise.all([
      this.waitForReply(channel, request, timeoutMs),
      this.iopubUntilIdle(request, timeoutMs),
    ]);
    return { request, reply, iopub };
  }

  waitForReply(channel: ClientChannel, request: JupyterMessage, timeoutMs = 30_000): Promise<JupyterMessage> {
    const id = request.header.msg_id;
    return this.inbox[channel].take((m) => parentId(m) === id, timeoutMs, `the reply to ${request.header.msg_type} on ${channel}`);
  }

  /** iopub messages whose parent is `request`, up to and including its idle status. */
  async iopubUntilIdle(request: JupyterMessage, timeoutMs = 30_000): Promise<JupyterMessage[]> {
    const id = request.header.msg_id;
    const deadline = Date.now() + timeoutMs;
    const messages: JupyterMessage[] = [];
    for (;;) {
      const msg = await this.inbox.iopub.take(
        (m) => parentId(m) === id,
        Math.max(1, deadline - Date.now()),
        `iopub idle for ${request.header.msg_type}`,
      );
      messages.push(msg);
      if (msg.header.msg_type === "status" && msg.content.execution_state === "idle") return messages;
    }
  }

  /** The next iopub message matching `match`. */
  waitForIopub(match: (msg: JupyterMessage) => boolean, timeoutMs = 30_000, what = "an iopub message"): Promise<JupyterMessage> {
    return this.inbox.iopub.take(match, timeoutMs, what);
  }

  /** The next input_request on stdin. */
  waitForInputRequest(timeoutMs = 30_000): Promise<JupyterMessage> {
    return this.inbox.stdin.take((m) => m.header.msg_type === "input_request", timeoutMs, "input_request");
  }

  /** Answers an input_request. */
  inputReply(request: JupyterMessage, value: string): void {
    const msg = this.message("input_reply", { value });
    msg.parent_header = request.header;
    this.sendFrames("stdin", encodeMessage(msg, this.signer));
  }

  /** Sends a heartbeat ping and resolves with the echo; rejects after timeoutMs. */
  async heartbeat(timeoutMs = 5000): Promise<Buffer> {
    const socket = new zmq.Request({ linger: 0, receiveTimeout: timeoutMs });
    try {
      socket.connect(endpoint(this.connection, "hb"));
      const ping = Buffer.from(`ping ${randomUUID()}`);
      await socket.send(ping);
      const [echo] = await socket.receive();
      return echo;
    } finally {
      socket.close();
    }
  }

  /** Resolves with the exit, or rejects if the process is still running after timeoutMs. */
  async waitForExit(timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the kernel did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the sockets, kills the kernel (if still running) and removes the connection file. */
  async stop(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const socket of [...Object.values(this.dealers), this.subscriber]) socket.close();
    }
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill("SIGKILL");
      await this.exited;
    }
    live.delete(this);
    rmSync(this.tempDir, { recursive: true, force: true });
  }
}
