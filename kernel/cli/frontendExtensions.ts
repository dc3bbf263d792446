/**
 * The widget frontends `mechlab install` puts beside the kernelspec, so notebook frontends render
 * mechlab's widgets live:
 *
 *   DATA/labextensions/mechlab-widgets/          JupyterLab 4 and Notebook 7: the prebuilt extension
 *                                                 (package.json + static/remoteEntry.*.js), found by
 *                                                 its place in a Jupyter data folder, no config needed
 *   DATA/nbextensions/mechlab-widgets/index.js    classic Notebook: the AMD module `mechlab-widgets`
 *   DATA/nbextensions/mechlab-widgets/extension.js  … and the nbextension that maps that module name
 *                                                 to index.js for require.js (the classic widget
 *                                                 manager loads a widget module with require([name]))
 *   CONFIG/nbconfig/notebook.d/mechlab-widgets.json  enables that nbextension (what
 *                                                 `jupyter nbextension enable` writes)
 *
 * DATA is the location's Jupyter data folder (the one holding kernels/), CONFIG its config folder.
 * The classic Notebook's own widget manager comes from widgetsnbextension; the module loads with
 * ipywidgets 8's (which provides @jupyter-widgets/base to require.js). Debian's widgetsnbextension
 * 6.0.0 predates that protocol and is left as it is.
 */
import { spawnSync } from "child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { homedir } from "os";
import { dirname, join, resolve } from "path";
import { CliError } from "./cliError";
import { Env, findJupyter, findPythonWith } from "./jupyterTools";
import { KernelspecLocation, kernelsDir } from "./kernelspec";
import { packageInfo } from "./packageInfo";

/** The JupyterLab extension's name, the nbextension's folder and the widget module's name. */
export const WIDGETS_EXTENSION_NAME = "mechlab-widgets";

/** The built prebuilt extension (scripts/build-labextension.cjs). */
export function builtLabextensionDir(): string {
  return join(packageInfo().root, "dist", "labextension");
}

/** The built AMD module (scripts/build-widgets.cjs). */
export function builtAmdModule(): string {
  return join(packageInfo().root, "dist", "widgets", "mechlab-widgets.amd.js");
}

/** The classic Notebook nbextension's entry: maps the module name to its index.js for require.js. */
export function nbextensionEntry(): string {
  return [
    "// nbextension mechlab-widgets/extension: lets require.js find the widget module",
    `// "${WIDGETS_EXTENSION_NAME}" (nbextensions/${WIDGETS_EXTENSION_NAME}/index.js) when the widget manager asks for it.`,
    "define(function () {",
    '  "use strict";',
    `  window.requirejs.config({ map: { "*": { "${WIDGETS_EXTENSION_NAME}": "nbextensions/${WIDGETS_EXTENSION_NAME}/index" } } });`,
    "  return { load_ipython_extension: function () {} };",
    "});",
    "",
  ].join("\n");
}

/** The nbconfig section file that enables the nbextension. */
export function nbextensionConfig(): Record<string, unknown> {
  return { load_extensions: { [`${WIDGETS_EXTENSION_NAME}/extension`]: true } };
}

/** Jupyter's data folder of a location (the parent of its kernels/ folder). */
export function jupyterDataDir(location: KernelspecLocation, env: Env = process.env): string {
  return dirname(kernelsDir(location, env));
}

/** Jupyter's config folder of a location (where nbconfig/ lives). */
export function jupyterConfigDir(location: KernelspecLocation, env: Env = process.env): string {
  switch (location.kind) {
    case "prefix":
      return join(resolve(location.dir), "etc", "jupyter");
    case "user": {
      const jupyter = findJupyter(env);
      if (jupyter) {
        const asked = spawnSync(jupyter, ["--config-dir"], { env, encoding: "utf8", timeout: 60_000 });
        const dir = asked.status === 0 ? asked.stdout.trim() : "";
        if (dir) return dir;
      }
      return env.JUPYTER_CONFIG_DIR ? resolve(env.JUPYTER_CONFIG_DIR) : join(env.HOME || homedir(), ".jupyter");
    }
    case "sys-prefix": {
      const python = findPythonWith(["jupyter_core"], env);
      if (!python) throw new CliError("--sys-prefix needs the Python that Jupyter runs on, and none was found; use --user or --prefix DIR.");
      const asked = spawnSync(python, ["-c", "import sys; print(sys.prefix)"], { env, encoding: "utf8", timeout: 60_000 });
      return join(asked.stdout.trim(), "etc", "jupyter");
    }
  }
}

/** Where the widget frontends of a location go. */
export interface FrontendPaths {
  labextension: string;
  nbextension: string;
  nbconfig: string;
}

export function frontendPaths(location: KernelspecLocation, env: Env = process.env): FrontendPaths {
  const data = jupyterDataDir(location, env);
  return {
    labextension: join(data, "labextensions", WIDGETS_EXTENSION_NAME),
    nbextension: join(data, "nbextensions", WIDGETS_EXTENSION_NAME),
    nbconfig: join(jupyterConfigDir(location, env), "nbconfig", "notebook.d", `${WIDGETS_EXTENSION_NAME}.json`),
  };
}

/** Installs (or refreshes) the JupyterLab extension and the classic nbextension at `location`. */
export function installFrontendExtensions(location: KernelspecLocation, env: Env = process.env): FrontendPaths {
  const lab = builtLabextensionDir();
  const amd = builtAmdModule();
  for (const needed of [join(lab, "package.json"), amd]) {
    if (!existsSync(needed)) throw new CliError(`mechlab's widget frontend is not built (${needed} is missing): run \`npm run build\` in ${packageInfo().root}.`);
  }
  const paths = frontendPaths(location, env);
  try {
    rmSync(paths.labextension, { recursive: true, force: true });
    mkdirSync(dirname(paths.labextension), { recursive: true });
    cpSync(lab, paths.labextension, { recursive: true });

    rmSync(paths.nbextension, { recursive: true, force: true });
    mkdirSync(paths.nbextension, { recursive: true });
    copyFileSync(amd, join(paths.nbextension, "index.js"));
    writeFileSync(join(paths.nbextension, "extension.js"), nbextensionEntry());

    mkdirSync(dirname(paths.nbconfig), { recursive: true });
    writeFileSync(paths.nbconfig, JSON.stringify(nbextensionConfig(), null, 2) + "\n");
  } catch (error) {
    throw new CliError(`cannot install the widget frontends: ${(error as Error).message}`);
  }
  return paths;
}

/** Removes what installFrontendExtensions wrote at `location`; returns the paths that existed. */
export function uninstallFrontendExtensions(location: KernelspecLocation, env: Env = process.env): string[] {
  const paths = frontendPaths(location, env);
  const removed: string[] = [];
  for (const path of [paths.labextension, paths.nbextension, paths.nbconfig]) {
    if (!existsSync(path)) continue;
    if (path === paths.nbconfig && !isOurNbconfig(path)) continue;
    rmSync(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

/** True when the file enables our nbextension and nothing else (so removing it loses nothing). */
function isOurNbconfig(path: string): boolean {
  try {
    const config = JSON.parse(readFileSync(path, "utf8")) as { load_extensions?: Record<string, unknown> };
    const keys = Object.keys(config);
    return keys.length === 1 && keys[0] === "load_extensions" && Object.keys(config.load_extensions ?? {}).every((name) => name === `${WIDGETS_EXTENSION_NAME}/extension`);
  } catch {
    return false;
  }
}
