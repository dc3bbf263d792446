// @vitest-environment jsdom
/**
 * FeatureDashboardView in jsdom with an in-memory model holding the kernel model's state: header,
 * histogram bars and ticks, boosted / suppressed columns, context tokens coloured by activation
 * with the max token outlined, hover text for tokens and bars, click → selectedContext.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ready } from "../../src/backend";
import { featureDashboard } from "../../src/widgets/featureDashboardWidget";
import { renderFeatureDashboardView, niceTicks } from "../../widgets/views/featureDashboardView";
import { getView } from "../../widgets/views/index";
import { MemoryModel } from "../../widgets/views/memoryModel";

const ACTS = [[0, 5, 1, 4], [3, 0, 6], [0, 0, 2, 0]];
const TOKENS = [["a", "b", "c", "d"], ["e", "f", "g"], ["h", "i", "\n", "k"]];
// W_U [2, 4] and a direction [2]: effect = [1·1 + 2·0, 1·0 + 2·1, 1·(−1) + 2·0, 1·0 + 2·(−2)] = [1, 2, −1, −4]
const UNEMBED = [[1, 0, -1, 0], [0, 1, 0, -2]];

function kernelState(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const w = featureDashboard(ACTS, { tokens: TOKENS, topK: 3, contextLeft: 1, contextRight: 1, direction: [1, 2], unembed: UNEMBED, vocab: ["w", "x", "y", "z"], topLogits: 2, bins: 4, title: "neuron 0.3", ...extra });
  return w.getState() as unknown as Record<string, unknown>;
}

function mount(state: Record<string, unknown>): { model: MemoryModel; el: HTMLElement; cleanup: () => void } {
  const model = new MemoryModel(state);
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = renderFeatureDashboardView({ model, el }) as () => void;
  return { model, el, cleanup };
}

const q = (el: HTMLElement, testId: string): HTMLElement[] => [...el.querySelectorAll<HTMLElement>(`[data-testid=${testId}]`)];
const info = (el: HTMLElement): string => q(el, "info")[0].textContent!;

beforeAll(async () => {
  await ready();
});

afterEach(() => document.body.replaceChildren());

describe("FeatureDashboardView", () => {
  it("is registered under FeatureDashboardView", () => {
    expect(getView("FeatureDashboardView")).toBe(renderFeatureDashboardView);
  });

  it("header: title, density and max activation", () => {
    const { el } = mount(kernelState());
    expect(el.querySelector(".ml-fd-title")!.textContent).toBe("neuron 0.3");
    // 6 of 11 tokens are > 0.
    expect(q(el, "density")[0].textContent).toBe("density 54.5%");
    expect(q(el, "density")[0].title).toBe("6 of 11 tokens have activation > 0");
    expect(q(el, "max-activation")[0].textContent).toBe("max activation 6");
  });

  it("histogram: one bar per bin with heights by count, axis ticks, hover shows range and count", () => {
    const { el } = mount(kernelState());
    // Active values 5, 1, 4, 3, 6, 2 over [1, 6] in 4 bins of 1.25: [1, 2.25) 2, [2.25, 3.5) 1, [3.5, 4.75) 1, [4.75, 6] 2.
    const bars = q(el, "bar");
    expect(bars.map((b) => b.getAttribute("data-count"))).toEqual(["2", "1", "1", "2"]);
    const heights = bars.map((b) => Number(b.getAttribute("height")));
    expect(heights[0]).toBeCloseTo(2 * heights[1], 6);
    expect(heights[3]).toBe(heights[0]);
    expect(q(el, "x-tick").map((t) => t.textContent)).toEqual(["1", "2", "3", "4", "5", "6"]);
    expect(q(el, "y-tick").map((t) => t.textContent)).toEqual(["0", "1", "2"]);
    bars[1].dispatchEvent(new MouseEvent("mouseenter"));
    expect(info(el)).toBe("activation in [2.25, 3.5): 1 token");
    expect(bars[1].classList.contains("ml-hl")).toBe(true);
    bars[3].dispatchEvent(new MouseEvent("mouseenter"));
    expect(info(el)).toBe("activation in [4.75, 6]: 2 tokens");
  });

  it("boosted and suppressed columns: k tokens each, bars and signed values", () => {
    const { el } = mount(kernelState());
    const rows = (id: string): string[][] => q(q(el, id)[0], "logit-row").map((r) => [r.querySelector(".ml-token")!.textContent!, r.querySelector(".ml-fd-logit-value")!.textContent!]);
    expect(rows("boosted")).toEqual([["x", "+2"], ["w", "+1"]]);
    expect(rows("suppressed")).toEqual([["z", "-4"], ["y", "-1"]]);
    const bars = [...q(el, "suppressed")[0].querySelectorAll<HTMLElement>(".ml-fd-logit-bar")];
    expect(bars.map((b) => b.style.width)).toEqual(["100%", "25%"]);
  });

  it("no direction: no logit columns", () => {
    const w = featureDashboard(ACTS, { tokens: TOKENS });
    const { el } = mount(w.getState() as unknown as Record<string, unknown>);
    expect(q(el, "logits")).toHaveLength(0);
    expect(q(el, "context")).toHaveLength(3);
  });

  it("contexts: window tokens coloured by activation, the max token outlined, hover text, legend", () => {
    const { el } = mount(kernelState());
    const contexts = q(el, "context");
    expect(contexts.map((c) => [...c.querySelectorAll(".ml-token")].map((s) => s.textContent))).toEqual([["f", "g"], ["a", "b", "c"], ["i", "↵", "k"]]);
    const max = contexts.map((c) => c.querySelector(".ml-fd-max")!.textContent);
    expect(max).toEqual(["g", "b", "↵"]);
    expect(contexts[0].querySelector(".ml-fd-meta")!.textContent).toBe("6 · t1:2");
    const spans = [...contexts[0].querySelectorAll<HTMLElement>(".ml-token")];
    // Sequential scale 0 → 6: 0 has no colour, 6 full colour.
    expect(spans[0].style.backgroundColor).toMatch(/rgba\(33, 102, 172, 0\)/);
    expect(spans[1].style.backgroundColor).toMatch(/rgba\(33, 102, 172, 0\.85\)/);
    const third = [...contexts[2].querySelectorAll<HTMLElement>(".ml-token")];
    expect(third[1].style.backgroundColor).toMatch(/rgba\(33, 102, 172, 0\.28/); // 2 / 6 of 0.85
    expect(third[1].title).toBe('"\\n" activation 2');
    third[1].dispatchEvent(new MouseEvent("mouseenter"));
    expect(info(el)).toBe('"\\n" (text 2, position 2) activation: 2');
    expect(third[1].classList.contains("ml-hl")).toBe(true);
    q(el, "contexts")[0].dispatchEvent(new MouseEvent("mouseleave"));
    expect(el.querySelectorAll(".ml-hl")).toHaveLength(0);
    expect(q(el, "legend")[0].querySelector(".ml-legend-labels")!.textContent).toBe("036");
    expect(q(el, "group").map((g) => g.textContent)).toEqual(["Top activations"]);
  });

  it("click a context: selectedContext is set and saved, the row marked; a kernel change moves the mark", () => {
    const { model, el, cleanup } = mount(kernelState());
    const contexts = q(el, "context");
    contexts[2].querySelector<HTMLElement>(".ml-token")!.click();
    expect(model.get("selectedContext")).toBe(2);
    expect(model.saves).toBe(1);
    expect(contexts.map((c) => c.classList.contains("ml-selected"))).toEqual([false, false, true]);
    model.set("selectedContext", 0);
    expect(contexts.map((c) => c.classList.contains("ml-selected"))).toEqual([true, false, false]);
    cleanup();
    expect(el.children).toHaveLength(0);
  });

  it("band groups get headings; an empty band says so", () => {
    const { el } = mount(kernelState({ bands: 3, samplesPerBand: 1 }));
    const groups = q(el, "group").map((g) => g.textContent);
    expect(groups).toHaveLength(4);
    // Active values 5, 1, 4, 3, 6, 2 in (0, 6] by thirds: (4, 6] holds 5 and 6, (2, 4] 4 and 3, (0, 2] 1 and 2.
    expect(groups.slice(1)).toEqual(["Activation in (4, 6] · 2 token(s)", "Activation in (2, 4] · 2 token(s)", "Activation in (0, 2] · 2 token(s)"]);
    expect(q(el, "context")).toHaveLength(3 + 3);
    const empty = mount(kernelState({ bands: 6, samplesPerBand: 1 })).el;
    // (0, 1] · 1 token, (1, 2] · 1, … every band of 1 holds one value: none empty; with 12 bands of 0.5, half are.
    expect(q(empty, "group")).toHaveLength(7);
    const sparse = mount(kernelState({ bands: 12, samplesPerBand: 1 })).el;
    expect(sparse.querySelectorAll(".ml-fd-contexts > .ml-muted")).toHaveLength(6);
  });

  it("niceTicks: 1-2-5 steps inside the range", () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.13, 0.97, 4)).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(0, 37, 3)).toEqual([0, 10, 20, 30]);
    expect(niceTicks(2, 2, 3)).toEqual([2]);
  });
});
