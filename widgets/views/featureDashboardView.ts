/**
 * FeatureDashboardView: one SAE feature or neuron at a glance — a header (title, density, max
 * activation), the histogram of active values (SVG bars; hover a bar for its range and count),
 * the top boosted / suppressed output tokens (bars with logit values), and the max-activating
 * contexts (then any activation-band samples) with token backgrounds by activation, the
 * highlighted token outlined. Hover a token for its activation; click a context to select it
 * (`selectedContext` goes back to the kernel).
 *
 * State (see src/widgets/featureDashboardData.ts): title, nTexts, nTokens, nActive, density,
 * activeThreshold, maxActivation, minActivation, groupLabels, groupSizes (Int32), contextTokens
 * (string[][]), contextActivations (Float32, contexts end to end), contextText / contextPosition /
 * contextStart (Int32, per context), histogramEdges (Float32), histogramCounts (Int32),
 * boostedTokens / suppressedTokens (string[]), boostedLogits / suppressedLogits (Float32),
 * selectedContext (number | null).
 */
import { asFloat32, asInt32 } from "./arrays";
import { cssColor, formatValue, legendElement, sequentialScale, POSITIVE, NEGATIVE } from "./colorScale";
import { addStyle, tokenLabel } from "./viewStyles";
import type { RenderView } from "./viewContract";

const SVG_NS = "http://www.w3.org/2000/svg";

const CSS = `
.ml-featdash { max-width: 900px; }
.ml-featdash .ml-fd-header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 14px; margin-bottom: 8px; }
.ml-featdash .ml-fd-title { font-size: 15px; font-weight: 600; }
.ml-featdash .ml-fd-stat b { font-family: var(--jp-code-font-family, ui-monospace, monospace); font-weight: 600; }
.ml-featdash .ml-fd-top { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; margin-bottom: 8px; }
.ml-featdash h4 { margin: 2px 0 4px; font-size: 12px; font-weight: 600; }
.ml-featdash .ml-fd-hist svg { display: block; overflow: visible; }
.ml-featdash .ml-fd-hist rect.ml-fd-bar { fill: rgba(${POSITIVE.join(", ")}, 0.7); }
.ml-featdash .ml-fd-hist rect.ml-fd-bar:hover, .ml-featdash .ml-fd-hist rect.ml-fd-bar.ml-hl { fill: var(--jp-brand-color1, #e08000); }
.ml-featdash .ml-fd-hist text { font-size: 10px; fill: currentColor; }
.ml-featdash .ml-fd-hist line { stroke: currentColor; stroke-opacity: 0.5; }
.ml-featdash .ml-fd-logits { display: flex; gap: 16px; }
.ml-featdash .ml-fd-logit-col { min-width: 150px; }
.ml-featdash .ml-fd-logit-row { display: grid; grid-template-columns: minmax(60px, auto) 70px 48px; gap: 6px; align-items: center; line-height: 1.5; }
.ml-featdash .ml-fd-logit-row .ml-token { overflow: hidden; text-overflow: ellipsis; white-space: pre; max-width: 120px; }
.ml-featdash .ml-fd-logit-bar { height: 8px; border-radius: 2px; }
.ml-featdash .ml-fd-logit-value { text-align: right; font-family: var(--jp-code-font-family, ui-monospace, monospace); font-size: 11px; }
.ml-featdash .ml-fd-group { margin: 8px 0 2px; }
.ml-featdash .ml-fd-legend { display: flex; align-items: flex-start; gap: 10px; }
.ml-featdash .ml-fd-legend > .ml-muted { margin-top: 5px; }
.ml-featdash .ml-fd-context { display: flex; gap: 8px; align-items: baseline; padding: 2px 4px; border-radius: 3px; cursor: pointer; border: 1px solid transparent; }
.ml-featdash .ml-fd-context:hover { border-color: var(--jp-border-color1, rgba(128, 128, 128, 0.5)); }
.ml-featdash .ml-fd-context.ml-selected { border-color: var(--jp-brand-color1, #e08000); background: rgba(224, 128, 0, 0.08); }
.ml-featdash .ml-fd-meta { flex: 0 0 auto; min-width: 96px; font-size: 11px; font-family: var(--jp-code-font-family, ui-monospace, monospace); }
.ml-featdash .ml-fd-tokens { line-height: 1.9; display: flex; align-items: baseline; }
.ml-featdash .ml-fd-before { display: inline-block; text-align: right; white-space: nowrap; flex: 0 0 auto; }
.ml-featdash .ml-fd-after { white-space: nowrap; }
.ml-featdash .ml-token.ml-fd-max { outline: 2px solid var(--jp-ui-font-color1, var(--vscode-editor-foreground, #333)); outline-offset: -1px; }
.ml-featdash .ml-token.ml-hl { outline: 2px solid var(--jp-brand-color1, #e08000); outline-offset: -1px; }
`;

export const renderFeatureDashboardView: RenderView = ({ model, el }) => {
  const doc = el.ownerDocument;
  const title = String(model.get("title") ?? "Feature");
  const density = Number(model.get("density"));
  const nTokens = Number(model.get("nTokens"));
  const nActive = Number(model.get("nActive"));
  const threshold = Number(model.get("activeThreshold") ?? 0);
  const maxActivation = Number(model.get("maxActivation"));
  const groupLabels = (model.get("groupLabels") as string[]) ?? [];
  const groupSizes = asInt32(model.get("groupSizes"), "groupSizes");
  const contextTokens = (model.get("contextTokens") as string[][]) ?? [];
  const contextActs = asFloat32(model.get("contextActivations"), "contextActivations");
  const contextText = asInt32(model.get("contextText"), "contextText");
  const contextPosition = asInt32(model.get("contextPosition"), "contextPosition");
  const contextStart = asInt32(model.get("contextStart"), "contextStart");
  const edges = asFloat32(model.get("histogramEdges"), "histogramEdges");
  const counts = asInt32(model.get("histogramCounts"), "histogramCounts");

  addStyle(el, CSS);
  const root = doc.createElement("div");
  root.className = "ml-view ml-featdash";
  el.append(root);

  // Header.
  const header = div(doc, "ml-fd-header", "header");
  const titleEl = div(doc, "ml-fd-title");
  titleEl.textContent = title;
  header.append(titleEl, stat(doc, "density", `${formatPercent(density)}`, `${nActive} of ${nTokens} tokens have activation > ${formatValue(threshold)}`), stat(doc, "max activation", formatValue(maxActivation)));
  root.append(header);

  const info = div(doc, "ml-info", "info");

  // Histogram and logit columns.
  const top = div(doc, "ml-fd-top");
  top.append(histogramElement(doc, edges, counts, threshold, info));
  const boosted = logitColumn(doc, "boosted", "Top boosted tokens", model.get("boostedTokens") as string[] | undefined, model.get("boostedLogits"));
  const suppressed = logitColumn(doc, "suppressed", "Top suppressed tokens", model.get("suppressedTokens") as string[] | undefined, model.get("suppressedLogits"));
  if (boosted || suppressed) {
    const logits = div(doc, "ml-fd-logits", "logits");
    if (boosted) logits.append(boosted);
    if (suppressed) logits.append(suppressed);
    top.append(logits);
  }
  root.append(top);

  // Contexts, token colours on a sequential scale from 0 (or the threshold) to the max activation.
  const scale = sequentialScale(Math.min(0, threshold), maxActivation > 0 ? maxActivation : 1);
  const contextsEl = div(doc, "ml-fd-contexts", "contexts");
  const rows: HTMLElement[] = [];
  const spans: HTMLElement[][] = [];
  const befores: { el: HTMLElement; chars: number; tokens: number }[] = [];
  let offset = 0;
  let c = 0;
  groupLabels.forEach((label, g) => {
    const heading = doc.createElement("h4");
    heading.className = "ml-fd-group";
    heading.dataset.testid = "group";
    heading.textContent = label;
    contextsEl.append(heading);
    if (groupSizes[g] === 0) {
      const none = div(doc, "ml-muted");
      none.textContent = "no tokens in this range";
      contextsEl.append(none);
    }
    for (let k = 0; k < groupSizes[g]; k++, c++) {
      const index = c;
      const tokens = contextTokens[index] ?? [];
      const start = contextStart[index];
      const position = contextPosition[index];
      const text = contextText[index];
      const acts = contextActs.subarray(offset, offset + tokens.length);
      offset += tokens.length;
      const row = div(doc, "ml-fd-context", "context");
      row.dataset.index = String(index);
      const meta = div(doc, "ml-fd-meta ml-muted");
      meta.textContent = `${formatValue(acts[position - start])} · t${text}:${position}`;
      meta.title = `text ${text}, position ${position}`;
      // The tokens before the highlighted one sit right-aligned in a column as wide as the
      // longest such run, so the highlighted tokens of every context line up.
      const line = div(doc, "ml-fd-tokens");
      const before = doc.createElement("span");
      before.className = "ml-fd-before";
      const after = doc.createElement("span");
      after.className = "ml-fd-after";
      line.append(before, after);
      let beforeChars = 0;
      const lineSpans = tokens.map((token, i) => {
        const span = doc.createElement("span");
        span.className = "ml-token";
        const pos = start + i;
        if (pos === position) span.classList.add("ml-fd-max");
        span.textContent = tokenLabel(token);
        const color = scale.color(acts[i]);
        span.style.backgroundColor = cssColor(color);
        // Strong backgrounds get light text in either theme.
        if (color.alpha > 0.5) span.style.color = "#fff";
        span.title = `${JSON.stringify(token)} activation ${formatValue(acts[i])}`;
        span.addEventListener("mouseenter", () => {
          clearHighlight();
          span.classList.add("ml-hl");
          info.textContent = `${JSON.stringify(token)} (text ${text}, position ${pos}) activation: ${formatValue(acts[i])}`;
        });
        if (pos < position) {
          before.append(span);
          beforeChars += Array.from(span.textContent).length;
        } else after.append(span);
        return span;
      });
      befores.push({ el: before, chars: beforeChars, tokens: position - start });
      row.append(meta, line);
      row.addEventListener("click", () => {
        model.set("selectedContext", index);
        model.save_changes();
      });
      rows.push(row);
      spans.push(lineSpans);
      contextsEl.append(row);
    }
  });
  // Monospace tokens: a run is about `chars` ch wide plus each token's 2px of padding.
  const widest = befores.reduce((w, b) => Math.max(w, b.chars), 0);
  const widestTokens = befores.reduce((w, b) => Math.max(w, b.tokens), 0);
  for (const { el: before } of befores) before.style.minWidth = `calc(${widest}ch + ${2 * widestTokens + 2}px)`;
  contextsEl.addEventListener("mouseleave", () => {
    clearHighlight();
    info.textContent = HINT;
  });
  const legend = div(doc, "ml-fd-legend", "legend");
  const caption = doc.createElement("span");
  caption.className = "ml-muted";
  caption.textContent = "token colour: activation";
  legend.append(caption, legendElement(doc, scale));
  info.textContent = HINT;
  root.append(legend, info, contextsEl);

  function clearHighlight(): void {
    for (const line of spans) for (const span of line) span.classList.remove("ml-hl");
  }

  const showSelection = (): void => {
    const selected = model.get("selectedContext");
    rows.forEach((row, i) => row.classList.toggle("ml-selected", i === selected));
  };
  showSelection();
  model.on("change:selectedContext", showSelection);
  return () => {
    model.off("change:selectedContext", showSelection);
    el.replaceChildren();
  };
};

const HINT = "Hover a token for its activation, a histogram bar for its range; click a context to select it.";

function div(doc: Document, className: string, testId?: string): HTMLElement {
  const el = doc.createElement("div");
  el.className = className;
  if (testId) el.dataset.testid = testId;
  return el;
}

function stat(doc: Document, label: string, value: string, tooltip?: string): HTMLElement {
  const el = doc.createElement("span");
  el.className = "ml-fd-stat";
  el.dataset.testid = label.replace(/ /g, "-");
  el.append(`${label} `);
  const b = doc.createElement("b");
  b.textContent = value;
  el.append(b);
  if (tooltip) el.title = tooltip;
  return el;
}

function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return String(fraction);
  const percent = 100 * fraction;
  return `${percent === 0 || percent >= 1 ? Number(percent.toPrecision(3)) : percent.toPrecision(2)}%`;
}

function svg<K extends keyof SVGElementTagNameMap>(doc: Document, tag: K, attributes: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = doc.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, String(value));
  return el;
}

/** "Nice" tick values (1, 2, 5 × 10^k steps) covering [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  // The 1-2-5 step nearest the raw step (on a log scale).
  let step = power;
  for (const m of [2, 5, 10]) if (Math.abs(Math.log(m * power / raw)) < Math.abs(Math.log(step / raw))) step = m * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function histogramElement(doc: Document, edges: Float32Array, counts: Int32Array, threshold: number, info: HTMLElement): HTMLElement {
  const wrap = div(doc, "ml-fd-hist", "histogram");
  const heading = doc.createElement("h4");
  heading.textContent = `Activations > ${formatValue(threshold)}`;
  wrap.append(heading);
  if (counts.length === 0) {
    const none = div(doc, "ml-muted");
    none.textContent = "The feature is never active in this dataset.";
    wrap.append(none);
    return wrap;
  }
  const width = 320;
  const height = 120;
  const left = 34;
  const bottom = 18;
  const plotW = width - left - 6;
  const top = 10;
  const plotH = height - bottom - top;
  const lo = edges[0];
  const hi = edges[edges.length - 1];
  let maxCount = 0;
  for (const n of counts) maxCount = Math.max(maxCount, n);
  const x = (v: number): number => left + ((v - lo) / (hi - lo || 1)) * plotW;
  const y = (n: number): number => top + plotH - (n / (maxCount || 1)) * plotH;

  const chart = svg(doc, "svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "histogram of activations" });
  // Axes.
  chart.append(svg(doc, "line", { x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH }));
  chart.append(svg(doc, "line", { x1: left, y1: top, x2: left, y2: top + plotH }));
  for (const tick of niceTicks(lo, hi, 5)) {
    const tx = x(tick);
    chart.append(svg(doc, "line", { x1: tx, y1: top + plotH, x2: tx, y2: top + plotH + 3 }));
    const label = svg(doc, "text", { x: tx, y: height - 3, "text-anchor": "middle", "data-testid": "x-tick" });
    label.textContent = formatValue(tick);
    chart.append(label);
  }
  for (const tick of niceTicks(0, maxCount, 3).filter((t) => Number.isInteger(t))) {
    const ty = y(tick);
    chart.append(svg(doc, "line", { x1: left - 3, y1: ty, x2: left, y2: ty }));
    const label = svg(doc, "text", { x: left - 5, y: ty + 3, "text-anchor": "end", "data-testid": "y-tick" });
    label.textContent = String(tick);
    chart.append(label);
  }
  // Bars: bin i is [edges[i], edges[i + 1]) (the last bin includes its right edge).
  counts.forEach((n, i) => {
    const x0 = x(edges[i]);
    const x1 = x(edges[i + 1]);
    const closing = i === counts.length - 1 ? "]" : ")";
    const text = `[${formatValue(edges[i])}, ${formatValue(edges[i + 1])}${closing}: ${n} token${n === 1 ? "" : "s"}`;
    // A full-height transparent target makes short bars easy to hover.
    const bar = svg(doc, "rect", { class: "ml-fd-bar", x: x0 + 0.5, y: y(n), width: Math.max(0.5, x1 - x0 - 1), height: top + plotH - y(n), "data-testid": "bar", "data-count": n });
    const target = svg(doc, "rect", { x: x0, y: top, width: Math.max(1, x1 - x0), height: plotH, fill: "transparent" });
    const tip = svg(doc, "title", {});
    tip.textContent = text;
    target.append(tip);
    const enter = (): void => {
      bar.classList.add("ml-hl");
      info.textContent = `activation in ${text}`;
    };
    const leave = (): void => bar.classList.remove("ml-hl");
    for (const r of [bar, target]) {
      r.addEventListener("mouseenter", enter);
      r.addEventListener("mouseleave", leave);
    }
    chart.append(bar, target);
  });
  wrap.append(chart);
  return wrap;
}

function logitColumn(doc: Document, kind: "boosted" | "suppressed", heading: string, tokens: string[] | undefined, logits: unknown): HTMLElement | null {
  if (!tokens || tokens.length === 0) return null;
  const values = asFloat32(logits, `${kind}Logits`);
  const col = div(doc, "ml-fd-logit-col", kind);
  const h = doc.createElement("h4");
  h.textContent = heading;
  col.append(h);
  let reach = 0;
  for (const v of values) reach = Math.max(reach, Math.abs(v));
  tokens.forEach((token, i) => {
    const row = div(doc, "ml-fd-logit-row", "logit-row");
    const label = doc.createElement("span");
    label.className = "ml-token";
    label.textContent = tokenLabel(token);
    label.title = JSON.stringify(token);
    const track = doc.createElement("div");
    const bar = div(doc, "ml-fd-logit-bar");
    bar.style.width = `${(100 * Math.abs(values[i])) / (reach || 1)}%`;
    // Coloured by sign: a "suppressed" token with a positive effect (tiny vocabularies) stays blue.
    bar.style.backgroundColor = `rgba(${(values[i] >= 0 ? POSITIVE : NEGATIVE).join(", ")}, 0.75)`;
    track.append(bar);
    const value = doc.createElement("span");
    value.className = "ml-fd-logit-value";
    value.textContent = `${values[i] > 0 ? "+" : ""}${formatValue(values[i])}`;
    row.title = `${JSON.stringify(token)}: direct logit effect ${formatValue(values[i])}`;
    row.append(label, track, value);
    col.append(row);
  });
  return col;
}
