/**
 * TokenColorsView: texts as tokens whose background shows a per-token value; hover a token for
 * its value; switch between named value sets.
 *
 * State (see src/widgets/tokenColorsWidget.ts): tokens (string[][]), values ([set, token] Float32,
 * every text's tokens end to end), setNames, textLengths, colorScale ("diverging" |
 * "sequential"), center, selectedSet, hoveredToken ([text, position] | null).
 */
import { asFloat32 } from "./arrays";
import { cssColor, divergingScale, formatValue, legendElement, sequentialScale, type ColorScale } from "./colorScale";
import { addStyle, selectElement, tokenLabel } from "./viewStyles";
import type { RenderView } from "./viewContract";

const CSS = `
.ml-tokcol .ml-text { line-height: 1.8; margin: 4px 0; padding: 4px 0; border-bottom: 1px solid var(--jp-border-color2, rgba(128, 128, 128, 0.25)); }
.ml-tokcol .ml-token.ml-hl { outline: 2px solid var(--jp-brand-color1, #e08000); }
`;

export const renderTokenColorsView: RenderView = ({ model, el }) => {
  const doc = el.ownerDocument;
  const tokens = model.get("tokens") as string[][];
  const setNames = model.get("setNames") as string[];
  const lengths = model.get("textLengths") as number[];
  const values = asFloat32(model.get("values"), "values");
  const kind = model.get("colorScale") === "diverging" ? "diverging" : "sequential";
  const center = Number(model.get("center") ?? 0);
  const total = lengths.reduce((a, b) => a + b, 0);
  // Start of each text within a set's values.
  const starts: number[] = [];
  lengths.reduce((acc, n) => (starts.push(acc), acc + n), 0);

  const setIndex = (): number => Math.max(0, setNames.indexOf(String(model.get("selectedSet"))));
  const valueAt = (text: number, pos: number): number => values[setIndex() * total + starts[text] + pos];
  const scaleOf = (s: number): ColorScale => {
    let low = Infinity;
    let high = -Infinity;
    for (let i = s * total; i < (s + 1) * total; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) continue;
      if (v < low) low = v;
      if (v > high) high = v;
    }
    if (low > high) [low, high] = [0, 1];
    if (kind === "diverging") return divergingScale(Math.min(low, center), Math.max(high, center), center);
    return sequentialScale(Math.min(low, 0), high);
  };

  addStyle(el, CSS);
  const root = doc.createElement("div");
  root.className = "ml-view ml-tokcol";
  el.append(root);

  const controls = doc.createElement("div");
  controls.className = "ml-controls";
  const picker = selectElement(doc, "set", "values", setNames.map((name): [string, string] => [name, name]), (name) => {
    model.set("selectedSet", name);
    model.save_changes();
  });
  if (setNames.length > 1) controls.append(picker.wrapper);
  const setTitle = doc.createElement("span");
  setTitle.className = "ml-muted";
  setTitle.dataset.testid = "set-name";
  controls.append(setTitle);
  root.append(controls);

  const body = doc.createElement("div");
  body.dataset.testid = "texts";
  root.append(body);
  const spans: HTMLElement[][] = tokens.map((textTokens, t) => {
    const line = doc.createElement("div");
    line.className = "ml-text";
    line.dataset.text = String(t);
    body.append(line);
    return textTokens.map((token, pos) => {
      const span = doc.createElement("span");
      span.className = "ml-token";
      span.dataset.pos = String(pos);
      span.textContent = tokenLabel(token);
      span.addEventListener("mouseenter", () => setHover([t, pos]));
      line.append(span);
      return span;
    });
  });
  body.addEventListener("mouseleave", () => setHover(null));

  const info = doc.createElement("div");
  info.className = "ml-info";
  info.dataset.testid = "info";
  const legendSlot = doc.createElement("div");
  root.append(info, legendSlot);

  function setHover(value: [number, number] | null): void {
    const old = model.get("hoveredToken") as [number, number] | null | undefined;
    if ((old ?? null) === null && value === null) return;
    if (old && value && old[0] === value[0] && old[1] === value[1]) return;
    model.set("hoveredToken", value);
    model.save_changes();
  }

  const paint = (): void => {
    const s = setIndex();
    const scale = scaleOf(s);
    picker.select.value = setNames[s];
    setTitle.textContent = setNames.length > 1 ? "" : setNames[s];
    spans.forEach((line, t) =>
      line.forEach((span, pos) => {
        const v = valueAt(t, pos);
        span.style.backgroundColor = cssColor(scale.color(v));
        span.title = `${setNames[s]}: ${formatValue(v)}`;
      }),
    );
    legendSlot.replaceChildren(legendElement(doc, scale));
    showHover();
  };
  const showHover = (): void => {
    const hovered = model.get("hoveredToken") as [number, number] | null | undefined;
    for (const line of spans) for (const span of line) span.classList.remove("ml-hl");
    if (!hovered || spans[hovered[0]]?.[hovered[1]] === undefined) {
      info.textContent = "Hover a token for its value.";
      return;
    }
    const [t, pos] = hovered;
    spans[t][pos].classList.add("ml-hl");
    const where = tokens.length > 1 ? `text ${t}, ` : "";
    info.textContent = `${JSON.stringify(tokens[t][pos])} (${where}position ${pos}) ${setNames[setIndex()]}: ${formatValue(valueAt(t, pos))}`;
  };
  paint();

  model.on("change:selectedSet", paint);
  model.on("change:hoveredToken", showHover);
  return () => {
    model.off("change:selectedSet", paint);
    model.off("change:hoveredToken", showHover);
    el.replaceChildren();
  };
};
