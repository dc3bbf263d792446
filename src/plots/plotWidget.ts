/**
 * PlotWidget: a vega-lite chart as a mechlab widget (view "PlotView"). Its state is the spec
 * without data values plus the data as binary columns (see plotColumns.ts); the browser builds the
 * vega data rows. The static text/html inlines the chart bundle (vega, vega-lite, vega-embed),
 * not the small widget bundle. Made by `plot.line / heatmap / scatter / hist`.
 */
import { MechlabWidget, type MechlabWidgetState } from "../widgets/mechlabWidget";
import { staticWidgetHtml } from "../widgets/staticHtml";
import { PLOTS_STATIC_BUNDLE_FILE, readWidgetAsset } from "../widgets/widgetAssets";
import { tableRows, type PlotColumn, type PlotTable } from "./plotColumns";
import { PLOT_DATA_NAME, type VegaLiteSpec } from "./plotSpec";

export const PLOT_VIEW = "PlotView";

export type PlotKind = "line" | "heatmap" | "scatter" | "hist";

/** What a plot kind prepares: its spec (data named "table", no values) and its data. */
export interface PreparedPlot {
  kind: PlotKind;
  spec: VegaLiteSpec;
  table: PlotTable;
}

export interface PlotState extends MechlabWidgetState {
  kind: PlotKind;
  /** The vega-lite spec; `data` is `{ name: "table" }`, filled in by the view from `columns`. */
  spec: VegaLiteSpec;
  /** Numeric columns carry Float32Array values, text columns labels + Int32Array codes. */
  columns: PlotColumn[];
  rowCount: number;
}

export class PlotWidget extends MechlabWidget<PlotState> {
  constructor(prepared: PreparedPlot) {
    super(PLOT_VIEW, { kind: prepared.kind, spec: prepared.spec, columns: prepared.table.columns, rowCount: prepared.table.rowCount });
  }

  /** The data as vega rows (one object per row; NaN as null). */
  rows(): Record<string, number | string | null>[] {
    return tableRows({ columns: this.get("columns"), rowCount: this.get("rowCount") });
  }

  /** The full vega-lite spec with the data inline: paste it into any vega-lite tool. */
  spec(): VegaLiteSpec {
    const spec = structuredClone(this.get("spec"));
    spec.data = { values: this.rows() };
    return spec;
  }

  protected override htmlFallback(): string {
    return staticWidgetHtml(this.viewName, this.getState() as unknown as Record<string, unknown>, { bundle: readWidgetAsset(PLOTS_STATIC_BUNDLE_FILE) });
  }

  protected override textFallback(): string {
    const title = this.get("spec").title;
    const fields = this.get("columns").map((c) => c.name).join(", ");
    return `Plot(${this.get("kind")}${typeof title === "string" ? ` "${title}"` : ""}, ${this.get("rowCount")} rows: ${fields})`;
  }
}

/** The data name the specs use (re-exported for views and tests). */
export { PLOT_DATA_NAME };
