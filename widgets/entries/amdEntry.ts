/**
 * The widget module `mechlab-widgets` for real widget managers (@jupyter-widgets/html-manager,
 * nbconvert's HTML export, classic Notebook; the JupyterLab extension would export the same).
 * One model class, MechlabModel, and one view adapter exported under every registered view name:
 * the manager looks a view class up by `_view_name`, and the adapter renders the view registered
 * under that name.
 */
import { DOMWidgetModel, DOMWidgetView } from "@jupyter-widgets/base";
import { getView, viewNames } from "../views/index";
import "../views/plotViews";
import { liveViewModel } from "./liveViewModel";

declare const MECHLAB_VERSION: string;
export const MODULE_NAME = "mechlab-widgets";
export const MODULE_VERSION: string = MECHLAB_VERSION;

export class MechlabModel extends DOMWidgetModel {
  override defaults(): Backbone.ObjectHash {
    return {
      ...super.defaults(),
      _model_name: "MechlabModel",
      _model_module: MODULE_NAME,
      _model_module_version: MODULE_VERSION,
      _view_module: MODULE_NAME,
      _view_module_version: MODULE_VERSION,
    };
  }
}

export class MechlabView extends DOMWidgetView {
  private cleanup: (() => void) | undefined;

  override render(): void {
    const name = String(this.model.get("_view_name"));
    const render = getView(name);
    if (!render) {
      this.el.textContent = `mechlab: no view named ${name} (known: ${viewNames().join(", ")})`;
      return;
    }
    const result = render({ model: liveViewModel(this.model, this), el: this.el });
    if (typeof result === "function") this.cleanup = result;
  }

  override remove(): void {
    this.cleanup?.();
    this.cleanup = undefined;
    super.remove();
  }
}

/** The module's exports: the model, and the view adapter under "MechlabView" and every view name. */
export function moduleExports(): Record<string, unknown> {
  const out: Record<string, unknown> = { MechlabModel, MechlabView, MODULE_NAME, MODULE_VERSION };
  for (const name of viewNames()) out[name] = MechlabView;
  return out;
}
