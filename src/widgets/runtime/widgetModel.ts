/**
 * WidgetModel: the kernel side of a Jupyter widget (protocol 2.1.0).
 *
 * In a kernel, constructing a model opens a comm on target `jupyter.widget` (metadata.version
 * "2.1.0", data {state, buffer_paths}); the model id is the comm id. Then:
 *   - `set()` changes state, fires change events at once, and sends one `update` per tick with the
 *     keys changed in that tick (binary values as buffers);
 *   - an `update` from the frontend is echoed to every frontend as `echo_update` (before it is
 *     applied, with the frontend's message as parent), then applied, firing change events; state the
 *     handlers change in response goes out before the handling ends;
 *   - `request_state` is answered with an `update` of the full state;
 *   - `custom` messages with buffers go both ways (`sendCustom`, `onCustom`).
 * Outside a kernel (a script, a test) the model works the same with no comm: state, events and a
 * static display bundle.
 */
import { randomUUID } from "crypto";
import { getKernelRuntime, type BinaryBuffer, type Comm, type CommRegistry, type MimeBundle } from "../../notebook/kernelRuntime";
import { putBuffers, removeBuffers } from "./buffers";
import { addLiveModel, removeLiveModel } from "./liveModels";
import {
  WIDGET_PROTOCOL_VERSION,
  WIDGET_TARGET,
  WIDGET_VIEW_MIME,
  WIDGET_VIEW_VERSION,
  type BufferPath,
  type SerializedState,
  type WidgetMessage,
} from "./protocol";
import { deepEqual, isUnchanged } from "./sameValue";

/** The keys every widget state carries: which frontend model and view classes to use. */
export interface WidgetState {
  _model_module: string;
  _model_module_version: string;
  _model_name: string;
  _view_module: string | null;
  _view_module_version: string;
  _view_name: string | null;
}

/** The extra keys of a DOM widget (one with a view that renders into the page). */
export interface DOMWidgetState extends WidgetState {
  _dom_classes: string[];
  tabbable: boolean | null;
  tooltip: string | null;
}

/** Defaults of the DOM widget keys (`layout` is left out: the frontend does without it). */
export const DOM_WIDGET_DEFAULTS: Pick<DOMWidgetState, "_dom_classes" | "tabbable" | "tooltip"> = {
  _dom_classes: [],
  tabbable: null,
  tooltip: null,
};

export type StateKey<S> = keyof S & string;

/** One key's change. `fromFrontend` is true when a frontend's update caused it. */
export interface ChangeEvent<S extends WidgetState, K extends StateKey<S> = StateKey<S>> {
  name: K;
  value: S[K];
  old: S[K];
  fromFrontend: boolean;
  model: WidgetModel<S>;
}

/** Every key changed by one `set` (or one frontend update). */
export interface ChangesEvent<S extends WidgetState> {
  changed: Partial<S>;
  fromFrontend: boolean;
  model: WidgetModel<S>;
}

export type CustomHandler = (content: unknown, buffers: DataView[]) => void;

export interface WidgetModelOptions {
  /** The comm registry to open the model's comm on; by default the running kernel's. */
  comms?: CommRegistry;
  /** Take over a comm the frontend opened (its id becomes the model id) instead of opening one. */
  comm?: Comm;
  /** Keys whose frontend updates are not echoed back (large or high-rate values). */
  noEcho?: Iterable<string>;
}

type Listener = (event: never) => void;
type State = Record<string, unknown>;

export class WidgetModel<S extends WidgetState = WidgetState> {
  /** The model id: the comm id in a kernel, a fresh id outside one. */
  readonly modelId: string;
  private readonly comm: Comm | undefined;
  private readonly state: State;
  private readonly noEcho: Set<string>;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly customHandlers = new Set<CustomHandler>();
  /** Keys set since the last update was sent. */
  private readonly pending = new Set<string>();
  private flushQueued = false;
  /** While a frontend update is applied: its values, which need not be sent back. */
  private lock: State | undefined;
  private _closed = false;

  constructor(state: S, options: WidgetModelOptions = {}) {
    this.state = { ...state } as unknown as State;
    this.noEcho = new Set(options.noEcho ?? []);
    let comm = options.comm;
    if (!comm) {
      const comms = options.comms ?? getKernelRuntime()?.comms;
      if (comms) {
        const { state: json, bufferPaths, buffers } = removeBuffers(this.state);
        const data: SerializedState = { state: json, buffer_paths: bufferPaths };
        comm = comms.open(WIDGET_TARGET, data, { metadata: { version: WIDGET_PROTOCOL_VERSION }, buffers });
      }
    }
    this.comm = comm;
    this.modelId = comm ? comm.commId : randomUUID().replace(/-/g, "");
    if (comm) {
      comm.onMsg((data, buffers) => this.receive(data, buffers));
      comm.onClose(() => this.closedByFrontend());
      addLiveModel(this);
    }
  }

  /**
   * A model for a comm the frontend opened on `jupyter.widget` (data {state, buffer_paths}, the
   * buffers as received). Its state is whatever the frontend sent.
   */
  static fromComm(comm: Comm, data: unknown, buffers: DataView[]): WidgetModel<WidgetState> {
    const body = (data ?? {}) as Partial<SerializedState>;
    const state = typeof body.state === "object" && body.state !== null ? structuredClone(body.state) : {};
    putBuffers(state, body.buffer_paths ?? [], buffers);
    return new WidgetModel(state as unknown as WidgetState, { comm });
  }

  /** Whether the model is connected to a frontend (its comm is open). */
  get live(): boolean {
    return this.comm !== undefined && !this.comm.closed && !this._closed;
  }

  get closed(): boolean {
    return this._closed;
  }

  get<K extends StateKey<S>>(key: K): S[K] {
    return this.state[key] as S[K];
  }

  /** A shallow copy of the whole state (binary values are shared, not copied). */
  getState(): S {
    return { ...this.state } as unknown as S;
  }

  /**
   * Changes state. Change events fire before this returns; the frontend gets one `update` per tick
   * with every key changed in it. Setting an equal value changes nothing (setting the same object
   * or buffer again counts as a change: it was probably mutated in place).
   */
  set<K extends StateKey<S>>(key: K, value: S[K]): this;
  set(patch: Partial<S>): this;
  set(keyOrPatch: string | Partial<S>, value?: unknown): this {
    const patch = typeof keyOrPatch === "string" ? { [keyOrPatch]: value } : (keyOrPatch as State);
    const errors = this.apply(patch, false);
    this.queueFlush();
    throwAll(errors);
    return this;
  }

  /**
   * Listens to `change:<key>` (one key), `change` (every set, with all its keys) or `close`.
   * Returns a function that stops listening.
   */
  on<K extends StateKey<S>>(event: `change:${K}`, listener: (event: ChangeEvent<S, K>) => void): () => void;
  on(event: "change", listener: (event: ChangesEvent<S>) => void): () => void;
  on(event: "close", listener: (event: { model: WidgetModel<S>; fromFrontend: boolean }) => void): () => void;
  on(event: string, listener: (event: never) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Handles `custom` messages from the frontend. Returns a function that stops handling. */
  onCustom(handler: CustomHandler): () => void {
    this.customHandlers.add(handler);
    return () => void this.customHandlers.delete(handler);
  }

  /** Sends `{method: "custom", content}` with raw buffers. Returns whether it was sent (false offline or closed). */
  sendCustom(content: unknown, buffers?: BinaryBuffer[]): boolean {
    if (!this.live) return false;
    this.comm!.send({ method: "custom", content } satisfies WidgetMessage, { buffers });
    return true;
  }

  /** Sends the pending `update` now instead of at the end of the tick. */
  flush(): void {
    if (this.pending.size === 0) return;
    const keys = [...this.pending];
    this.pending.clear();
    if (!this.live) return;
    this.sendState("update", pick(this.state, keys));
  }

  /** Closes the comm (comm_close to the frontend); the model stays usable offline. */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    this.pending.clear();
    removeLiveModel(this);
    if (this.comm && !this.comm.closed) this.comm.close();
    this.emit("close", { model: this, fromFrontend: false });
  }

  /**
   * The display bundle: the live widget view (in a kernel, while the comm is open), a
   * self-contained text/html fallback when the subclass gives one, and text/plain.
   */
  [Symbol.for("Jupyter.display")](): MimeBundle {
    return this.mimeBundle();
  }

  /** The display bundle (what `[Symbol.for("Jupyter.display")]()` returns), typed for callers. */
  mimeBundle(): MimeBundle {
    this.flush(); // the view should start from the current state
    const bundle: MimeBundle = {};
    if (this.live) {
      bundle[WIDGET_VIEW_MIME] = {
        model_id: this.modelId,
        version_major: WIDGET_VIEW_VERSION.major,
        version_minor: WIDGET_VIEW_VERSION.minor,
      };
    }
    const html = this.htmlFallback();
    if (html !== undefined) bundle["text/html"] = html;
    bundle["text/plain"] = this.textFallback();
    return bundle;
  }

  /** Subclasses: a self-contained HTML rendering (inline script and data) for frontends without the widget manager. */
  protected htmlFallback(): string | undefined {
    return undefined;
  }

  /** Subclasses: the text/plain rendering. By default the model name and its scalar public state. */
  protected textFallback(): string {
    const fields = Object.entries(this.state)
      .filter(([key, value]) => !key.startsWith("_") && ["string", "number", "boolean"].includes(typeof value))
      .map(([key, value]) => `${key}=${JSON.stringify(value)}`);
    const text = `${String(this.state._model_name)}(${fields.join(", ")})`;
    return text.length > 200 ? `${text.slice(0, 199)}…` : text;
  }

  // ---- incoming ----

  private receive(data: unknown, buffers: DataView[]): void {
    const msg = (data ?? {}) as Partial<WidgetMessage> & Record<string, unknown>;
    switch (msg.method) {
      case "update":
        return this.applyFrontendUpdate(msg.state, msg.buffer_paths, buffers);
      case "request_state":
        this.pending.clear();
        return this.sendState("update", this.state);
      case "custom":
        return this.deliverCustom(msg.content, buffers);
      default:
        throw new Error(`widget ${this.modelId}: unknown message method ${JSON.stringify(msg.method)}`);
    }
  }

  private applyFrontendUpdate(state: unknown, bufferPaths: BufferPath[] | undefined, buffers: DataView[]): void {
    if (typeof state !== "object" || state === null) throw new Error(`widget ${this.modelId}: update without a state object`);
    // A copy: the received message stays as it came.
    const incoming = putBuffers(structuredClone(state) as State, bufferPaths ?? [], buffers);
    // Echo first, so every frontend learns the order of this update among the kernel's own.
    const echoed = Object.keys(incoming).filter((key) => !this.noEcho.has(key));
    if (echoed.length > 0 && this.live) this.sendState("echo_update", pick(incoming, echoed));
    this.lock = incoming;
    let errors: unknown[];
    try {
      errors = this.apply(incoming, true);
    } finally {
      this.lock = undefined;
    }
    // What the handlers changed goes out while this message is still being handled.
    this.flush();
    throwAll(errors);
  }

  private deliverCustom(content: unknown, buffers: DataView[]): void {
    const errors: unknown[] = [];
    for (const handler of [...this.customHandlers]) {
      try {
        handler(content, buffers);
      } catch (error) {
        errors.push(error);
      }
    }
    throwAll(errors);
  }

  private closedByFrontend(): void {
    if (this._closed) return;
    this._closed = true;
    this.pending.clear();
    removeLiveModel(this);
    this.emit("close", { model: this, fromFrontend: true });
  }

  // ---- state plumbing ----

  /** Assigns the changed keys, then fires their events. Returns the listeners' errors. */
  private apply(patch: State, fromFrontend: boolean): unknown[] {
    const changed: State = {};
    const olds: State = {};
    for (const [key, value] of Object.entries(patch)) {
      const old = this.state[key];
      if (isUnchanged(old, value)) continue;
      this.state[key] = value;
      changed[key] = value;
      olds[key] = old;
      // A value the frontend just sent needs no update back (and supersedes an unsent kernel value).
      const fromLock = this.lock !== undefined && key in this.lock && deepEqual(this.lock[key], value);
      if (fromLock) this.pending.delete(key);
      else this.pending.add(key);
    }
    const errors: unknown[] = [];
    const keys = Object.keys(changed);
    for (const key of keys) {
      errors.push(...this.emit(`change:${key}`, { name: key, value: changed[key], old: olds[key], fromFrontend, model: this }));
    }
    if (keys.length > 0) errors.push(...this.emit("change", { changed, fromFrontend, model: this }));
    return errors;
  }

  private emit(event: string, payload: unknown): unknown[] {
    const errors: unknown[] = [];
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as (event: unknown) => void)(payload);
      } catch (error) {
        errors.push(error);
      }
    }
    return errors;
  }

  private queueFlush(): void {
    if (this.flushQueued || this.pending.size === 0) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      try {
        this.flush();
      } catch (error) {
        // Nobody awaits this tick: report instead of throwing into the event loop.
        console.error(`widget ${this.modelId}: sending an update failed:`, error);
      }
    });
  }

  private sendState(method: "update" | "echo_update", state: State): void {
    const { state: json, bufferPaths, buffers } = removeBuffers(state);
    this.comm!.send({ method, state: json, buffer_paths: bufferPaths } satisfies WidgetMessage, { buffers });
  }
}

function pick(state: State, keys: string[]): State {
  const out: State = {};
  for (const key of keys) out[key] = state[key];
  return out;
}

/** Rethrows listener errors after every listener ran: one as is, several as an AggregateError. */
function throwAll(errors: unknown[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} widget listeners threw`);
}
