/**
 * The kernel_info_reply content: who the kernel is, the language it runs and the tensor backend.
 */
import { existsSync, readFileSync } from "fs";
import { dirname, join } from "path";
import { PROTOCOL_VERSION } from "./wire/message";

/** mechlab's package.json, found upwards from this file (kernel/ in source, dist/kernel/ built). */
export function packageJson(): { name: string; version: string; [key: string]: unknown } {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, "utf8"));
      if (pkg.name === "mechlab") return pkg;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`mechlab's package.json not found above ${__dirname}`);
    dir = parent;
  }
}

/** The version of the TypeScript compiler tslab compiles cells with (its own fork). */
export function tslabTypescriptVersion(): string {
  const tslabDir = dirname(require.resolve("tslab/package.json"));
  const path = require.resolve("@tslab/typescript-for-tslab/package.json", { paths: [tslabDir] });
  return JSON.parse(readFileSync(path, "utf8")).version;
}

/** Starts mechlab's tensor backend (the one notebooks import) and returns its one-line summary. */
export async function backendSummary(): Promise<string> {
  // The library, as compiled next to the kernel: dist/kernel → dist/src, kernel → src.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mechlab = require("../src/index") as typeof import("../src/index");
  const info = await mechlab.ready();
  return info.summary;
}

export interface KernelInfoContent {
  status: "ok";
  protocol_version: string;
  implementation: string;
  implementation_version: string;
  language_info: {
    name: string;
    version: string;
    mimetype: string;
    file_extension: string;
    codemirror_mode: { name: string; typescript: boolean };
    pygments_lexer: string;
  };
  banner: string;
  debugger: boolean;
  help_links: { text: string; url: string }[];
}

export function kernelInfoContent(backend: string): KernelInfoContent {
  const pkg = packageJson();
  const tsVersion = tslabTypescriptVersion();
  return {
    status: "ok",
    protocol_version: PROTOCOL_VERSION,
    implementation: "mechlab",
    implementation_version: pkg.version,
    language_info: {
      name: "typescript",
      version: tsVersion,
      mimetype: "text/typescript",
      file_extension: ".ts",
      codemirror_mode: { name: "javascript", typescript: true },
      pygments_lexer: "typescript",
    },
    banner:
      `mechlab ${pkg.version}: TypeScript ${tsVersion} (tslab) on Node.js ${process.versions.node}\n` + backend,
    debugger: false,
    help_links: [
      { text: "mechlab", url: "https://www.npmjs.com/package/mechlab" },
      { text: "TypeScript handbook", url: "https://www.typescriptlang.org/docs/handbook/intro.html" },
      { text: "TensorFlow.js API", url: "https://js.tensorflow.org/api/latest/" },
      { text: "Jupyter messaging", url: "https://jupyter-client.readthedocs.io/en/latest/messaging.html" },
    ],
  };
}
