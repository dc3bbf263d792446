// The static text/html of a widget in a real browser (Debian Chromium), with the network blocked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MechlabWidget } from "../../src";
import { hasChromium, launchChromium, screenshotPath, type LaunchedBrowser } from "../helpers/browser";

describe.skipIf(!hasChromium)("static widget html in Chromium", () => {
  let chromium: LaunchedBrowser;
  beforeAll(async () => {
    chromium = await launchChromium();
  });
  afterAll(async () => {
    await chromium?.close();
  });

  it("renders two DebugView widgets offline, interactive, with no network request", async () => {
    const first = new MechlabWidget("DebugView", { value: "hello </script>", count: 2, data: new Float32Array([1, 2, 3.5]) } as never);
    const second = new MechlabWidget("DebugView", { value: { tokens: ["a", "b"] }, count: 0 } as never);
    const page = await chromium.context.newPage();
    const requests: string[] = [];
    await page.route("**/*", (route) => {
      requests.push(route.request().url());
      return route.abort();
    });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    const body = `${String(first.mimeBundle()["text/html"])}\n<hr>\n${String(second.mimeBundle()["text/html"])}`;
    await page.setContent(`<!doctype html><html><body>${body}</body></html>`);

    const views = page.locator(".mechlab-debug-view");
    await expect.poll(() => views.count()).toBe(2);
    expect(await views.nth(0).locator("[data-testid=value]").textContent()).toBe('value: "hello </script>"');
    expect(await views.nth(0).locator("[data-testid=data]").textContent()).toBe("data: 3 floats, sum 6.5");
    expect(await views.nth(1).locator("[data-testid=value]").textContent()).toBe('value: {"tokens":["a","b"]}');
    expect(await views.nth(1).locator("[data-testid=data]").textContent()).toBe("data: none");

    // The bundle ran once: the second widget's guard skipped it.
    expect(await page.evaluate(() => typeof (window as unknown as { mechlabWidgets?: unknown }).mechlabWidgets)).toBe("object");

    // Interactive in the page: the button changes the page-local model.
    await views.nth(0).locator("[data-testid=increment]").click();
    expect(await views.nth(0).locator("[data-testid=count]").textContent()).toBe("count: 3");

    await page.screenshot({ path: screenshotPath("static-debug-view") });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });
});
