/**
 * Makes `import ... from "mechlab"` (and "mechlab/…") work in every notebook, wherever it lives,
 * without a per-folder install: at run time Node's resolution of those names is sent to this
 * package's root; at compile time the compiler's file system sees `<any dir>/node_modules/mechlab/…`
 * as the package root (so the built declarations in dist/src give the types).
 */
import * as fs from "fs";
import Module from "module";
import * as path from "path";
import type * as TS from "@tslab/typescript-for-tslab";

/** The root folder of the mechlab package this kernel belongs to (the folder of its package.json). */
export function mechlabPackageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) {
      try {
        if ((JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: string }).name === "mechlab") return dir;
      } catch {
        /* not a readable package.json: keep looking */
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`mechlab's package.json was not found above ${__dirname}`);
    dir = parent;
  }
}

const HOOKED = Symbol.for("mechlab.kernel.resolutionHook");

type ResolveFilename = (request: string, parent: unknown, ...rest: unknown[]) => string;

/** Sends require("mechlab") and require("mechlab/…") to `root`, process-wide. Idempotent. */
export function installMechlabRequireHook(root: string): void {
  const loader = Module as unknown as { _resolveFilename: ResolveFilename } & Record<symbol, string | undefined>;
  if (loader[HOOKED] !== undefined) {
    loader[HOOKED] = root;
    return;
  }
  loader[HOOKED] = root;
  const original = loader._resolveFilename;
  loader._resolveFilename = function (this: unknown, request: string, parent: unknown, ...rest: unknown[]): string {
    if (request === "mechlab" || request.startsWith("mechlab/")) {
      request = path.join(loader[HOOKED]!, request.slice("mechlab".length));
    }
    return original.call(this, request, parent, ...rest);
  };
}

const NODE_MODULES_MECHLAB = /\/node_modules\/mechlab(?=\/|$)/;

/** `<dir>/node_modules/mechlab/rest` → `<root>/rest`; other paths unchanged. */
export function forwardMechlabPath(root: string, file: string): string {
  const normalized = file.replace(/\\/g, "/");
  const match = NODE_MODULES_MECHLAB.exec(normalized);
  if (!match) return file;
  return path.join(root, normalized.slice(match.index + match[0].length)).replace(/\\/g, "/");
}

/**
 * A compiler `sys` that reads through `base` with mechlab paths forwarded to `root`, and that
 * reports `cwd` as the current directory (the folder cells are compiled and resolved from).
 */
export function forwardingSys(base: TS.System, root: string, cwd: string): TS.System {
  const sys = Object.create(base) as TS.System;
  const forward = (file: string) => forwardMechlabPath(root, file);
  sys.getCurrentDirectory = () => cwd.replace(/\\/g, "/");
  sys.fileExists = (file) => base.fileExists(forward(file));
  sys.readFile = (file, encoding) => base.readFile(forward(file), encoding);
  sys.directoryExists = (dir) => base.directoryExists(forward(dir));
  sys.getDirectories = (dir) => base.getDirectories(forward(dir));
  sys.readDirectory = (dir, extensions, exclude, include, depth) => base.readDirectory(forward(dir), extensions, exclude, include, depth);
  if (base.realpath) sys.realpath = (file) => base.realpath!(forward(file));
  if (base.getModifiedTime) sys.getModifiedTime = (file) => base.getModifiedTime!(forward(file));
  return sys;
}
