// Builds the JupyterLab 4 / Notebook 7 prebuilt extension `mechlab-widgets` into dist/labextension/
// (package.json with jupyterlab._build, static/remoteEntry.<hash>.js and its chunks).
//
// `jupyter labextension build` is a thin Python wrapper around @jupyterlab/builder's
// build-labextension script, with --core-path pointing at JupyterLab's own core package.json
// (which names the packages JupyterLab shares). This script calls the same builder directly,
// so the extension builds without the Python JupyterLab:
//   1. esbuild bundles widgets/labextension/labPlugin.ts (views and all) into one ES module,
//      leaving @jupyter-widgets/base as an import;
//   2. a package folder (build/labextension-package/) gets that module as lib/index.js and a
//      package.json whose "jupyterlab" section asks for @jupyter-widgets/base to be shared as a
//      singleton and not bundled (jupyterlab_widgets provides it);
//   3. @jupyterlab/builder (webpack module federation) turns it into the federated extension
//      (webpack's minifier off: esbuild has minified the module).
// The core metadata handed to --core-path lists no core packages: the plugin imports nothing of
// JupyterLab's core at run time (only @jupyter-widgets/base), so there is nothing of it to share.
const esbuild = require("esbuild");
const { spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const rootPackage = require(path.join(root, "package.json"));
const packageDir = path.join(root, "build", "labextension-package");
const coreDir = path.join(packageDir, "core");
const outDir = path.join(root, "dist", "labextension");

/** The name under which JupyterLab lists the extension (labextensions/<name>/). */
const EXTENSION_NAME = "mechlab-widgets";
const WIDGETS_BASE_RANGE = "^6.0.0";

function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
}

async function main() {
  const started = Date.now();
  fs.rmSync(packageDir, { recursive: true, force: true });

  await esbuild.build({
    entryPoints: [path.join(root, "widgets", "labextension", "labPlugin.ts")],
    outfile: path.join(packageDir, "lib", "index.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2019",
    external: ["@jupyter-widgets/base"],
    minify: true,
    define: { MECHLAB_VERSION: JSON.stringify(rootPackage.version) },
    // The bundled libraries' license notices stay in the shipped chunk (webpack's license report
    // only sees this one module).
    legalComments: "eof",
    logLevel: "warning",
  });

  writeJson(path.join(packageDir, "package.json"), {
    name: EXTENSION_NAME,
    version: rootPackage.version,
    description: "mechlab's notebook widgets (attention patterns, token colours, …) for JupyterLab 4 and Notebook 7.",
    license: rootPackage.license,
    main: "lib/index.js",
    dependencies: { "@jupyter-widgets/base": WIDGETS_BASE_RANGE },
    jupyterlab: {
      extension: true,
      outputDir: path.relative(packageDir, outDir),
      sharedPackages: { "@jupyter-widgets/base": { bundled: false, singleton: true } },
      webpackConfig: "webpack.config.js",
    },
  });
  // esbuild has minified the module already; webpack's own minifier would take a minute over the
  // chart libraries for nothing.
  fs.writeFileSync(path.join(packageDir, "webpack.config.js"), "module.exports = { optimization: { minimize: false } };\n");
  writeJson(path.join(coreDir, "package.json"), {
    name: "mechlab-labextension-core-metadata",
    version: "0.0.0",
    private: true,
    dependencies: {},
    jupyterlab: { singletonPackages: [] },
  });

  const builder = require.resolve("@jupyterlab/builder/lib/build-labextension.js", { paths: [root] });
  // cwd: webpack names the bundle (its chunk-loading global) after the package.json found there.
  const built = spawnSync(process.execPath, [builder, "--core-path", coreDir, packageDir], { cwd: packageDir, encoding: "utf8" });
  if (built.status !== 0) {
    process.stderr.write(built.stdout + built.stderr);
    throw new Error(`@jupyterlab/builder failed (exit ${built.status ?? built.signal})`);
  }
  const meta = JSON.parse(fs.readFileSync(path.join(outDir, "package.json"), "utf8"));
  const load = meta.jupyterlab && meta.jupyterlab._build && meta.jupyterlab._build.load;
  if (!load || !fs.existsSync(path.join(outDir, load))) throw new Error(`the built extension has no remoteEntry (jupyterlab._build.load = ${load})`);
  // What JupyterLab's extension manager and `jupyter labextension list` say about where it came from.
  writeJson(path.join(outDir, "install.json"), {
    packageManager: "npm",
    packageName: rootPackage.name,
    uninstallInstructions: "Run `mechlab uninstall` with the location option it was installed with (--user, --prefix DIR or --sys-prefix).",
  });
  if (process.env.MECHLAB_BUILD_VERBOSE) process.stdout.write(built.stdout);
  console.log(`labextension ${EXTENSION_NAME} ${meta.version} → ${path.relative(root, outDir)}/${load} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
