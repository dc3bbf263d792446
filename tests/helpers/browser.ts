/**
 * Debian's Chromium driven by playwright-core, offline: a fresh profile per launch and the flags
 * that keep it from reaching out on its own. Tests skip when /usr/bin/chromium is absent.
 */
import { existsSync, mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
/** In CI (.ci/run installs chromium) the browser tests always run, so a missing browser fails them. */
export const hasChromium = existsSync(CHROMIUM) || process.env.CI === "true";

export interface LaunchedBrowser {
  /** A persistent context over the fresh profile (playwright wants the profile this way). */
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "mechlab-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    viewport: { width: 640, height: 360 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** build/screenshots/<name>.png, the folder made if needed. */
export function screenshotPath(name: string): string {
  const dir = join(__dirname, "..", "..", "build", "screenshots");
  require("fs").mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.png`);
}
