/**
 * Jupyter widget protocol 2.1.0 (ipywidgets 8, @jupyter-widgets/base 6): names, versions and the
 * shapes of the messages on a widget's comm and on the control comm.
 */

/** comm_open metadata.version of every widget comm; the frontend rejects another major version. */
export const WIDGET_PROTOCOL_VERSION = "2.1.0";
/** Comm target of widget models (one comm per model; the model id is the comm id). */
export const WIDGET_TARGET = "jupyter.widget";
/** Comm target the frontend opens to fetch every model's state in one message. */
export const CONTROL_TARGET = "jupyter.widget.control";
/** MIME type of a widget view in a display bundle. */
export const WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json";
/** The view reference format version (not the protocol version). */
export const WIDGET_VIEW_VERSION = { major: 2, minor: 0 } as const;

/** A path into a state object: object keys (strings) and list indices (numbers). */
export type BufferPath = (string | number)[];

/** comm_open data, and the body of update / echo_update. */
export interface SerializedState {
  state: Record<string, unknown>;
  buffer_paths: BufferPath[];
}

/** Messages on a widget comm, both directions (echo_update only from the kernel). */
export type WidgetMessage =
  | ({ method: "update" } & SerializedState)
  | ({ method: "echo_update" } & SerializedState)
  | { method: "request_state" }
  | { method: "custom"; content: unknown };

/** One model in an update_states reply. */
export interface ModelStateEntry {
  model_name: string;
  model_module: string;
  model_module_version: string;
  state: Record<string, unknown>;
}

/**
 * Control comm: the frontend sends `request_states`; the kernel answers `update_states` with every
 * live model, buffer paths starting with the model id (then "state", then the path in the state).
 */
export type ControlMessage =
  | { method: "request_states" }
  | { method: "update_states"; states: Record<string, ModelStateEntry>; buffer_paths: BufferPath[] };
