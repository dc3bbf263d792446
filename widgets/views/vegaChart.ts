/**
 * vega-embed, offline and themed: every chart view embeds through here. Nothing is loaded at
 * render: data comes inline (`datasets`), and the loader refuses every URL (so a spec asking for
 * remote data or images fails visibly instead of reaching the network). The actions menu keeps
 * only the PNG/SVG export (no "open in editor", no source views). Colours and font come from the
 * page's theme variables (JupyterLab `--jp-*`, VS Code `--vscode-*`) when it has them.
 */
import embed, { type EmbedOptions, type Result } from "vega-embed";
import type { Loader } from "vega";

/** A loader that loads nothing. */
export const refusingLoader: Loader = {
  options: {},
  load: (uri: string) => Promise.reject(new Error(`mechlab charts load nothing from the network (asked for ${uri}); give data inline`)),
  sanitize: (uri: string) => Promise.reject(new Error(`mechlab charts load nothing from the network (asked for ${uri})`)),
  http: (uri: string) => Promise.reject(new Error(`mechlab charts load nothing from the network (asked for ${uri})`)),
  file: (path: string) => Promise.reject(new Error(`mechlab charts read no files (asked for ${path})`)),
} as unknown as Loader;

function cssVar(el: HTMLElement, ...names: string[]): string | undefined {
  const style = el.ownerDocument.defaultView?.getComputedStyle(el);
  for (const name of names) {
    const value = style?.getPropertyValue(name).trim();
    if (value) return value;
  }
  return undefined;
}

/** Vega config from the page's theme variables (only what the page defines). */
export function themeConfig(el: HTMLElement): Record<string, unknown> {
  const text = cssVar(el, "--jp-ui-font-color1", "--vscode-editor-foreground");
  const muted = cssVar(el, "--jp-ui-font-color2", "--vscode-descriptionForeground") ?? text;
  const border = cssVar(el, "--jp-border-color1", "--vscode-editorWidget-border");
  const grid = cssVar(el, "--jp-border-color2", "--vscode-editorIndentGuide-background");
  const font = cssVar(el, "--jp-ui-font-family", "--vscode-font-family") ?? "system-ui, -apple-system, Segoe UI, Roboto, sans-serif";
  const config: Record<string, unknown> = { background: null, font, view: { stroke: border ?? "#ddd" } };
  const axis: Record<string, unknown> = {};
  if (text) Object.assign(axis, { titleColor: text, labelColor: muted });
  if (border) Object.assign(axis, { domainColor: border, tickColor: border });
  if (grid) axis.gridColor = grid;
  config.axis = axis;
  if (text) {
    config.legend = { titleColor: text, labelColor: muted };
    config.title = { color: text, subtitleColor: muted };
  }
  return config;
}

export const EMBED_OPTIONS: EmbedOptions = {
  mode: "vega-lite",
  renderer: "svg",
  actions: { export: { svg: true, png: true }, source: false, compiled: false, editor: false },
  loader: refusingLoader,
  logLevel: 1, // errors only
};

/** Whether the page is in a dark theme (JupyterLab's or VS Code's marker on <body>). */
export function isDarkTheme(el: HTMLElement): boolean {
  const body = el.ownerDocument.body;
  return body?.dataset.jpThemeLight === "false" || !!body?.classList.contains("vscode-dark");
}

/** Embeds a vega-lite spec (data inline) into `el`. Call `finalize()` on the result when done. */
export function embedChart(el: HTMLElement, spec: Record<string, unknown>, options: EmbedOptions = {}): Promise<Result> {
  return embed(el, spec as never, { ...EMBED_OPTIONS, config: themeConfig(el), tooltip: { theme: isDarkTheme(el) ? "dark" : "light" }, ...options });
}
