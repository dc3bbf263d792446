/**
 * The `mechlab` command end to end, as built (bin/mechlab.js → dist/kernel/cli.js), against
 * Debian's Jupyter: install / uninstall of the kernelspec (through `jupyter kernelspec` and without
 * Jupyter), `mechlab notebook` with and without Jupyter, and `mechlab run` on the notebooks in
 * tests/fixtures/notebooks/ (executed by the real kernel through nbclient).
 */
import { spawn } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { createServer } from "net";
import { tmpdir } from "os";
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, PYTHON, ROOT, jupyterSandbox, mechlab, requireDebianJupyter, runCommand, type JupyterSandbox } from "./jupyterSetup";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
const FIXTURES = join(ROOT, "tests", "fixtures", "notebooks");

/** Width and height from a PNG's IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const data = readFileSync(file);
  expect(data.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(data.subarray(12, 16).toString("ascii")).toBe("IHDR");
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

/** Checks a kernelspec folder: kernel.json runs this Node on this package's bin, and the logos. */
function expectValidKernelspec(dir: string): void {
  const spec = JSON.parse(readFileSync(join(dir, "kernel.json"), "utf8"));
  expect(spec.argv).toEqual([process.execPath, BIN, "kernel", "-f", "{connection_file}"]);
  expect(existsSync(spec.argv[0])).toBe(true);
  expect(existsSync(spec.argv[1])).toBe(true);
  expect(spec.display_name).toBe("TypeScript (mechlab)");
  expect(spec.language).toBe("typescript");
  expect(spec.interrupt_mode).toBe("signal");
  expect(spec.env).toMatchObject({ TF_CPP_MIN_LOG_LEVEL: "2" });
  expect(spec.metadata).toMatchObject({ mechlab: { version: pkg.version } });
  expect(pngSize(join(dir, "logo-32x32.png"))).toEqual({ width: 32, height: 32 });
  expect(pngSize(join(dir, "logo-64x64.png"))).toEqual({ width: 64, height: 64 });
  expect(readFileSync(join(dir, "logo-svg.svg"), "utf8")).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*viewBox="0 0 64 64"/);
}

/** `jupyter kernelspec list --json` in an environment: name → resource folder. */
async function jupyterKernelspecs(env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const listed = await runCommand("jupyter", ["kernelspec", "list", "--json"], { env });
  expect(listed.status, listed.stderr).toBe(0);
  const specs = JSON.parse(listed.stdout).kernelspecs as Record<string, { resource_dir: string }>;
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, spec.resource_dir]));
}

/** `jupyter --paths --json` in an environment: the data and config folders Jupyter searches. */
async function jupyterPaths(env: NodeJS.ProcessEnv): Promise<{ data: string[]; config: string[] }> {
  const listed = await runCommand("jupyter", ["--paths", "--json"], { env });
  expect(listed.status, listed.stderr).toBe(0);
  return JSON.parse(listed.stdout) as { data: string[]; config: string[] };
}

/** The merged "notebook" nbconfig section as the classic Notebook server reads it. */
async function classicNotebookConfig(env: NodeJS.ProcessEnv): Promise<{ load_extensions?: Record<string, boolean> }> {
  const code = "import json; from notebook.services.config.manager import ConfigManager; print(json.dumps(ConfigManager().get('notebook')))";
  const read = await runCommand(PYTHON, ["-c", code], { env });
  expect(read.status, read.stderr).toBe(0);
  return JSON.parse(read.stdout);
}

/**
 * Checks the widget frontends installed in Jupyter data folder `data` and config folder `config`:
 * the prebuilt JupyterLab extension where JupyterLab 4 / Notebook 7 look for one
 * (labextensions/<name>/package.json naming its remote entry), and the classic nbextension.
 */
function expectWidgetFrontends(data: string, config: string): void {
  const lab = join(data, "labextensions", "mechlab-widgets");
  const meta = JSON.parse(readFileSync(join(lab, "package.json"), "utf8"));
  expect(meta).toMatchObject({ name: "mechlab-widgets", version: pkg.version, jupyterlab: { _build: { extension: "./extension" } } });
  expect(meta.jupyterlab._build.load).toMatch(/^static\/remoteEntry\.[0-9a-f]+\.js$/);
  expect(readFileSync(join(lab, meta.jupyterlab._build.load), "utf8")).toBe(readFileSync(join(ROOT, "dist", "labextension", meta.jupyterlab._build.load), "utf8"));
  expect(JSON.parse(readFileSync(join(lab, "install.json"), "utf8"))).toMatchObject({ packageManager: "npm", packageName: "mechlab" });
  const nb = join(data, "nbextensions", "mechlab-widgets");
  expect(readFileSync(join(nb, "index.js"), "utf8")).toBe(readFileSync(join(ROOT, "dist", "widgets", "mechlab-widgets.amd.js"), "utf8"));
  expect(readFileSync(join(nb, "extension.js"), "utf8")).toContain('"mechlab-widgets": "nbextensions/mechlab-widgets/index"');
  expect(JSON.parse(readFileSync(join(config, "nbconfig", "notebook.d", "mechlab-widgets.json"), "utf8"))).toEqual({ load_extensions: { "mechlab-widgets/extension": true } });
}

function expectNoWidgetFrontends(data: string, config: string): void {
  expect(existsSync(join(data, "labextensions", "mechlab-widgets"))).toBe(false);
  expect(existsSync(join(data, "nbextensions", "mechlab-widgets"))).toBe(false);
  expect(existsSync(join(config, "nbconfig", "notebook.d", "mechlab-widgets.json"))).toBe(false);
}

/** An environment in which no `jupyter` (nor python) can be found: PATH is an empty folder. */
function withoutJupyter(base: NodeJS.ProcessEnv, emptyDir: string): NodeJS.ProcessEnv {
  return { ...base, PATH: emptyDir };
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as import("net").AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

let sandbox: JupyterSandbox;
let scratch: string;

beforeAll(() => {
  requireDebianJupyter();
  sandbox = jupyterSandbox();
  scratch = mkdtempSync(join(tmpdir(), "mechlab-cli-test-"));
});

afterAll(() => {
  sandbox?.dispose();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("mechlab --help / --version / bad command lines", () => {
  it("prints usage naming every command, and the package version", async () => {
    const help = await mechlab(["--help"]);
    expect(help.status).toBe(0);
    for (const command of ["notebook", "run", "install", "uninstall", "train", "kernel"]) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
    const version = await mechlab(["--version"]);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);
    const runHelp = await mechlab(["run", "--help"]);
    expect(runHelp.status).toBe(0);
    expect(runHelp.stdout).toContain("Usage: mechlab run NOTEBOOK… [--out DIR] [--timeout S]");
  });

  it("rejects an unknown command, an unknown option and a bad value with status 2 and a hint", async () => {
    const unknown = await mechlab(["frobnicate"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(unknown.stderr).toContain("notebook, run, install, uninstall, train, kernel");
    const option = await mechlab(["install", "--global"]);
    expect(option.status).toBe(2);
    expect(option.stderr).toContain("mechlab install: unknown option '--global'");
    const both = await mechlab(["install", "--user", "--prefix", scratch]);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain("--user and --prefix cannot be combined");
    const timeout = await mechlab(["run", join(FIXTURES, "smoke.ipynb"), "--timeout", "soon"]);
    expect(timeout.status).toBe(2);
    expect(timeout.stderr).toContain('--timeout takes a positive number, got "soon"');
    const none = await mechlab(["run"]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("name at least one notebook");
  });
});

describe("mechlab install / uninstall", () => {
  it("installs into a prefix through `jupyter kernelspec install`, Jupyter sees it there, uninstall removes it", async () => {
    const prefix = join(scratch, "prefix");
    const installed = await mechlab(["install", "--prefix", prefix], { env: sandbox.env });
    expect(installed.status, installed.stderr).toBe(0);
    const dir = join(prefix, "share", "jupyter", "kernels", "mechlab");
    expect(installed.stdout).toContain(`in ${dir} (jupyter kernelspec install)`);
    expectValidKernelspec(dir);

    const env = { ...sandbox.env, JUPYTER_PATH: join(prefix, "share", "jupyter") };
    expect((await jupyterKernelspecs(env)).mechlab).toBe(dir);
    expect((await jupyterKernelspecs(sandbox.env)).mechlab).toBeUndefined();

    const removed = await mechlab(["uninstall", "--prefix", prefix], { env: sandbox.env });
    expect(removed.status, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`Removed the mechlab kernelspec from ${dir}`);
    expect(existsSync(dir)).toBe(false);
    expect((await jupyterKernelspecs(env)).mechlab).toBeUndefined();

    const again = await mechlab(["uninstall", "--prefix", prefix], { env: sandbox.env });
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("No mechlab kernelspec to remove there");
  });

  it("installs for the user by default (Jupyter's data folder)", async () => {
    const installed = await mechlab(["install"], { env: sandbox.env });
    expect(installed.status, installed.stderr).toBe(0);
    const dir = join(sandbox.env.JUPYTER_DATA_DIR!, "kernels", "mechlab");
    expectValidKernelspec(dir);
    expect((await jupyterKernelspecs(sandbox.env)).mechlab).toBe(dir);
    const removed = await mechlab(["uninstall", "--user"], { env: sandbox.env });
    expect(removed.status, removed.stderr).toBe(0);
    expect(existsSync(dir)).toBe(false);
  });

  it("installs the widget frontends beside the kernelspec, where Jupyter searches, and uninstall removes them", async () => {
    const prefix = join(scratch, "prefix-widgets");
    const installed = await mechlab(["install", "--prefix", prefix], { env: sandbox.env });
    expect(installed.status, installed.stderr).toBe(0);
    const data = join(prefix, "share", "jupyter");
    const config = join(prefix, "etc", "jupyter");
    expect(installed.stdout).toContain(`JupyterLab 4 / Notebook 7 in ${join(data, "labextensions", "mechlab-widgets")}`);
    expectWidgetFrontends(data, config);
    // Jupyter searches those folders once told about the prefix, and the classic Notebook then
    // loads the nbextension; without that it sees neither.
    const env = { ...sandbox.env, JUPYTER_PATH: data, JUPYTER_CONFIG_PATH: config };
    const paths = await jupyterPaths(env);
    expect(paths.data).toContain(data);
    expect(paths.config).toContain(config);
    expect((await classicNotebookConfig(env)).load_extensions?.["mechlab-widgets/extension"]).toBe(true);
    expect((await classicNotebookConfig(sandbox.env)).load_extensions?.["mechlab-widgets/extension"]).toBeUndefined();

    const removed = await mechlab(["uninstall", "--prefix", prefix], { env: sandbox.env });
    expect(removed.status, removed.stderr).toBe(0);
    expect(removed.stdout).toContain("Removed the widget extensions");
    expectNoWidgetFrontends(data, config);
    expect((await classicNotebookConfig(env)).load_extensions?.["mechlab-widgets/extension"]).toBeUndefined();
  });

  it("installs the widget frontends for the user in Jupyter's own data and config folders", async () => {
    const installed = await mechlab(["install", "--user"], { env: sandbox.env });
    expect(installed.status, installed.stderr).toBe(0);
    const paths = await jupyterPaths(sandbox.env);
    expect(paths.data[0]).toBe(sandbox.env.JUPYTER_DATA_DIR);
    expect(paths.config[0]).toBe(sandbox.env.JUPYTER_CONFIG_DIR);
    expectWidgetFrontends(paths.data[0]!, paths.config[0]!);
    expect((await classicNotebookConfig(sandbox.env)).load_extensions?.["mechlab-widgets/extension"]).toBe(true);
    const removed = await mechlab(["uninstall", "--user"], { env: sandbox.env });
    expect(removed.status, removed.stderr).toBe(0);
    expectNoWidgetFrontends(paths.data[0]!, paths.config[0]!);
  });

  it("without Jupyter writes the kernelspec where Jupyter will look (~/.local/share/jupyter/kernels)", async () => {
    const home = join(scratch, "home");
    const empty = mkdtempSync(join(scratch, "empty-path-"));
    const env = withoutJupyter({ ...process.env, HOME: home }, empty);
    delete env.JUPYTER_DATA_DIR;
    delete env.XDG_DATA_HOME;
    delete env.JUPYTER_CONFIG_DIR;
    const installed = await mechlab(["install"], { env });
    expect(installed.status, installed.stderr).toBe(0);
    const dir = join(home, ".local", "share", "jupyter", "kernels", "mechlab");
    expect(installed.stdout).toContain(`in ${dir} (direct write)`);
    expectValidKernelspec(dir);
    expectWidgetFrontends(join(home, ".local", "share", "jupyter"), join(home, ".jupyter"));
    // The very folder real Jupyter reads for that user:
    expect((await jupyterKernelspecs({ ...sandbox.env, HOME: home, JUPYTER_DATA_DIR: join(home, ".local", "share", "jupyter") })).mechlab).toBe(dir);
    const removed = await mechlab(["uninstall"], { env });
    expect(removed.status, removed.stderr).toBe(0);
    expect(existsSync(dir)).toBe(false);
    expectNoWidgetFrontends(join(home, ".local", "share", "jupyter"), join(home, ".jupyter"));
  });
});

describe("mechlab notebook", () => {
  it("without Jupyter on PATH says exactly what to install, and changes nothing", async () => {
    const home = join(scratch, "home-no-jupyter");
    const empty = mkdtempSync(join(scratch, "empty-path-"));
    const result = await mechlab(["notebook"], { env: withoutJupyter({ ...process.env, HOME: home }, empty) });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Jupyter is not installed");
    expect(result.stderr).toContain("sudo apt-get install jupyter-notebook");
    expect(result.stderr).toContain("pip install notebook");
    expect(result.stderr).toContain("pip install jupyterlab");
    expect(existsSync(home)).toBe(false);
  });

  it("registers the kernel for the user, starts Jupyter on the folder and prints the URL; the server lists the kernel", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, "notebook", FIXTURES, "--no-browser", "--port", String(port), "--ip", "127.0.0.1"], {
      env: sandbox.env,
      cwd: scratch,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += String(chunk)));
    const exited = new Promise<number | null>((resolveExit) => child.on("exit", (code) => resolveExit(code)));
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL after 60 s\nstdout:\n${stdout}\nstderr:\n${stderr}`)), 60_000);
        child.stdout.on("data", (chunk) => {
          stdout += String(chunk);
          const match = /mechlab: Jupyter Notebook is running at (\S+)/.exec(stdout);
          if (match) {
            clearTimeout(timer);
            resolveUrl(match[1]);
          }
        });
      });
      expect(stdout).toContain(`mechlab: kernel "TypeScript (mechlab)" registered in ${join(sandbox.env.JUPYTER_DATA_DIR!, "kernels", "mechlab")}`);
      expect(stdout).toContain(`mechlab: starting Jupyter Notebook on ${FIXTURES}`);
      const parsed = new URL(url);
      expect(parsed.port).toBe(String(port));
      const token = parsed.searchParams.get("token");
      const api = await fetch(`http://127.0.0.1:${port}/api/kernelspecs?token=${token}`);
      expect(api.status).toBe(200);
      const specs = (await api.json()) as { kernelspecs: Record<string, { spec: { display_name: string; language: string }; resources: Record<string, string> }> };
      expect(specs.kernelspecs.mechlab.spec).toMatchObject({ display_name: "TypeScript (mechlab)", language: "typescript" });
      expect(Object.keys(specs.kernelspecs.mechlab.resources)).toEqual(expect.arrayContaining(["logo-32x32", "logo-64x64"]));
      const contents = await fetch(`http://127.0.0.1:${port}/api/contents?token=${token}`);
      const names = ((await contents.json()) as { content: { name: string }[] }).content.map((entry) => entry.name);
      expect(names).toContain("smoke.ipynb");
      // The widget frontends came with the kernel: the classic Notebook enables the nbextension
      // and serves it, and the JupyterLab extension sits in the user's data folder.
      expect(stdout).toContain(`mechlab: widget extensions in ${join(sandbox.env.JUPYTER_DATA_DIR!, "labextensions", "mechlab-widgets")}`);
      const config = (await (await fetch(`http://127.0.0.1:${port}/api/config/notebook?token=${token}`)).json()) as { load_extensions?: Record<string, boolean> };
      expect(config.load_extensions?.["mechlab-widgets/extension"]).toBe(true);
      for (const file of ["extension.js", "index.js"]) {
        const served = await fetch(`http://127.0.0.1:${port}/nbextensions/mechlab-widgets/${file}?token=${token}`);
        expect(served.status, file).toBe(200);
        expect(await served.text()).toMatch(/^(\/\/.*\n)*define\(/);
      }
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).not.toBeNull();
  });
});

interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  execution_count?: number;
  ename?: string;
  evalue?: string;
}

interface Notebook {
  cells: { cell_type: string; outputs?: NotebookOutput[] }[];
  metadata: { kernelspec?: { name: string }; language_info?: { name: string } };
}

const joined = (text: string | string[] | undefined): string => (Array.isArray(text) ? text.join("") : (text ?? ""));

/** A notebook file with its multi-line strings (stored as lists of lines) joined. */
function readNotebook(file: string): Notebook {
  const notebook = JSON.parse(readFileSync(file, "utf8")) as Notebook;
  for (const cell of notebook.cells) {
    for (const output of cell.outputs ?? []) {
      if (output.text !== undefined) output.text = joined(output.text);
      for (const mime of Object.keys(output.data ?? {})) {
        const value = output.data![mime];
        if (Array.isArray(value) && value.every((line) => typeof line === "string")) output.data![mime] = joined(value);
      }
    }
  }
  return notebook;
}

describe("mechlab run", () => {
  it("executes a notebook through the kernel and writes the executed .ipynb and .html (default: build/notebooks)", async () => {
    const cwd = mkdtempSync(join(scratch, "run-"));
    const result = await mechlab(["run", join(FIXTURES, "smoke.ipynb")], { env: sandbox.env, cwd });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ok {5}.*smoke\.ipynb: 4 code cells in [\d.]+ s → build\/notebooks\/smoke\.ipynb, build\/notebooks\/smoke\.html$/m);

    const executed = readNotebook(join(cwd, "build", "notebooks", "smoke.ipynb"));
    expect(executed.metadata.kernelspec?.name).toBe("mechlab");
    expect(executed.metadata.language_info?.name).toBe("typescript");
    const [markdown, value, print, shown, tensor] = executed.cells;
    expect(markdown.cell_type).toBe("markdown");
    // `const answer = 6 * 7; answer` → its value as the cell's result
    expect(value.outputs).toEqual([expect.objectContaining({ output_type: "execute_result", execution_count: 1, data: { "text/plain": "42" } })]);
    // console.log → stdout
    expect(print.outputs).toEqual([expect.objectContaining({ output_type: "stream", name: "stdout", text: "hello from mechlab\n" })]);
    // display.html → display_data
    const displayed = shown.outputs!.find((output) => output.output_type === "display_data");
    expect(joined(displayed?.data?.["text/html"])).toBe("<b>displayed by mechlab</b>");
    // a tensor from mechlab → its dtype, shape and values
    const tensorResult = tensor.outputs!.find((output) => output.output_type === "execute_result");
    const tensorText = joined(tensorResult?.data?.["text/plain"]);
    expect(tensorText).toContain("float32");
    expect(tensorText).toMatch(/\[2, ?2\]/);
    expect(tensorText).toMatch(/1\.?,? +2\.?[\s\S]*3\.?,? +4\.?/);

    const html = readFileSync(join(cwd, "build", "notebooks", "smoke.html"), "utf8");
    expect(html).toMatch(/^<!DOCTYPE html>/i);
    expect(html).toContain("hello from mechlab");
    expect(html).toContain("<b>displayed by mechlab</b>");
    expect(html).toContain("float32");
  });

  it("stops a notebook at its failing cell, names it, still writes the files and exits 1", async () => {
    const out = join(scratch, "run-failing");
    const result = await mechlab(["run", join(FIXTURES, "failing.ipynb"), join(FIXTURES, "smoke.ipynb"), "--out", out], { env: sandbox.env, cwd: scratch });
    expect(result.status, result.stdout + result.stderr).toBe(1);
    expect(result.stderr).toMatch(/FAILED .*failing\.ipynb: cell 2 \(counting from 0, first line: const x = 2;\) failed with Error: boom in the third cell/);
    expect(result.stderr).toContain('throw new Error("boom in the third cell");'); // the traceback shows the cell's line
    expect(result.stdout).toMatch(/^ok {5}.*smoke\.ipynb/m); // the other notebook still runs
    expect(result.stdout).toContain("1 of 2 notebooks ran without errors.");

    const executed = readNotebook(join(out, "failing.ipynb"));
    expect(executed.cells[0].outputs).toEqual([expect.objectContaining({ output_type: "execute_result", data: { "text/plain": "1" } })]);
    expect(executed.cells[2].outputs).toEqual([expect.objectContaining({ output_type: "error", ename: "Error", evalue: "boom in the third cell" })]);
    expect(executed.cells[3].outputs).toEqual([]);
    expect(readFileSync(join(out, "failing.html"), "utf8")).toContain("boom in the third cell");
  });

  it("fails a cell that runs longer than --timeout and names it", async () => {
    const notebook = join(scratch, "endless.ipynb");
    writeFileSync(
      notebook,
      JSON.stringify({
        cells: [{ cell_type: "code", execution_count: null, id: "spin", metadata: {}, outputs: [], source: ["let spins = 0;\n", "while (true) { spins++; }"] }],
        metadata: {},
        nbformat: 4,
        nbformat_minor: 5,
      }),
    );
    const result = await mechlab(["run", notebook, "--out", join(scratch, "run-endless"), "--timeout", "2"], { env: sandbox.env, cwd: scratch });
    expect(result.status, result.stdout + result.stderr).toBe(1);
    expect(result.stderr).toContain("endless.ipynb: cell 0 (counting from 0, first line: let spins = 0;) failed with Timeout: the cell ran longer than --timeout 2 s");
  });

  it("refuses what it cannot run: a missing file, a non-notebook, two notebooks with one name", async () => {
    const missing = await mechlab(["run", join(scratch, "nope.ipynb")], { env: sandbox.env });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("nope.ipynb: no such file");
    const text = join(scratch, "notes.txt");
    writeFileSync(text, "not a notebook");
    const notNotebook = await mechlab(["run", text], { env: sandbox.env });
    expect(notNotebook.status).toBe(2);
    expect(notNotebook.stderr).toContain("is not a notebook (.ipynb)");
    const copy = join(mkdtempSync(join(scratch, "copy-")), "smoke.ipynb");
    writeFileSync(copy, readFileSync(join(FIXTURES, "smoke.ipynb")));
    const clash = await mechlab(["run", join(FIXTURES, "smoke.ipynb"), copy], { env: sandbox.env });
    expect(clash.status).toBe(2);
    expect(clash.stderr).toContain("would both be written as smoke.ipynb");
  });
});
