/**
 * Plots and training progress live in Chromium against a real Jupyter server running the mechlab
 * kernel (see live/liveSession.ts): kernel code shows a line plot and a training progress widget;
 * a kernel loop updates the progress 20 times with awaits while the browser watches the chart
 * grow; Stop in the browser reaches the still-running loop through `progress.signal`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, screenshotPath } from "../helpers/browser";
import { startLiveSession, type LiveSession } from "./live/liveSession";

describe.skipIf(!hasChromium)("plots and training progress, live", () => {
  let live: LiveSession;

  beforeAll(async () => {
    live = await startLiveSession({ viewport: { width: 800, height: 700 } });
    const out = await live.run(`import { plot, trainingProgress } from "mechlab";`);
    expect(out.filter((t) => t.startsWith("ERROR"))).toEqual([]);
  }, 240_000);

  afterAll(async () => {
    await live?.stop();
  });

  it("a line plot from kernel data renders as an SVG chart with its axis titles", async () => {
    const { page, run } = live;
    const made = await run(`const ys = Array.from({ length: 30 }, (_, i) => Math.exp(-i / 8)); const lp = plot.line(ys, { title: "decay", xLabel: "step", yLabel: "value" }); lp`, "line");
    expect(made.filter((t) => t.startsWith("ERROR"))).toEqual([]);
    const root = page.locator("#line .ml-plot");
    await expect.poll(() => root.getAttribute("data-rendered"), { timeout: 30_000 }).toBe("true");
    expect(await root.getAttribute("data-points")).toBe("30");
    const texts = await root.locator("svg text").allTextContents();
    expect(texts).toEqual(expect.arrayContaining(["decay", "step", "value"]));
    await page.locator("#line").screenshot({ path: screenshotPath("plot-line-live") });
  });

  it("training progress: the chart grows with the kernel loop, Stop aborts the running loop's signal", async () => {
    const { page, run } = live;
    const made = await run(`const progress = trainingProgress({ total: 20, metrics: ["loss", "accuracy"], logScale: ["loss"], title: "toy run" }); progress`, "progress");
    expect(made.filter((t) => t.startsWith("ERROR"))).toEqual([]);
    const view = page.locator("#progress .ml-progress");
    await view.waitFor({ timeout: 30_000 });
    expect(await view.locator("[data-testid=step]").textContent()).toBe("step 0 / 20");

    // The loop: 20 updates with awaits, then it waits (at most 15 s) for Stop.
    const loop = run(
      [
        `for (let s = 1; s <= 20; s++) { await new Promise((r) => setTimeout(r, 150)); progress.update(s, { loss: 2 / s, accuracy: s / 20 }); }`,
        `for (let i = 0; i < 600 && !progress.signal.aborted; i++) await new Promise((r) => setTimeout(r, 25));`,
        `progress.finish();`,
        "`${progress.stopRequested} ${progress.signal.aborted} ${progress.get(\"status\")}`",
      ].join("\n"),
      "loop",
    );
    loop.catch(() => undefined); // awaited below; a failure before that must not go unhandled

    // Watch the step text and the loss chart's point count while the loop runs.
    const lossChart = view.locator(".ml-chart[data-metric=loss]");
    const seenSteps = new Set<number>();
    const seenPoints = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const step = Number((await view.locator("[data-testid=step]").textContent())!.match(/step (\d+)/)![1]);
      seenSteps.add(step);
      seenPoints.add(Number(await lossChart.getAttribute("data-points")));
      if (step === 20 && seenPoints.has(20)) break;
      await page.waitForTimeout(50);
    }
    const steps = [...seenSteps].sort((a, b) => a - b);
    const points = [...seenPoints].sort((a, b) => a - b);
    // Seen in between, not only at the start and the end.
    expect(steps.filter((s) => s > 0 && s < 20).length).toBeGreaterThanOrEqual(3);
    expect(points.filter((p) => p > 0 && p < 20).length).toBeGreaterThanOrEqual(3);
    expect(steps.at(-1)).toBe(20);
    expect(points.at(-1)).toBe(20);
    expect(await view.locator(".ml-chart[data-metric=accuracy]").getAttribute("data-points")).toBe("20");
    expect(await view.locator("[data-testid=latest]").textContent()).toMatch(/loss 0\.1\s*accuracy 1/);
    await page.locator("#progress").screenshot({ path: screenshotPath("training-progress-live") });

    // Stop while the loop is still running: its signal aborts and it finishes as stopped.
    await view.locator("[data-testid=stop]").click();
    const result = await loop;
    expect(result).toEqual(["'true true stopped'"]);
    await expect.poll(() => view.locator("[data-testid=status]").textContent()).toBe("stopped");
    expect(await view.locator("[data-testid=stop]").isHidden()).toBe(true);
    expect(live.errors).toEqual([]);
    expect(live.foreign).toEqual([]);
  });
});
