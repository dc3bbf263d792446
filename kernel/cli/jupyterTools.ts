/**
 * Finding the Jupyter installation the CLI drives: the `jupyter` command and its subcommands,
 * and a Python that has the Jupyter libraries `mechlab run` uses. Every function takes the
 * environment to search (PATH above all), so tests can hide Jupyter.
 */
import { spawnSync } from "child_process";
import { accessSync, constants, readFileSync, realpathSync } from "fs";
import { delimiter, dirname, isAbsolute, join } from "path";

export type Env = NodeJS.ProcessEnv;

/** What to install when Jupyter is missing, for people on Debian/Ubuntu, pip and conda. */
export const INSTALL_JUPYTER = [
  "Install one of:",
  "  Debian/Ubuntu:  sudo apt-get install jupyter-notebook",
  "  pip:            pip install notebook       (Jupyter Notebook)",
  "                  pip install jupyterlab     (JupyterLab)",
  "  conda:          conda install -c conda-forge jupyterlab",
].join("\n");

/** What to install when `mechlab run` finds no Python with nbclient and nbconvert. */
export const INSTALL_NBCLIENT = [
  "Install one of:",
  "  Debian/Ubuntu:  sudo apt-get install jupyter-nbconvert python3-nbclient",
  "  pip:            pip install nbclient nbconvert",
  "  conda:          conda install -c conda-forge nbclient nbconvert",
].join("\n");

/** The absolute path of an executable on env.PATH, or undefined. */
export function which(command: string, env: Env = process.env): string | undefined {
  if (isAbsolute(command)) return isExecutable(command) ? command : undefined;
  const extensions = process.platform === "win32" ? (env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";") : [""];
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    for (const extension of extensions) {
      const candidate = join(dir, command + extension);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The `jupyter` command on PATH, or undefined. */
export function findJupyter(env: Env = process.env): string | undefined {
  return which("jupyter", env);
}

/**
 * Whether `jupyter <subcommand>` exists. Jupyter runs a subcommand as the executable
 * `jupyter-<subcommand>` from PATH or from its own folder; looking for it there is what Jupyter
 * does, without paying for a Python start.
 */
export function hasJupyterSubcommand(jupyter: string, subcommand: string, env: Env = process.env): boolean {
  const ownDirs = [dirname(jupyter), dirname(realpathOr(jupyter))];
  return which(`jupyter-${subcommand}`, { ...env, PATH: [env.PATH ?? "", ...ownDirs].join(delimiter) }) !== undefined;
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

export interface JupyterFrontend {
  jupyter: string;
  /** The subcommand that serves notebooks: JupyterLab when installed, else the classic Notebook. */
  app: "lab" | "notebook";
  title: string;
}

/** The notebook frontend to start, or undefined when Jupyter has none. */
export function findJupyterFrontend(env: Env = process.env): JupyterFrontend | undefined {
  const jupyter = findJupyter(env);
  if (!jupyter) return undefined;
  if (hasJupyterSubcommand(jupyter, "lab", env)) return { jupyter, app: "lab", title: "JupyterLab" };
  if (hasJupyterSubcommand(jupyter, "notebook", env)) return { jupyter, app: "notebook", title: "Jupyter Notebook" };
  return undefined;
}

/**
 * Pythons worth asking for Jupyter libraries, best first: $MECHLAB_PYTHON, the interpreter the
 * `jupyter` command runs on (its #! line), then python3 and python on PATH.
 */
export function pythonCandidates(env: Env = process.env): string[] {
  const candidates: (string | undefined)[] = [env.MECHLAB_PYTHON];
  const jupyter = findJupyter(env);
  if (jupyter) candidates.push(shebangInterpreter(jupyter, env));
  candidates.push(which("python3", env), which("python", env));
  return [...new Set(candidates.filter((c): c is string => !!c))];
}

/** The interpreter named by a script's #! line (`#!/usr/bin/python3`, `#!/usr/bin/env python3`). */
export function shebangInterpreter(script: string, env: Env = process.env): string | undefined {
  let firstLine: string;
  try {
    firstLine = readFileSync(script, "utf8").slice(0, 500).split("\n")[0];
  } catch {
    return undefined;
  }
  const match = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(firstLine);
  if (!match) return undefined;
  if (/(^|\/)env$/.test(match[1]) && match[2]) return which(match[2], env);
  return which(match[1], env);
}

/** The first candidate Python that imports every module, or undefined. */
export function findPythonWith(modules: string[], env: Env = process.env): string | undefined {
  return pythonCandidates(env).find(
    (python) => spawnSync(python, ["-c", `import ${modules.join(", ")}`], { env, stdio: "ignore", timeout: 60_000 }).status === 0,
  );
}
