/**
 * Widget comm targets the kernel registers at start:
 *   - `jupyter.widget.control`: `request_states` is answered with `update_states`, the state of
 *     every live model in one message (buffer paths [model_id, "state", ...path in the state]);
 *   - `jupyter.widget`: a model the frontend creates becomes a WidgetModel holding its state.
 */
import type { CommRegistry } from "../../notebook/kernelRuntime";
import { removeBuffers } from "./buffers";
import { liveModels } from "./liveModels";
import { CONTROL_TARGET, WIDGET_TARGET, type ControlMessage, type ModelStateEntry } from "./protocol";
import { WidgetModel } from "./widgetModel";

/** Registers the widget targets on the kernel's comm registry. Returns a function that unregisters them. */
export function registerWidgetControl(comms: CommRegistry): () => void {
  const offControl = comms.registerTarget(CONTROL_TARGET, (comm) => {
    comm.onMsg((data) => {
      const method = (data as Partial<ControlMessage> | null)?.method;
      if (method !== "request_states") throw new Error(`${CONTROL_TARGET}: unknown method ${JSON.stringify(method)}`);
      const { message, buffers } = updateStates();
      comm.send(message, { buffers });
    });
  });
  const offWidget = comms.registerTarget(WIDGET_TARGET, (comm, data, buffers) => {
    WidgetModel.fromComm(comm, data, buffers);
  });
  return () => {
    offControl();
    offWidget();
  };
}

/** The `update_states` message for every live model, with its buffers. */
export function updateStates(): { message: ControlMessage & { method: "update_states" }; buffers: ReturnType<typeof removeBuffers>["buffers"] } {
  const states: Record<string, ModelStateEntry> = {};
  for (const model of liveModels()) {
    if (!model.live) continue;
    model.flush(); // state updates in flight go first, so the snapshot is the newest
    const state = model.getState() as Record<string, unknown>;
    states[model.modelId] = {
      model_name: String(state._model_name),
      model_module: String(state._model_module),
      model_module_version: String(state._model_module_version),
      state,
    };
  }
  // Splitting the whole map gives each path the model id and "state" in front.
  const { state, bufferPaths, buffers } = removeBuffers(states);
  return { message: { method: "update_states", states: state, buffer_paths: bufferPaths }, buffers };
}
