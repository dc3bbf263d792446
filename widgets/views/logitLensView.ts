/**
 * LogitLensView: the logit lens as a grid, rows = layers (accumulated) or terms (decomposed),
 * columns = the prompt's tokens. Each cell is labelled with its top token and coloured by the
 * probability, logit or rank of the target token (the next token, or a fixed one) or of its own top
 * token. Hover a cell for its numbers; click it for its top-k list (and `selectedCell` in the kernel).
 *
 * State (see src/widgets/logitLensWidget.ts and logitLensData.ts for the buffer layout): modes,
 * rowStarts, rowNames, rowLabels, tokens, nPos, topK, dVocab, targetKind, targetIds, targetTokens,
 * targetProb, targetLogit, targetRank, topIds, topProbs, topLogits, topTokens, mode, colorBy,
 * show, selectedCell, hoveredCell.
 */
import { asFloat32, asInt32 } from "./arrays";
import { cssColor, divergingScale, formatValue, legendElement, sequentialScale, type ColorScale } from "./colorScale";
import { addStyle, selectElement, tokenLabel } from "./viewStyles";
import type { RenderView } from "./viewContract";

const CSS = `
.ml-lens .ml-lens-body { display: flex; gap: 12px; align-items: flex-start; }
.ml-lens .ml-lens-scroll { overflow-x: auto; max-width: 100%; }
.ml-lens table.ml-lens-grid { border-collapse: separate; border-spacing: 1px; font-family: var(--jp-code-font-family, ui-monospace, monospace); font-size: 11px; }
.ml-lens .ml-lens-grid th { font-weight: normal; white-space: pre; padding: 0 3px; }
.ml-lens .ml-lens-grid thead th { text-align: center; max-width: 56px; overflow: hidden; text-overflow: ellipsis; }
.ml-lens .ml-lens-grid thead th.ml-lens-corner { max-width: none; text-align: right; }
.ml-lens .ml-lens-grid thead th .ml-lens-pos { display: block; font-size: 9px; }
.ml-lens .ml-lens-grid tbody th { text-align: right; font-family: var(--jp-ui-font-family, system-ui, sans-serif); }
.ml-lens .ml-lens-grid .ml-lens-target { font-size: 10px; }
.ml-lens td.ml-lens-cell { width: 52px; min-width: 52px; max-width: 52px; height: 22px; padding: 0 2px; box-sizing: border-box; text-align: center; overflow: hidden; text-overflow: ellipsis; white-space: pre; cursor: pointer; border-radius: 2px; border: 1px solid var(--jp-border-color3, rgba(128, 128, 128, 0.15)); }
.ml-lens td.ml-lens-cell.ml-lens-dark { color: #fff; }
.ml-lens td.ml-lens-cell.ml-lens-none { cursor: pointer; background-image: repeating-linear-gradient(45deg, rgba(128,128,128,0.15) 0 2px, transparent 2px 5px); }
.ml-lens td.ml-lens-cell.ml-lens-hit { font-weight: bold; text-decoration: underline; }
.ml-lens td.ml-lens-cell:hover, .ml-lens td.ml-lens-cell.ml-hl { outline: 2px solid var(--jp-brand-color1, #e08000); outline-offset: -1px; }
.ml-lens td.ml-lens-cell.ml-selected { outline: 2px solid var(--jp-ui-font-color1, #333); outline-offset: -1px; }
.ml-lens .ml-lens-panel { min-width: 190px; border-left: 1px solid var(--jp-border-color2, rgba(128, 128, 128, 0.4)); padding-left: 10px; }
.ml-lens .ml-lens-panel table { border-collapse: collapse; font-family: var(--jp-code-font-family, ui-monospace, monospace); font-size: 11px; }
.ml-lens .ml-lens-panel td, .ml-lens .ml-lens-panel th { padding: 1px 6px; text-align: right; white-space: pre; }
.ml-lens .ml-lens-panel td.ml-lens-tok { text-align: left; }
.ml-lens .ml-lens-panel tr.ml-lens-is-target td { font-weight: bold; }
.ml-lens .ml-lens-panel .ml-lens-bar { display: inline-block; height: 8px; background: rgba(33, 102, 172, 0.7); vertical-align: middle; }
.ml-lens .ml-lens-legend-row { display: flex; gap: 10px; align-items: flex-end; }
`;

/** Cell labels and column headers are cut to this many characters (the full text is on hover). */
const LABEL_CHARS = 6;

type Mode = "accumulated" | "decomposed";
type ColorBy = "probability" | "logit" | "rank";
type Show = "target" | "top";

/** A token as a short cell label: whitespace made visible (a token of spaces as "␣"), cut to `max` characters. */
export function truncateLabel(text: string, max = LABEL_CHARS): string {
  const shown = /^ +$/.test(text) ? "␣".repeat(text.length) : tokenLabel(text);
  const chars = Array.from(shown);
  return chars.length <= max ? chars.join("") : `${chars.slice(0, max - 1).join("")}…`;
}

const quote = (token: string): string => JSON.stringify(tokenLabel(token));

export const renderLogitLensView: RenderView = ({ model, el }) => {
  const doc = el.ownerDocument;
  const modes = model.get("modes") as Mode[];
  const rowStarts = model.get("rowStarts") as number[];
  const rowNames = model.get("rowNames") as string[][];
  const rowLabels = model.get("rowLabels") as string[][];
  const tokens = model.get("tokens") as string[];
  const nPos = Number(model.get("nPos"));
  const topK = Number(model.get("topK"));
  const dVocab = Number(model.get("dVocab"));
  const targetKind = String(model.get("targetKind"));
  const hasTarget = targetKind !== "top";
  const targetIds = asInt32(model.get("targetIds"), "targetIds");
  const targetTokens = model.get("targetTokens") as string[];
  const targetProb = asFloat32(model.get("targetProb"), "targetProb");
  const targetLogit = asFloat32(model.get("targetLogit"), "targetLogit");
  const targetRank = asInt32(model.get("targetRank"), "targetRank");
  const topIds = asInt32(model.get("topIds"), "topIds");
  const topProbs = asFloat32(model.get("topProbs"), "topProbs");
  const topLogits = asFloat32(model.get("topLogits"), "topLogits");
  const topTokens = model.get("topTokens") as string[];

  const modeIndex = (): number => Math.max(0, modes.indexOf(model.get("mode") as Mode));
  const colorBy = (): ColorBy => {
    const c = model.get("colorBy");
    return c === "logit" || c === "rank" ? c : "probability";
  };
  const show = (): Show => (hasTarget && model.get("show") !== "top" ? "target" : "top");
  /** Row index into the buffers of (row in the shown mode, pos). */
  const cellIndex = (row: number, pos: number): number => (rowStarts[modeIndex()] + row) * nPos + pos;
  const hasTargetAt = (pos: number): boolean => hasTarget && targetIds[pos] >= 0;

  /** The numbers of a cell for the shown token (target or own top): p, logit, rank; NaN where none. */
  const numbers = (row: number, pos: number, which: Show = show()): { p: number; logit: number; rank: number } => {
    const i = cellIndex(row, pos);
    if (which === "top") return { p: topProbs[i * topK], logit: topLogits[i * topK], rank: 1 };
    if (!hasTargetAt(pos)) return { p: NaN, logit: NaN, rank: NaN };
    return { p: targetProb[i], logit: targetLogit[i], rank: targetRank[i] };
  };

  /** The colour value of a cell: p, logit, or 1 − ln(rank)/ln(d_vocab) (rank 1 → 1, the last rank → 0). */
  const value = (row: number, pos: number): number => {
    const n = numbers(row, pos);
    const by = colorBy();
    if (by === "probability") return n.p;
    if (by === "logit") return n.logit;
    return Number.isFinite(n.rank) ? 1 - Math.log(n.rank) / Math.log(Math.max(dVocab, 2)) : NaN;
  };
  const rankOf = (t: number): number => Math.round(Math.exp((1 - t) * Math.log(Math.max(dVocab, 2))));

  const scale = (): { scale: ColorScale; format: (v: number) => string; caption: string } => {
    const by = colorBy();
    const what = show() === "target" ? (targetKind === "next" ? "the next token" : "the target token") : "each cell's top token";
    if (by === "probability") return { scale: sequentialScale(0, 1), format: formatValue, caption: `probability of ${what}` };
    if (by === "rank") return { scale: sequentialScale(0, 1), format: (t) => String(rankOf(t)), caption: `rank of ${what} (log scale, 1 = top)` };
    let low = Infinity;
    let high = -Infinity;
    const n = rowNames[modeIndex()].length;
    for (let r = 0; r < n; r++)
      for (let p = 0; p < nPos; p++) {
        const v = value(r, p);
        if (!Number.isFinite(v)) continue;
        low = Math.min(low, v);
        high = Math.max(high, v);
      }
    if (low > high) [low, high] = [0, 1];
    const caption = `logit of ${what}`;
    if (low < 0 && high > 0) return { scale: divergingScale(low, high, 0), format: formatValue, caption };
    return { scale: sequentialScale(low, high), format: formatValue, caption };
  };

  addStyle(el, CSS);
  const root = doc.createElement("div");
  root.className = "ml-view ml-lens";
  el.append(root);

  // Controls: mode (when both were computed), target / top token, colour quantity.
  const controls = doc.createElement("div");
  controls.className = "ml-controls";
  const modePicker = selectElement(doc, "mode", "rows", modes.map((m): [string, string] => [m, m === "accumulated" ? "accumulated (layers)" : "decomposed (terms)"]), (m) => {
    model.set("mode", m);
    if (model.get("selectedCell") !== null) model.set("selectedCell", null);
    model.save_changes();
  });
  const showOptions: [string, string][] = hasTarget ? [["target", targetKind === "next" ? "next token" : "target token"], ["top", "top token"]] : [["top", "top token"]];
  const showPicker = selectElement(doc, "show", "token", showOptions, (s) => {
    model.set("show", s);
    model.save_changes();
  });
  const colorPicker = selectElement(doc, "color-by", "colour by", [["probability", "probability"], ["logit", "logit"], ["rank", "rank"]], (c) => {
    model.set("colorBy", c);
    model.save_changes();
  });
  if (modes.length > 1) controls.append(modePicker.wrapper);
  if (hasTarget) controls.append(showPicker.wrapper);
  controls.append(colorPicker.wrapper);
  root.append(controls);

  const body = doc.createElement("div");
  body.className = "ml-lens-body";
  const scroll = doc.createElement("div");
  scroll.className = "ml-lens-scroll";
  const table = doc.createElement("table");
  table.className = "ml-lens-grid";
  table.dataset.testid = "grid";
  scroll.append(table);
  const panel = doc.createElement("div");
  panel.className = "ml-lens-panel";
  panel.dataset.testid = "panel";
  body.append(scroll, panel);
  root.append(body);

  const info = doc.createElement("div");
  info.className = "ml-info";
  info.dataset.testid = "info";
  const legendRow = doc.createElement("div");
  legendRow.className = "ml-lens-legend-row";
  const legendSlot = doc.createElement("div");
  const caption = doc.createElement("span");
  caption.className = "ml-muted";
  caption.dataset.testid = "legend-caption";
  legendRow.append(legendSlot, caption);
  root.append(info, legendRow);

  // ---------------------------------------------------------------- the grid
  let cells: HTMLTableCellElement[][] = [];
  let targetHeaders: HTMLElement[] = [];

  const buildGrid = (): void => {
    const m = modeIndex();
    const thead = doc.createElement("thead");
    const headRow = doc.createElement("tr");
    const corner = doc.createElement("th");
    corner.className = "ml-muted ml-lens-corner";
    corner.textContent = modes[m] === "accumulated" ? "layer \\ token" : "term \\ token";
    headRow.append(corner);
    tokens.forEach((token, p) => {
      const th = doc.createElement("th");
      th.dataset.pos = String(p);
      th.title = `position ${p}: ${quote(token)}`;
      const text = doc.createElement("span");
      text.className = "ml-lens-token";
      text.textContent = truncateLabel(token);
      const pos = doc.createElement("span");
      pos.className = "ml-lens-pos ml-muted";
      pos.textContent = String(p);
      th.append(pos, text);
      headRow.append(th);
    });
    thead.append(headRow);
    targetHeaders = [];
    if (hasTarget) {
      const targetRow = doc.createElement("tr");
      const label = doc.createElement("th");
      label.className = "ml-muted ml-lens-target ml-lens-corner";
      label.textContent = targetKind === "next" ? "next →" : "target →";
      targetRow.append(label);
      for (let p = 0; p < nPos; p++) {
        const th = doc.createElement("th");
        th.className = "ml-muted ml-lens-target";
        th.textContent = hasTargetAt(p) ? truncateLabel(targetTokens[p] ?? "") : "–";
        th.title = hasTargetAt(p) ? `target at position ${p}: ${quote(targetTokens[p] ?? "")} (id ${targetIds[p]})` : `no target at position ${p}`;
        targetRow.append(th);
        targetHeaders.push(th);
      }
      thead.append(targetRow);
    }
    const tbody = doc.createElement("tbody");
    cells = rowNames[m].map((name, r) => {
      const tr = doc.createElement("tr");
      const th = doc.createElement("th");
      th.textContent = name;
      th.title = rowLabels[m][r] ?? name;
      tr.append(th);
      const row = Array.from({ length: nPos }, (_, p) => {
        const td = doc.createElement("td");
        td.className = "ml-lens-cell";
        td.dataset.row = String(r);
        td.dataset.pos = String(p);
        td.textContent = truncateLabel(topTokens[cellIndex(r, p) * topK] ?? "");
        td.addEventListener("mouseenter", () => setHover([r, p]));
        td.addEventListener("click", () => {
          model.set("selectedCell", [r, p]);
          model.save_changes();
        });
        tr.append(td);
        return td;
      });
      tbody.append(tr);
      return row;
    });
    table.replaceChildren(thead, tbody);
  };
  table.addEventListener("mouseleave", () => setHover(null));

  function setHover(cell: [number, number] | null): void {
    const old = (model.get("hoveredCell") as [number, number] | null | undefined) ?? null;
    if (old === null && cell === null) return;
    if (old && cell && old[0] === cell[0] && old[1] === cell[1]) return;
    model.set("hoveredCell", cell);
    model.save_changes();
  }

  /** The hover text of a cell: where, the target's numbers, the top token's numbers. */
  const describe = (r: number, p: number): string => {
    const name = rowNames[modeIndex()][r];
    const i = cellIndex(r, p);
    const top = numbers(r, p, "top");
    const topText = `top ${quote(topTokens[i * topK] ?? "")}: p ${formatValue(top.p)}, logit ${formatValue(top.logit)}`;
    const where = `${name}, position ${p} ${quote(tokens[p] ?? "")}`;
    if (!hasTarget) return `${where}: ${topText}`;
    if (!hasTargetAt(p)) return `${where}: no ${targetKind === "next" ? "next token" : "target"}; ${topText}`;
    const t = numbers(r, p, "target");
    return `${where}: ${targetKind === "next" ? "next" : "target"} ${quote(targetTokens[p] ?? "")} p ${formatValue(t.p)}, logit ${formatValue(t.logit)}, rank ${t.rank}; ${topText}`;
  };

  const paint = (): void => {
    modePicker.select.value = modes[modeIndex()];
    showPicker.select.value = show();
    colorPicker.select.value = colorBy();
    const { scale: s, format, caption: text } = scale();
    for (let r = 0; r < cells.length; r++)
      for (let p = 0; p < nPos; p++) {
        const td = cells[r][p];
        const v = value(r, p);
        const color = s.color(v);
        td.style.backgroundColor = cssColor(color);
        td.classList.toggle("ml-lens-dark", color.alpha > 0.5);
        td.classList.toggle("ml-lens-none", !Number.isFinite(v));
        const i = cellIndex(r, p);
        td.classList.toggle("ml-lens-hit", hasTargetAt(p) && topIds[i * topK] === targetIds[p]);
        td.title = describe(r, p);
      }
    legendSlot.replaceChildren(legendElement(doc, s, format));
    caption.textContent = show() === "top" && colorBy() === "rank" ? `${text}: always 1 here` : text;
    showHover();
  };

  const showHover = (): void => {
    const hovered = model.get("hoveredCell") as [number, number] | null | undefined;
    for (const row of cells) for (const td of row) td.classList.remove("ml-hl");
    const td = hovered ? cells[hovered[0]]?.[hovered[1]] : undefined;
    if (!hovered || !td) {
      info.textContent = "Hover a cell for its numbers; click it for its top tokens.";
      return;
    }
    td.classList.add("ml-hl");
    info.textContent = describe(hovered[0], hovered[1]);
  };

  const showSelected = (): void => {
    const selected = model.get("selectedCell") as [number, number] | null | undefined;
    for (const row of cells) for (const td of row) td.classList.remove("ml-selected");
    const td = selected ? cells[selected[0]]?.[selected[1]] : undefined;
    if (!selected || !td) {
      const hint = doc.createElement("div");
      hint.className = "ml-muted";
      hint.textContent = "Click a cell for its top tokens.";
      panel.replaceChildren(hint);
      return;
    }
    td.classList.add("ml-selected");
    const [r, p] = selected;
    const title = doc.createElement("div");
    title.dataset.testid = "panel-title";
    title.textContent = `${rowNames[modeIndex()][r]}, position ${p} ${quote(tokens[p] ?? "")}`;
    const list = doc.createElement("table");
    list.dataset.testid = "topk";
    const head = doc.createElement("tr");
    for (const h of ["#", "token", "prob", "logit", ""]) {
      const th = doc.createElement("th");
      th.textContent = h;
      head.append(th);
    }
    list.append(head);
    const i = cellIndex(r, p);
    for (let k = 0; k < topK; k++) {
      const tr = doc.createElement("tr");
      const j = i * topK + k;
      if (hasTargetAt(p) && topIds[j] === targetIds[p]) tr.className = "ml-lens-is-target";
      const bar = doc.createElement("span");
      bar.className = "ml-lens-bar";
      bar.style.width = `${Math.round(60 * Math.min(1, Math.max(0, topProbs[j])))}px`;
      const values = [String(k + 1), quote(topTokens[j] ?? ""), formatValue(topProbs[j]), formatValue(topLogits[j])];
      values.forEach((text, c) => {
        const td = doc.createElement("td");
        td.textContent = text;
        if (c === 1) {
          td.className = "ml-lens-tok";
          td.title = `id ${topIds[j]}`;
        }
        tr.append(td);
      });
      const barCell = doc.createElement("td");
      barCell.className = "ml-lens-tok";
      barCell.append(bar);
      tr.append(barCell);
      list.append(tr);
    }
    panel.replaceChildren(title, list);
    if (hasTargetAt(p)) {
      const t = numbers(r, p, "target");
      const target = doc.createElement("div");
      target.className = "ml-muted";
      target.dataset.testid = "panel-target";
      target.textContent = `${targetKind === "next" ? "next" : "target"} ${quote(targetTokens[p] ?? "")}: p ${formatValue(t.p)}, logit ${formatValue(t.logit)}, rank ${t.rank}`;
      panel.append(target);
    }
  };

  const rebuild = (): void => {
    buildGrid();
    paint();
    showSelected();
  };
  rebuild();

  model.on("change:mode", rebuild);
  model.on("change:colorBy", paint);
  model.on("change:show", paint);
  model.on("change:hoveredCell", showHover);
  model.on("change:selectedCell", showSelected);
  return () => {
    model.off("change:mode", rebuild);
    model.off("change:colorBy", paint);
    model.off("change:show", paint);
    model.off("change:hoveredCell", showHover);
    model.off("change:selectedCell", showSelected);
    el.replaceChildren();
  };
};
