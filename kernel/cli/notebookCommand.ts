/**
 * `mechlab notebook [DIR]`: registers the kernel for this user and starts Jupyter (JupyterLab when
 * installed, else the classic Notebook) on DIR, by default the tutorial notebooks.
 */
import { spawn } from "child_process";
import { existsSync, statSync } from "fs";
import { resolve } from "path";
import { createInterface } from "readline";
import { CliError, UsageError } from "./cliError";
import { numberOption, parseCommandLine, stringOption } from "./commandLine";
import { Env, INSTALL_JUPYTER, findJupyterFrontend } from "./jupyterTools";
import { installFrontendExtensions } from "./frontendExtensions";
import { DISPLAY_NAME, installKernelSpec } from "./kernelspec";
import { packageInfo } from "./packageInfo";

export const NOTEBOOK_USAGE = `Usage: mechlab notebook [DIR] [--no-browser] [--port N] [--ip ADDRESS] [-- JUPYTER_OPTION…]

Starts Jupyter on DIR (default: mechlab's tutorial notebooks) with the "${DISPLAY_NAME}" kernel
and its widget extensions registered for this user (refreshed on every start; see \`mechlab
install --help\`) and prints the URL to open. Uses JupyterLab when \`jupyter lab\` exists, else
\`jupyter notebook\`. Stop it with Ctrl-C.

  --no-browser    do not open a browser
  --port N        the port to serve on (Jupyter's default: 8888, or the next free one)
  --ip ADDRESS    the address to listen on (Jupyter's default: localhost)
  -- …            everything after -- goes to Jupyter as it is

${INSTALL_JUPYTER.replace("Install one of:", "Needs Jupyter; install one of:")}`;

/** A URL Jupyter prints for its server (host with a port), e.g. http://localhost:8888/?token=…. */
const SERVER_URL = /\bhttps?:\/\/[^\s/]+:\d+\/\S*/;

export async function notebookCommand(argv: string[], env: Env = process.env): Promise<number> {
  const parsed = parseCommandLine("notebook", argv, {
    "no-browser": { type: "boolean" },
    port: { type: "string" },
    ip: { type: "string" },
  });
  if (parsed.help) {
    console.log(NOTEBOOK_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 1) throw new UsageError("mechlab notebook: give one folder at most. See `mechlab notebook --help`.");
  const dir = resolve(parsed.positionals[0] ?? packageInfo().notebooks);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`mechlab notebook: ${dir} is not a folder.`);
  const port = numberOption("notebook", parsed, "port", true);
  const ip = stringOption(parsed, "ip");

  const frontend = findJupyterFrontend(env);
  if (!frontend) {
    console.error(`mechlab notebook: Jupyter is not installed (no \`jupyter\` command on PATH that offers \`lab\` or \`notebook\`).\n${INSTALL_JUPYTER}\nthen run this again (\`npm start\` in the mechlab folder, or \`npx mechlab notebook\`).`);
    return 1;
  }

  const installed = installKernelSpec({ kind: "user" }, env);
  console.log(`mechlab: kernel "${DISPLAY_NAME}" registered in ${installed.path}`);
  try {
    const frontends = installFrontendExtensions({ kind: "user" }, env);
    console.log(`mechlab: widget extensions in ${frontends.labextension} and ${frontends.nbextension}`);
  } catch (error) {
    // The kernel works without them: widgets then show their static HTML instead of live views.
    if (!(error instanceof CliError)) throw error;
    console.error(`mechlab: warning: ${error.message} Widgets will show as static HTML.`);
  }

  const args = [frontend.app, `--notebook-dir=${dir}`];
  if (parsed.values["no-browser"]) args.push("--no-browser");
  if (port !== undefined) args.push(`--port=${port}`);
  if (ip !== undefined) args.push(`--ip=${ip}`);
  if (process.getuid?.() === 0 && !parsed.passThrough.includes("--allow-root")) {
    // Jupyter refuses to start as root unless told; containers and CI machines often are root.
    args.push("--allow-root");
    console.log("mechlab: running as root, so Jupyter gets --allow-root");
  }
  args.push(...parsed.passThrough);
  console.log(`mechlab: starting ${frontend.title} on ${dir}`);

  const child = spawn(frontend.jupyter, args, { env, stdio: ["inherit", "pipe", "pipe"] });
  let announced = false;
  const watch = (stream: NodeJS.ReadableStream, sink: NodeJS.WritableStream) => {
    createInterface({ input: stream }).on("line", (line) => {
      sink.write(line + "\n");
      const url = announced ? null : SERVER_URL.exec(line);
      if (url) {
        announced = true;
        console.log(`\nmechlab: ${frontend.title} is running at ${url[0]}\n`);
      }
    });
  };
  watch(child.stdout!, process.stdout);
  watch(child.stderr!, process.stderr);

  // Ctrl-C reaches Jupyter directly (same process group), which asks or shuts down itself;
  // termination requests sent to this process alone are passed on.
  const ignoreInterrupt = () => undefined;
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onTerm = forward("SIGTERM");
  const onHup = forward("SIGHUP");
  process.on("SIGINT", ignoreInterrupt);
  process.on("SIGTERM", onTerm);
  process.on("SIGHUP", onHup);
  try {
    return await new Promise<number>((resolveExit, reject) => {
      child.on("error", (error) => reject(new CliError(`mechlab notebook: cannot start ${frontend.jupyter}: ${error.message}`)));
      child.on("exit", (code, signal) => resolveExit(code ?? (signal === "SIGINT" ? 130 : 1)));
    });
  } finally {
    process.off("SIGINT", ignoreInterrupt);
    process.off("SIGTERM", onTerm);
    process.off("SIGHUP", onHup);
  }
}
