/**
 * The feature dashboard's self-contained text/html in Chromium, with the network blocked: made
 * in Node from a small dataset and a direction through W_U, it renders every section offline,
 * answers hover, and a click selects a context in the page.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready } from "../../src/backend";
import { featureDashboard } from "../../src/widgets/featureDashboardWidget";
import { hasChromium, launchChromium, screenshotPath, type LaunchedBrowser } from "../helpers/browser";

/** A dataset where the feature fires on "cat" tokens, strongest after "the". */
function dataset(): { tokens: string[][]; acts: number[][] } {
  const sentences = [
    "the cat sat on the mat while the dog slept",
    "a cat and a dog played in the garden today",
    "my neighbour said the cat was hungry again",
    "nothing here mentions any animals at all now",
    "cats are not dogs but the cat is a pet too",
    "she fed the cat some fish and then left home",
  ];
  const tokens = sentences.map((s) => s.split(/(?= )/));
  const acts = tokens.map((row) => row.map((tok, i) => (tok.trim() === "cat" ? (row[i - 1]?.trim() === "the" ? 3 + i / 10 : 1.5) : tok.trim() === "dog" || tok.trim() === "dogs" ? 0.4 : tok.trim() === "pet" ? 0.9 : 0)));
  return { tokens, acts };
}

describe.skipIf(!hasChromium)("feature dashboard static html in Chromium", () => {
  let chromium: LaunchedBrowser;
  beforeAll(async () => {
    await ready();
    chromium = await launchChromium();
  });
  afterAll(async () => {
    await chromium?.close();
  });

  it("renders header, histogram, logit columns and contexts offline; hover and click work in the page", async () => {
    const { tokens, acts } = dataset();
    const vocab = [" cat", " dog", " kitten", " fish", " car", " idea", " the", " mat"];
    // W_U [2, 8]; direction [2] = [1, 0.5]: effects by hand = row0 + 0.5·row1.
    const unembed = [[2, 0.5, 1.5, 0.8, -1, -2, 0, 0.1], [1, 1, 1, 0, -2, 0, -0.4, 0]];
    const w = featureDashboard(acts, { tokens, direction: [1, 0.5], unembed, vocab, topK: 5, topLogits: 4, contextLeft: 4, contextRight: 3, bins: 20, bands: 2, samplesPerBand: 2, title: "feature 1234 · “cat”" });
    const page = await chromium.context.newPage();
    await page.setViewportSize({ width: 820, height: 760 });
    const requests: string[] = [];
    await page.route("**/*", (route) => {
      requests.push(route.request().url());
      return route.abort();
    });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.setContent(`<!doctype html><html><body>${String(w.mimeBundle()["text/html"])}</body></html>`);

    const view = page.locator(".ml-featdash");
    await view.waitFor({ timeout: 10_000 });
    expect(await view.locator(".ml-fd-title").textContent()).toBe("feature 1234 · “cat”");
    expect(await view.locator("[data-testid=bar]").count()).toBe(20);
    // Effects: cat 2.5, dog 1, kitten 2, fish 0.8, car -2, idea -2, the -0.2, mat 0.1.
    expect(await view.locator("[data-testid=boosted] .ml-token").allTextContents()).toEqual([" cat", " kitten", " dog", " fish"]);
    expect(await view.locator("[data-testid=suppressed] .ml-token").allTextContents()).toEqual([" car", " idea", " the", " mat"]);
    // The top contexts: "the cat" (3 + position/10: texts 4, 2, 5, 0), then "a cat" (1.5), each with " cat" outlined.
    const contexts = view.locator("[data-testid=context]");
    expect(await contexts.count()).toBe(5 + 4);
    for (let i = 0; i < 5; i++) expect(await contexts.nth(i).locator(".ml-fd-max").textContent()).toBe(" cat");
    expect(await contexts.locator(".ml-fd-meta").allTextContents().then((m) => m.slice(0, 5))).toEqual(["3.6 · t4:6", "3.4 · t2:4", "3.3 · t5:3", "3.1 · t0:1", "1.5 · t1:1"]);
    // Window: 4 tokens left, 3 right of position 6.
    expect((await contexts.first().locator(".ml-token").allTextContents()).join("")).toBe(" not dogs but the cat is a pet");

    await contexts.first().locator(".ml-fd-max").hover();
    expect(await view.locator("[data-testid=info]").textContent()).toBe('" cat" (text 4, position 6) activation: 3.6');
    await contexts.nth(1).click();
    expect(await contexts.nth(1).getAttribute("class")).toContain("ml-selected");
    await contexts.first().locator(".ml-fd-max").hover();
    await page.screenshot({ path: screenshotPath("feature-dashboard-static"), fullPage: true });
    // A dark theme (JupyterLab's variables): the same page stays readable.
    await page.addStyleTag({ content: "body { background: #111; --jp-ui-font-color1: #ddd; --jp-ui-font-color2: #aaa; --jp-layout-color1: #111; --jp-border-color1: #555; --jp-border-color2: #444; }" });
    await page.screenshot({ path: screenshotPath("feature-dashboard-static-dark"), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });
});
