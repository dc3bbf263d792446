/**
 * AttentionView: attention patterns as a grid of head thumbnails (canvas, one pixel per query/key
 * pair, scaled up) or one focused head as a heatmap with the tokens on both axes.
 *
 * State (see src/widgets/attentionWidget.ts): tokens, patterns ([prompt, layer, head, q, k]
 * Float32), nPrompts, nLayers, nHeads, nPos, layers, heads, selectedPrompt, selectedLayer,
 * selectedHead, hoveredToken, maskUpperTriangle.
 *
 * Hovering a token (in the token strip or on either axis) sets `hoveredToken`: its row (what it
 * attends to) and column (what attends to it) are highlighted and listed with their values.
 * Without a 2-D canvas context (jsdom) thumbnails stay blank; everything else works.
 */
import { asFloat32 } from "./arrays";
import { cssColor, formatValue, legendElement, sequentialScale } from "./colorScale";
import { addStyle, selectElement, tokenLabel } from "./viewStyles";
import type { RenderView } from "./viewContract";

const CSS = `
.ml-attn .ml-tokens { margin: 4px 0; line-height: 1.7; }
.ml-attn .ml-token.ml-hl { outline: 2px solid var(--jp-brand-color1, #e08000); }
.ml-attn .ml-grid { display: flex; flex-direction: column; gap: 4px; }
.ml-attn .ml-grid-row { display: flex; gap: 4px; align-items: center; }
.ml-attn .ml-grid-label { width: 2.5em; text-align: right; }
.ml-attn .ml-thumb { display: flex; flex-direction: column; align-items: center; cursor: pointer; border: 1px solid var(--jp-border-color2, rgba(128, 128, 128, 0.4)); padding: 2px; }
.ml-attn .ml-thumb:hover { border-color: var(--jp-brand-color1, #e08000); }
.ml-attn .ml-thumb canvas { width: 64px; height: 64px; image-rendering: pixelated; background: var(--jp-layout-color0, transparent); }
.ml-attn .ml-heatmap { display: grid; gap: 0; width: max-content; }
.ml-attn .ml-cell { width: var(--ml-cell); height: var(--ml-cell); box-sizing: border-box; }
.ml-attn .ml-cell.ml-masked { background-image: repeating-linear-gradient(45deg, rgba(128,128,128,0.12) 0 2px, transparent 2px 4px); }
.ml-attn .ml-cell.ml-hl-row, .ml-attn .ml-cell.ml-hl-col { box-shadow: inset 0 0 0 1px var(--jp-brand-color1, #e08000); }
.ml-attn .ml-axis { font-size: var(--ml-font); line-height: var(--ml-cell); overflow: hidden; white-space: pre; font-family: var(--jp-code-font-family, ui-monospace, monospace); cursor: default; }
.ml-attn .ml-axis-q { text-align: right; padding-right: 4px; max-width: 12em; }
.ml-attn .ml-axis-k { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; padding-top: 4px; max-height: 12em; }
.ml-attn .ml-axis.ml-hl { background: rgba(224, 128, 0, 0.25); }
`;

const scale = sequentialScale(0, 1);

export const renderAttentionView: RenderView = ({ model, el }) => {
  const doc = el.ownerDocument;
  const nPrompts = Number(model.get("nPrompts"));
  const nLayers = Number(model.get("nLayers"));
  const nHeads = Number(model.get("nHeads"));
  const nPos = Number(model.get("nPos"));
  const layers = model.get("layers") as number[];
  const heads = model.get("heads") as number[];
  const allTokens = model.get("tokens") as string[][];
  const patterns = asFloat32(model.get("patterns"), "patterns");
  const block = nPos * nPos;

  const prompt = (): number => Number(model.get("selectedPrompt") ?? 0);
  const layerSlot = (): number | null => {
    const layer = model.get("selectedLayer") as number | null;
    return layer === null || layer === undefined ? null : Math.max(0, layers.indexOf(layer));
  };
  const headSlot = (): number | null => {
    const head = model.get("selectedHead") as number | null;
    return head === null || head === undefined ? null : Math.max(0, heads.indexOf(head));
  };
  const masked = (): boolean => Boolean(model.get("maskUpperTriangle"));
  const tokens = (): string[] => allTokens[prompt()] ?? [];
  const hovered = (): number | null => {
    const h = model.get("hoveredToken");
    return typeof h === "number" ? h : null;
  };
  /** Start of the [q, k] block of prompt p, layer slot l, head slot h in `patterns`. */
  const offset = (p: number, l: number, h: number): number => ((p * nLayers + l) * nHeads + h) * block;

  const setHover = (position: number | null): void => {
    if (hovered() === position) return;
    model.set("hoveredToken", position);
    model.save_changes();
  };

  addStyle(el, CSS);
  const root = doc.createElement("div");
  root.className = "ml-view ml-attn";
  el.append(root);

  // ---- controls ----
  const controls = doc.createElement("div");
  controls.className = "ml-controls";
  const promptPicker = selectElement(doc, "prompt", "prompt", allTokens.map((_, i) => [String(i), `${i}`]), (v) => {
    model.set("selectedPrompt", Number(v));
    model.set("hoveredToken", null);
    model.save_changes();
  });
  if (nPrompts > 1) controls.append(promptPicker.wrapper);
  const layerPicker = selectElement(doc, "layer", "layer", [["all", "all"], ...layers.map((l): [string, string] => [String(l), String(l)])], (v) => {
    if (v === "all") model.set("selectedHead", null);
    model.set("selectedLayer", v === "all" ? null : Number(v));
    model.save_changes();
  });
  const headPicker = selectElement(doc, "head", "head", [["grid", "grid"], ...heads.map((h): [string, string] => [String(h), String(h)])], (v) => {
    if (v !== "grid" && model.get("selectedLayer") === null) model.set("selectedLayer", layers[0]);
    model.set("selectedHead", v === "grid" ? null : Number(v));
    model.save_changes();
  });
  const maskLabel = doc.createElement("label");
  const maskBox = doc.createElement("input");
  maskBox.type = "checkbox";
  maskBox.dataset.testid = "mask";
  maskBox.addEventListener("change", () => {
    model.set("maskUpperTriangle", maskBox.checked);
    model.save_changes();
  });
  maskLabel.append(maskBox, " mask upper triangle");
  controls.append(layerPicker.wrapper, headPicker.wrapper, maskLabel);
  root.append(controls);

  // ---- token strip ----
  const strip = doc.createElement("div");
  strip.className = "ml-tokens";
  strip.dataset.testid = "tokens";
  strip.addEventListener("mouseleave", () => setHover(null));
  root.append(strip);
  let stripTokens: HTMLElement[] = [];
  const buildStrip = (): void => {
    strip.replaceChildren();
    stripTokens = tokens().map((token, i) => {
      const span = doc.createElement("span");
      span.className = "ml-token";
      span.dataset.pos = String(i);
      span.textContent = tokenLabel(token);
      span.addEventListener("mouseenter", () => setHover(i));
      strip.append(span);
      return span;
    });
  };

  // ---- thumbnail grid ----
  const grid = doc.createElement("div");
  grid.className = "ml-grid";
  grid.dataset.testid = "grid";
  root.append(grid);
  const drawThumbnail = (canvas: HTMLCanvasElement, start: number, n: number, mask: boolean): boolean => {
    let ctx: CanvasRenderingContext2D | null = null;
    try {
      ctx = canvas.getContext("2d");
    } catch {
      ctx = null;
    }
    if (!ctx) return false;
    const image = ctx.createImageData(n, n);
    const [r, g, b] = scale.color(1).rgb;
    for (let q = 0; q < n; q++) {
      for (let k = 0; k < n; k++) {
        const px = (q * n + k) * 4;
        const v = mask && k > q ? 0 : patterns[start + q * nPos + k];
        image.data[px] = r;
        image.data[px + 1] = g;
        image.data[px + 2] = b;
        image.data[px + 3] = Math.round(255 * scale.color(v).alpha);
      }
    }
    ctx.putImageData(image, 0, 0);
    return true;
  };
  const buildGrid = (): void => {
    grid.replaceChildren();
    const only = layerSlot();
    const slots = only === null ? layers.map((_, i) => i) : [only];
    const n = tokens().length;
    let canDraw = true;
    for (const l of slots) {
      const row = doc.createElement("div");
      row.className = "ml-grid-row";
      const label = doc.createElement("span");
      label.className = "ml-grid-label ml-muted";
      label.textContent = `L${layers[l]}`;
      row.append(label);
      for (let h = 0; h < nHeads; h++) {
        const thumb = doc.createElement("div");
        thumb.className = "ml-thumb";
        thumb.dataset.testid = "thumbnail";
        thumb.dataset.layer = String(layers[l]);
        thumb.dataset.head = String(heads[h]);
        thumb.title = `layer ${layers[l]}, head ${heads[h]}: click to focus`;
        const canvas = doc.createElement("canvas");
        canvas.width = n;
        canvas.height = n;
        if (canDraw) canDraw = drawThumbnail(canvas, offset(prompt(), l, h), n, masked());
        const caption = doc.createElement("span");
        caption.textContent = `L${layers[l]}H${heads[h]}`;
        thumb.append(canvas, caption);
        thumb.addEventListener("click", () => {
          model.set("selectedLayer", layers[l]);
          model.set("selectedHead", heads[h]);
          model.save_changes();
        });
        row.append(thumb);
      }
      grid.append(row);
    }
  };

  // ---- focused head ----
  const focus = doc.createElement("div");
  const back = doc.createElement("button");
  back.textContent = "← all heads";
  back.dataset.testid = "back";
  back.addEventListener("click", () => {
    model.set("selectedHead", null);
    model.save_changes();
  });
  const title = doc.createElement("div");
  title.className = "ml-muted";
  const heatmap = doc.createElement("div");
  heatmap.className = "ml-heatmap";
  heatmap.dataset.testid = "heatmap";
  heatmap.addEventListener("mouseleave", () => setHover(null));
  focus.append(back, title, heatmap);
  root.append(focus);
  let cells: HTMLElement[] = []; // [q * n + k]
  let qLabels: HTMLElement[] = [];
  let kLabels: HTMLElement[] = [];
  let cellCount = 0;
  const buildHeatmap = (): void => {
    const toks = tokens();
    const n = toks.length;
    cellCount = n;
    const size = Math.max(10, Math.min(24, Math.floor(640 / Math.max(1, n))));
    heatmap.style.setProperty("--ml-cell", `${size}px`);
    heatmap.style.setProperty("--ml-font", `${Math.max(8, Math.min(12, size - 2))}px`);
    heatmap.style.gridTemplateColumns = `auto repeat(${n}, ${size}px)`;
    heatmap.replaceChildren();
    heatmap.append(doc.createElement("div")); // corner
    // A token on an axis of the heatmap; hovering it hovers that position.
    const axisLabel = (axis: "k" | "q", token: string, position: number): HTMLDivElement => {
      const label = doc.createElement("div");
      label.className = `ml-axis ml-axis-${axis}`;
      label.dataset.testid = axis === "k" ? "key-label" : "query-label";
      label.textContent = tokenLabel(token);
      label.addEventListener("mouseenter", () => setHover(position));
      heatmap.append(label);
      return label;
    };
    kLabels = toks.map((token, k) => axisLabel("k", token, k));
    qLabels = [];
    cells = [];
    toks.forEach((token, q) => {
      qLabels.push(axisLabel("q", token, q));
      for (let k = 0; k < n; k++) {
        const cell = doc.createElement("div");
        cell.className = "ml-cell";
        cell.dataset.q = String(q);
        cell.dataset.k = String(k);
        heatmap.append(cell);
        cells.push(cell);
      }
    });
  };
  const colorHeatmap = (): void => {
    const l = layerSlot() ?? 0;
    const h = headSlot();
    if (h === null) return;
    const toks = tokens();
    const n = cellCount;
    const start = offset(prompt(), l, h);
    const mask = masked();
    title.textContent = `layer ${layers[l]}, head ${heads[h]} (rows: queries, columns: keys)`;
    for (let q = 0; q < n; q++) {
      for (let k = 0; k < n; k++) {
        const cell = cells[q * n + k];
        const v = patterns[start + q * nPos + k];
        const hide = mask && k > q;
        cell.classList.toggle("ml-masked", hide);
        cell.style.backgroundColor = hide ? "transparent" : cssColor(scale.color(v));
        cell.title = hide ? "" : `${tokenLabel(toks[q])} → ${tokenLabel(toks[k])}: ${formatValue(v)}`;
      }
    }
  };

  // ---- hover info and legend ----
  const info = doc.createElement("div");
  info.className = "ml-info";
  info.dataset.testid = "info";
  root.append(info, legendElement(doc, scale));

  /** The largest values of (position, value) pairs, as "token (pos) value" strings. */
  const top = (pairs: [number, number][], count = 5): string =>
    pairs
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([pos, v]) => `${JSON.stringify(tokens()[pos] ?? "")} (${pos}) ${formatValue(v)}`)
      .join(", ");

  const highlight = (): void => {
    const i = hovered();
    const n = cellCount;
    stripTokens.forEach((span, pos) => span.classList.toggle("ml-hl", pos === i));
    qLabels.forEach((label, pos) => label.classList.toggle("ml-hl", pos === i));
    kLabels.forEach((label, pos) => label.classList.toggle("ml-hl", pos === i));
    for (const cell of heatmap.querySelectorAll(".ml-hl-row, .ml-hl-col")) cell.classList.remove("ml-hl-row", "ml-hl-col");
    const h = headSlot();
    // Tint the token strip by what the hovered token attends to (focused head only).
    const start = h === null ? -1 : offset(prompt(), layerSlot() ?? 0, h);
    stripTokens.forEach((span, k) => {
      const v = i === null || start < 0 || (masked() && k > i) ? NaN : patterns[start + i * nPos + k];
      span.style.backgroundColor = Number.isNaN(v) ? "" : cssColor(scale.color(v));
    });
    if (i === null || i >= tokens().length) {
      info.textContent = h === null ? "Click a head to focus it; hover a token for its attention." : "Hover a token to see what it attends to and what attends to it.";
      return;
    }
    if (h === null) {
      info.textContent = `${JSON.stringify(tokens()[i])} (${i})`;
      return;
    }
    for (let k = 0; k < n; k++) cells[i * n + k].classList.add("ml-hl-row");
    for (let q = 0; q < n; q++) cells[q * n + i].classList.add("ml-hl-col");
    const mask = masked();
    const attendsTo: [number, number][] = [];
    for (let k = 0; k < n; k++) if (!(mask && k > i)) attendsTo.push([k, patterns[start + i * nPos + k]]);
    const attendedBy: [number, number][] = [];
    for (let q = 0; q < n; q++) if (!(mask && i > q)) attendedBy.push([q, patterns[start + q * nPos + i]]);
    info.textContent = `${JSON.stringify(tokens()[i])} (${i}) attends to: ${top(attendsTo)}\nattended by: ${top(attendedBy)}`;
  };

  // ---- updates ----
  const syncControls = (): void => {
    promptPicker.select.value = String(prompt());
    const layer = model.get("selectedLayer");
    layerPicker.select.value = layer === null || layer === undefined ? "all" : String(layer);
    const head = model.get("selectedHead");
    headPicker.select.value = head === null || head === undefined ? "grid" : String(head);
    maskBox.checked = masked();
  };
  const showMode = (): void => {
    const focused = headSlot() !== null;
    grid.style.display = focused ? "none" : "";
    focus.style.display = focused ? "" : "none";
    if (focused) colorHeatmap();
    else buildGrid();
  };
  const onPrompt = (): void => {
    syncControls();
    buildStrip();
    buildHeatmap();
    showMode();
    highlight();
  };
  const onSelection = (): void => {
    syncControls();
    showMode();
    highlight();
  };
  onPrompt();

  const subscriptions: [string, () => void][] = [
    ["change:selectedPrompt", onPrompt],
    ["change:selectedLayer", onSelection],
    ["change:selectedHead", onSelection],
    ["change:maskUpperTriangle", onSelection],
    ["change:hoveredToken", highlight],
  ];
  for (const [event, callback] of subscriptions) model.on(event, callback);
  return () => {
    for (const [event, callback] of subscriptions) model.off(event, callback);
    el.replaceChildren();
  };
};
