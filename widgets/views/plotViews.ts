/**
 * The chart views (vega-lite through vega-embed). They register here, not in index.ts, so the
 * small static bundle stays free of vega: the chart static bundle (entries/plotsStaticEntry.ts)
 * and the AMD module import this file as well as index.ts.
 */
import { renderPlotView } from "./plotView";
import { registerView } from "./registry";
import { renderTrainingProgressView } from "./trainingProgressView";

registerView("PlotView", renderPlotView);
registerView("TrainingProgressView", renderTrainingProgressView);
