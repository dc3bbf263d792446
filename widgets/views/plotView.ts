/**
 * PlotView: a vega-lite chart (src/plots/). State: `spec` (vega-lite, data named "table", no
 * values), `columns` (binary columns, see plotRows.ts) and `rowCount`. The rows are built here and
 * handed to vega-embed inline (`datasets`), so nothing is fetched. Redraws when the spec or the
 * data change. The chart root carries `data-points` (rows drawn) for tests and tools.
 */
import type { Result } from "vega-embed";
import { plotRows } from "./plotRows";
import { embedChart } from "./vegaChart";
import { addStyle } from "./viewStyles";
import type { RenderView } from "./viewContract";

const CSS = `
.ml-plot .vega-embed { padding-right: 0; }
.ml-plot .vega-embed .vega-actions a { color: #222; }
.ml-plot .ml-error { color: var(--jp-error-color1, #c62828); white-space: pre-wrap; }
`;

/** Above this many rows the chart is drawn on a canvas instead of as SVG. */
export const CANVAS_ABOVE = 20_000;

export const renderPlotView: RenderView = ({ model, el }) => {
  const doc = el.ownerDocument;
  addStyle(el, CSS);
  const root = doc.createElement("div");
  root.className = "ml-view ml-plot";
  root.dataset.testid = "plot";
  el.append(root);
  let current: Result | undefined;
  let version = 0;
  let removed = false;

  const draw = async (): Promise<void> => {
    const mine = ++version;
    current?.finalize();
    current = undefined;
    root.textContent = "";
    root.dataset.rendered = "false";
    const chart = doc.createElement("div");
    root.append(chart);
    try {
      const spec = structuredClone(model.get("spec")) as Record<string, unknown>;
      const rows = plotRows(model.get("columns"), Number(model.get("rowCount") ?? 0));
      const name = ((spec.data as { name?: string } | undefined)?.name ?? "table") as string;
      spec.data = { name };
      spec.datasets = { ...(spec.datasets as Record<string, unknown> | undefined), [name]: rows };
      // Many marks draw faster on a canvas (a dense heatmap, a big scatter).
      const result = await embedChart(chart, spec, { renderer: rows.length > CANVAS_ABOVE ? "canvas" : "svg" });
      if (removed || mine !== version) return result.finalize();
      current = result;
      root.dataset.points = String(rows.length);
      root.dataset.rendered = "true";
    } catch (error) {
      if (mine !== version) return;
      const message = doc.createElement("div");
      message.className = "ml-error";
      message.textContent = `mechlab plot: ${error instanceof Error ? error.message : String(error)}`;
      root.append(message);
      root.dataset.rendered = "error";
    }
  };

  const redraw = (): void => void draw();
  model.on("change:spec", redraw);
  model.on("change:columns", redraw);
  void draw();
  return () => {
    removed = true;
    model.off("change:spec", redraw);
    model.off("change:columns", redraw);
    current?.finalize();
  };
};
