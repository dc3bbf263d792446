// @vitest-environment jsdom
/**
 * PatchingSweepView in jsdom with an in-memory model: cells fill in as values arrive, hatched
 * uncomputed cells, diverging colours centred on 0 with a symmetric legend, progress and cancel
 * while running, the final status, hover tooltip, click → selectedCell and the detail panel.
 */
import { afterEach, describe, expect, it } from "vitest";
import { patchingSweepWidget } from "../../src/widgets/patchingSweepWidget";
import { getView } from "../../widgets/views/index";
import { MemoryModel } from "../../widgets/views/memoryModel";
import { renderPatchingSweepView } from "../../widgets/views/patchingSweepView";

function mount(state: Record<string, unknown>): { model: MemoryModel; el: HTMLElement; cleanup: () => void } {
  const model = new MemoryModel(state);
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = renderPatchingSweepView({ model, el }) as () => void;
  return { model, el, cleanup };
}

/** The state the kernel model sends, built by the kernel model itself. */
function kernelState(rows = 2, cols = 3): Record<string, unknown> {
  const w = patchingSweepWidget({ kind: "layer × position", rows, cols, colLabels: Array.from({ length: cols }, (_, c) => ["The", " cat", " sat", "\n"][c % 4]), metricName: "logit diff recovered" });
  return w.getState() as unknown as Record<string, unknown>;
}

const cells = (el: HTMLElement): HTMLElement[] => [...el.querySelectorAll<HTMLElement>(".ml-sweep-cell")];
const text = (el: HTMLElement, id: string): string => el.querySelector<HTMLElement>(`[data-testid=${id}]`)!.textContent!;
const shown = (el: HTMLElement, id: string): boolean => el.querySelector<HTMLElement>(`[data-testid=${id}]`)!.style.display !== "none";

/** A new values array (the in-memory model fires only on a new object, as a live one does per update). */
function withValues(model: MemoryModel, patch: Record<number, number>): void {
  const next = Float32Array.from(model.get("values") as Float32Array);
  for (const [i, v] of Object.entries(patch)) next[Number(i)] = v;
  model.set("values", next);
}

afterEach(() => document.body.replaceChildren());

describe("PatchingSweepView", () => {
  it("is registered under PatchingSweepView", () => {
    expect(getView("PatchingSweepView")).toBe(renderPatchingSweepView);
  });

  it("draws the grid with labels, every cell hatched before any value", () => {
    const { el } = mount(kernelState());
    expect(cells(el)).toHaveLength(6);
    expect(cells(el).every((c) => c.classList.contains("ml-empty"))).toBe(true);
    expect([...el.querySelectorAll(".ml-sweep-row-label")].map((x) => x.textContent)).toEqual(["L0", "L1"]);
    expect([...el.querySelectorAll(".ml-sweep-col-label")].map((x) => x.textContent)).toEqual(["The", " cat", " sat"]);
    expect(text(el, "title")).toBe("logit diff recovered — layer × position (2 × 3)");
    expect(text(el, "status")).toBe("Waiting: 0 / 6 cells");
    expect(shown(el, "progress")).toBe(false);
  });

  it("fills cells as values arrive, colours diverge around 0 on a symmetric scale", () => {
    const { model, el } = mount(kernelState());
    model.set("status", "running");
    withValues(model, { 0: 2, 1: -1 });
    model.set("done", 2);
    const c = cells(el);
    expect(c.filter((x) => x.classList.contains("ml-filled"))).toHaveLength(2);
    expect(c[2].classList.contains("ml-empty")).toBe(true);
    // Symmetric ±2: 2 is full blue, -1 half-strength red.
    expect(c[0].style.backgroundColor).toMatch(/rgba\(33, 102, 172, 0\.85\)/);
    expect(c[1].style.backgroundColor).toMatch(/rgba\(178, 24, 43, 0\.425\)/);
    expect(el.querySelector(".ml-legend-labels")!.textContent).toBe("-202");
    // Progress while running.
    expect(shown(el, "progress")).toBe(true);
    expect(text(el, "progress-text")).toBe("2 / 6");
    expect(el.querySelector<HTMLElement>(".ml-sweep-bar-fill")!.style.width).toBe("33.3%");
    withValues(model, { 2: -4 });
    expect(cells(el).filter((x) => x.classList.contains("ml-filled"))).toHaveLength(3);
    expect(el.querySelector(".ml-legend-labels")!.textContent).toBe("-404");
    expect(cells(el)[0].style.backgroundColor).toMatch(/rgba\(33, 102, 172, 0\.425\)/);
  });

  it("a fixed valueRange keeps the scale", () => {
    const state = kernelState();
    state.valueRange = [-1, 1];
    const { model, el } = mount(state);
    withValues(model, { 0: 0.5, 1: 3 });
    expect(cells(el)[0].style.backgroundColor).toMatch(/rgba\(33, 102, 172, 0\.425\)/);
    expect(cells(el)[1].style.backgroundColor).toMatch(/rgba\(33, 102, 172, 0\.85\)/);
    expect(el.querySelector(".ml-legend-labels")!.textContent).toBe("-101");
  });

  it("the cancel button sends the cancel message once; the final status replaces the progress", () => {
    const { model, el } = mount(kernelState());
    model.set("status", "running");
    const button = el.querySelector<HTMLButtonElement>("[data-testid=cancel]")!;
    button.click();
    expect(model.sent).toEqual([{ event: "cancel" }]);
    expect(button.disabled).toBe(true);
    model.set("message", "cancelled (cancel button) after 2 of 6 cells, 40 ms");
    model.set("status", "cancelled");
    expect(shown(el, "progress")).toBe(false);
    expect(text(el, "status")).toBe("Cancelled (cancel button) after 2 of 6 cells, 40 ms");
    model.set("message", "boom at [row 1, col 2]");
    model.set("status", "error");
    expect(text(el, "status")).toBe("Error: boom at [row 1, col 2]");
    expect(el.querySelector("[data-testid=status]")!.classList.contains("ml-error")).toBe(true);
  });

  it("hover shows the cell's labels and value; click selects it (selectedCell) and fills the detail panel", () => {
    const { model, el } = mount(kernelState());
    withValues(model, { 0: 0.25, 4: -0.5, 5: 1 });
    const c = cells(el);
    c[4].dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    expect(shown(el, "tooltip")).toBe(true);
    expect(text(el, "tooltip")).toBe('layer L1 · position " cat"\nlogit diff recovered: -0.5');
    c[3].dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    expect(text(el, "tooltip")).toBe('layer L1 · position "The"\nlogit diff recovered: not computed yet');
    el.querySelector("[data-testid=heatmap]")!.dispatchEvent(new MouseEvent("mouseleave"));
    expect(shown(el, "tooltip")).toBe(false);

    c[4].click();
    expect(model.get("selectedCell")).toEqual([1, 1]);
    expect(model.saves).toBe(1);
    expect(c[4].classList.contains("ml-selected")).toBe(true);
    // Rank among computed values 1, 0.25, -0.5: third; row 1 max is 1; column 1 max is -0.5.
    expect(text(el, "detail")).toBe('layer L1 (row 1), position " cat" (col 1)\nlogit diff recovered = -0.5\nrank 3 of 3 computed · row max 1 · col max -0.5');
    // The kernel may set it too.
    model.set("selectedCell", [0, 0]);
    expect(c[4].classList.contains("ml-selected")).toBe(false);
    expect(text(el, "detail")).toMatch(/^layer L0 \(row 0\), position "The" \(col 0\)\nlogit diff recovered = 0.25/);
    // Clicking the selected cell clears the selection.
    c[0].click();
    expect(model.get("selectedCell")).toBeNull();
    expect(text(el, "detail")).toBe("Click a cell for its numbers.");
  });

  it("long column labels stand upright; a 48 × 128 grid renders every cell and repaints them all", () => {
    const state = kernelState(48, 128);
    const { model, el } = mount(state);
    expect(cells(el)).toHaveLength(48 * 128);
    expect(el.querySelector(".ml-sweep-col-label")!.classList.contains("ml-rot")).toBe(true);
    const values = new Float32Array(48 * 128).map((_, i) => Math.sin(i));
    model.set("values", values.slice());
    expect(cells(el).filter((x) => x.classList.contains("ml-filled"))).toHaveLength(48 * 128);
    // Speed is measured by bench/widgetRender.ts, not asserted here.
  });

  it("reads values sent as a DataView (the live widget's form)", () => {
    const state = kernelState();
    const values = new Float32Array([1, NaN, NaN, NaN, NaN, -1]);
    state.values = new DataView(values.buffer);
    const { el } = mount(state);
    expect(cells(el).map((c) => c.classList.contains("ml-filled"))).toEqual([true, false, false, false, false, true]);
  });

  it("cleanup empties the element", () => {
    const { el, cleanup } = mount(kernelState());
    cleanup();
    expect(el.children).toHaveLength(0);
  });
});
