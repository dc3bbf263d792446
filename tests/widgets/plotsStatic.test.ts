// The static text/html of each plot kind and of the training progress widget in Chromium, with
// every network request refused: the chart draws (SVG), axis titles show, nothing is fetched.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plot, trainingProgress, type PlotWidget } from "../../src";
import { hasChromium, launchChromium, screenshotPath, type LaunchedBrowser } from "../helpers/browser";

describe.skipIf(!hasChromium)("plots as static html in Chromium", () => {
  let chromium: LaunchedBrowser;
  beforeAll(async () => {
    chromium = await launchChromium();
  });
  afterAll(async () => {
    await chromium?.close();
  });

  /** Opens `html` offline; returns the page, its refused requests and its errors. */
  async function open(html: string, size = { width: 720, height: 420 }) {
    const page = await chromium.context.newPage();
    await page.setViewportSize(size);
    const requests: string[] = [];
    await page.route("**/*", (route) => {
      requests.push(route.request().url());
      return route.abort();
    });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.setContent(`<!doctype html><html><body style="margin: 8px">${html}</body></html>`);
    return { page, requests, errors };
  }

  /** The texts of the chart's SVG. */
  async function svgTexts(page: import("playwright-core").Page, scope = ".ml-plot"): Promise<string[]> {
    return page.locator(`${scope} svg text`).allTextContents();
  }

  async function renderPlot(widget: PlotWidget, name: string, expectTexts: string[]) {
    const { page, requests, errors } = await open(String(widget.mimeBundle()["text/html"]));
    const root = page.locator(".ml-plot");
    await expect.poll(() => root.getAttribute("data-rendered"), { timeout: 20_000 }).toBe("true");
    expect(await root.getAttribute("data-points")).toBe(String(widget.get("rowCount")));
    expect(await page.locator(".ml-plot svg").count()).toBeGreaterThan(0);
    const texts = await svgTexts(page);
    for (const text of expectTexts) expect(texts, JSON.stringify(texts)).toContain(text);
    await page.screenshot({ path: screenshotPath(name) });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    return page;
  }

  it("line: two series with axis titles and a legend", async () => {
    const xs = Array.from({ length: 50 }, (_, i) => i);
    const w = plot.line([xs.map((i) => Math.sin(i / 6)), xs.map((i) => Math.cos(i / 6) * 0.8)], { title: "sin and cos", xLabel: "step", yLabel: "amplitude", seriesLabels: ["sin", "cos"] });
    const page = await renderPlot(w, "plot-line", ["step", "amplitude", "sin and cos", "sin", "cos"]);
    expect(await page.locator(".ml-plot svg path[aria-roledescription='line mark']").count()).toBe(2);
    await page.close();
  });

  it("heatmap: token labels on both axes, diverging legend", async () => {
    const tokens = ["<bos>", "The", " cat", " sat", " on", " the", " mat"];
    const n = tokens.length;
    const values = Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => Math.sin(r * 1.3 + c * 0.7)));
    const w = plot.heatmap(values, { xLabels: tokens, yLabels: tokens, xLabel: "key", yLabel: "query", title: "scores", valueLabel: "score" });
    const page = await renderPlot(w, "plot-heatmap", ["key", "query", "·cat", "·mat", "<bos>", "score"]);
    expect(await page.locator(".ml-plot svg path[aria-roledescription='rect mark']").count()).toBe(n * n);
    await page.close();
  });

  it("scatter: coloured groups", async () => {
    const rows = 120;
    const table = {
      pc1: Array.from({ length: rows }, (_, i) => Math.cos(i) * (1 + (i % 3))),
      pc2: Array.from({ length: rows }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 3))),
      label: Array.from({ length: rows }, (_, i) => ["noun", "verb", "other"][i % 3]!),
    };
    const w = plot.scatter(table, { x: "pc1", y: "pc2", color: "label", title: "probe directions" });
    const page = await renderPlot(w, "plot-scatter", ["pc1", "pc2", "label", "noun", "verb"]);
    await page.close();
  });

  it("hist: bars with a count axis", async () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const values = Array.from({ length: 5000 }, () => Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random()));
    const w = plot.hist(values, { bins: 40, title: "activations", xLabel: "activation" });
    const page = await renderPlot(w, "plot-hist", ["activation", "count", "activations"]);
    await page.close();
  });

  it("training progress: bar, step text, one chart per metric", async () => {
    let t = 0;
    const progress = trainingProgress({ total: 100, metrics: ["loss", "accuracy"], logScale: ["loss"], log: false, now: () => t });
    for (let step = 1; step <= 60; step++) {
      t += 50;
      progress.update(step, { loss: 2.5 * Math.exp(-step / 20) + 0.05, accuracy: 1 - Math.exp(-step / 25) });
    }
    const { page, requests, errors } = await open(String(progress.mimeBundle()["text/html"]), { width: 720, height: 300 });
    expect(await page.locator("[data-testid=step]").textContent()).toBe("step 60 / 100");
    const loss = page.locator(".ml-chart[data-metric=loss]");
    await expect.poll(() => loss.getAttribute("data-points"), { timeout: 20_000 }).toBe("60");
    await expect.poll(() => page.locator(".ml-chart[data-metric=accuracy]").getAttribute("data-points")).toBe("60");
    expect(await page.locator(".ml-chart[data-metric=loss] svg text").allTextContents()).toContain("loss");
    expect(await page.locator("[data-testid=latest]").textContent()).toMatch(/loss 0\.1\d+/);
    await page.screenshot({ path: screenshotPath("training-progress") });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    progress.finish();
    await page.close();
  });
});
