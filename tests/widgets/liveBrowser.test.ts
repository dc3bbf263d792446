/**
 * A live mechlab widget in a real browser against a real Jupyter server (see live/liveSession.ts):
 * a cell creates a DebugView widget, it renders, a kernel change reaches the view, and a change
 * made in the browser is read back in the kernel. Skipped only where /usr/bin/chromium is missing
 * outside CI, as the other browser tests.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, screenshotPath } from "../helpers/browser";
import { startLiveSession, type LiveSession } from "./live/liveSession";

describe.skipIf(!hasChromium)("live mechlab widget: Jupyter server, services client, html-manager", () => {
  let live: LiveSession;

  beforeAll(async () => {
    live = await startLiveSession();
  }, 240_000);

  afterAll(async () => {
    await live?.stop();
  });

  it("renders a DebugView created by the kernel and syncs a browser change back to the kernel", async () => {
    const { page, run } = live;
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

    expect(live.errors).toEqual([]);
    expect(live.foreign).toEqual([]);
  });
});
