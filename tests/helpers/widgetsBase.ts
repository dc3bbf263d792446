/** @jupyter-widgets/base from node_modules bundled as one browser script (IIFE) that defines `jupyterWidgetsBase`. */
import { join } from "path";

const ROOT = join(__dirname, "..", "..");

export async function bundleWidgetsBase(): Promise<string> {
  const esbuild = await import("esbuild");
  const empty = { ".css": "empty", ".woff": "empty", ".woff2": "empty", ".svg": "empty", ".ttf": "empty", ".eot": "empty", ".png": "empty" } as const;
  const result = await esbuild.build({
    stdin: { contents: 'export * from "@jupyter-widgets/base";', resolveDir: ROOT, loader: "ts" },
    bundle: true,
    write: false,
    platform: "browser",
    format: "iife",
    globalName: "jupyterWidgetsBase",
    target: "es2019",
    loader: empty,
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "error",
  });
  return result.outputFiles[0]!.text;
}
