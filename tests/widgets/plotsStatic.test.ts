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
    const cells = page.locator(".ml-plot svg path[aria-roledescription='rect mark']");
    expect(await cells.count()).toBe(n * n);
    // Numbers on hover: the cell's labels and value (the labels as given, spaces included).
    const cell = page.locator(`.ml-plot svg path[aria-roledescription='rect mark'][aria-label^="col: 3; row: 2;"]`);
    expect(await cell.count()).toBe(1);
    await cell.hover();
    const tooltip = page.locator("#vg-tooltip-element");
    await expect.poll(() => tooltip.textContent()).toContain(" cat");
    expect(await tooltip.textContent()).toContain(" sat");
    // 4 significant digits, with the typographic minus sign.
    expect(await tooltip.textContent()).toContain(String(Number(Math.fround(values[2]![3]!).toPrecision(4))).replace("-", "\u2212"));
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

  it("a dense 64×64 heatmap: every cell drawn, axis labels thinned out", async () => {
    const n = 64;
    const labels = Array.from({ length: n }, (_, i) => `tok${i}`);
    const values = Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => (c <= r ? Math.cos((r - c) / 6) : 0)));
    const w = plot.heatmap(values, { xLabels: labels, yLabels: labels, title: "dense" });
    const { page, requests, errors } = await open(String(w.mimeBundle()["text/html"]), { width: 760, height: 720 });
    await expect.poll(() => page.locator(".ml-plot").getAttribute("data-rendered"), { timeout: 30_000 }).toBe("true");
    expect(await page.locator(".ml-plot svg path[aria-roledescription='rect mark']").count()).toBe(n * n);
    // Vega hides overlapping labels with opacity 0.
    const shown = await page.locator(".ml-plot svg text").evaluateAll((texts) => texts.filter((t) => /^tok\d+$/.test(t.textContent ?? "") && getComputedStyle(t).opacity !== "0" && t.getAttribute("opacity") !== "0").length);
    expect(shown).toBeGreaterThan(10);
    expect(shown).toBeLessThan(2 * n);
    await page.screenshot({ path: screenshotPath("plot-heatmap-dense") });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it("100 000 points arrive as binary columns and draw on a canvas", async () => {
    const ys = Float32Array.from({ length: 100_000 }, (_, i) => Math.sin(i / 5000) + ((i * 7919) % 101) / 500);
    const w = plot.line(ys, { title: "100k points" });
    const { page, requests, errors } = await open(String(w.mimeBundle()["text/html"]));
    await expect.poll(() => page.locator(".ml-plot").getAttribute("data-rendered"), { timeout: 60_000 }).toBe("true");
    expect(await page.locator(".ml-plot").getAttribute("data-points")).toBe("100000");
    expect(await page.locator(".ml-plot canvas").count()).toBe(1);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it("the actions menu offers PNG/SVG export only; a spec asking for a remote image loads nothing", async () => {
    const w = plot.scatter([[0, 0], [1, 1]], { spec: { mark: { type: "image", width: 20, height: 20 }, encoding: { url: { value: "https://example.com/a.png" } } } });
    const { page, requests, errors } = await open(String(w.mimeBundle()["text/html"]));
    await expect.poll(() => page.locator(".ml-plot").getAttribute("data-rendered"), { timeout: 20_000 }).toBe("true");
    await page.locator(".ml-plot .vega-actions").evaluate((el) => ((el.parentElement as HTMLDetailsElement).open = true));
    const actions = await page.locator(".ml-plot .vega-actions a").allTextContents();
    expect(actions.sort()).toEqual(["Save as PNG", "Save as SVG"]);
    await page.waitForTimeout(300);
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("dark theme: axis text takes the page's theme colour", async () => {
    const w = plot.line([3, 1, 2, 5, 4], { title: "dark", xLabel: "step", yLabel: "loss" });
    const page = await chromium.context.newPage();
    await page.route("**/*", (route) => route.abort());
    await page.setViewportSize({ width: 560, height: 340 });
    const vars = "--jp-ui-font-color1: #e0e0e0; --jp-ui-font-color2: #b0b0b0; --jp-border-color1: #777; --jp-border-color2: #444; --jp-layout-color0: #111";
    await page.setContent(`<!doctype html><html><body data-jp-theme-light="false" style="${vars}; background: #111; margin: 8px">${String(w.mimeBundle()["text/html"])}</body></html>`);
    await expect.poll(() => page.locator(".ml-plot").getAttribute("data-rendered"), { timeout: 20_000 }).toBe("true");
    const fill = await page.locator(".ml-plot svg text", { hasText: "loss" }).first().getAttribute("fill");
    expect(fill).toBe("#e0e0e0");
    await page.screenshot({ path: screenshotPath("plot-line-dark") });
    await page.close();
  });

  it("training progress view: points after a gap make it ask for the history, which fills it in", async () => {
    const progress = trainingProgress({ total: 10, metrics: ["loss"], log: false });
    const { page, errors } = await open(String(progress.mimeBundle()["text/html"]), { width: 720, height: 300 });
    const chart = page.locator(".ml-chart[data-metric=loss]");
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 20_000 }).toBe("0");
    // A second view over a page-local model, fed by hand as the kernel would.
    const result = await page.evaluate(async () => {
      const w = window as unknown as { mechlabWidgets: { renderStatic(el: HTMLElement, view: string, state: Record<string, unknown>): { set(k: string, v: unknown): void; sent: unknown[] } } };
      const el = document.createElement("div");
      el.id = "second";
      document.body.append(el);
      const points = (from: number, steps: number[]) => ({ from, steps: Float64Array.from(steps), values: [Float32Array.from(steps, (s) => 1 / s)] });
      const model = w.mechlabWidgets.renderStatic(el, "TrainingProgressView", { title: "t", total: 10, metrics: ["loss"], logScale: [], status: "running", step: 0, elapsed: 0, eta: null, latest: {}, stopRequested: false, history: points(0, []), appended: points(0, []) });
      const count = () => document.querySelector("#second .ml-chart")!.getAttribute("data-points");
      const settle = async () => { for (let i = 0; i < 100 && document.querySelector("#second .vega-embed") === null; i++) await new Promise((r) => setTimeout(r, 50)); await new Promise((r) => setTimeout(r, 100)); };
      await settle();
      model.set("appended", points(0, [1, 2, 3]));
      const afterFirst = count();
      model.set("appended", points(5, [6, 7])); // points 3 and 4 (steps 4, 5) were missed
      const afterGap = count();
      const asked = JSON.stringify(model.sent);
      model.set("history", points(0, [1, 2, 3, 4, 5, 6, 7]));
      const afterHistory = count();
      model.set("appended", points(6, [7, 8])); // overlaps what it has: only step 8 is new
      return { afterFirst, afterGap, asked, afterHistory, afterOverlap: count() };
    });
    expect(result).toEqual({ afterFirst: "3", afterGap: "3", asked: JSON.stringify([{ event: "history" }]), afterHistory: "7", afterOverlap: "8" });
    expect(errors).toEqual([]);
    progress.finish();
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
