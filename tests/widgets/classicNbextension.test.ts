/**
 * The classic Notebook nbextension that `mechlab install` writes, in a real classic Notebook page:
 * Debian's notebook 6 server (with JUPYTER_PATH / JUPYTER_CONFIG_PATH naming the install prefix)
 * serves a notebook, Chromium opens it, the page's nbconfig loads `mechlab-widgets/extension`,
 * and require.js then resolves the widget module name "mechlab-widgets" to the installed
 * nbextensions/mechlab-widgets/index.js, as the classic widget manager does for a `_view_module`.
 *
 * @jupyter-widgets/base is what ipywidgets 8's widgetsnbextension gives require.js in a real
 * setup; Debian ships an older widget extension, so the test defines it in the page from the
 * package in node_modules.
 */
import { spawn, type ChildProcess } from "child_process";
import { randomBytes } from "crypto";
import { mkdirSync, writeFileSync } from "fs";
import { createServer, type AddressInfo } from "net";
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, launchChromium, type LaunchedBrowser } from "../helpers/browser";
import { jupyterSandbox, mechlab, requireDebianJupyter, type JupyterSandbox } from "../kernel/jupyterSetup";
import { viewNames } from "../../widgets/views/index";
import { bundleWidgetsBase } from "../helpers/widgetsBase";

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

/** @jupyter-widgets/base bundled as a script that sets window.jupyterWidgetsBase, with the page's AMD define() hidden from its libraries. */
async function widgetsBaseScript(): Promise<string> {
  return `(function (define) {\n${await bundleWidgetsBase()}\nwindow.jupyterWidgetsBase = jupyterWidgetsBase;\n})(undefined);`;
}

describe.skipIf(!hasChromium)("classic Notebook nbextension mechlab-widgets", () => {
  let sandbox: JupyterSandbox;
  let server: ChildProcess | undefined;
  let serverLog = "";
  let chromium: LaunchedBrowser;
  let origin: string;
  let token: string;

  beforeAll(async () => {
    requireDebianJupyter();
    sandbox = jupyterSandbox();
    const prefix = join(sandbox.dir, "prefix");
    const installed = await mechlab(["install", "--prefix", prefix], { env: sandbox.env });
    expect(installed.status, installed.stderr).toBe(0);
    const env = { ...sandbox.env, JUPYTER_PATH: join(prefix, "share", "jupyter"), JUPYTER_CONFIG_PATH: join(prefix, "etc", "jupyter") };
    const notebooks = join(sandbox.dir, "notebooks");
    mkdirSync(notebooks);
    const notebook = { cells: [], metadata: { kernelspec: { name: "mechlab", display_name: "TypeScript (mechlab)", language: "typescript" } }, nbformat: 4, nbformat_minor: 5 };
    writeFileSync(join(notebooks, "empty.ipynb"), JSON.stringify(notebook));
    token = randomBytes(16).toString("hex");
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    server = spawn(
      "jupyter",
      ["notebook", "--no-browser", ...(process.getuid?.() === 0 ? ["--allow-root"] : []), "--ip=127.0.0.1", `--port=${port}`, "--port-retries=0", `--NotebookApp.token=${token}`, `--notebook-dir=${notebooks}`],
      { env, cwd: notebooks, stdio: ["ignore", "pipe", "pipe"] },
    );
    server.stdout!.on("data", (chunk) => (serverLog += String(chunk)));
    server.stderr!.on("data", (chunk) => (serverLog += String(chunk)));
    for (let i = 0; ; i++) {
      if (server.exitCode !== null || i > 150) throw new Error(`jupyter notebook did not start:\n${serverLog}`);
      const up = await fetch(`${origin}/api/status?token=${token}`).then((r) => r.ok).catch(() => false);
      if (up) break;
      await new Promise((ok) => setTimeout(ok, 200));
    }
    chromium = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await chromium?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((ok) => server!.once("exit", ok));
      server.kill("SIGTERM");
      await exited;
    }
    sandbox?.dispose();
  });

  it("the notebook page loads the nbextension, and require.js loads the widget module from it with every view", async () => {
    const page = await chromium.context.newPage();
    const requested: string[] = [];
    const foreign: string[] = [];
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (!url.startsWith(`${origin}/`)) {
        foreign.push(url);
        return route.abort();
      }
      requested.push(new URL(url).pathname);
      return route.continue();
    });
    await page.goto(`${origin}/notebooks/empty.ipynb?token=${token}`);
    // nbconfig's load_extensions ran our extension.js: require.js now maps the module name.
    await page.waitForFunction(
      () => (window as unknown as { requirejs?: { s: { contexts: { _: { config: { map?: Record<string, Record<string, string>> } } } } } }).requirejs?.s.contexts._.config.map?.["*"]?.["mechlab-widgets"],
      undefined,
      { timeout: 60_000 },
    );
    expect(requested).toContain("/nbextensions/mechlab-widgets/extension.js");

    await page.addScriptTag({ content: await widgetsBaseScript() });
    const loaded = await page.evaluate(
      () =>
        new Promise<{ keys: string[]; modelIsDOMWidgetModel: boolean; viewsAreDOMWidgetViews: Record<string, boolean> }>((resolveLoad, reject) => {
          const w = window as unknown as {
            define: (name: string, deps: string[], factory: () => unknown) => void;
            requirejs: (deps: string[], ok: (module: Record<string, { prototype: unknown }>) => void, fail: (error: Error) => void) => void;
            jupyterWidgetsBase: { DOMWidgetModel: new () => unknown; DOMWidgetView: new () => unknown };
          };
          w.define("@jupyter-widgets/base", [], () => w.jupyterWidgetsBase);
          w.requirejs(
            ["mechlab-widgets"],
            (module) => {
              const views: Record<string, boolean> = {};
              for (const key of Object.keys(module)) if (/View$/.test(key)) views[key] = module[key]!.prototype instanceof w.jupyterWidgetsBase.DOMWidgetView;
              resolveLoad({ keys: Object.keys(module), modelIsDOMWidgetModel: module.MechlabModel!.prototype instanceof w.jupyterWidgetsBase.DOMWidgetModel, viewsAreDOMWidgetViews: views });
            },
            (error) => reject(new Error(String(error))),
          );
        }),
    );
    expect(requested).toContain("/nbextensions/mechlab-widgets/index.js");
    expect(loaded.modelIsDOMWidgetModel).toBe(true);
    for (const name of viewNames()) expect(loaded.viewsAreDOMWidgetViews[name], name).toBe(true);
    expect(foreign).toEqual([]);
    await page.close();
  });
});
