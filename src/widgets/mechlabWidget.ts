/**
 * MechlabWidget: the base of every mechlab widget model. It names the frontend module
 * ("mechlab-widgets" at the package version), the shared model class "MechlabModel" and the view
 * `viewName` (a key of the view registry in widgets/views/index.ts), and displays offline through
 * the self-contained static HTML. Subclasses pass their view name and initial state:
 *
 *   class AttentionWidget extends MechlabWidget<AttentionState> {
 *     constructor(state: MechlabWidgetInit<AttentionState>) { super("AttentionView", state); }
 *   }
 */
import { DOM_WIDGET_DEFAULTS, WidgetModel, type DOMWidgetState, type WidgetModelOptions } from "./runtime/widgetModel";
import { staticWidgetHtml } from "./staticHtml";
import { MECHLAB_WIDGET_MODULE, widgetModuleVersion } from "./widgetAssets";

/** The frontend model class every mechlab widget uses. */
export const MECHLAB_MODEL_NAME = "MechlabModel";

/** State of a mechlab widget: the DOM widget keys plus the view's own keys. */
export type MechlabWidgetState = DOMWidgetState;

/** What a subclass passes: its own keys (the DOM widget keys are filled in). */
export type MechlabWidgetInit<S extends MechlabWidgetState> = Omit<S, keyof DOMWidgetState> & Partial<DOMWidgetState>;

/** The module/model/view keys of a mechlab widget showing `viewName`. */
export function mechlabWidgetKeys(viewName: string): DOMWidgetState {
  const version = widgetModuleVersion();
  return {
    _model_module: MECHLAB_WIDGET_MODULE,
    _model_module_version: version,
    _model_name: MECHLAB_MODEL_NAME,
    _view_module: MECHLAB_WIDGET_MODULE,
    _view_module_version: version,
    _view_name: viewName,
    ...DOM_WIDGET_DEFAULTS,
  };
}

export class MechlabWidget<S extends MechlabWidgetState = MechlabWidgetState> extends WidgetModel<S> {
  constructor(viewName: string, state: MechlabWidgetInit<S>, options: WidgetModelOptions = {}) {
    super({ ...mechlabWidgetKeys(viewName), ...state } as S, options);
  }

  /** The registry key of this widget's view. */
  get viewName(): string {
    return this.get("_view_name") ?? "";
  }

  /** The self-contained HTML: inlined static bundle, state and buffers, rendered by the view. */
  protected override htmlFallback(): string | undefined {
    return staticWidgetHtml(this.viewName, this.getState() as unknown as Record<string, unknown>);
  }
}
