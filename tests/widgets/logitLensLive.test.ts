/**
 * The logit-lens widget live, in Chromium against a real Jupyter server running the mechlab kernel
 * (see live/liveSession.ts): a cell builds a tiny model with a character tokenizer, runs it with a
 * cache and displays the widget; the page shows the prompt's tokens as column headers and a cell
 * per layer and position; hovering a cell shows its numbers, clicking one lists its top tokens, and
 * the kernel reads the selected cell and its top-k back. Also the static text/html in Chromium,
 * offline. Screenshots: build/screenshots/logit-lens-live.png, logit-lens-static.png.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { CharTokenizer } from "../../src/tokenizers";
import { logitLensWidget } from "../../src/widgets/logitLensWidget";
import { formatValue } from "../../widgets/views/colorScale";
import { hasChromium, launchChromium, screenshotPath, type LaunchedBrowser } from "../helpers/browser";
import { startLiveSession, type LiveSession } from "./live/liveSession";

const PROMPT = "bad cafe";
const TOKENS = ["^", ..."bad cafe"];
/** A token as its cell label or header shows it (a space as "␣"). */
const shown = (token: string): string => (token === " " ? "␣" : token);

/** A string result as the kernel shows it (text/plain quotes strings: 'text'). */
function unquote(results: string[]): string {
  const text = results.join("");
  return /^'.*'$/s.test(text) ? text.slice(1, -1) : text;
}

/** Kernel (or test) code: a tiny model over "abcdefg " with a "^" BOS; W_U scaled up so the lens has contrast. */
const MODEL_CONFIG = `{ nLayers: 3, dModel: 32, nHeads: 4, dHead: 8, dMlp: 64, dVocab: 9, nCtx: 16, seed: 7 }`;

describe.skipIf(!hasChromium)("logit-lens widget, live", () => {
  let live: LiveSession;

  beforeAll(async () => {
    live = await startLiveSession({ viewport: { width: 900, height: 420 } });
  }, 240_000);

  afterAll(async () => {
    await live?.stop();
  });

  it("shows the prompt's tokens × layers, numbers on hover, top-k on click, and the selection in the kernel", async () => {
    const { page, run } = live;
    const created = await run(
      [
        `import { HookedTransformer, CharTokenizer, logitLensWidget, ready, tf } from "mechlab";`,
        `await ready();`,
        `const model = await HookedTransformer.create(${MODEL_CONFIG}, { tokenizer: new CharTokenizer("abcdefg ", { bos: "^" }) });`,
        `model.param("unembed.W_U").assign(tf.tidy(() => tf.mul(model.param("unembed.W_U"), 12)));`,
        `const prompt = ${JSON.stringify(PROMPT)};`,
        `const { output, cache } = model.runWithCache(prompt);`,
        `const lens = logitLensWidget(cache, { model, input: prompt, topK: 5 });`,
        `output.dispose(); cache.dispose();`,
        `lens`,
      ].join("\n"),
      "l1",
    );
    expect(created.filter((t) => t.startsWith("ERROR"))).toEqual([]);
    const view = page.locator("#l1 .ml-lens");
    await view.waitFor({ timeout: 30_000 });

    // Column headers are the prompt's tokens; one cell per row (embed, L1 in, L2 in, final) and position.
    expect(await view.locator("thead tr:first-child th .ml-lens-token").allTextContents()).toEqual(TOKENS.map(shown));
    expect(await view.locator("tbody th").allTextContents()).toEqual(["embed", "L1 in", "L2 in", "final"]);
    expect(await view.locator("td.ml-lens-cell").count()).toBe(4 * TOKENS.length);
    // Each cell's label is its top token, as the kernel computed it (the accumulated rows come first).
    const kernelTop = JSON.parse(unquote(await run(`JSON.stringify(lens.get("topTokens").filter((_: string, i: number) => i % 5 === 0).slice(0, 4 * 9))`)));
    expect(await view.locator("td.ml-lens-cell").allTextContents()).toEqual(kernelTop.map(shown));

    // Hover: the info line and the cell's tooltip give the next token's p, logit and rank, as in the kernel.
    const target = view.locator('td.ml-lens-cell[data-row="2"][data-pos="3"]');
    await target.hover();
    await expect.poll(() => view.locator("[data-testid=info]").textContent()).toMatch(/^L2 in, position 3 "d": next " " p /);
    const info = (await view.locator("[data-testid=info]").textContent())!;
    expect(await target.getAttribute("title")).toBe(info);
    const [p, logit, rank] = JSON.parse(unquote(await run(`const i = 2 * 9 + 3; JSON.stringify([lens.get("targetProb")[i], lens.get("targetLogit")[i], lens.get("targetRank")[i]])`)));
    const num = formatValue; // the view's number format (3 significant digits, exponent below 1e-3)
    expect(info).toContain(`p ${num(p)}, logit ${num(logit)}, rank ${rank};`);
    await expect.poll(async () => unquote(await run(`JSON.stringify(lens.get("hoveredCell"))`)), { timeout: 20_000 }).toBe("[2,3]");

    // Click: the panel lists the top 5 of that cell; the kernel has the selection and the same list.
    await target.click();
    await expect.poll(() => view.locator("[data-testid=panel-title]").textContent()).toBe('L2 in, position 3 "d"');
    const panelTokens = await view.locator("[data-testid=topk] td.ml-lens-tok[title]").allTextContents();
    expect(panelTokens).toHaveLength(5);
    await expect.poll(async () => unquote(await run(`JSON.stringify(lens.get("selectedCell"))`)), { timeout: 20_000 }).toBe("[2,3]");
    const kernelList = JSON.parse(unquote(await run(`JSON.stringify(lens.selectedTopK())`))) as { token: string; prob: number }[];
    expect(panelTokens).toEqual(kernelList.map((e) => JSON.stringify(e.token)));
    const panelProbs = await view.locator("[data-testid=topk] tr td:nth-child(3)").allTextContents();
    expect(panelProbs).toEqual(kernelList.map((e) => num(e.prob)));
    expect(unquote(await run(`lens.selected!.rowName + " @ " + lens.selected!.token`))).toBe("L2 in @ d");

    // A switch in the view reaches the kernel.
    await view.locator("select[data-testid=color-by]").selectOption("rank");
    await expect.poll(async () => unquote(await run(`lens.get("colorBy")`)), { timeout: 20_000 }).toBe("rank");
    await view.locator("select[data-testid=color-by]").selectOption("probability");
    await expect.poll(async () => unquote(await run(`lens.get("colorBy")`)), { timeout: 20_000 }).toBe("probability");
    await target.hover();
    await page.screenshot({ path: screenshotPath("logit-lens-live"), fullPage: true });

    expect(live.errors).toEqual([]);
    expect(live.foreign).toEqual([]);
  });
});

describe.skipIf(!hasChromium)("logit-lens widget, static html in Chromium", () => {
  let chromium: LaunchedBrowser;
  let model: HookedTransformer;

  beforeAll(async () => {
    await ready();
    chromium = await launchChromium();
    // Same model as the live cell, built here in the test process.
    model = await HookedTransformer.create(JSON.parse(MODEL_CONFIG.replace(/(\w+):/g, '"$1":')), { tokenizer: new CharTokenizer("abcdefg ", { bos: "^" }) });
    model.param("unembed.W_U").assign(tf.tidy(() => tf.mul(model.param("unembed.W_U"), 12)));
  });

  afterAll(async () => {
    model?.dispose();
    await chromium?.close();
  });

  it("renders the grid offline, interactive, with no network request", async () => {
    const { output, cache } = model.runWithCache(PROMPT);
    const w = logitLensWidget(cache, { model, input: PROMPT, topK: 5, mode: "decomposed", colorBy: "logit" });
    output.dispose();
    cache.dispose();
    const page = await chromium.context.newPage();
    await page.setViewportSize({ width: 900, height: 460 });
    const requests: string[] = [];
    await page.route("**/*", (route) => {
      requests.push(route.request().url());
      return route.abort();
    });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.setContent(`<!doctype html><html><body>${String(w.mimeBundle()["text/html"])}</body></html>`);

    const view = page.locator(".ml-lens");
    await view.waitFor({ timeout: 10_000 });
    expect(await view.locator("thead tr:first-child th .ml-lens-token").allTextContents()).toEqual(TOKENS.map(shown));
    expect(await view.locator("tbody th").allTextContents()).toEqual(["embed", "pos_embed", "L0 attn", "L0 mlp", "L1 attn", "L1 mlp", "L2 attn", "L2 mlp"]);
    expect(await view.locator("td.ml-lens-cell").count()).toBe(8 * TOKENS.length);
    expect(await view.locator("[data-testid=legend-caption]").textContent()).toBe("logit of the next token");
    // Interactive in the page: hover and click work without a kernel.
    const cellAt = view.locator('td.ml-lens-cell[data-row="4"][data-pos="1"]');
    await cellAt.hover();
    expect(await view.locator("[data-testid=info]").textContent()).toMatch(/^L1 attn, position 1 "b": next "a" p /);
    await cellAt.click();
    expect(await view.locator("[data-testid=topk] tr").count()).toBe(6);
    await page.screenshot({ path: screenshotPath("logit-lens-static"), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });
});
