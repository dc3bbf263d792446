/**
 * A notebook's HTML export, offline, in Chromium: tests/fixtures/notebooks/widgets.ipynb is executed
 * by `mechlab run` (the real kernel through nbclient, exported by nbconvert), and the page is opened
 * with every request other than the page itself blocked and recorded. Each widget renders from its
 * self-contained text/html and answers hover with the numbers the kernel printed.
 *
 * Adding a widget: one code cell in widgets.ipynb tagged `widget-<name>` that prints one JSON line
 * (what the check compares against) and ends with the widget (or displays it itself), and one entry `widget-<name>` in
 * WIDGET_CHECKS below. The test fails when a tagged cell has no check or a check has no cell.
 */
import { readFileSync } from "fs";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, launchChromium, screenshotPath, type LaunchedBrowser } from "../helpers/browser";
import { ROOT, jupyterSandbox, mechlab, requireDebianJupyter, type JupyterSandbox } from "../kernel/jupyterSetup";

const FIXTURE = join(ROOT, "tests", "fixtures", "notebooks", "widgets.ipynb");
/** The exported page is served under this made-up origin; nothing else answers. */
const PAGE_URL = "http://export.test/widgets.html";
const WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json";
const WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json";

type Printed = Record<string, unknown>;
/** Checks one widget cell of the page: `cell` is the cell's element, `printed` the JSON its code printed. */
type WidgetCheck = (cell: Locator, printed: Printed, page: Page) => Promise<void>;

/** The number at the end of a hover text ("… : 0.123"). */
const trailingNumber = (text: string | null): number => Number((text ?? "").split(": ").at(-1));

const WIDGET_CHECKS: Record<string, WidgetCheck> = {
  "widget-attention": async (cell, printed) => {
    const tokens = printed.tokens as string[];
    const query3 = printed.layer1head2query3 as number[];
    const view = cell.locator(".ml-attn");
    await view.waitFor({ timeout: 15_000 });
    expect(await view.locator("[data-testid=tokens] .ml-token").allTextContents()).toEqual(tokens);
    expect(await view.locator("[data-testid=thumbnail]").count()).toBe(2 * 4);
    await view.locator("[data-testid=thumbnail][data-layer='1'][data-head='2']").click();
    const heatmap = view.locator("[data-testid=heatmap]");
    await heatmap.waitFor({ state: "visible" });
    expect(await heatmap.locator(".ml-cell").count()).toBe(tokens.length * tokens.length);
    await heatmap.locator("[data-testid=query-label]").nth(3).hover();
    await expect.poll(() => view.locator("[data-testid=info]").textContent()).toMatch(/\(3\) attends to: /);
    // The number on hover is the kernel's pattern value, carried through the export.
    const title = await heatmap.locator(".ml-cell[data-q='3'][data-k='1']").getAttribute("title");
    expect(trailingNumber(title)).toBeCloseTo(query3[1]!, 2);
  },

  "widget-token-colors": async (cell, printed) => {
    const neuron = printed["neuron 0.5"] as number[];
    const norms = printed["resid norm"] as number[];
    const view = cell.locator(".ml-tokcol");
    await view.waitFor({ timeout: 15_000 });
    const spans = view.locator(".ml-token");
    expect(await spans.count()).toBe(neuron.length);
    expect((await spans.allTextContents()).join("")).toContain(" store");
    const info = view.locator("[data-testid=info]");
    await spans.nth(4).hover();
    await expect.poll(() => info.textContent()).toMatch(/position 4\) neuron 0\.5: /);
    expect(trailingNumber(await info.textContent())).toBeCloseTo(neuron[4]!, 2);
    await view.locator("select[data-testid=set]").selectOption("resid norm");
    await spans.nth(2).hover();
    await expect.poll(() => info.textContent()).toMatch(/position 2\) resid norm: /);
    expect(trailingNumber(await info.textContent())).toBeCloseTo(norms[2]!, 2);
  },

  "widget-logit-lens": async (cell, printed) => {
    const tokens = printed.tokens as string[];
    const rows = printed.rows as string[];
    const view = cell.locator(".ml-lens");
    await view.waitFor({ timeout: 15_000 });
    // One column per prompt token (the header's title names the whole token), one cell per row and position.
    const headers = view.locator("thead tr:first-child th[data-pos]");
    expect(await headers.evaluateAll((ths) => ths.map((th) => th.getAttribute("title")))).toEqual(tokens.map((t, p) => `position ${p}: ${JSON.stringify(t)}`));
    expect(await view.locator("tbody th").allTextContents()).toEqual(rows);
    expect(await view.locator("td.ml-lens-cell").count()).toBe(rows.length * tokens.length);
    // Hover row 1, position 2: the next token's p, logit and rank as the kernel computed them.
    const target = view.locator('td.ml-lens-cell[data-row="1"][data-pos="2"]');
    await target.hover();
    const info = view.locator("[data-testid=info]");
    await expect.poll(() => info.textContent()).toContain(`${rows[1]}, position 2 ${JSON.stringify(tokens[2])}: next ${JSON.stringify(tokens[3])} p `);
    const text = (await info.textContent())!;
    expect(await target.getAttribute("title")).toBe(text);
    const [, p, logit, rank] = /p (\S+), logit (\S+), rank (\d+);/.exec(text)!;
    expect(Number(p) / (printed.p as number)).toBeCloseTo(1, 2); // 3 significant digits
    expect(Number(logit)).toBeCloseTo(printed.logit as number, 2);
    expect(Number(rank)).toBe(printed.rank);
    // Click: the top-k panel for that cell, 5 tokens.
    await target.click();
    await expect.poll(() => view.locator("[data-testid=panel-title]").textContent()).toBe(`${rows[1]}, position 2 ${JSON.stringify(tokens[2])}`);
    expect(await view.locator("[data-testid=topk] td.ml-lens-tok[title]").count()).toBe(5);
  },

  "widget-patching-sweep": async (cell, printed) => {
    const colLabels = printed.colLabels as string[];
    expect(printed.status).toBe("done");
    // The kernel's own check of the sweep against the metric in closed form.
    expect(printed["2,3"] as number).toBeCloseTo(printed.metric23 as number, 5);
    const view = cell.locator(".ml-sweep");
    await view.waitFor({ timeout: 15_000 });
    // The output was displayed before the sweep ran and updated at its end: the export shows it finished.
    expect(await view.count()).toBe(1);
    expect(await view.locator(".ml-sweep-cell.ml-filled").count()).toBe(printed.cells as number);
    expect(await view.locator(".ml-sweep-cell.ml-empty").count()).toBe(0);
    expect(await view.locator("[data-testid=status]").textContent()).toMatch(/^Done: 12 cells in /);
    await view.locator('.ml-sweep-cell[data-row="2"][data-col="3"]').hover();
    const tip = view.locator("[data-testid=tooltip]");
    await expect.poll(() => tip.textContent()).toContain(`layer L2 · position ${JSON.stringify(colLabels[3])}`);
    expect(Number(/logit diff: (\S+)/.exec((await tip.textContent()) ?? "")![1])).toBeCloseTo(printed["2,3"] as number, 2);
  },

  "widget-feature-dashboard": async (cell, printed) => {
    const view = cell.locator(".ml-featdash");
    await view.waitFor({ timeout: 15_000 });
    expect(await view.locator(".ml-fd-title").textContent()).toBe("neuron 0.5");
    // The top context is the plain-loop argmax over the texts: its window, max token and place.
    const top = view.locator("[data-testid=context]").first();
    expect(await top.locator(".ml-token").allTextContents()).toEqual(printed.tokens);
    expect(await top.locator(".ml-fd-max").textContent()).toBe(printed.max);
    expect(await top.locator(".ml-fd-meta").textContent()).toContain(`t${printed.text}:${printed.position}`);
    await top.locator(".ml-fd-max").hover();
    const info = view.locator("[data-testid=info]");
    await expect.poll(() => info.textContent()).toContain(`(text ${printed.text}, position ${printed.position}) activation: `);
    expect(Number((await info.textContent())!.split("activation: ")[1])).toBeCloseTo(printed.activation as number, 2);
    expect(await view.locator("[data-testid=histogram] [data-testid=bar]").count()).toBe(20);
    // Boosted and suppressed tokens: direction @ W_U, ranked by plain loops in the cell.
    expect(await view.locator("[data-testid=boosted] .ml-token").allTextContents()).toEqual(printed.boosted);
    expect(await view.locator("[data-testid=suppressed] .ml-token").allTextContents()).toEqual(printed.suppressed);
  },

  "widget-plot-line": async (cell, printed) => {
    const root = cell.locator(".ml-plot");
    await expect.poll(() => root.getAttribute("data-rendered"), { timeout: 30_000 }).toBe("true");
    expect(await root.getAttribute("data-points")).toBe(String(printed.points));
    expect(await root.locator("svg path[aria-roledescription='line mark']").count()).toBe(1);
    const texts = await root.locator("svg text").allTextContents();
    for (const text of [printed.xLabel, printed.yLabel, printed.title] as string[]) expect(texts, JSON.stringify(texts)).toContain(text);
  },

  "widget-plot-heatmap": async (cell, printed, page) => {
    const tokens = printed.tokens as string[];
    const root = cell.locator(".ml-plot");
    await expect.poll(() => root.getAttribute("data-rendered"), { timeout: 30_000 }).toBe("true");
    const cells = root.locator("svg path[aria-roledescription='rect mark']");
    expect(await cells.count()).toBe(tokens.length * tokens.length);
    const texts = await root.locator("svg text").allTextContents();
    for (const text of [printed.xLabel, printed.yLabel, printed.title] as string[]) expect(texts, JSON.stringify(texts)).toContain(text);
    // Hover query 4, key 2: the tooltip names both tokens and gives the pattern value (4 significant digits).
    const target = root.locator(`svg path[aria-roledescription='rect mark'][aria-label^="col: 2; row: 4;"]`);
    expect(await target.count()).toBe(1);
    await target.hover();
    const tooltip = page.locator("#vg-tooltip-element");
    await expect.poll(() => tooltip.textContent()).toContain(tokens[2]!);
    expect(await tooltip.textContent()).toContain(tokens[4]!);
    expect(await tooltip.textContent()).toContain(String(Number(Math.fround(printed["row 4 col 2"] as number).toPrecision(4))));
  },

  "widget-training-progress": async (cell, printed) => {
    const view = cell.locator(".ml-progress");
    await view.waitFor({ timeout: 15_000 });
    expect(await view.locator("[data-testid=step]").textContent()).toBe(`step ${printed.step} / ${printed.total}`);
    expect(await view.locator("[data-testid=status]").textContent()).toBe(printed.status);
    const chart = view.locator(".ml-chart[data-metric=loss]");
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 30_000 }).toBe(String(printed.points));
    expect(await chart.locator("svg text").allTextContents()).toContain("loss");
  },
};

interface NotebookCell {
  cell_type: string;
  metadata: { tags?: string[] };
  outputs?: { output_type: string; name?: string; text?: string | string[]; data?: Record<string, unknown> }[];
}
interface Notebook {
  cells: NotebookCell[];
  metadata: { widgets?: Record<string, { state: Record<string, unknown> }> };
}

const joined = (text: string | string[] | undefined): string => (Array.isArray(text) ? text.join("") : (text ?? ""));
const widgetTag = (cell: NotebookCell): string | undefined => cell.metadata.tags?.find((tag) => tag.startsWith("widget-"));

describe.skipIf(!hasChromium)("HTML export of a notebook run by `mechlab run`, offline in Chromium", () => {
  let sandbox: JupyterSandbox;
  let out: string;
  let executed: Notebook;
  let html: string;
  let chromium: LaunchedBrowser;

  beforeAll(async () => {
    requireDebianJupyter();
    sandbox = jupyterSandbox();
    out = mkdtempSync(join(tmpdir(), "mechlab-export-test-"));
    const run = await mechlab(["run", FIXTURE, "--out", out], { env: sandbox.env, timeoutMs: 300_000 });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    executed = JSON.parse(readFileSync(join(out, "widgets.ipynb"), "utf8")) as Notebook;
    html = readFileSync(join(out, "widgets.html"), "utf8");
    chromium = await launchChromium();
  }, 360_000);

  afterAll(async () => {
    await chromium?.close();
    sandbox?.dispose();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it("the executed notebook keeps the live widget views and their state; the page carries neither", () => {
    const widgetCells = executed.cells.filter(widgetTag);
    expect(widgetCells.length).toBeGreaterThan(0);
    const state = executed.metadata.widgets?.[WIDGET_STATE_MIME]?.state ?? {};
    for (const cell of widgetCells) {
      // The cell's result, or a widget it displayed itself (and updated when done, like a sweep).
      const result = cell.outputs?.find((o) => (o.output_type === "execute_result" || o.output_type === "display_data") && o.data?.[WIDGET_VIEW_MIME]);
      const view = result?.data?.[WIDGET_VIEW_MIME] as { model_id: string } | undefined;
      expect(view, widgetTag(cell)).toBeDefined();
      expect(Object.keys(state)).toContain(view!.model_id);
      expect(result?.data?.["text/html"], widgetTag(cell)).toBeDefined();
    }
    // nbconvert's widget-manager loader (require.js + html-manager from a CDN) is not in the page.
    expect(html).not.toContain(WIDGET_VIEW_MIME);
    expect(html).not.toContain(WIDGET_STATE_MIME);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdnjs|require(\.min)?\.js/);
  });

  it("every widget cell has a check and every check a cell", () => {
    const tags = executed.cells.map(widgetTag).filter((tag): tag is string => !!tag);
    expect(tags.sort()).toEqual(Object.keys(WIDGET_CHECKS).sort());
  });

  it("renders every widget with nothing fetched, answers hover with the kernel's numbers, no page errors", async () => {
    const page = await chromium.context.newPage();
    await page.setViewportSize({ width: 1000, height: 800 });
    const blocked: string[] = [];
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url === PAGE_URL) return route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: html });
      blocked.push(url);
      return route.abort();
    });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(`console: ${message.text()}`);
    });
    await page.goto(PAGE_URL);

    for (const cell of executed.cells) {
      const tag = widgetTag(cell);
      if (!tag) continue;
      const stdout = (cell.outputs ?? []).filter((o) => o.output_type === "stream" && o.name === "stdout").map((o) => joined(o.text)).join("");
      const printed = JSON.parse(stdout.trim().split("\n").at(-1)!) as Printed;
      const element = page.locator(`.jp-Cell.celltag_${tag}`);
      expect(await element.count(), tag).toBe(1);
      await WIDGET_CHECKS[tag]!(element, printed, page);
    }
    await page.mouse.move(0, 0);
    await page.screenshot({ path: screenshotPath("exported-notebook"), fullPage: true });
    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
    await page.close();
  });
});
