/**
 * `mechlab run NOTEBOOK… [--out DIR] [--timeout S]`: executes notebooks headless through the
 * mechlab kernel and writes each executed notebook and its HTML export.
 *
 * The execution itself is Jupyter's own notebook runner, nbclient, driven by run_notebook.py with
 * the Python Jupyter runs on; the kernelspec is given to it through a temporary JUPYTER_PATH, so
 * this copy of mechlab runs the notebooks whatever is installed globally, and nothing global is
 * written. nbclient is what nbconvert, papermill and CI tools execute notebooks with: it handles
 * output bookkeeping (display ids, clear_output(wait), widget state in the notebook metadata) the
 * way a frontend does, and nbconvert renders the HTML the way users will see it exported.
 */
import { spawn } from "child_process";
import { existsSync, rmSync } from "fs";
import { basename, delimiter, extname, join, relative, resolve } from "path";
import { CliError, UsageError } from "./cliError";
import { numberOption, parseCommandLine, stringOption } from "./commandLine";
import { Env, INSTALL_NBCLIENT, findPythonWith } from "./jupyterTools";
import { DISPLAY_NAME, KERNEL_NAME, temporaryJupyterPath } from "./kernelspec";
import { packageInfo } from "./packageInfo";

/** Where executed notebooks go without --out, relative to the current folder. */
export const DEFAULT_OUT = join("build", "notebooks");

export const RUN_USAGE = `Usage: mechlab run NOTEBOOK… [--out DIR] [--timeout S]

Executes each notebook from its first cell to its last through the "${DISPLAY_NAME}" kernel, with
the notebook's own folder as the working directory, and writes DIR/NAME.ipynb (with outputs) and
DIR/NAME.html. Stops a notebook at its first failing cell, names that cell, and exits with status 1
if any notebook failed (the files are still written, with the outputs up to the failure).

  --out DIR       where to write (default: ${DEFAULT_OUT} in the current folder)
  --timeout S     fail a cell that runs longer than S seconds (default: no limit)

The .ipynb keeps the widgets' state (metadata "widgets"), so JupyterLab, Notebook 7 or classic
Notebook with mechlab's widget extension (\`mechlab install\`) shows them live again. The .html
works offline: every mechlab widget renders from its own self-contained HTML (script and data
inline) and stays interactive (hover, selections), though no longer connected to a kernel. It
loads nothing from the network: nbconvert's CDN-based widget manager and require.js are left out
(template kernel/cli/nbconvert/mechlab), and MathJax is included only when the notebook has math.

Needs Jupyter's nbclient and nbconvert (Python). ${INSTALL_NBCLIENT}`;

export interface CellFailure {
  /** The cell's position among all cells of the notebook, counting from 0. */
  index: number | null;
  source: string;
  ename: string;
  evalue: string;
  traceback: string[];
}

interface RunResult {
  ok: boolean;
  codeCells: number;
  executed: number;
  failure?: CellFailure;
}

interface Job {
  input: string;
  ipynb: string;
  html: string;
}

export async function runCommand(argv: string[], env: Env = process.env): Promise<number> {
  const parsed = parseCommandLine("run", argv, { out: { type: "string" }, timeout: { type: "string" } });
  if (parsed.help) {
    console.log(RUN_USAGE);
    return 0;
  }
  if (parsed.positionals.length === 0) throw new UsageError("mechlab run: name at least one notebook. See `mechlab run --help`.");
  const timeout = numberOption("run", parsed, "timeout", false);
  const out = resolve(stringOption(parsed, "out") ?? DEFAULT_OUT);
  const jobs = plan(parsed.positionals, out);

  const python = findPythonWith(["nbclient", "nbconvert", "nbformat"], env);
  if (!python) throw new CliError(`mechlab run: no Python with Jupyter's nbclient and nbconvert was found (tried $MECHLAB_PYTHON, jupyter's own Python, python3, python).\n${INSTALL_NBCLIENT}`);

  const jupyterPath = temporaryJupyterPath();
  const runEnv: Env = { ...env, JUPYTER_PATH: [jupyterPath.root, env.JUPYTER_PATH].filter(Boolean).join(delimiter) };
  let failed = 0;
  try {
    for (const job of jobs) {
      const ok = await runOne(python, job, timeout, runEnv);
      if (!ok) failed++;
    }
  } finally {
    rmSync(jupyterPath.root, { recursive: true, force: true });
  }
  if (jobs.length > 1) console.log(`${jobs.length - failed} of ${jobs.length} notebooks ran without errors.`);
  return failed === 0 ? 0 : 1;
}

/** Checks the inputs and decides the output files; two notebooks may not share a name. */
function plan(notebooks: string[], out: string): Job[] {
  const byName = new Map<string, string>();
  return notebooks.map((notebook) => {
    const input = resolve(notebook);
    if (!existsSync(input)) throw new CliError(`mechlab run: ${notebook}: no such file.`);
    if (extname(input) !== ".ipynb") throw new UsageError(`mechlab run: ${notebook} is not a notebook (.ipynb).`);
    const name = basename(input, ".ipynb");
    const earlier = byName.get(name);
    if (earlier) throw new UsageError(`mechlab run: ${earlier} and ${notebook} would both be written as ${name}.ipynb; run them with different --out folders.`);
    byName.set(name, notebook);
    const ipynb = join(out, `${name}.ipynb`);
    if (ipynb === input) throw new UsageError(`mechlab run: writing into ${out} would overwrite ${notebook}; choose another --out.`);
    return { input, ipynb, html: join(out, `${name}.html`) };
  });
}

async function runOne(python: string, job: Job, timeout: number | undefined, env: Env): Promise<boolean> {
  const shown = (path: string) => relative(process.cwd(), path) || path;
  const script = join(packageInfo().root, "kernel", "cli", "run_notebook.py");
  const args = [script, job.input, "--out-ipynb", job.ipynb, "--out-html", job.html, "--kernel", KERNEL_NAME, "--display-name", DISPLAY_NAME];
  if (timeout !== undefined) args.push("--timeout", String(timeout));
  console.log(`running ${shown(job.input)} …`);
  const started = Date.now();
  const { code, stdout, stderr } = await capture(python, args, env);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const result = parseResult(stdout);
  if (!result) {
    console.error(`FAILED ${shown(job.input)}: the notebook runner stopped (exit ${code}) without a result.\n${tail(stderr, 40)}`);
    return false;
  }
  const written = `${shown(job.ipynb)}, ${shown(job.html)}`;
  if (result.ok) {
    console.log(`ok     ${shown(job.input)}: ${result.executed} code cells in ${seconds} s → ${written}`);
    return true;
  }
  const failure = result.failure!;
  console.error(`FAILED ${shown(job.input)}: ${describeFailure(failure)}`);
  console.error(`       outputs up to the failure: ${written}`);
  // An error in a cell explains itself; when the kernel died, timed out or never started, the
  // runner's and the kernel's own log say why.
  const cellError = failure.index !== null && failure.ename !== "DeadKernel" && failure.ename !== "Timeout";
  const log = cellError ? "" : tail(stderr, 30);
  if (log) console.error(`       runner and kernel log:\n${indent(log, "         ")}`);
  return false;
}

/** "cell 3 (`const x = f();`): TypeError: …" followed by the traceback, colours removed. */
export function describeFailure(failure: CellFailure): string {
  const firstLine = failure.source.split("\n").find((line) => line.trim() !== "") ?? "";
  const where = failure.index === null ? "before the first cell" : `cell ${failure.index} (counting from 0, first line: ${firstLine.trim()})`;
  const error = failure.evalue ? `${failure.ename}: ${failure.evalue}` : failure.ename;
  const traceback = failure.traceback.map(stripAnsi).join("\n").split("\n");
  if (traceback[0]?.trim() === error) traceback.shift(); // most tracebacks start with the error line itself
  const rest = traceback.join("\n").trim();
  return rest ? `${where} failed with ${error}\n${indent(rest, "         ")}` : `${where} failed with ${error}`;
}

function parseResult(stdout: string): RunResult | undefined {
  const line = stdout.trim().split("\n").pop();
  if (!line) return undefined;
  try {
    return JSON.parse(line) as RunResult;
  } catch {
    return undefined;
  }
}

function capture(command: string, args: string[], env: Env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolveRun({ code, stdout, stderr }));
  });
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, "");
}

function tail(text: string, lines: number): string {
  return stripAnsi(text).trimEnd().split("\n").slice(-lines).join("\n");
}

function indent(text: string, prefix: string): string {
  return text.split("\n").map((line) => prefix + line).join("\n");
}
