/**
 * Shared by the end-to-end kernel tests that go through real Jupyter (Debian's, for
 * /usr/bin/python3): running the built `mechlab` command, a Jupyter environment of temporary
 * folders so nothing on the machine is read or changed, and a clear failure when the Debian
 * packages are missing.
 */
import { spawn, spawnSync } from "child_process";
import { mkdirSync, mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join, resolve } from "path";

export const ROOT = resolve(__dirname, "../..");
export const BIN = join(ROOT, "bin", "mechlab.js");
export const PYTHON = "/usr/bin/python3";

/** The Debian packages these tests need; .ci/run installs them. */
export const DEBIAN_PACKAGES = "jupyter-notebook jupyter-client jupyter-nbconvert python3-nbclient python3-jupyter-kernel-test";

/** Throws, naming the packages to install, unless Debian's Jupyter pieces are present. */
export function requireDebianJupyter(): void {
  const python = spawnSync(PYTHON, ["-c", "import jupyter_client, nbclient, nbconvert, notebook, jupyter_kernel_test"], { encoding: "utf8" });
  const kernelspec = spawnSync("jupyter", ["kernelspec", "--version"], { encoding: "utf8" });
  if (python.status !== 0 || kernelspec.status !== 0) {
    throw new Error(
      `these tests need Debian's Jupyter for ${PYTHON} and the \`jupyter kernelspec\` command: ` +
        `apt-get install ${DEBIAN_PACKAGES} (.ci/run does it)\n${python.stderr ?? ""}${kernelspec.stderr ?? ""}`,
    );
  }
}

export interface JupyterSandbox {
  dir: string;
  /** process.env with Jupyter's data, config and runtime folders inside `dir`. */
  env: NodeJS.ProcessEnv;
  dispose(): void;
}

/** Temporary Jupyter folders: kernelspecs installed "for the user" land in `dir/data/kernels`. */
export function jupyterSandbox(): JupyterSandbox {
  const dir = mkdtempSync(join(tmpdir(), "mechlab-jupyter-test-"));
  for (const sub of ["data", "config", "runtime"]) mkdirSync(join(dir, sub));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_DATA_DIR: join(dir, "data"),
    JUPYTER_CONFIG_DIR: join(dir, "config"),
    JUPYTER_RUNTIME_DIR: join(dir, "runtime"),
    // Without this, Jupyter also searches the user's site folder (~/.local/share/jupyter), where a
    // real `mechlab install` or `npm start` may already have put a kernelspec.
    PYTHONNOUSERSITE: "1",
  };
  delete env.JUPYTER_PATH;
  return { dir, env, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (asynchronously, so the test's timers keep running). */
export function runCommand(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd ?? ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += String(chunk)));
    child.stderr.on("data", (chunk) => (stderr += String(chunk)));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} ran over ${options.timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, options.timeoutMs ?? 300_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolveRun({ status, stdout, stderr });
    });
  });
}

/** The built `mechlab` command (`npm run build` first; `npm test` does it). */
export function mechlab(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return runCommand(process.execPath, [BIN, ...args], options);
}
