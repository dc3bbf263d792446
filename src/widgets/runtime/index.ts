/** The widget protocol 2.1.0 runtime: kernel-side models, buffers, and the control comm. */
export {
  WidgetModel,
  DOM_WIDGET_DEFAULTS,
  type WidgetState,
  type DOMWidgetState,
  type WidgetModelOptions,
  type ChangeEvent,
  type ChangesEvent,
  type CustomHandler,
  type StateKey,
} from "./widgetModel";
export { removeBuffers, putBuffers, isBinary, type SplitBuffers } from "./buffers";
export { registerWidgetControl, updateStates } from "./control";
export { liveModels, getLiveModel } from "./liveModels";
export {
  WIDGET_PROTOCOL_VERSION,
  WIDGET_TARGET,
  CONTROL_TARGET,
  WIDGET_VIEW_MIME,
  WIDGET_VIEW_VERSION,
  type BufferPath,
  type SerializedState,
  type WidgetMessage,
  type ControlMessage,
  type ModelStateEntry,
} from "./protocol";
