/**
 * The view registry every frontend bundle (static page, AMD module) imports: each view registers
 * here under the `_view_name` its kernel model uses.
 */
import { renderAttentionView } from "./attentionView";
import { renderDebugView } from "./debugView";
import { renderFeatureDashboardView } from "./featureDashboardView";
import { renderPatchingSweepView } from "./patchingSweepView";
import { renderLogitLensView } from "./logitLensView";
import { registerView } from "./registry";
import { renderTokenColorsView } from "./tokenColorsView";

export { registerView, getView, viewNames } from "./registry";
export type { RenderView, RenderContext, ViewModel, ViewName } from "./viewContract";

registerView("DebugView", renderDebugView);
registerView("AttentionView", renderAttentionView);
registerView("TokenColorsView", renderTokenColorsView);
registerView("PatchingSweepView", renderPatchingSweepView);
registerView("FeatureDashboardView", renderFeatureDashboardView);
registerView("LogitLensView", renderLogitLensView);
