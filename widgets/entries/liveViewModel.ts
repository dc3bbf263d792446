/**
 * The ViewModel over a live @jupyter-widgets/base model, as seen from one view: listeners are
 * bound through the view, so they stop when the view is removed.
 */
import type { DOMWidgetModel, DOMWidgetView } from "@jupyter-widgets/base";
import type { JSONObject } from "@lumino/coreutils";
import type { ChangeCallback, ViewModel } from "../views/viewContract";

export function liveViewModel(model: DOMWidgetModel, view: DOMWidgetView): ViewModel {
  return {
    get: (key) => model.get(key),
    set: (key, value) => void model.set(key, value),
    save_changes: () => model.save_changes(),
    on: (event: string, callback: ChangeCallback) => void view.listenTo(model, event, callback),
    off: (event: string, callback: ChangeCallback) => void view.stopListening(model, event, callback),
    send: (content, buffers) => model.send(content as JSONObject, {}, buffers),
  };
}
