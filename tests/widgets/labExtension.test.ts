/**
 * The built JupyterLab 4 / Notebook 7 prebuilt extension (dist/labextension/, `npm run build`),
 * loaded the way JupyterLab loads it: a page fetches `jupyterlab._build.load` (the federated
 * container), the container is initialised with a webpack share scope that provides
 * @jupyter-widgets/base (here: the real package from node_modules, bundled for the page), its
 * "./extension" module is fetched (the container loads its own chunk over the page's script
 * loader), and the plugin is activated against a stand-in widget registry.
 */
import { existsSync, readFileSync } from "fs";
import { JSDOM, ResourceLoader, type FetchOptions } from "jsdom";
import { join } from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { tokenColors } from "../../src/widgets/tokenColorsWidget";
import { viewNames } from "../../widgets/views/index";
import { bundleWidgetsBase } from "../helpers/widgetsBase";

const ROOT = join(__dirname, "..", "..");
const EXTENSION = join(ROOT, "dist", "labextension");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
/** Where JupyterLab serves a prebuilt extension's files. */
const BASE_URL = "http://lab.test/lab/extensions/mechlab-widgets/";

interface Container {
  init(scope: unknown): Promise<void> | void;
  get(module: string): Promise<() => { default: Plugin }>;
}
interface Plugin {
  id: string;
  requires: unknown[];
  autoStart: boolean;
  activate(app: unknown, registry: unknown): void;
}
interface Registered {
  name: string;
  version: string;
  exports: Record<string, unknown>;
}
type WidgetsBase = Record<string, unknown> & { IJupyterWidgetRegistry: unknown; DOMWidgetModel: new (...args: never[]) => unknown; DOMWidgetView: new (...args: never[]) => unknown };

/** Serves dist/labextension/ under BASE_URL and records every URL the page asks for. */
class ExtensionFiles extends ResourceLoader {
  readonly requested: string[] = [];
  override fetch(url: string, options: FetchOptions) {
    this.requested.push(url);
    if (!url.startsWith(BASE_URL)) return Promise.reject(new Error(`refused ${url}`)) as never;
    const file = join(EXTENSION, new URL(url).pathname.slice(new URL(BASE_URL).pathname.length));
    if (!existsSync(file)) return Promise.reject(new Error(`no file for ${url}`)) as never;
    void options;
    return Promise.resolve(readFileSync(file)) as never;
  }
}


let meta: { name: string; version: string; jupyterlab: { _build: { load: string; extension: string }; sharedPackages: Record<string, unknown> } };
let files: ExtensionFiles;
let dom: JSDOM;
let base: WidgetsBase;
let container: Container;

beforeAll(async () => {
  meta = JSON.parse(readFileSync(join(EXTENSION, "package.json"), "utf8"));
  files = new ExtensionFiles();
  const remoteEntryUrl = BASE_URL + meta.jupyterlab._build.load;
  dom = new JSDOM(`<!doctype html><html><head></head><body></body></html>`, { url: "http://lab.test/lab", runScripts: "dangerously", pretendToBeVisual: true, resources: files });
  const window = dom.window as unknown as Window & Record<string, unknown>;
  // Browsers have structuredClone (the chart libraries call it at load); jsdom's window lacks it.
  window.structuredClone ??= globalThis.structuredClone;
  const baseScript = window.document.createElement("script");
  // jsdom has no DragEvent, which Lumino's drag-and-drop (imported by @jupyter-widgets/base) subclasses.
  baseScript.textContent = `window.DragEvent = window.DragEvent || class DragEvent extends MouseEvent {};\n${await bundleWidgetsBase()}`;
  window.document.head.appendChild(baseScript);
  base = window.jupyterWidgetsBase as WidgetsBase;

  // As JupyterLab does: a <script> for the remote entry, then the container from window._JUPYTERLAB.
  await new Promise<void>((resolveLoad, reject) => {
    const script = window.document.createElement("script");
    script.src = remoteEntryUrl;
    script.onload = () => resolveLoad();
    script.onerror = () => reject(new Error(`${remoteEntryUrl} did not load`));
    window.document.head.appendChild(script);
  });
  container = (window._JUPYTERLAB as Record<string, Container>)[meta.name]!;
  // The share scope JupyterLab builds: jupyterlab_widgets provides @jupyter-widgets/base.
  const baseVersion = JSON.parse(readFileSync(join(ROOT, "node_modules", "@jupyter-widgets", "base", "package.json"), "utf8")).version as string;
  const shareScope = { "@jupyter-widgets/base": { [baseVersion]: { get: () => Promise.resolve(() => base), loaded: 1, from: "@jupyter-widgets/jupyterlab-manager", eager: false } } };
  await container.init(shareScope);
}, 120_000);

describe("JupyterLab prebuilt extension mechlab-widgets", () => {
  it("has the package metadata JupyterLab reads: name, version, the remote entry, the exposed plugin", () => {
    expect(meta.name).toBe("mechlab-widgets");
    expect(meta.version).toBe(pkg.version);
    expect(meta.jupyterlab._build.extension).toBe("./extension");
    expect(meta.jupyterlab._build.load).toMatch(/^static\/remoteEntry\.[0-9a-f]+\.js$/);
    expect(existsSync(join(EXTENSION, meta.jupyterlab._build.load))).toBe(true);
    expect(meta.jupyterlab.sharedPackages["@jupyter-widgets/base"]).toEqual({ bundled: false, singleton: true });
  });

  it("the remote entry is a federated container (get/init) under window._JUPYTERLAB[name]", () => {
    expect(typeof container.get).toBe("function");
    expect(typeof container.init).toBe("function");
  });

  it("./extension is a plugin that requires the shared IJupyterWidgetRegistry and registers mechlab-widgets with every view", async () => {
    const factory = await container.get("./extension");
    const plugin = factory().default;
    expect(plugin.id).toBe("mechlab-widgets:plugin");
    expect(plugin.autoStart).toBe(true);
    // The very token object of the shared @jupyter-widgets/base: not a bundled copy of it.
    expect(plugin.requires).toHaveLength(1);
    expect(plugin.requires[0]).toBe(base.IJupyterWidgetRegistry);

    const registered: Registered[] = [];
    plugin.activate({}, { registerWidget: (data: Registered) => registered.push(data) });
    expect(registered.map((r) => [r.name, r.version])).toEqual([["mechlab-widgets", pkg.version]]);
    const exports = registered[0]!.exports;
    const Model = exports.MechlabModel as new (...args: never[]) => unknown;
    expect(Model.prototype).toBeInstanceOf(base.DOMWidgetModel);
    const names = viewNames();
    expect(names).toEqual(expect.arrayContaining(["AttentionView", "TokenColorsView"]));
    for (const name of names) {
      expect((exports[name] as { prototype: unknown } | undefined)?.prototype, name).toBeInstanceOf(base.DOMWidgetView);
    }
  });

  it("a view from the registered module renders a kernel widget's state through the real DOMWidgetView", async () => {
    const registered: Registered[] = [];
    (await container.get("./extension"))().default.activate({}, { registerWidget: (data: Registered) => registered.push(data) });
    const exports = registered[0]!.exports;
    // The state a kernel-side widget sends (its Float32Array values as they arrive).
    const widget = tokenColors(["When", " Mary", " and"], [0.25, -1.5, 2]);
    const state = widget.getState() as unknown as Record<string, unknown>;
    expect(state._view_name).toBe("TokenColorsView");
    const Model = exports.MechlabModel as new (attributes: unknown, options: unknown) => { get(key: string): unknown };
    const model = new Model(state, { model_id: "m1", widget_manager: {} });
    const View = exports[String(state._view_name)] as new (options: unknown) => { el: HTMLElement; render(): unknown };
    const view = new View({ model });
    await view.render();
    const spans = [...view.el.querySelectorAll(".ml-token")].map((span) => span.textContent);
    expect(spans).toEqual(["When", " Mary", " and"]);
    const info = () => view.el.querySelector("[data-testid=info]")?.textContent ?? "";
    expect(info()).not.toMatch(/-1\.5/);
    view.el.querySelectorAll(".ml-token")[1]!.dispatchEvent(new dom.window.MouseEvent("mouseenter"));
    expect(info()).toMatch(/position 1\).*: -1\.5/);
  });

  it("loads nothing but its own files (the remote entry and its chunks)", () => {
    expect(files.requested.length).toBeGreaterThanOrEqual(2);
    for (const url of files.requested) expect(url.startsWith(BASE_URL + "static/"), url).toBe(true);
  });
});
