/**
 * Plots as widgets (vega-lite charts): `plot.line`, `plot.heatmap`, `plot.scatter`, `plot.hist`.
 *
 *   plot.line(losses, { title: "loss", logY: true })
 *   plot.heatmap(pattern, { xLabels: tokens, yLabels: tokens })
 *   plot.scatter(table, { x: "pc1", y: "pc2", color: "label" })
 *   plot.hist(acts, { bins: 50 })
 */
import { heatmap } from "./heatmap";
import { hist } from "./hist";
import { line } from "./line";
import { scatter } from "./scatter";

export const plot = { line, heatmap, scatter, hist };

export { PlotWidget, PLOT_VIEW, type PlotState, type PlotKind, type PreparedPlot } from "./plotWidget";
export { prepareLine, type LineOptions } from "./line";
export { prepareHeatmap, heatmapColorScale, type HeatmapOptions } from "./heatmap";
export { prepareScatter, type ScatterOptions } from "./scatter";
export { prepareHist, binValues, type HistOptions, type Bins } from "./hist";
export { mergeSpec, PLOT_DATA_NAME, type PlotOptions, type VegaLiteSpec } from "./plotSpec";
export { tableRows, type PlotColumn, type NumberColumn, type CategoryColumn, type PlotTable } from "./plotColumns";
export type { MatrixInput, TableInput, NumericArray, ArqueroLike, ColumnRecord } from "./plotInput";
