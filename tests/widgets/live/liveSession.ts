/**
 * A live session for browser tests of widgets: Debian's notebook server running the mechlab
 * kernel (kernelspec from `mechlab install --prefix`, Jupyter folders in a sandbox), Chromium on a
 * page served by that server, and on the page a @jupyterlab/services kernel connection with an
 * @jupyter-widgets/html-manager widget manager that loads the built `mechlab-widgets` AMD bundle
 * (livePage.ts). Every request off the server's origin is refused and recorded in `foreign`.
 *
 * The page is a file the server itself serves (an extra static path), not one a playwright route
 * makes up: Chromium's Local Network Access checks refuse a made-up page's WebSocket to 127.0.0.1
 * (ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS), and the kernel connection then retries forever.
 *
 *   const live = await startLiveSession();
 *   await live.run(`import { tokenColors } from "mechlab"; tokenColors(["a", "b"], [1, 2])`, "w1");
 *   await live.page.locator("#w1 .ml-token").first().hover();
 *   await live.stop();
 */
import { spawn, type ChildProcess } from "child_process";
import { randomBytes } from "crypto";
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import { join } from "path";
import type { Page } from "playwright-core";
import { launchChromium, type LaunchedBrowser } from "../../helpers/browser";
import { jupyterSandbox, mechlab, ROOT, type JupyterSandbox } from "../../kernel/jupyterSetup";
import { freePorts } from "../../kernel/protocolClient";

export interface LiveSession {
  page: Page;
  /**
   * Runs `code` in the kernel; widget views it displays render into the element with id `into`
   * (made if missing, default "out"). Returns the text/plain results, and "ERROR name: value" for
   * an error.
   */
  run(code: string, into?: string): Promise<string[]>;
  /** Uncaught page errors so far. */
  errors: string[];
  /** Requests that tried to leave the server's origin (all refused). */
  foreign: string[];
  /** The page console so far, "type: text" per line. */
  consoleLog: string[];
  /** The Jupyter server's output so far. */
  serverLog(): string;
  stop(): Promise<void>;
}

/** The page script: livePage.ts bundled for the browser. */
async function bundlePage(): Promise<string> {
  const esbuild = await import("esbuild");
  const empty = { ".css": "empty", ".woff": "empty", ".woff2": "empty", ".svg": "empty", ".ttf": "empty", ".eot": "empty", ".png": "empty" } as const;
  const result = await esbuild.build({
    entryPoints: [join(__dirname, "livePage.ts")],
    bundle: true,
    write: false,
    outdir: join(ROOT, "build", "live-page"),
    platform: "browser",
    format: "iife",
    target: "es2019",
    loader: empty,
    define: { "process.env.NODE_ENV": '"production"' },
    // html-manager sets webpack's public path at load.
    banner: { js: 'var __webpack_public_path__ = "";' },
    logLevel: "error",
  });
  const js = result.outputFiles.find((file) => file.path.endsWith(".js"));
  if (!js) throw new Error("no page script bundled");
  return js.text;
}

async function waitForServer(url: string, server: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (server.exitCode !== null) throw new Error(`jupyter notebook exited (${server.exitCode}):\n${log()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((ok) => setTimeout(ok, 200));
  }
  throw new Error(`jupyter notebook did not answer ${url}:\n${log()}`);
}

/** Starts the server, the browser and a mechlab kernel; call `stop()` in afterAll. */
export async function startLiveSession(options: { viewport?: { width: number; height: number } } = {}): Promise<LiveSession> {
  const sandbox: JupyterSandbox = jupyterSandbox();
  const token = randomBytes(16).toString("hex");
  const errors: string[] = [];
  const foreign: string[] = [];
  const consoleLog: string[] = [];
  let serverLog = "";
  let server: ChildProcess | undefined;
  let chromium: LaunchedBrowser | undefined;
  let page: Page | undefined;

  const stop = async (): Promise<void> => {
    await page?.evaluate(() => (window as unknown as { mechlabLive: { stop(): Promise<void> } }).mechlabLive.stop()).catch(() => undefined);
    await chromium?.close().catch(() => undefined);
    if (server && server.exitCode === null) {
      const exited = new Promise((ok) => server!.once("exit", ok));
      server.kill("SIGTERM");
      await exited;
    }
    sandbox.dispose();
  };

  try {
    const prefix = join(sandbox.dir, "prefix");
    const installed = await mechlab(["install", "--prefix", prefix], { env: sandbox.env });
    if (installed.status !== 0) throw new Error(`mechlab install failed: ${installed.stderr}`);
    const env = { ...sandbox.env, JUPYTER_PATH: join(prefix, "share", "jupyter") };
    const staticDir = join(sandbox.dir, "live-static");
    mkdirSync(staticDir);
    const script = await bundlePage();
    writeFileSync(join(staticDir, "mechlab-live.html"), `<!doctype html><html><body><div id="out"></div><script>${script.replace(/<\/script/gi, "<\\/script")}</script></body></html>`);
    const [port] = await freePorts(1);
    const origin = `http://127.0.0.1:${port}`;
    server = spawn(
      "jupyter",
      ["notebook", "--no-browser", ...(process.getuid?.() === 0 ? ["--allow-root"] : []), "--ip=127.0.0.1", `--port=${port}`, "--port-retries=0", `--NotebookApp.token=${token}`, "--NotebookApp.disable_check_xsrf=True", `--NotebookApp.extra_static_paths=${staticDir}`, `--notebook-dir=${sandbox.dir}`],
      { env, cwd: sandbox.dir, stdio: ["ignore", "pipe", "pipe"] },
    );
    server.stdout!.on("data", (chunk) => (serverLog += String(chunk)));
    server.stderr!.on("data", (chunk) => (serverLog += String(chunk)));
    await waitForServer(`${origin}/api/status?token=${token}`, server, () => serverLog);

    chromium = await launchChromium();
    page = await chromium.context.newPage();
    if (options.viewport) await page.setViewportSize(options.viewport);
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (message) => consoleLog.push(`${message.type()}: ${message.text()}`));
    await chromium.context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`)) return route.continue();
      foreign.push(url);
      return route.abort();
    });
    await page.goto(`${origin}/static/mechlab-live.html`);
    const loaded = await page.evaluate(() => typeof (window as unknown as { mechlabLive?: unknown }).mechlabLive);
    if (loaded !== "object") throw new Error(`the page script did not load: ${errors.join("\n")}`);
    const amd = readFileSync(join(ROOT, "dist", "widgets", "mechlab-widgets.amd.js"), "utf8");
    const started = page.evaluate(([t, source]) => (window as unknown as { mechlabLive: { start(t: string, k: string, s: string): Promise<string> } }).mechlabLive.start(t, "mechlab", source), [token, amd] as const);
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error("mechlabLive.start did not settle in 60 s")), 60_000)));
    try {
      await Promise.race([started, limit]);
    } finally {
      clearTimeout(timer);
    }
  } catch (error) {
    const detail = `${String(error)}\n--- server log ---\n${serverLog}\n--- page console ---\n${consoleLog.join("\n")}\n--- page errors ---\n${errors.join("\n")}`;
    await stop();
    throw new Error(detail);
  }

  const livePage = page;
  const run = (code: string, into = "out"): Promise<string[]> =>
    livePage.evaluate(
      ([c, id]) => {
        let el = document.getElementById(id);
        if (!el) {
          el = document.createElement("div");
          el.id = id;
          document.body.append(el);
        }
        return (window as unknown as { mechlabLive: { execute(c: string, el: HTMLElement): Promise<string[]> } }).mechlabLive.execute(c, el);
      },
      [code, into] as const,
    );
  return { page: livePage, run, errors, foreign, consoleLog, serverLog: () => serverLog, stop };
}
