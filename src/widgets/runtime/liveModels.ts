/**
 * The live widget models of this process (those with an open comm), keyed by model id: what the
 * control comm reports in update_states. Kept on a global symbol so that every copy of the library
 * loaded in the kernel process (the kernel's own and a notebook's) shares one set.
 */
import type { WidgetModel } from "./widgetModel";

const LIVE = Symbol.for("mechlab.widgets.liveModels");

// The registry holds models of every state type.
type AnyModel = WidgetModel<any>;

function table(): Map<string, AnyModel> {
  const global = globalThis as Record<symbol, unknown>;
  let models = global[LIVE] as Map<string, AnyModel> | undefined;
  if (!models) global[LIVE] = models = new Map();
  return models;
}

export function addLiveModel(model: AnyModel): void {
  table().set(model.modelId, model);
}

export function removeLiveModel(model: AnyModel): void {
  if (table().get(model.modelId) === model) table().delete(model.modelId);
}

/** The live model with this id, if any. */
export function getLiveModel(modelId: string): AnyModel | undefined {
  return table().get(modelId);
}

/** Every live model, in creation order. */
export function liveModels(): AnyModel[] {
  return [...table().values()];
}
