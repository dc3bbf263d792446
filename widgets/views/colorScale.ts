/**
 * Colour scales of the mechlab views. Colours are a fixed hue with an opacity that grows with the
 * value, so they read over any page background (light or dark theme).
 */

export type Rgb = readonly [number, number, number];

/** Positive / sequential hue (blue) and negative hue (red). */
export const POSITIVE: Rgb = [33, 102, 172];
export const NEGATIVE: Rgb = [178, 24, 43];

/** Opacity never reaches 1, so theme text on a coloured token stays readable. */
const MAX_ALPHA = 0.85;

export interface ScaledColor {
  rgb: Rgb;
  /** 0..1 */
  alpha: number;
}

export interface ColorScale {
  kind: "diverging" | "sequential";
  /** Sequential: the value drawn as no colour. Diverging: the centre. */
  low: number;
  high: number;
  center: number;
  color(value: number): ScaledColor;
}

/** Sequential from `low` (no colour) to `high` (full colour). */
export function sequentialScale(low: number, high: number): ColorScale {
  const span = high - low || 1;
  return {
    kind: "sequential", low, high, center: low,
    color: (v) => ({ rgb: POSITIVE, alpha: Number.isFinite(v) ? MAX_ALPHA * clamp01((v - low) / span) : 0 }),
  };
}

/** Diverging around `center`: the larger distance on either side gets full colour. */
export function divergingScale(low: number, high: number, center: number): ColorScale {
  const reach = Math.max(Math.abs(high - center), Math.abs(center - low)) || 1;
  return {
    kind: "diverging", low, high, center,
    color: (v) => {
      if (!Number.isFinite(v)) return { rgb: POSITIVE, alpha: 0 };
      const t = (v - center) / reach;
      return { rgb: t < 0 ? NEGATIVE : POSITIVE, alpha: MAX_ALPHA * clamp01(Math.abs(t)) };
    },
  };
}

export function cssColor({ rgb, alpha }: ScaledColor): string {
  return `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${alpha.toFixed(3)})`;
}

/** A CSS gradient from the scale's low to high end (for the legend). */
export function legendGradient(scale: ColorScale, steps = 9): string {
  const stops: string[] = [];
  for (let i = 0; i < steps; i++) {
    const v = scale.low + ((scale.high - scale.low) * i) / (steps - 1);
    stops.push(`${cssColor(scale.color(v))} ${((100 * i) / (steps - 1)).toFixed(1)}%`);
  }
  return `linear-gradient(to right, ${stops.join(", ")})`;
}

/** A legend: the gradient bar and its low / centre / high labels. */
export function legendElement(doc: Document, scale: ColorScale, format: (v: number) => string = formatValue): HTMLElement {
  const legend = doc.createElement("div");
  legend.className = "ml-legend";
  const bar = doc.createElement("div");
  bar.className = "ml-legend-bar";
  bar.style.background = legendGradient(scale);
  const labels = doc.createElement("div");
  labels.className = "ml-legend-labels";
  const ticks = scale.kind === "diverging" ? [scale.low, scale.center, scale.high] : [scale.low, (scale.low + scale.high) / 2, scale.high];
  // A diverging scale over values on one side of its centre has the centre at an end: label it once.
  for (const tick of ticks.filter((t, i) => i === 0 || format(t) !== format(ticks[i - 1]))) {
    const label = doc.createElement("span");
    label.textContent = format(tick);
    labels.append(label);
  }
  legend.append(bar, labels);
  return legend;
}

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

function clamp01(t: number): number {
  return t < 0 ? 0 : t > 1 ? 1 : t;
}
