/**
 * The attention-patterns and token-colours widgets live in Chromium against a real Jupyter server
 * running the mechlab kernel (see live/liveSession.ts): each is made by kernel code from a tiny
 * model's cache, renders the prompt's tokens, answers hover and click, and what the browser
 * selects is read back in the kernel.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, screenshotPath } from "../helpers/browser";
import { startLiveSession, type LiveSession } from "./live/liveSession";

const SETUP = [
  `import { HookedTransformer, gpt2Tokenizer, ready, attentionPatterns, tokenColors } from "mechlab";`,
  `await ready();`,
  `const model = await HookedTransformer.create({ nLayers: 2, dModel: 16, nHeads: 4, dHead: 4, dMlp: 24, dVocab: 50257, nCtx: 16, actFn: "gelu_new", seed: 3 }, { tokenizer: gpt2Tokenizer() });`,
  `const text = "When Mary and John went to the store";`,
  `const { cache } = model.runWithCache(text);`,
  `const strTokens = model.toStrTokens(text);`,
  `strTokens.length`,
].join("\n");

describe.skipIf(!hasChromium)("attention patterns and token colours, live", () => {
  let live: LiveSession;
  let nTokens: number;

  beforeAll(async () => {
    live = await startLiveSession({ viewport: { width: 900, height: 700 } });
    const out = await live.run(SETUP);
    expect(out.filter((t) => t.startsWith("ERROR"))).toEqual([]);
    nTokens = Number(out.at(-1));
    expect(nTokens).toBeGreaterThan(5);
  }, 240_000);

  afterAll(async () => {
    await live?.stop();
  });

  it("attention: grid of heads, click a head to focus it, hover a token; the kernel reads head and token", async () => {
    const { page, run } = live;
    const made = await run(`const attn = attentionPatterns(cache, { model, input: text }); attn`, "attn");
    expect(made.filter((t) => t.startsWith("ERROR"))).toEqual([]);
    const view = page.locator("#attn .ml-attn");
    await view.waitFor({ timeout: 30_000 });
    // The prompt's tokens in the strip, and every head of both layers as a thumbnail.
    const strip = await view.locator("[data-testid=tokens] .ml-token").allTextContents();
    expect(strip).toHaveLength(nTokens);
    expect(strip.join("")).toContain("Mary");
    expect(await view.locator("[data-testid=thumbnail]").count()).toBe(8);

    await view.locator("[data-testid=thumbnail][data-layer='1'][data-head='2']").click();
    const heatmap = view.locator("[data-testid=heatmap]");
    await heatmap.waitFor({ state: "visible" });
    expect(await heatmap.locator(".ml-cell").count()).toBe(nTokens * nTokens);
    await expect.poll(async () => (await run(`[attn.get("selectedLayer"), attn.get("selectedHead")].join(",")`)).join("")).toBe("'1,2'");

    // Hover the query label of position 3: the info line names what it attends to.
    await heatmap.locator("[data-testid=query-label]").nth(3).hover();
    await expect.poll(() => view.locator("[data-testid=info]").textContent()).toMatch(/\(3\) attends to: /);
    const cellTitle = await heatmap.locator(".ml-cell[data-q='3'][data-k='1']").getAttribute("title");
    // The number on hover is the kernel's pattern value.
    const kernelValue = Number((await run(`attn.pattern(1, 2)[3][1]`)).join(""));
    expect(Number(cellTitle!.split(": ").at(-1))).toBeCloseTo(kernelValue, 2);
    await expect.poll(async () => (await run(`JSON.stringify(attn.hovered)`)).join("")).toContain('"position":3');
    await page.locator("#attn").screenshot({ path: screenshotPath("attention-live") });

    // The mask toggles from the browser and is read in the kernel.
    await view.locator("[data-testid=mask]").click();
    await expect.poll(async () => (await run(`attn.get("maskUpperTriangle")`)).join("")).toBe("false");
    expect(live.errors).toEqual([]);
    expect(live.foreign).toEqual([]);
  });

  it("token colours: two value sets, switch and hover in the browser; the kernel reads set and token", async () => {
    const { page, run } = live;
    const made = await run(
      [
        `const post = cache.get("blocks.0.mlp.hook_post");`,
        `const neuron = post.slice([0, 0, 5], [1, -1, 1]).reshape([-1]);`,
        `const norms = cache.get("blocks.1.hook_resid_post").norm("euclidean", -1).reshape([-1]);`,
        `const colours = tokenColors(strTokens, { "neuron 0.5": neuron, "resid norm": norms });`,
        `colours`,
      ].join("\n"),
      "colours",
    );
    expect(made.filter((t) => t.startsWith("ERROR"))).toEqual([]);
    const view = page.locator("#colours .ml-tokcol");
    await view.waitFor({ timeout: 30_000 });
    const spans = view.locator(".ml-token");
    expect(await spans.count()).toBe(nTokens);
    expect((await spans.allTextContents()).join("")).toContain("store");

    await spans.nth(4).hover();
    const info = view.locator("[data-testid=info]");
    await expect.poll(() => info.textContent()).toMatch(/position 4\) neuron 0\.5: /);
    const shown = Number((await info.textContent())!.split(": ").at(-1));
    const kernelValue = Number((await run(`colours.valuesOf("neuron 0.5")[0][4]`)).join(""));
    expect(shown).toBeCloseTo(kernelValue, 2);
    await expect.poll(async () => (await run(`JSON.stringify(colours.hovered)`)).join("")).toContain('"position":4');

    await view.locator("select[data-testid=set]").selectOption("resid norm");
    await expect.poll(async () => (await run(`colours.get("selectedSet")`)).join("")).toBe("'resid norm'");
    await spans.nth(2).hover();
    await expect.poll(() => info.textContent()).toMatch(/position 2\) resid norm: /);
    await page.locator("#colours").screenshot({ path: screenshotPath("token-colors-live") });
    expect(live.errors).toEqual([]);
    expect(live.foreign).toEqual([]);
  });
});
