/**
 * Picks the TensorFlow.js backend mechlab runs on and re-exports the one tfjs-core namespace
 * every part of mechlab (and every notebook) must use.
 *
 * Order: `tensorflow` (native libtensorflow from @tensorflow/tfjs-node-gpu, then
 * @tensorflow/tfjs-node; both optional and absent on machines that cannot download
 * libtensorflow), then `wasm`, then `cpu`. `MECHLAB_BACKEND=tensorflow|wasm|cpu` overrides.
 *
 * Backends start asynchronously (wasm compiles its module), so `await ready()` once before making
 * tensors. The async entry points (`HookedTransformer.create/load/fromPretrained`) do it for you.
 */
// The union package, not bare tfjs-core: only its Node build registers the chained ops
// (tensor.reshape(...)) and the gradient functions (tf.grads, optimisers) for CommonJS users.
// It shares tfjs-core's engine and registries, so there is still one backend registry.
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { registerWasmBatchMatMul } from "./kernels/wasmBatchMatMul";
import { registerWasmUnsortedSegmentSum } from "./kernels/wasmUnsortedSegmentSum";

export { tf };

export type BackendName = "tensorflow" | "wasm" | "cpu";

export interface BackendAttempt {
  backend: BackendName;
  /** Package the backend was looked for in. */
  source: string;
  ok: boolean;
  /** Why it was not used, when ok is false. */
  reason?: string;
}

export interface BackendInfo {
  /** The backend tensors run on. */
  name: BackendName;
  /** What MECHLAB_BACKEND asked for, if anything. */
  requested?: string;
  /** Every backend tried, in order, with the reason it was passed over. */
  attempts: BackendAttempt[];
  /** tfjs-core version in use (one copy for the whole process). */
  tfjsVersion: string;
  /** One line for banners and logs. */
  summary: string;
}

const ORDER: BackendName[] = ["tensorflow", "wasm", "cpu"];

let readyPromise: Promise<BackendInfo> | undefined;
let info: BackendInfo | undefined;

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0].slice(0, 200);
}

type ProcessEvent = "uncaughtException" | "unhandledRejection";
const PROCESS_EVENTS: ProcessEvent[] = ["uncaughtException", "unhandledRejection"];

type Listener = (...args: any[]) => void;

function processListeners(): Map<ProcessEvent, Listener[]> {
  return new Map(PROCESS_EVENTS.map((event) => [event, [...process.listeners(event as "uncaughtException")] as Listener[]]));
}

/**
 * The wasm backend's Emscripten glue installs process-wide handlers that rethrow every uncaught
 * error from inside its own minified source (so Node prints that whole file instead of the
 * user's error, and a kernel cannot handle errors itself). Remove what it added.
 */
function removeListenersAddedSince(before: Map<ProcessEvent, Listener[]>): void {
  for (const event of PROCESS_EVENTS) {
    for (const listener of process.listeners(event as "uncaughtException") as Listener[]) {
      if (!before.get(event)!.includes(listener)) process.removeListener(event as "uncaughtException", listener);
    }
  }
}

/**
 * Why a native tfjs package cannot be used, or undefined if it looks usable. Checked before
 * `require`, because requiring a package whose native library is missing registers its kernels
 * and then throws, leaving the registry half-filled.
 */
function nativePackageProblem(pkg: string): string | undefined {
  let dir: string;
  try {
    dir = path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return "not installed";
  }
  const lib = path.join(dir, "lib");
  const hasBinding = (folder: string): boolean =>
    fs.existsSync(folder) &&
    fs.readdirSync(folder, { withFileTypes: true }).some((entry) => (entry.isDirectory() ? hasBinding(path.join(folder, entry.name)) : entry.name === "tfjs_binding.node"));
  if (!hasBinding(lib)) return "installed without its native library (its install step could not download libtensorflow)";
  return undefined;
}

/** Tries to register and start one backend. */
async function tryBackend(name: BackendName): Promise<BackendAttempt> {
  if (name === "tensorflow") {
    for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
      const problem = nativePackageProblem(pkg);
      if (problem) {
        if (pkg === "@tensorflow/tfjs-node") return { backend: name, source: "@tensorflow/tfjs-node(-gpu)", ok: false, reason: problem };
        continue;
      }
      try {
        require(pkg);
        if (await tf.setBackend("tensorflow")) return { backend: name, source: pkg, ok: true };
        return { backend: name, source: pkg, ok: false, reason: "setBackend returned false" };
      } catch (error) {
        return { backend: name, source: pkg, ok: false, reason: errorText(error) };
      }
    }
  }
  if (name === "wasm") {
    const listenersBefore = processListeners();
    try {
      require("@tensorflow/tfjs-backend-wasm");
      if (await tf.setBackend("wasm")) {
        registerWasmUnsortedSegmentSum();
        registerWasmBatchMatMul();
        return { backend: name, source: "@tensorflow/tfjs-backend-wasm", ok: true };
      }
      return { backend: name, source: "@tensorflow/tfjs-backend-wasm", ok: false, reason: "setBackend returned false" };
    } catch (error) {
      return { backend: name, source: "@tensorflow/tfjs-backend-wasm", ok: false, reason: errorText(error) };
    } finally {
      removeListenersAddedSince(listenersBefore);
    }
  }
  const ok = await tf.setBackend("cpu");
  return { backend: "cpu", source: "@tensorflow/tfjs-backend-cpu", ok, reason: ok ? undefined : "setBackend returned false" };
}

async function chooseBackend(): Promise<BackendInfo> {
  const requested = process.env.MECHLAB_BACKEND?.trim() || undefined;
  if (requested !== undefined && !ORDER.includes(requested as BackendName)) {
    throw new Error(`MECHLAB_BACKEND="${requested}" is not a backend mechlab knows; expected one of ${ORDER.join(", ")}.`);
  }
  const candidates = requested ? [requested as BackendName] : ORDER;
  const attempts: BackendAttempt[] = [];
  for (const name of candidates) {
    const attempt = await tryBackend(name);
    attempts.push(attempt);
    if (attempt.ok) {
      const summary =
        `tensor backend: ${name} (${attempt.source}, tfjs ${tf.version_core})` +
        (requested ? ` — set by MECHLAB_BACKEND` : "") +
        (attempts.length > 1 ? `; passed over: ${attempts.slice(0, -1).map((a) => `${a.backend} (${a.reason})`).join(", ")}` : "");
      return { name, requested, attempts, tfjsVersion: tf.version_core, summary };
    }
  }
  const tried = attempts.map((a) => `${a.backend}: ${a.reason}`).join("; ");
  throw new Error(`No tensor backend could start (${tried}).` + (requested ? ` Unset MECHLAB_BACKEND to let mechlab choose.` : ""));
}

/** Starts the backend (once) and resolves with what was chosen. Safe to call many times. */
export function ready(): Promise<BackendInfo> {
  if (!readyPromise) {
    readyPromise = chooseBackend().then((chosen) => {
      info = chosen;
      return chosen;
    });
    // A failed start may be retried (e.g. after fixing MECHLAB_BACKEND).
    readyPromise.catch(() => (readyPromise = undefined));
  }
  return readyPromise;
}

/** Whether `ready()` has finished. */
export function isReady(): boolean {
  return info !== undefined && tf.getBackend() === info.name;
}

/** What backend mechlab runs on and why. Throws if `ready()` has not finished. */
export function backendInfo(): BackendInfo {
  if (!info) throw new Error("The tensor backend has not started yet: `await ready()` (from \"mechlab\") first.");
  return info;
}

/** Throws a clear error when tensors are about to be made before the backend started. */
export function assertReady(what: string): void {
  if (!isReady()) {
    throw new Error(
      `${what} needs the tensor backend, which has not started yet. ` +
        `Run \`await ready()\` (import { ready } from "mechlab") once first, ` +
        `or use the async factories HookedTransformer.create / load / fromPretrained.`,
    );
  }
}
