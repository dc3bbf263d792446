// Builds the widget frontend from widgets/ with esbuild into dist/widgets/:
//   mechlab-widgets.static.js  IIFE setting globalThis.mechlabWidgets (inlined by static text/html)
//   mechlab-plots.static.js    the same with the chart views (vega); inlined by chart widgets only
//   mechlab-widgets.amd.js     anonymous AMD module (dependency @jupyter-widgets/base, external)
//                              for @jupyter-widgets/html-manager, nbconvert's HTML export and
//                              classic Notebook; load it under the module id "mechlab-widgets".
//                              It has every view, the chart views included.
const esbuild = require("esbuild");
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const outDir = path.join(root, "dist", "widgets");
const version = require(path.join(root, "package.json")).version;

const common = {
  bundle: true,
  write: false,
  platform: "browser",
  target: "es2019",
  minify: true,
  legalComments: "none",
  define: { MECHLAB_VERSION: JSON.stringify(version) },
  logLevel: "warning",
};

async function main() {
  fs.mkdirSync(outDir, { recursive: true });

  const staticBuild = await esbuild.build({
    ...common,
    entryPoints: [path.join(root, "widgets", "entries", "staticEntry.ts")],
    format: "iife",
  });
  fs.writeFileSync(path.join(outDir, "mechlab-widgets.static.js"), staticBuild.outputFiles[0].text);

  // The chart views (vega, vega-lite, vega-embed: large) get their own static bundle, inlined only
  // by chart widgets; it has every other view too.
  const plotsBuild = await esbuild.build({
    ...common,
    entryPoints: [path.join(root, "widgets", "entries", "plotsStaticEntry.ts")],
    format: "iife",
  });
  fs.writeFileSync(path.join(outDir, "mechlab-plots.static.js"), plotsBuild.outputFiles[0].text);

  // esbuild has no AMD output: bundle as CommonJS and wrap it in define(), handing the external
  // @jupyter-widgets/base to the bundle's require().
  const amdBuild = await esbuild.build({
    ...common,
    entryPoints: [path.join(root, "widgets", "entries", "amdEntry.ts")],
    format: "cjs",
    external: ["@jupyter-widgets/base"],
  });
  const amd = [
    `define(["@jupyter-widgets/base"], function (jupyterWidgetsBase) {`,
    `var module = { exports: {} }, exports = module.exports;`,
    `var require = function (name) { if (name === "@jupyter-widgets/base") return jupyterWidgetsBase; throw new Error("mechlab-widgets: unknown dependency " + name); };`,
    amdBuild.outputFiles[0].text,
    `return module.exports.moduleExports();`,
    `});`,
    "",
  ].join("\n");
  fs.writeFileSync(path.join(outDir, "mechlab-widgets.amd.js"), amd);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
