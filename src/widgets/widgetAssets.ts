/**
 * The built frontend assets of mechlab's widgets (dist/widgets/, made by scripts/build-widgets.cjs)
 * and the widget module's name and version, found from the package root at run time.
 */
import { existsSync, readFileSync } from "fs";
import { dirname, join } from "path";

/** The widget module name the kernel-side models name in `_model_module` / `_view_module`. */
export const MECHLAB_WIDGET_MODULE = "mechlab-widgets";

/** The IIFE bundle (sets `globalThis.mechlabWidgets`) that static pages inline. */
export const STATIC_BUNDLE_FILE = "mechlab-widgets.static.js";
/** The static bundle of the chart views (vega, vega-lite, vega-embed; every other view too), inlined only by chart widgets. */
export const PLOTS_STATIC_BUNDLE_FILE = "mechlab-plots.static.js";
/** The AMD module `mechlab-widgets` for @jupyter-widgets/html-manager and classic Notebook. */
export const AMD_BUNDLE_FILE = "mechlab-widgets.amd.js";

interface PackageFacts {
  root: string;
  version: string;
}

let facts: PackageFacts | undefined;

/** mechlab's package root and version, found upwards from this file (src/widgets or dist/src/widgets). */
function packageFacts(): PackageFacts {
  if (facts) return facts;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "mechlab") return (facts = { root: dir, version: pkg.version ?? "0.0.0" });
    }
    if (dirname(dir) === dir) throw new Error(`mechlab's package.json not found above ${__dirname}`);
  }
}

/** The version the models put in `_model_module_version` / `_view_module_version`. */
export function widgetModuleVersion(): string {
  return packageFacts().version;
}

/** The folder of the built widget bundles. */
export function widgetAssetsDir(): string {
  return join(packageFacts().root, "dist", "widgets");
}

const cache = new Map<string, string>();

/** The text of one built bundle; a clear error when the frontend was not built. */
export function readWidgetAsset(file: string): string {
  const cached = cache.get(file);
  if (cached !== undefined) return cached;
  const path = join(widgetAssetsDir(), file);
  if (!existsSync(path)) throw new Error(`mechlab widget bundle ${path} is missing: run \`npm run build\``);
  const text = readFileSync(path, "utf8");
  cache.set(file, text);
  return text;
}
