/**
 * Where this mechlab package lives and what it is called: the CLI needs absolute paths to its own
 * bin script (the kernelspec's argv), its notebooks and its kernelspec assets.
 */
import { existsSync, readFileSync } from "fs";
import { dirname, join } from "path";

export interface PackageInfo {
  /** The package root (the folder with mechlab's package.json). */
  root: string;
  version: string;
  /** bin/mechlab.js: what the kernelspec runs with node. */
  bin: string;
  /** The tutorial notebooks. */
  notebooks: string;
  /** The kernelspec assets (logos) copied into every installed kernelspec. */
  kernelspecAssets: string;
}

let cached: PackageInfo | undefined;

/** Found upwards from this file, which sits in kernel/cli/ in source and dist/kernel/cli/ when built. */
export function packageInfo(): PackageInfo {
  if (cached) return cached;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "mechlab") {
        cached = {
          root: dir,
          version: pkg.version ?? "0.0.0",
          bin: join(dir, "bin", "mechlab.js"),
          notebooks: join(dir, "notebooks"),
          kernelspecAssets: join(dir, "kernel", "kernelspec"),
        };
        return cached;
      }
    }
    if (dirname(dir) === dir) throw new Error(`mechlab's package.json not found above ${__dirname}`);
  }
}
