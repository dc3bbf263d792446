/**
 * Where the shipped organisms are: models/ in mechlab's package root, found upwards from this file
 * (src/organisms/ in source, dist/src/organisms/ when built). MECHLAB_MODELS overrides it.
 */
import { existsSync, readFileSync } from "fs";
import { dirname, join } from "path";

export function modelsDir(): string {
  if (process.env.MECHLAB_MODELS) return process.env.MECHLAB_MODELS;
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "mechlab") return join(dir, "models");
  }
  throw new Error(`mechlab's package.json was not found above ${__dirname}; set MECHLAB_MODELS to the folder of the shipped models.`);
}

export function packageVersion(): string {
  const pkg = join(dirname(modelsDir()), "package.json");
  return existsSync(pkg) ? ((JSON.parse(readFileSync(pkg, "utf8")) as { version?: string }).version ?? "0.0.0") : "0.0.0";
}
