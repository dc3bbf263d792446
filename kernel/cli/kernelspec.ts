/**
 * The `mechlab` kernelspec: what Jupyter reads to start the kernel (kernel.json and the logos),
 * where it goes, and installing / removing it.
 *
 * Installation goes through `jupyter kernelspec install` when that command exists, so Jupyter's
 * own idea of its folders applies; without Jupyter the files are written straight into the
 * folder Jupyter would use, so a later Jupyter install finds the kernel.
 */
import { spawnSync } from "child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { homedir, tmpdir } from "os";
import { join, resolve } from "path";
import { CliError } from "./cliError";
import { Env, findJupyter, findPythonWith, hasJupyterSubcommand } from "./jupyterTools";
import { packageInfo } from "./packageInfo";

export const KERNEL_NAME = "mechlab";
export const DISPLAY_NAME = "TypeScript (mechlab)";
export const LOGO_FILES = ["logo-32x32.png", "logo-64x64.png", "logo-svg.svg"];

/** kernel.json as Jupyter reads it (kernelspec format, jupyter_client docs "Kernel specs"). */
export interface KernelSpecJson {
  argv: string[];
  display_name: string;
  language: string;
  /** "signal": Jupyter interrupts with SIGINT, the one thing that stops a synchronous loop in Node. */
  interrupt_mode: "signal" | "message";
  env: Record<string, string>;
  metadata: Record<string, unknown>;
}

/** The kernelspec for this copy of mechlab: this Node binary running this package's bin script. */
export function kernelSpecJson(): KernelSpecJson {
  const pkg = packageInfo();
  return {
    argv: [process.execPath, pkg.bin, "kernel", "-f", "{connection_file}"],
    display_name: DISPLAY_NAME,
    language: "typescript",
    interrupt_mode: "signal",
    env: {
      // Keeps libtensorflow's start-up chatter (tfjs-node) out of the kernel's output.
      TF_CPP_MIN_LOG_LEVEL: "2",
    },
    metadata: {
      debugger: false,
      mechlab: { version: pkg.version, root: pkg.root },
    },
  };
}

/** Writes kernel.json and the logos into `dir` (created, emptied first). */
export function writeKernelSpecDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "kernel.json"), JSON.stringify(kernelSpecJson(), null, 2) + "\n");
  const assets = packageInfo().kernelspecAssets;
  for (const file of LOGO_FILES) copyFileSync(join(assets, file), join(dir, file));
}

/** A folder tree that holds kernels/mechlab/, for JUPYTER_PATH. The caller removes `root` when done. */
export function temporaryJupyterPath(): { root: string; kernelDir: string } {
  const root = mkdtempSync(join(tmpdir(), "mechlab-jupyter-path-"));
  const kernelDir = join(root, "kernels", KERNEL_NAME);
  writeKernelSpecDir(kernelDir);
  return { root, kernelDir };
}

/** Where a kernelspec is installed, as `jupyter kernelspec install` names it. */
export type KernelspecLocation = { kind: "user" } | { kind: "prefix"; dir: string } | { kind: "sys-prefix" };

export function locationFlags(location: KernelspecLocation): string[] {
  switch (location.kind) {
    case "user":
      return ["--user"];
    case "prefix":
      return [`--prefix=${resolve(location.dir)}`];
    case "sys-prefix":
      return ["--sys-prefix"];
  }
}

/** Jupyter's per-user data folder when no `jupyter` command can be asked (jupyter_core's rules). */
export function defaultJupyterDataDir(env: Env = process.env): string {
  if (env.JUPYTER_DATA_DIR) return resolve(env.JUPYTER_DATA_DIR);
  const home = env.HOME || homedir();
  if (process.platform === "win32") return join(env.APPDATA || join(home, "AppData", "Roaming"), "jupyter");
  if (process.platform === "darwin") return join(home, "Library", "Jupyter");
  return join(env.XDG_DATA_HOME || join(home, ".local", "share"), "jupyter");
}

/** The `kernels` folder of a location. */
export function kernelsDir(location: KernelspecLocation, env: Env = process.env): string {
  switch (location.kind) {
    case "prefix":
      return join(resolve(location.dir), "share", "jupyter", "kernels");
    case "user": {
      const jupyter = findJupyter(env);
      if (jupyter) {
        const asked = spawnSync(jupyter, ["--data-dir"], { env, encoding: "utf8", timeout: 60_000 });
        const dir = asked.status === 0 ? asked.stdout.trim() : "";
        if (dir) return join(dir, "kernels");
      }
      return join(defaultJupyterDataDir(env), "kernels");
    }
    case "sys-prefix": {
      const python = findPythonWith(["jupyter_client"], env);
      if (!python) {
        throw new CliError("--sys-prefix needs the Python that Jupyter runs on, and no Python with jupyter_client was found; use --user or --prefix DIR.");
      }
      const asked = spawnSync(python, ["-c", "import sys; print(sys.prefix)"], { env, encoding: "utf8", timeout: 60_000 });
      return join(asked.stdout.trim(), "share", "jupyter", "kernels");
    }
  }
}

export interface InstallResult {
  /** The installed kernelspec folder (…/kernels/mechlab). */
  path: string;
  via: "jupyter kernelspec install" | "direct write";
}

/** Installs (or refreshes) the kernelspec at `location`. */
export function installKernelSpec(location: KernelspecLocation, env: Env = process.env): InstallResult {
  const destination = join(kernelsDir(location, env), KERNEL_NAME);
  const jupyter = findJupyter(env);
  if (jupyter && hasJupyterSubcommand(jupyter, "kernelspec", env)) {
    const staging = mkdtempSync(join(tmpdir(), "mechlab-kernelspec-"));
    try {
      const source = join(staging, KERNEL_NAME);
      writeKernelSpecDir(source);
      const result = spawnSync(jupyter, ["kernelspec", "install", source, "--name", KERNEL_NAME, ...locationFlags(location)], {
        env,
        encoding: "utf8",
        timeout: 120_000,
      });
      if (result.status !== 0) {
        throw new CliError(
          `\`jupyter kernelspec install\` failed (exit ${result.status ?? result.signal}):\n${(result.stderr || result.stdout || "").trim()}`,
        );
      }
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    if (!existsSync(join(destination, "kernel.json"))) {
      throw new CliError(`\`jupyter kernelspec install\` reported success, but ${destination} has no kernel.json.`);
    }
    return { path: destination, via: "jupyter kernelspec install" };
  }
  try {
    writeKernelSpecDir(destination);
  } catch (error) {
    throw new CliError(`cannot write the kernelspec into ${destination}: ${(error as Error).message}`);
  }
  return { path: destination, via: "direct write" };
}

/** Removes the kernelspec from `location`; returns the folder removed, or undefined if there was none. */
export function uninstallKernelSpec(location: KernelspecLocation, env: Env = process.env): string | undefined {
  const destination = join(kernelsDir(location, env), KERNEL_NAME);
  if (!existsSync(destination)) return undefined;
  rmSync(destination, { recursive: true, force: true });
  return destination;
}

/** Folders of every `mechlab` kernelspec Jupyter can see (empty without `jupyter kernelspec`). */
export function visibleKernelSpecs(env: Env = process.env): string[] {
  const jupyter = findJupyter(env);
  if (!jupyter) return [];
  const listed = spawnSync(jupyter, ["kernelspec", "list", "--json"], { env, encoding: "utf8", timeout: 60_000 });
  if (listed.status !== 0) return [];
  try {
    const specs = (JSON.parse(listed.stdout) as { kernelspecs: Record<string, { resource_dir: string }> }).kernelspecs;
    return Object.entries(specs)
      .filter(([name]) => name === KERNEL_NAME)
      .map(([, spec]) => spec.resource_dir);
  } catch {
    return [];
  }
}
