/**
 * Widget rendering benchmark, in Debian's Chromium (headless, software rendering): the attention
 * widget's self-contained HTML for a 12-layer × 12-head × 64 × 64 pattern (GPT-2 small on 64
 * tokens), measured in the page:
 *   - first render: from inserting the widget's HTML until the 144 head thumbnails are drawn;
 *   - focus a head: click a thumbnail until its 64 × 64 heatmap is in the DOM and painted;
 *   - hover: moving over 64 query labels in turn (each recolours the strip and highlights a row
 *     and a column), mean time per hover including a forced layout;
 *   - scroll: frames while scrolling the page through the widget, mean and worst frame time;
 *   - the size of the widget's text/html and of its binary pattern buffer;
 * and a 48 × 128 patching sweep (layer × position of a long prompt): first render of a finished
 * sweep's self-contained HTML until all 6,144 cells are in the DOM, and the repaint of a running
 * sweep's view per values update (ten updates, each filling another tenth; layout included).
 * Prints figures only; asserts nothing.
 *
 *   npm run build && npm run bench:widgets
 */
import { existsSync } from "fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { ready, tf } from "../src";
import { attentionPatterns } from "../src/widgets/attentionWidget";
import { patchingSweepWidget } from "../src/widgets/patchingSweepWidget";

const CHROMIUM = "/usr/bin/chromium";
const LAYERS = 12;
const HEADS = 12;
const POS = 64;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Causal softmax patterns [layer, head, q, k] from random scores. */
function randomPatterns(): tf.Tensor4D {
  return tf.tidy(() => {
    const scores = tf.randomNormal([LAYERS, HEADS, POS, POS], 0, 2, "float32", 7);
    const causal = tf.linalg.bandPart(tf.ones([POS, POS]), -1, 0);
    const masked = tf.where(causal.cast("bool").broadcastTo(scores.shape), scores, tf.fill(scores.shape, -1e9));
    return tf.softmax(masked, -1) as tf.Tensor4D;
  });
}

/**
 * A fresh offline page; inserts a widget's text/html as a notebook's output area does (scripts
 * recreated so they run) and returns the ms until `count` elements match `selector` and a frame
 * has been drawn.
 */
async function timeFirstRender(browser: Browser, markup: string, selector: string, count: number): Promise<{ page: Page; ms: number }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await page.route("**/*", (route) => route.abort());
  await page.setContent("<!doctype html><html><body><div id=out></div></body></html>");
  const ms = await page.evaluate(
    async ([html, css, n]) => {
      const start = performance.now();
      const out = document.getElementById("out")!;
      out.innerHTML = html;
      for (const old of [...out.querySelectorAll("script")]) {
        const script = document.createElement("script");
        for (const { name, value } of [...old.attributes]) script.setAttribute(name, value);
        script.textContent = old.textContent;
        old.replaceWith(script);
      }
      while (document.querySelectorAll(css).length < n) await new Promise((ok) => setTimeout(ok, 1));
      document.body.getBoundingClientRect();
      await new Promise((ok) => requestAnimationFrame(() => ok(null)));
      return performance.now() - start;
    },
    [markup, selector, count] as const,
  );
  return { page, ms };
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    console.log(`no browser at ${CHROMIUM}: nothing to measure`);
    return;
  }
  await ready();
  const patterns = randomPatterns();
  const tokens = Array.from({ length: POS }, (_, i) => ` tok${i}`);
  const widget = attentionPatterns(patterns, { tokens });
  patterns.dispose();
  const html = String(widget.mimeBundle()["text/html"]);
  console.log(`attention ${LAYERS}×${HEADS}×${POS}×${POS}: text/html ${(html.length / 1e6).toFixed(2)} MB, pattern buffer ${((LAYERS * HEADS * POS * POS * 4) / 1e6).toFixed(2)} MB`);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
  const sweep = patchingSweepWidget({ rows: 48, cols: 128, kind: "layer × position" }).setValues(Array.from({ length: 48 }, (_, r) => Array.from({ length: 128 }, (_, c) => Math.sin(r * 0.3 + c * 0.1))));
  const sweepHtml = String(sweep.mimeBundle()["text/html"]);
  const sweepRender: number[] = [];
  const sweepRepaint: number[] = [];
  const runningState = patchingSweepWidget({ rows: 48, cols: 128, kind: "layer × position" }).getState() as unknown as Record<string, unknown>;
  const firstRender: number[] = [];
  const focus: number[] = [];
  const hover: number[] = [];
  const frames: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const attention = await timeFirstRender(browser, html, "[data-testid=thumbnail]", 144);
      const page = attention.page;
      firstRender.push(attention.ms);
      focus.push(
        await page.evaluate(async () => {
          const start = performance.now();
          (document.querySelector("[data-testid=thumbnail][data-layer='5'][data-head='7']") as HTMLElement).click();
          while (document.querySelectorAll(".ml-cell").length < 64 * 64) await new Promise((ok) => setTimeout(ok, 1));
          document.body.getBoundingClientRect();
          await new Promise((ok) => requestAnimationFrame(() => ok(null)));
          return performance.now() - start;
        }),
      );
      hover.push(
        await page.evaluate(() => {
          const labels = [...document.querySelectorAll("[data-testid=query-label]")];
          const start = performance.now();
          for (const label of labels) {
            label.dispatchEvent(new MouseEvent("mouseenter"));
            document.body.getBoundingClientRect();
          }
          return (performance.now() - start) / labels.length;
        }),
      );
      frames.push(
        ...(await page.evaluate(async () => {
          const times: number[] = [];
          let last = performance.now();
          const height = document.body.scrollHeight;
          for (let y = 0; y <= height; y += 40) {
            window.scrollTo(0, y);
            await new Promise((ok) => requestAnimationFrame(() => ok(null)));
            const now = performance.now();
            times.push(now - last);
            last = now;
          }
          return times;
        })),
      );
      await page.close();

      const finished = await timeFirstRender(browser, sweepHtml, ".ml-sweep-cell.ml-filled", 48 * 128);
      const sweepPage = finished.page;
      sweepRender.push(finished.ms);
      sweepRepaint.push(
        await sweepPage.evaluate((state) => {
          type Model = { set(key: string, value: unknown): void };
          const lib = (window as unknown as { mechlabWidgets: { renderStatic(el: HTMLElement, view: string, state: unknown): Model } }).mechlabWidgets;
          const el = document.createElement("div");
          document.body.append(el);
          const model = lib.renderStatic(el, "PatchingSweepView", { ...state, values: new Float32Array(48 * 128).fill(NaN) });
          const start = performance.now();
          for (let k = 1; k <= 10; k++) {
            const values = new Float32Array(48 * 128).fill(NaN);
            for (let i = 0; i < (k * values.length) / 10; i++) values[i] = Math.sin(i * 0.37) * k;
            model.set("values", values);
            void el.offsetHeight;
          }
          return (performance.now() - start) / 10;
        }, { ...runningState, values: undefined }),
      );
      await sweepPage.close();
    }
  } finally {
    await browser.close();
  }
  console.log(`first render (144 thumbnails): median ${median(firstRender).toFixed(0)} ms over ${RUNS} runs [${firstRender.map((t) => t.toFixed(0)).join(", ")}]`);
  console.log(`focus a head (64×64 heatmap):  median ${median(focus).toFixed(0)} ms [${focus.map((t) => t.toFixed(0)).join(", ")}]`);
  console.log(`hover a token:                 median ${median(hover).toFixed(2)} ms per hover`);
  console.log(`patching sweep 48×128 (${(sweepHtml.length / 1e3).toFixed(0)} kB html): first render median ${median(sweepRender).toFixed(0)} ms [${sweepRender.map((t) => t.toFixed(0)).join(", ")}]; repaint per update median ${median(sweepRepaint).toFixed(1)} ms`);
  console.log(`scroll frames:                 median ${median(frames).toFixed(1)} ms, worst ${Math.max(...frames).toFixed(1)} ms over ${frames.length} frames`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
