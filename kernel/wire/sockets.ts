/**
 * The kernel's five ZeroMQ sockets, bound only to the endpoints of the connection file:
 * shell, control and stdin are Routers (peers are addressed by identity frames), iopub is a
 * Publisher, heartbeat is a Reply socket that echoes.
 *
 * The heartbeat runs in a worker thread so that it keeps answering while user code blocks the
 * main thread (a synchronous loop that is about to be interrupted).
 */
import { Worker } from "worker_threads";
import * as zmq from "zeromq";
import { endpoint, type ConnectionInfo } from "./connectionFile";

export type RouterChannel = "shell" | "control" | "stdin";
export type SendChannel = RouterChannel | "iopub";

/** Messages still queued when a socket closes get this long to leave; exit never hangs on them. */
const CLOSE_LINGER_MS = 250;

const HEARTBEAT_WORKER = `
const { workerData, parentPort } = require("worker_threads");
const zmq = require(workerData.zeromq);
const socket = new zmq.Reply({ linger: 0 });
// Closing the socket ends the echo loop; closing the port lets the thread end by itself
// (terminating a thread that holds a zeromq socket aborts the process).
parentPort.on("message", (m) => { if (m === "close") { socket.close(); parentPort.close(); } });
socket.bind(workerData.endpoint).then(async () => {
  parentPort.postMessage({ bound: true });
  try { for await (const frames of socket) await socket.send(frames); } catch {}
}, (error) => {
  socket.close();
  parentPort.postMessage({ error: String((error && error.message) || error) });
  parentPort.close();
});
`;

/**
 * Ordered sends on one socket. zeromq allows one pending send at a time and throws EBUSY
 * synchronously while one waits, so a send goes out at once when nothing is waiting (a message
 * published just before user code blocks the main thread still leaves before the block), and
 * otherwise waits its turn in a backlog.
 */
class SendQueue {
  private readonly backlog: { frames: Buffer[]; done: () => void }[] = [];
  private inflight: Promise<void> = Promise.resolve();
  private flushing = false;

  constructor(
    private readonly socket: zmq.Writable,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Resolves when zeromq took the frames; never rejects (failures go to onError). */
  send(frames: Buffer[]): Promise<void> {
    if (this.backlog.length === 0 && this.trySend(frames)) return this.inflight;
    return new Promise((done) => {
      this.backlog.push({ frames, done });
      void this.flush();
    });
  }

  async drain(): Promise<void> {
    while (this.backlog.length > 0 || this.flushing) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.inflight;
  }

  /** Starts a send; false when the socket is busy with an earlier one. */
  private trySend(frames: Buffer[]): boolean {
    try {
      this.inflight = this.socket.send(frames).catch(this.onError);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === "EBUSY") return false;
      this.onError(error);
      this.inflight = Promise.resolve();
      return true;
    }
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.backlog.length > 0) {
        await this.inflight;
        const next = this.backlog[0];
        if (!this.trySend(next.frames)) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          continue;
        }
        this.backlog.shift();
        void this.inflight.then(next.done);
      }
    } finally {
      this.flushing = false;
    }
  }
}

export class KernelSockets {
  private readonly queues: Record<SendChannel, SendQueue>;
  private closed = false;

  private constructor(
    private readonly routers: Record<RouterChannel, zmq.Router>,
    private readonly iopub: zmq.Publisher,
    private readonly heartbeat: Worker,
    private readonly log: (line: string) => void,
  ) {
    const onError = (channel: string) => (error: unknown) => {
      if (!this.closed) this.log(`send on ${channel} failed: ${(error as Error)?.message ?? error}`);
    };
    this.queues = {
      shell: new SendQueue(routers.shell, onError("shell")),
      control: new SendQueue(routers.control, onError("control")),
      stdin: new SendQueue(routers.stdin, onError("stdin")),
      iopub: new SendQueue(iopub, onError("iopub")),
    };
  }

  /** Binds all five sockets; rejects (and closes what was opened) if any endpoint is taken. */
  static async bind(info: ConnectionInfo, log: (line: string) => void): Promise<KernelSockets> {
    const routers = {
      shell: new zmq.Router({ linger: 0 }),
      control: new zmq.Router({ linger: 0 }),
      stdin: new zmq.Router({ linger: 0 }),
    };
    const iopub = new zmq.Publisher({ linger: 0 });
    const all: zmq.Socket[] = [routers.shell, routers.control, routers.stdin, iopub];
    let heartbeat: Worker;
    try {
      await routers.shell.bind(endpoint(info, "shell"));
      await routers.control.bind(endpoint(info, "control"));
      await routers.stdin.bind(endpoint(info, "stdin"));
      await iopub.bind(endpoint(info, "iopub"));
      heartbeat = await startHeartbeat(endpoint(info, "hb"));
    } catch (error) {
      for (const socket of all) socket.close();
      throw error;
    }
    return new KernelSockets(routers, iopub, heartbeat, log);
  }

  /** Queues frames on a channel; resolves when zeromq took them. Never rejects. */
  send(channel: SendChannel, frames: Buffer[]): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.queues[channel].send(frames);
  }

  /**
   * Calls `onFrames` for every multipart message on a Router channel. The loop survives any error
   * the callback throws; it ends when the socket closes.
   */
  async listen(channel: RouterChannel, onFrames: (frames: Buffer[]) => void | Promise<void>): Promise<void> {
    const socket = this.routers[channel];
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await socket.receive();
      } catch (error) {
        if (this.closed || socket.closed) return;
        this.log(`receive on ${channel} failed: ${(error as Error)?.message ?? error}`);
        continue;
      }
      try {
        await onFrames(frames);
      } catch (error) {
        this.log(`handling a ${channel} message failed: ${(error as Error)?.stack ?? error}`);
      }
    }
  }

  /** Lets queued messages leave (bounded), then closes every socket and the heartbeat. */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all(Object.values(this.queues).map((queue) => queue.drain()));
    this.closed = true;
    for (const socket of [this.routers.shell, this.routers.control, this.routers.stdin, this.iopub]) {
      socket.linger = CLOSE_LINGER_MS;
      socket.close();
    }
    await stopHeartbeat(this.heartbeat);
  }
}

async function stopHeartbeat(worker: Worker): Promise<void> {
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  worker.postMessage("close");
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 2000)));
  const timedOut = await Promise.race([exited.then(() => false), timeout]);
  clearTimeout(timer);
  if (timedOut) await worker.terminate();
}

function startHeartbeat(hbEndpoint: string): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(HEARTBEAT_WORKER, {
      eval: true,
      workerData: { zeromq: require.resolve("zeromq"), endpoint: hbEndpoint },
    });
    worker.once("message", (message: { bound?: boolean; error?: string }) => {
      if (message.bound) {
        // The heartbeat must not keep the process alive on its own.
        worker.unref();
        resolve(worker);
      } else {
        reject(new Error(`cannot bind heartbeat on ${hbEndpoint}: ${message.error}`));
      }
    });
    worker.once("error", reject);
  });
}
