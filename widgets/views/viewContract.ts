/**
 * The contract every mechlab widget view is written against, once, with no framework: a
 * `render({ model, el })` function over a small model interface (the shape anywidget uses).
 *
 * Three adapters give a view its model:
 *   - live: a DOMWidgetView of @jupyter-widgets/base (JupyterLab 4 / Notebook 7 / html-manager),
 *     where `model` is the real widget model synced with the kernel over comms;
 *   - static: the self-contained text/html fallback, where `model` is built from state and
 *     buffers inlined in the page (sets change the page only; nothing reaches a kernel);
 *   - tests: a plain in-memory model.
 *
 * Binary state (typed arrays) arrives as DataView (live) or as the typed array (static/tests):
 * views read arrays through `asFloat32` / `asInt32` from widgets/views/arrays.ts.
 */

export type ChangeCallback = () => void;

export interface ViewModel {
  /** A state value (the kernel model's state key). */
  get(key: string): unknown;
  /** Changes a state value in the browser; `save_changes()` sends the pending changes to the kernel. */
  set(key: string, value: unknown): void;
  save_changes(): void;
  /** `event` is "change:<key>" or "change"; the callback runs after the value changed. */
  on(event: string, callback: ChangeCallback): void;
  off(event: string, callback: ChangeCallback): void;
  /** Custom message to the kernel model (`onCustom` there). */
  send(content: Record<string, unknown>, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
}

export interface RenderContext {
  model: ViewModel;
  el: HTMLElement;
}

/** Renders into `el`; may return a cleanup function called when the view is removed. */
export type RenderView = (context: RenderContext) => void | (() => void);

/**
 * The view registry key a kernel model names in `_view_name`, e.g. "AttentionView". Every view
 * module registers itself in widgets/views/index.ts under that name.
 */
export type ViewName = string;

/** The widget module name and version the kernel-side models put in `_model_module` / `_view_module`. */
export const WIDGET_MODULE = "mechlab-widgets";
