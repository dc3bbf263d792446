/**
 * The feature dashboard live in Chromium against a real Jupyter server running the mechlab kernel
 * (see live/liveSession.ts): kernel code runs a tiny character-level model over a few texts,
 * takes neuron 3 of blocks.0.mlp.hook_post and its W_out row, and displays the dashboard. The
 * browser shows the max-activating contexts (checked against an oracle computed in the kernel by
 * plain loops over the activations), the histogram, k boosted and k suppressed tokens; a hovered
 * token shows its activation; a clicked context is read back in the kernel.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, screenshotPath } from "../helpers/browser";
import { startLiveSession, type LiveSession } from "./live/liveSession";

const TEXTS = [
  "the cat sat on a mat",
  "a dog ran to the big",
  "she had a red hat on",
  "we go up the hill now",
  "fish swim in the sea",
  "birds fly over trees",
].map((t) => t.padEnd(21, ".").slice(0, 21));

const SETUP = [
  `import { HookedTransformer, CharTokenizer, ready, featureDashboard, tf } from "mechlab";`,
  `await ready();`,
  `const model = await HookedTransformer.create({ nLayers: 1, dModel: 16, nHeads: 4, dHead: 4, dMlp: 24, dVocab: 32, nCtx: 24, actFn: "gelu_new", seed: 5 }, { tokenizer: new CharTokenizer("abcdefghijklmnopqrstuvwxyz .", { bos: "^" }) });`,
  `const texts = ${JSON.stringify(TEXTS)};`,
  `const ids = model.toTokens(texts);`,
  `const { cache } = model.runWithCache(ids);`,
  `const post = cache.get("blocks.0.mlp.hook_post");`,
  `const acts = post.slice([0, 0, 3], [-1, -1, 1]).reshape(post.shape.slice(0, 2));`,
  `const direction = model.W_out.slice([0, 3, 0], [1, 1, -1]).reshape([-1]);`,
  `const dash = featureDashboard(acts, { model, tokenIds: ids, direction, topK: 4, topLogits: 5, contextLeft: 8, contextRight: 4, bands: 2, samplesPerBand: 2, title: "neuron 3 · blocks.0.mlp.hook_post" });`,
  // Oracle by plain loops: each text's first argmax, texts sorted by it, the top 4 windows.
  `const rows = acts.arraySync() as number[][];`,
  `const best = rows.map((row, t) => { let p = 0; for (let i = 1; i < row.length; i++) if (row[i] > row[p]) p = i; return { t, p, v: row[p] }; }).sort((a, b) => b.v - a.v || a.t - b.t).slice(0, 4);`,
  `const oracle = best.map(({ t, p, v }) => { const s = model.toStrTokens(texts[t]); const start = Math.max(0, p - 8); return { t, p, v, tokens: s.slice(start, p + 5), max: s[p] }; });`,
  `Buffer.from(JSON.stringify(oracle)).toString("base64")`,
].join("\n");

/** A JSON value the kernel sent as base64 text (its text/plain is the quoted string). */
function decode<T>(out: string[]): T {
  return JSON.parse(Buffer.from(out.join("").replace(/^'|'$/g, ""), "base64").toString("utf8")) as T;
}

interface OracleContext {
  t: number;
  p: number;
  v: number;
  tokens: string[];
  max: string;
}

describe.skipIf(!hasChromium)("feature dashboard, live", () => {
  let live: LiveSession;
  let oracle: OracleContext[];

  beforeAll(async () => {
    live = await startLiveSession({ viewport: { width: 900, height: 900 } });
    const out = await live.run(SETUP);
    expect(out.filter((t) => t.startsWith("ERROR"))).toEqual([]);
    // text/plain of a string is its quoted form.
    oracle = decode<OracleContext[]>([out.at(-1)!]);
    expect(oracle).toHaveLength(4);
  }, 240_000);

  afterAll(async () => {
    await live?.stop();
  });

  it("shows the neuron's top contexts, histogram and logit columns; hover and click reach the kernel", async () => {
    const { page, run } = live;
    const made = await run(`dash`, "dash");
    expect(made.filter((t) => t.startsWith("ERROR"))).toEqual([]);
    const view = page.locator("#dash .ml-featdash");
    await view.waitFor({ timeout: 30_000 });

    expect(await view.locator(".ml-fd-title").textContent()).toBe("neuron 3 · blocks.0.mlp.hook_post");
    // The first 4 contexts are the top group, matching the kernel's plain-loop oracle.
    const contexts = view.locator("[data-testid=context]");
    expect(await contexts.count()).toBeGreaterThanOrEqual(4);
    for (let i = 0; i < 4; i++) {
      const tokens = await contexts.nth(i).locator(".ml-token").allTextContents();
      expect(tokens).toEqual(oracle[i].tokens);
      expect(await contexts.nth(i).locator(".ml-fd-max").textContent()).toBe(oracle[i].max);
      expect(await contexts.nth(i).locator(".ml-fd-meta").textContent()).toContain(`t${oracle[i].t}:${oracle[i].p}`);
    }
    // Histogram bars (40 bins by default), 5 boosted and 5 suppressed tokens.
    expect(await view.locator("[data-testid=histogram] [data-testid=bar]").count()).toBe(40);
    expect(await view.locator("[data-testid=x-tick]").count()).toBeGreaterThan(2);
    expect(await view.locator("[data-testid=boosted] [data-testid=logit-row]").count()).toBe(5);
    expect(await view.locator("[data-testid=suppressed] [data-testid=logit-row]").count()).toBe(5);
    expect(await view.locator("[data-testid=group]").count()).toBe(3);

    // Hover the max token of the second context: its activation in the info line.
    await contexts.nth(1).locator(".ml-fd-max").hover();
    const infoText = await view.locator("[data-testid=info]").textContent();
    expect(infoText).toContain(`(text ${oracle[1].t}, position ${oracle[1].p}) activation: `);
    expect(Number(infoText!.split("activation: ")[1])).toBeCloseTo(oracle[1].v, 2);
    // Hover a histogram bar: its range and count.
    await view.locator("[data-testid=bar]").nth(39).hover({ force: true });
    await expect.poll(() => view.locator("[data-testid=info]").textContent()).toMatch(/^activation in \[.*\]: \d+ tokens?$/);

    // Click the third context: the kernel reads it back.
    await contexts.nth(2).click();
    await expect.poll(async () => (await run(`dash.get("selectedContext")`)).join(""), { timeout: 20_000 }).toBe("2");
    const selected = decode<{ text: number; position: number; tokens: string[]; activations: number[] }>(await run(`Buffer.from(JSON.stringify(dash.selected)).toString("base64")`));
    expect(selected.text).toBe(oracle[2].t);
    expect(selected.position).toBe(oracle[2].p);
    expect(selected.tokens).toEqual(oracle[2].tokens);
    expect(selected.activations).toHaveLength(oracle[2].tokens.length);
    expect(Math.max(...selected.activations)).toBeCloseTo(oracle[2].v, 4);
    await contexts.nth(1).locator(".ml-token").first().hover();
    await page.locator("#dash").screenshot({ path: screenshotPath("feature-dashboard-live") });

    expect(live.errors).toEqual([]);
    expect(live.foreign).toEqual([]);
  });
});
