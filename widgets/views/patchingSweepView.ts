/**
 * PatchingSweepView: a heatmap of one metric over a grid that fills in while the kernel computes
 * it, with a progress bar, "k / n" and a cancel button while running, the final status after.
 * Uncomputed cells are hatched; hover a cell for its numbers, click it for the detail panel (the
 * click is sent to the kernel as `selectedCell`).
 *
 * State (see src/widgets/patchingSweepWidget.ts): kind, rows, cols, rowLabels, colLabels,
 * rowAxis, colAxis, metricName, valueRange ([low, high] | null), values ([row, col] Float32,
 * NaN = not computed), done, total, status, message, selectedCell ([row, col] | null).
 * The cancel button sends the custom message {event: "cancel"}.
 */
import { asFloat32 } from "./arrays";
import { cssColor, divergingScale, formatValue, legendElement, type ColorScale } from "./colorScale";
import { addStyle, tokenLabel } from "./viewStyles";
import type { RenderView } from "./viewContract";

const CSS = `
.ml-sweep { position: relative; }
.ml-sweep .ml-sweep-title { font-weight: 600; margin-bottom: 4px; }
.ml-sweep .ml-sweep-progress { display: flex; align-items: center; gap: 8px; margin-bottom: 6px; }
.ml-sweep .ml-sweep-bar { width: 200px; height: 8px; border: 1px solid var(--jp-border-color1, rgba(128, 128, 128, 0.6)); border-radius: 4px; overflow: hidden; }
.ml-sweep .ml-sweep-bar-fill { height: 100%; width: 0; background: var(--jp-brand-color1, #1976d2); transition: width 80ms linear; }
.ml-sweep .ml-sweep-count { font-family: var(--jp-code-font-family, ui-monospace, monospace); min-width: 7em; }
.ml-sweep .ml-sweep-status { margin-bottom: 6px; }
.ml-sweep .ml-sweep-status.ml-error { color: var(--jp-error-color1, #d32f2f); }
.ml-sweep .ml-sweep-scroll { overflow: auto; max-width: 100%; max-height: 720px; }
.ml-sweep .ml-sweep-grid { display: grid; width: max-content; }
.ml-sweep .ml-sweep-corner { font-size: 10px; align-self: end; padding: 0 6px 3px 0; text-align: right; white-space: nowrap; }
.ml-sweep .ml-sweep-col-label { font-size: 10px; text-align: center; overflow: hidden; white-space: pre; align-self: end; padding-bottom: 2px; font-family: var(--jp-code-font-family, ui-monospace, monospace); }
.ml-sweep .ml-sweep-col-label.ml-rot { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; max-height: 96px; text-overflow: ellipsis; justify-self: center; padding: 2px 0; }
.ml-sweep .ml-sweep-row-label { font-size: 10px; text-align: right; padding-right: 6px; white-space: pre; overflow: hidden; text-overflow: ellipsis; max-width: 160px; align-self: center; font-family: var(--jp-code-font-family, ui-monospace, monospace); }
.ml-sweep .ml-sweep-cell { box-sizing: border-box; border: 1px solid var(--jp-layout-color1, rgba(255, 255, 255, 0.5)); font-size: 9px; line-height: 1; display: flex; align-items: center; justify-content: center; cursor: pointer; overflow: hidden; font-family: var(--jp-code-font-family, ui-monospace, monospace); }
.ml-sweep .ml-sweep-cell.ml-empty { background-image: repeating-linear-gradient(45deg, rgba(128, 128, 128, 0.28) 0 1.5px, transparent 1.5px 5px); }
.ml-sweep .ml-sweep-cell.ml-dark { color: #fff; }
.ml-sweep .ml-sweep-cell.ml-selected { outline: 2px solid var(--jp-brand-color0, #e08000); outline-offset: -2px; }
.ml-sweep .ml-sweep-legend { display: flex; align-items: flex-end; gap: 8px; }
.ml-sweep .ml-sweep-tip { position: absolute; z-index: 10; pointer-events: none; padding: 3px 6px; border-radius: 3px; white-space: pre; font-family: var(--jp-code-font-family, ui-monospace, monospace); font-size: 11px; background: var(--jp-layout-color0, var(--vscode-editor-background, #fff)); color: var(--jp-ui-font-color1, inherit); border: 1px solid var(--jp-border-color1, rgba(128, 128, 128, 0.6)); box-shadow: 0 1px 4px rgba(0, 0, 0, 0.25); }
.ml-sweep .ml-sweep-detail { margin-top: 6px; padding: 4px 6px; border-left: 3px solid var(--jp-brand-color1, #1976d2); font-family: var(--jp-code-font-family, ui-monospace, monospace); white-space: pre-wrap; }
`;

/** Cell size in px: large enough to read for small grids, small enough that 48 × 128 fits a page. */
function cellSize(rows: number, cols: number): { width: number; height: number } {
  const width = cols <= 12 ? 44 : cols <= 24 ? 30 : cols <= 48 ? 18 : cols <= 80 ? 13 : 11;
  const height = rows <= 12 ? 26 : rows <= 24 ? 20 : rows <= 48 ? 14 : 11;
  return { width, height };
}

/** Short text inside a big cell. */
function cellText(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.01 || a >= 1000)) return v.toExponential(0);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export const renderPatchingSweepView: RenderView = ({ model, el }) => {
  const doc = el.ownerDocument;
  const rows = Number(model.get("rows"));
  const cols = Number(model.get("cols"));
  const rowLabels = (model.get("rowLabels") as string[]) ?? [];
  const colLabels = (model.get("colLabels") as string[]) ?? [];
  const rowAxis = String(model.get("rowAxis") ?? "row");
  const colAxis = String(model.get("colAxis") ?? "col");
  const metricName = String(model.get("metricName") ?? "metric");
  const { width: cellW, height: cellH } = cellSize(rows, cols);
  const showNumbers = cellW >= 44 && cellH >= 20;

  let values = asFloat32(model.get("values"), "values");
  const valueAt = (r: number, c: number): number => values[r * cols + c];

  addStyle(el, CSS);
  const root = doc.createElement("div");
  root.className = "ml-view ml-sweep";
  el.append(root);

  const title = doc.createElement("div");
  title.className = "ml-sweep-title";
  title.dataset.testid = "title";
  title.textContent = `${metricName} — ${String(model.get("kind") ?? "")} (${rows} × ${cols})`;

  // Progress while running: bar, "k / n", cancel.
  const progress = doc.createElement("div");
  progress.className = "ml-sweep-progress";
  progress.dataset.testid = "progress";
  const bar = doc.createElement("div");
  bar.className = "ml-sweep-bar";
  const fill = doc.createElement("div");
  fill.className = "ml-sweep-bar-fill";
  bar.append(fill);
  const count = doc.createElement("span");
  count.className = "ml-sweep-count";
  count.dataset.testid = "progress-text";
  const cancel = doc.createElement("button");
  cancel.type = "button";
  cancel.dataset.testid = "cancel";
  cancel.textContent = "Cancel";
  cancel.addEventListener("click", () => {
    cancel.disabled = true;
    cancel.textContent = "Cancelling…";
    model.send({ event: "cancel" });
  });
  progress.append(bar, count, cancel);

  const status = doc.createElement("div");
  status.className = "ml-sweep-status";
  status.dataset.testid = "status";

  // The heatmap: one CSS grid with the corner, the column labels, then per row its label and cells.
  const scroll = doc.createElement("div");
  scroll.className = "ml-sweep-scroll";
  const grid = doc.createElement("div");
  grid.className = "ml-sweep-grid";
  grid.dataset.testid = "heatmap";
  grid.style.gridTemplateColumns = `auto repeat(${cols}, ${cellW}px)`;
  grid.style.gridTemplateRows = `auto repeat(${rows}, ${cellH}px)`;
  scroll.append(grid);
  const corner = doc.createElement("div");
  corner.className = "ml-sweep-corner ml-muted";
  corner.textContent = `${rowAxis} ↓ ${colAxis} →`;
  grid.append(corner);
  // Labels wider than a cell stand upright.
  const rotate = colLabels.some((label) => tokenLabel(label).length * 6.5 > cellW - 4);
  for (let c = 0; c < cols; c++) {
    const label = doc.createElement("div");
    label.className = rotate ? "ml-sweep-col-label ml-rot" : "ml-sweep-col-label";
    label.textContent = tokenLabel(colLabels[c] ?? String(c));
    label.title = `${colAxis} ${c}: ${JSON.stringify(colLabels[c] ?? "")}`;
    grid.append(label);
  }
  const cells: HTMLElement[] = new Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const label = doc.createElement("div");
    label.className = "ml-sweep-row-label";
    label.textContent = tokenLabel(rowLabels[r] ?? String(r));
    label.title = `${rowAxis} ${r}: ${rowLabels[r] ?? ""}`;
    grid.append(label);
    for (let c = 0; c < cols; c++) {
      const cell = doc.createElement("div");
      cell.className = "ml-sweep-cell ml-empty";
      cell.dataset.row = String(r);
      cell.dataset.col = String(c);
      cells[r * cols + c] = cell;
      grid.append(cell);
    }
  }

  const legendRow = doc.createElement("div");
  legendRow.className = "ml-sweep-legend";
  const legendSlot = doc.createElement("div");
  legendSlot.dataset.testid = "legend";
  const legendName = doc.createElement("span");
  legendName.className = "ml-muted";
  legendName.textContent = `${metricName} (hatched: not computed)`;
  legendRow.append(legendSlot, legendName);

  const detail = doc.createElement("div");
  detail.className = "ml-sweep-detail";
  detail.dataset.testid = "detail";

  const tip = doc.createElement("div");
  tip.className = "ml-sweep-tip";
  tip.dataset.testid = "tooltip";
  tip.style.display = "none";

  root.append(title, progress, status, scroll, legendRow, detail, tip);

  let shownSelected: HTMLElement | undefined;

  // ---- colour scale: diverging around 0, symmetric unless the kernel fixed a range ----
  let scale: ColorScale = divergingScale(-1, 1, 0);
  let legendKey = "";
  const scaleOf = (): ColorScale => {
    const range = model.get("valueRange") as [number, number] | null | undefined;
    if (range) return divergingScale(Math.min(range[0], 0), Math.max(range[1], 0), 0);
    let reach = 0;
    for (const v of values) if (Math.abs(v) > reach) reach = Math.abs(v); // NaN compares false
    reach ||= 1;
    return divergingScale(-reach, reach, 0);
  };

  const cellDescription = (r: number, c: number): string => {
    const v = valueAt(r, c);
    return `${rowAxis} ${rowLabels[r] ?? r} · ${colAxis} ${JSON.stringify(colLabels[c] ?? String(c))}\n${metricName}: ${Number.isNaN(v) ? "not computed yet" : formatValue(v)}`;
  };

  // What each cell shows now, so a repaint touches only the cells that change.
  const shownColor: string[] = new Array(cells.length).fill("");
  const shownState = new Uint8Array(cells.length); // 0 empty, 1 filled, 2 filled on a dark colour
  const paintCells = (): void => {
    values = asFloat32(model.get("values"), "values");
    scale = scaleOf();
    for (let i = 0; i < cells.length; i++) {
      const v = values[i];
      const empty = Number.isNaN(v);
      const color = empty ? undefined : scale.color(v);
      const css = color ? cssColor(color) : "";
      const state = color ? (color.alpha > 0.5 ? 2 : 1) : 0;
      if (css === shownColor[i] && state === shownState[i]) continue;
      const cell = cells[i];
      if (state !== shownState[i]) {
        cell.className = state === 0 ? "ml-sweep-cell ml-empty" : state === 1 ? "ml-sweep-cell ml-filled" : "ml-sweep-cell ml-filled ml-dark";
        if (cell === shownSelected) cell.classList.add("ml-selected");
      }
      cell.style.backgroundColor = css;
      if (showNumbers) cell.textContent = empty ? "" : cellText(v);
      shownColor[i] = css;
      shownState[i] = state;
    }
    const key = `${scale.low}|${scale.high}`;
    if (key !== legendKey) {
      legendKey = key;
      legendSlot.replaceChildren(legendElement(doc, scale));
    }
  };

  const paintStatus = (): void => {
    const state = String(model.get("status") ?? "idle");
    const done = Number(model.get("done") ?? 0);
    const total = Number(model.get("total") ?? rows * cols) || rows * cols;
    const message = String(model.get("message") ?? "");
    const running = state === "running";
    progress.style.display = running ? "" : "none";
    fill.style.width = `${((100 * done) / total).toFixed(1)}%`;
    count.textContent = `${done} / ${total}`;
    if (!running) {
      cancel.disabled = false;
      cancel.textContent = "Cancel";
    }
    status.dataset.status = state;
    status.classList.toggle("ml-error", state === "error");
    const prefix: Record<string, string> = { running: "Running", done: "Done", cancelled: "Cancelled", error: "Error", idle: "Waiting" };
    const said = message || (running ? "computing…" : `${done} / ${total} cells`);
    // "cancelled (…) after …" reads as is, capitalised; other messages get the status in front.
    status.textContent = said.toLowerCase().startsWith(state) ? said[0].toUpperCase() + said.slice(1) : `${prefix[state] ?? state}: ${said}`;
  };

  const selectedOf = (): [number, number] | null => {
    const cell = model.get("selectedCell") as [number, number] | null | undefined;
    return cell && cells[cell[0] * cols + cell[1]] !== undefined ? cell : null;
  };
  const paintSelection = (): void => {
    shownSelected?.classList.remove("ml-selected");
    const cell = selectedOf();
    if (!cell) {
      shownSelected = undefined;
      detail.textContent = "Click a cell for its numbers.";
      return;
    }
    const [r, c] = cell;
    shownSelected = cells[r * cols + c];
    shownSelected.classList.add("ml-selected");
    // The cell among its row and column (computed cells only).
    let rowMax = -Infinity;
    let colMax = -Infinity;
    let rank = 1;
    let computed = 0;
    const v = valueAt(r, c);
    for (let i = 0; i < values.length; i++) {
      const w = values[i];
      if (Number.isNaN(w)) continue;
      computed++;
      if (w > v) rank++;
      if (Math.floor(i / cols) === r && w > rowMax) rowMax = w;
      if (i % cols === c && w > colMax) colMax = w;
    }
    const lines = [
      `${rowAxis} ${rowLabels[r] ?? r} (row ${r}), ${colAxis} ${JSON.stringify(colLabels[c] ?? String(c))} (col ${c})`,
      `${metricName} = ${Number.isNaN(v) ? "not computed yet" : formatValue(v)}`,
    ];
    if (!Number.isNaN(v)) {
      lines.push(`rank ${rank} of ${computed} computed · row max ${formatValue(rowMax)} · col max ${formatValue(colMax)}`);
    }
    detail.textContent = lines.join("\n");
  };

  // ---- hover tooltip and click selection (one listener each on the grid) ----
  const cellOf = (target: EventTarget | null): [number, number] | null => {
    const cell = (target as HTMLElement | null)?.closest?.(".ml-sweep-cell") as HTMLElement | null;
    if (!cell || cell.dataset.row === undefined) return null;
    return [Number(cell.dataset.row), Number(cell.dataset.col)];
  };
  let hovered: [number, number] | null = null;
  const showTip = (): void => {
    if (!hovered) {
      tip.style.display = "none";
      return;
    }
    const [r, c] = hovered;
    tip.textContent = cellDescription(r, c);
    tip.style.display = "block";
    const cellBox = cells[r * cols + c].getBoundingClientRect();
    const rootBox = root.getBoundingClientRect();
    // Right of the cell, or left of it where the right side has no room.
    const right = cellBox.left - rootBox.left + cellW + 4;
    const left = cellBox.left - rootBox.left - 4 - tip.offsetWidth;
    tip.style.left = `${Math.max(0, right + tip.offsetWidth > root.clientWidth && left >= 0 ? left : right)}px`;
    tip.style.top = `${Math.max(0, cellBox.top - rootBox.top - 4)}px`;
  };
  grid.addEventListener("mouseover", (event) => {
    hovered = cellOf(event.target);
    showTip();
  });
  grid.addEventListener("mouseleave", () => {
    hovered = null;
    showTip();
  });
  grid.addEventListener("click", (event) => {
    const cell = cellOf(event.target);
    if (!cell) return;
    const old = selectedOf();
    model.set("selectedCell", old && old[0] === cell[0] && old[1] === cell[1] ? null : cell);
    model.save_changes();
    paintSelection(); // at once, whether or not the model reports its own change
  });

  const onValues = (): void => {
    paintCells();
    paintSelection();
    if (hovered) showTip();
  };
  paintCells();
  paintStatus();
  paintSelection();

  model.on("change:values", onValues);
  model.on("change:valueRange", onValues);
  model.on("change:done", paintStatus);
  model.on("change:total", paintStatus);
  model.on("change:status", paintStatus);
  model.on("change:message", paintStatus);
  model.on("change:selectedCell", paintSelection);
  return () => {
    model.off("change:values", onValues);
    model.off("change:valueRange", onValues);
    model.off("change:done", paintStatus);
    model.off("change:total", paintStatus);
    model.off("change:status", paintStatus);
    model.off("change:message", paintStatus);
    model.off("change:selectedCell", paintSelection);
    el.replaceChildren();
  };
};
