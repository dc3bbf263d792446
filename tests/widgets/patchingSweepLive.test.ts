/**
 * The patching-sweep widget live, in Chromium against a real Jupyter server running the mechlab
 * kernel (see live/liveSession.ts): the heatmap visibly fills in while the kernel computes, the
 * progress text counts, the cancel button stops a second sweep (the kernel reports "cancelled"
 * with partial results), and a clicked cell reads back in the kernel as `selectedCell`. Also the
 * static text/html of a finished sweep, offline. Screenshots: build/screenshots/patching-sweep-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { patchingSweepWidget } from "../../src/widgets/patchingSweepWidget";
import { hasChromium, launchChromium, screenshotPath, type LaunchedBrowser } from "../helpers/browser";
import { startLiveSession, type LiveSession } from "./live/liveSession";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A string result as the kernel shows it (text/plain quotes strings: 'text'). */
function unquote(results: string[]): string {
  const text = results.join("");
  return /^'.*'$/s.test(text) ? text.slice(1, -1) : text;
}

/** A kernel cell that sweeps a 6 × 8 layer × position grid, ~30 ms per cell. */
function sweepCell(name: string, header = ""): string {
  return [
    header,
    `const ${name} = await patchingSweep(`,
    `  { kind: "layer × position", rows: 6, cols: 8, colLabels: ["<bos>", "When", " Mary", " and", " John", " went", " to", " the"], metricName: "logit diff recovered" },`,
    `  async (layer: number, pos: number) => {`,
    `    await new Promise((resolve) => setTimeout(resolve, 30));`,
    `    return Math.tanh((layer - 2.5) * 0.8) * Math.cos(pos * 0.9);`,
    `  },`,
    `);`,
    `${name}.status + " " + ${name}.done + " of " + ${name}.total`,
  ].join("\n");
}

describe.skipIf(!hasChromium)("patching sweep widget, live", () => {
  let live: LiveSession;

  beforeAll(async () => {
    live = await startLiveSession({ viewport: { width: 760, height: 620 } });
  }, 240_000);

  afterAll(async () => {
    await live?.stop();
  });

  it("fills in visibly while the kernel computes, then shows the final result; a clicked cell reads back", async () => {
    const { page, run } = live;
    const filled = page.locator("#s1 .ml-sweep-cell.ml-filled");
    // Not awaited: the cell runs while the page is polled.
    const running = run(sweepCell("sweep1", `import { patchingSweep } from "mechlab";`), "s1");
    await page.locator("#s1 .ml-sweep").waitFor({ timeout: 60_000 });

    const counts: number[] = [];
    const progress: string[] = [];
    let shot = false;
    for (let i = 0; i < 80; i++) {
      const n = await filled.count();
      if (n > 0 && n < 48) {
        counts.push(n);
        progress.push((await page.locator("#s1 [data-testid=progress-text]").textContent()) ?? "");
        if (!shot && n >= 16) {
          await page.locator("#s1").screenshot({ path: screenshotPath("patching-sweep-running") });
          shot = true;
        }
      }
      if (n === 48) break;
      await sleep(200);
    }
    expect(unquote(await running)).toBe("done 48 of 48");
    // Several polls while computing, each seeing more filled cells than the one before.
    expect(counts.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThan(counts[i - 1]);
    // The progress text counts the cells computed (it may run ahead of the cells painted by an update at most).
    for (const [i, text] of progress.entries()) {
      const match = /^(\d+) \/ 48$/.exec(text);
      expect(match, text).not.toBeNull();
      expect(Math.abs(Number(match![1]) - counts[i])).toBeLessThanOrEqual(8);
    }

    // Final state.
    await expect.poll(() => filled.count()).toBe(48);
    await expect.poll(() => page.locator("#s1 [data-testid=status]").textContent()).toMatch(/^Done: 48 cells in /);
    expect(await page.locator("#s1 [data-testid=progress]").isVisible()).toBe(false);

    // Hover: the tooltip names the cell; click: selectedCell in the kernel.
    const cell = page.locator('#s1 .ml-sweep-cell[data-row="4"][data-col="2"]');
    await cell.hover();
    const expected = Math.tanh((4 - 2.5) * 0.8) * Math.cos(2 * 0.9);
    const tip = await page.locator("#s1 [data-testid=tooltip]").textContent();
    expect(tip).toContain('layer L4 · position " Mary"');
    expect(Number(/logit diff recovered: (\S+)/.exec(tip ?? "")![1])).toBeCloseTo(expected, 2);
    await cell.click();
    await expect.poll(async () => unquote(await run(`JSON.stringify(sweep1.widget.get("selectedCell"))`)), { timeout: 20_000 }).toBe("[4,2]");
    const selected = JSON.parse(unquote(await run(`JSON.stringify(sweep1.widget.selected)`))) as { rowLabel: string; colLabel: string; value: number };
    expect(selected.rowLabel).toBe("L4");
    expect(selected.colLabel).toBe(" Mary");
    expect(selected.value).toBeCloseTo(expected, 5);
    expect(await page.locator("#s1 [data-testid=detail]").textContent()).toContain('layer L4 (row 4), position " Mary" (col 2)');
    await page.locator("#s1").screenshot({ path: screenshotPath("patching-sweep-done") });

    expect(live.errors).toEqual([]);
    expect(live.foreign).toEqual([]);
  });

  it("the cancel button stops a running sweep; the kernel keeps the partial results", async () => {
    const { page, run } = live;
    const filled = page.locator("#s2 .ml-sweep-cell.ml-filled");
    const running = run(sweepCell("sweep2"), "s2");
    await page.locator("#s2 .ml-sweep").waitFor({ timeout: 60_000 });
    await expect.poll(() => filled.count(), { timeout: 30_000, interval: 50 }).toBeGreaterThanOrEqual(6);
    await page.locator("#s2 [data-testid=cancel]").click();
    const result = unquote(await running);
    const match = /^cancelled (\d+) of 48$/.exec(result);
    expect(match, result).not.toBeNull();
    const done = Number(match![1]);
    expect(done).toBeGreaterThanOrEqual(6);
    expect(done).toBeLessThan(48);
    // The page shows exactly the cells the kernel computed, and the cancelled status.
    await expect.poll(() => filled.count()).toBe(done);
    await expect.poll(() => page.locator("#s2 [data-testid=status]").textContent()).toMatch(new RegExp(`^Cancelled \\(cancel button\\) after ${done} of 48 cells`));
    // The kernel's partial results: row-major cells 0..done-1, the rest NaN; tidy rows for the computed ones.
    const summary = JSON.parse(unquote(await run(`JSON.stringify({ status: sweep2.widget.status, rows: sweep2.rows.length, nan: sweep2.values.flat().filter(Number.isNaN).length })`))) as Record<string, unknown>;
    expect(summary).toEqual({ status: "cancelled", rows: done, nan: 48 - done });
    expect(live.errors).toEqual([]);
  });
});

describe.skipIf(!hasChromium)("patching sweep widget, static html", () => {
  let chromium: LaunchedBrowser;
  beforeAll(async () => {
    chromium = await launchChromium();
  });
  afterAll(async () => {
    await chromium?.close();
  });

  it("renders a cancelled layer × position sweep offline: hatched cells, upright long labels, legend", async () => {
    const tokens = ["<|endoftext|>", "When", " Mary", " and", " John", " went", " to", " the", " store", ",", " John", " gave", " a", " drink", " to", " Mary", "\n", "The", " end", "."];
    const w = patchingSweepWidget({ kind: "layer × position", rows: 12, cols: tokens.length, colLabels: tokens, metricName: "logit diff recovered" });
    const total = 12 * tokens.length;
    const computed = Math.floor(total * 0.7);
    for (let i = 0; i < computed; i++) {
      const r = Math.floor(i / tokens.length);
      const c = i % tokens.length;
      w.setCell(r, c, (c === 4 || c === 10 ? 0.9 : 0.1) * Math.exp(-((r - 6) ** 2) / 18) - (c === 2 ? 0.4 : 0));
    }
    w.set({ status: "cancelled", message: `cancelled (cancel button) after ${computed} of ${total} cells, 3.2 s` });
    w.set("selectedCell", [3, 4]);
    const page = await chromium.context.newPage();
    await page.setViewportSize({ width: 760, height: 560 });
    const requests: string[] = [];
    await page.route("**/*", (route) => (requests.push(route.request().url()), route.abort()));
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.setContent(`<!doctype html><html><body>${String(w.mimeBundle()["text/html"])}</body></html>`);
    await expect.poll(() => page.locator(".ml-sweep-cell.ml-filled").count()).toBe(computed);
    expect(await page.locator(".ml-sweep-cell.ml-empty").count()).toBe(total - computed);
    expect(await page.locator(".ml-sweep-col-label.ml-rot").count()).toBe(tokens.length);
    expect(await page.locator("[data-testid=status]").textContent()).toMatch(/^Cancelled \(cancel button\) after 168 of 240 cells/);
    expect(await page.locator("[data-testid=detail]").textContent()).toContain('layer L3 (row 3), position " John" (col 4)');

    // Labels do not overlap: each column label sits within its column.
    const boxes = await page.locator(".ml-sweep-col-label").evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((b) => [b.left, b.right]));
    for (let i = 1; i < boxes.length; i++) expect(boxes[i][0]).toBeGreaterThanOrEqual(boxes[i - 1][1] - 0.5);

    await page.screenshot({ path: screenshotPath("patching-sweep-static"), fullPage: true });

    // Dark theme (JupyterLab's variables): text, labels and hatching stay readable.
    await page.evaluate(() => {
      const style = document.createElement("style");
      style.textContent = "body { background: #111; color: #ddd; --jp-layout-color0: #1e1e1e; --jp-layout-color1: #111; --jp-ui-font-color1: #ddd; --jp-ui-font-color2: #aaa; --jp-border-color1: #555; }";
      document.head.append(style);
    });
    await page.screenshot({ path: screenshotPath("patching-sweep-static-dark"), fullPage: true });

    // A 48 × 128 grid fills in through ten partial updates (its speed: `npm run bench:widgets`).
    const big = patchingSweepWidget({ kind: "layer × position", rows: 48, cols: 128 }).getState() as unknown as Record<string, unknown>;
    const filled = await page.evaluate((state) => {
      type Model = { set(key: string, value: unknown): void };
      const lib = (window as unknown as { mechlabWidgets: { renderStatic(el: HTMLElement, view: string, state: unknown): Model } }).mechlabWidgets;
      const el = document.createElement("div");
      document.body.append(el);
      const model = lib.renderStatic(el, "PatchingSweepView", { ...state, values: new Float32Array(48 * 128).fill(NaN) });
      const counts: number[] = [];
      for (let k = 1; k <= 10; k++) {
        const values = new Float32Array(48 * 128).fill(NaN);
        for (let i = 0; i < (k * values.length) / 10; i++) values[i] = Math.sin(i * 0.37) * k;
        model.set("values", values);
        counts.push(el.querySelectorAll(".ml-sweep-cell.ml-filled").length);
      }
      return counts;
    }, { ...big, values: undefined });
    expect(filled).toEqual(Array.from({ length: 10 }, (_, k) => Math.ceil(((k + 1) * 48 * 128) / 10)));
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });
});
