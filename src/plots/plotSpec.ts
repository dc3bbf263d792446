/**
 * The vega-lite spec of a plot (kernel side): the options every plot kind shares (title, axis
 * labels, log scales, size, `spec` overrides) applied to a kind's marks and encodings, and the
 * deep merge of user overrides. Specs carry no data values: the data is named "table" and the view
 * (or `PlotWidget.spec()`) fills it in from the binary columns.
 */

/** A vega-lite spec as plain JSON. */
export type VegaLiteSpec = Record<string, unknown>;

/** The name of the dataset every plot spec reads. */
export const PLOT_DATA_NAME = "table";
export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

export interface PlotOptions {
  title?: string;
  /** The x axis title (default: the field or a description of the data). */
  xLabel?: string;
  /** The y axis title. */
  yLabel?: string;
  /** Logarithmic x / y scale (values ≤ 0 cannot be drawn on it). */
  logX?: boolean;
  logY?: boolean;
  /** Plot area size in pixels. */
  width?: number;
  height?: number;
  /** A partial vega-lite spec deep-merged over the built one (objects merge, arrays and values replace). */
  spec?: VegaLiteSpec;
}

/** A vega-lite field reference: dots and brackets in a column name are escaped (they mean nesting). */
export function fieldRef(name: string): string {
  return name.replace(/([.[\]\\])/g, "\\$1");
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/** `override` merged into a copy of `base`: nested objects merge, anything else replaces. */
export function mergeSpec(base: VegaLiteSpec, override: VegaLiteSpec | undefined): VegaLiteSpec {
  if (override === undefined) return base;
  if (!isPlainObject(override)) throw new Error(`plot: options.spec must be a plain object (a partial vega-lite spec), got ${Array.isArray(override) ? "an array" : typeof override}.`);
  const out: VegaLiteSpec = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeSpec(current, value) : value;
  }
  return out;
}

/** An encoding channel with the axis title and log scale of the options applied. */
export function axisChannel(channel: Record<string, unknown>, title: string | undefined, log: boolean | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...channel };
  if (title !== undefined) out.title = title;
  if (log) out.scale = { ...(channel.scale as Record<string, unknown> | undefined), type: "log" };
  return out;
}

function checkSize(value: number | undefined, what: string): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new Error(`plot: ${what} must be a positive number of pixels, got ${value}.`);
}

/** The full spec: schema, data name, title and size around `body` (mark, encoding, …), then the user's overrides. */
export function buildSpec(body: VegaLiteSpec, options: PlotOptions, defaultSize: { width: number; height: number }): VegaLiteSpec {
  checkSize(options.width, "width");
  checkSize(options.height, "height");
  const spec: VegaLiteSpec = {
    $schema: VEGA_LITE_SCHEMA,
    data: { name: PLOT_DATA_NAME },
    width: options.width ?? defaultSize.width,
    height: options.height ?? defaultSize.height,
    ...(options.title !== undefined ? { title: options.title } : {}),
    ...body,
  };
  return mergeSpec(spec, options.spec);
}
