/**
 * A live mechlab widget in a real browser against a real Jupyter server: Debian's notebook server
 * runs the mechlab kernel (kernelspec from `mechlab install --prefix`); the page is a
 * @jupyterlab/services client with an @jupyter-widgets/html-manager widget manager that loads the
 * built `mechlab-widgets` AMD bundle. A cell creates a DebugView widget, it renders, and a change
 * made in the browser is read back in the kernel.
 *
 * The page is a file the server itself serves (an extra static path), not one a playwright route
 * makes up: Chromium's Local Network Access checks refuse a made-up page's WebSocket to 127.0.0.1
 * (ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS), and the kernel connection then retries forever.
 * Skipped only where /usr/bin/chromium is missing outside CI, as the other browser tests.
 */
import { spawn, type ChildProcess } from "child_process";
import { randomBytes } from "crypto";
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { hasChromium, launchChromium, screenshotPath, type LaunchedBrowser } from "../helpers/browser";
import { jupyterSandbox, mechlab, ROOT, type JupyterSandbox } from "../kernel/jupyterSetup";
import { freePorts } from "../kernel/protocolClient";

/** The page script: livePage.ts bundled for the browser. */
async function bundlePage(): Promise<string> {
  const esbuild = await import("esbuild");
  const empty = { ".css": "empty", ".woff": "empty", ".woff2": "empty", ".svg": "empty", ".ttf": "empty", ".eot": "empty", ".png": "empty" } as const;
  const result = await esbuild.build({
    entryPoints: [join(__dirname, "live", "livePage.ts")],
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

describe.skipIf(!hasChromium)("live mechlab widget: Jupyter server, services client, html-manager", () => {
  let sandbox: JupyterSandbox;
  let server: ChildProcess;
  let serverLog = "";
  let origin: string;
  let chromium: LaunchedBrowser;
  let page: Page;
  const token = randomBytes(16).toString("hex");
  const foreign: string[] = [];
  const errors: string[] = [];
  const consoleLog: string[] = [];

  beforeAll(async () => {
    sandbox = jupyterSandbox();
    const prefix = join(sandbox.dir, "prefix");
    const installed = await mechlab(["install", "--prefix", prefix], { env: sandbox.env });
    expect(installed.status, installed.stderr).toBe(0);
    const env = { ...sandbox.env, JUPYTER_PATH: join(prefix, "share", "jupyter") };
    // The page: a real file under an extra static path, so Chromium sees a loopback page (see above).
    const staticDir = join(sandbox.dir, "live-static");
    mkdirSync(staticDir);
    const script = await bundlePage();
    writeFileSync(join(staticDir, "mechlab-live.html"), `<!doctype html><html><body><div id="out"></div><script>${script.replace(/<\/script/gi, "<\\/script")}</script></body></html>`);
    const [port] = await freePorts(1);
    origin = `http://127.0.0.1:${port}`;
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
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (message) => consoleLog.push(`${message.type()}: ${message.text()}`));
    // Everything off the server's origin is refused.
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
    } catch (error) {
      throw new Error(`${String(error)}\n--- server log ---\n${serverLog}\n--- page console ---\n${consoleLog.join("\n")}\n--- page errors ---\n${errors.join("\n")}`);
    } finally {
      clearTimeout(timer);
    }
  }, 240_000);

  afterAll(async () => {
    await page?.evaluate(() => (window as unknown as { mechlabLive: { stop(): Promise<void> } }).mechlabLive.stop()).catch(() => undefined);
    await chromium?.close();
    if (server && server.exitCode === null) {
      server.kill("SIGTERM");
      await new Promise((ok) => server.once("exit", ok));
    }
    sandbox?.dispose();
  });

  const run = (code: string): Promise<string[]> =>
    page.evaluate((c) => (window as unknown as { mechlabLive: { execute(c: string, el: HTMLElement): Promise<string[]> } }).mechlabLive.execute(c, document.getElementById("out")!), code);

  it("renders a DebugView created by the kernel and syncs a browser change back to the kernel", async () => {
    const created = await run(
      [
        `import { MechlabWidget } from "mechlab";`,
        `const w = new MechlabWidget("DebugView", { value: "from the kernel", count: 0, data: new Float32Array([1, 2, 3.5]) } as any);`,
        `w`,
      ].join("\n"),
    );
    expect(created.filter((t) => t.startsWith("ERROR"))).toEqual([]);
    const view = page.locator("#out .mechlab-debug-view");
    await view.waitFor({ timeout: 30_000 });
    expect(await view.locator("[data-testid=value]").textContent()).toBe('value: "from the kernel"');
    expect(await view.locator("[data-testid=data]").textContent()).toBe("data: 3 floats, sum 6.5");

    // Kernel → browser.
    await run(`w.set("value" as any, "changed in the kernel" as any); undefined`);
    await expect.poll(() => view.locator("[data-testid=value]").textContent()).toBe('value: "changed in the kernel"');

    // Browser → kernel.
    await view.locator("[data-testid=increment]").click();
    await view.locator("[data-testid=increment]").click();
    await expect.poll(async () => (await run(`w.get("count" as any)`)).join(""), { timeout: 20_000 }).toBe("2");
    await page.screenshot({ path: screenshotPath("live-debug-view") });

    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
  });
});
