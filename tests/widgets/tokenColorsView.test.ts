// @vitest-environment jsdom
/**
 * TokenColorsView in jsdom with an in-memory model: tokens of every text, colours and hover
 * values, `hoveredToken`, switching value sets, and a state made by the kernel-side model.
 */
import { afterEach, describe, expect, it } from "vitest";
import { tokenColors } from "../../src/widgets/tokenColorsWidget";
import { getView } from "../../widgets/views/index";
import { MemoryModel } from "../../widgets/views/memoryModel";
import { renderTokenColorsView } from "../../widgets/views/tokenColorsView";

function mount(state: Record<string, unknown>): { model: MemoryModel; el: HTMLElement; cleanup: () => void } {
  const model = new MemoryModel(state);
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = renderTokenColorsView({ model, el }) as () => void;
  return { model, el, cleanup };
}

/** The state the kernel model sends, built by the kernel model itself. */
function kernelState(): Record<string, unknown> {
  const w = tokenColors([["The", " cat", "\n"], ["A", " dog"]], { act: [[0, 1, 2], [4, -4]], loss: [[3, 2, 1], [0, 0.5]] });
  return w.getState() as unknown as Record<string, unknown>;
}

const spans = (el: HTMLElement): HTMLElement[] => [...el.querySelectorAll<HTMLElement>(".ml-token")];
const info = (el: HTMLElement): string => el.querySelector("[data-testid=info]")!.textContent!;

afterEach(() => document.body.replaceChildren());

describe("TokenColorsView", () => {
  it("is registered under TokenColorsView", () => {
    expect(getView("TokenColorsView")).toBe(renderTokenColorsView);
  });

  it("shows every text's tokens coloured by the selected set, with values on hover", () => {
    const { el } = mount(kernelState());
    const texts = [...el.querySelectorAll<HTMLElement>(".ml-text")];
    expect(texts.map((t) => [...t.querySelectorAll(".ml-token")].map((s) => s.textContent))).toEqual([["The", " cat", "↵"], ["A", " dog"]]);
    const s = spans(el);
    expect(s.map((span) => span.title)).toEqual(["act: 0", "act: 1", "act: 2", "act: 4", "act: -4"]);
    // Diverging around 0: zero has no colour, ±4 the strongest of each hue.
    expect(s[0].style.backgroundColor).toMatch(/rgba\(33, 102, 172, 0\)/);
    expect(s[3].style.backgroundColor).toMatch(/rgba\(33, 102, 172, 0\.85\)/);
    expect(s[4].style.backgroundColor).toMatch(/rgba\(178, 24, 43, 0\.85\)/);
    expect(el.querySelector(".ml-legend-labels")!.textContent).toBe("-404");
  });

  it("hover sets hoveredToken, highlights the token and shows its value; leaving clears it", () => {
    const { model, el } = mount(kernelState());
    spans(el)[4].dispatchEvent(new MouseEvent("mouseenter"));
    expect(model.get("hoveredToken")).toEqual([1, 1]);
    expect(model.saves).toBe(1);
    expect(spans(el)[4].classList.contains("ml-hl")).toBe(true);
    expect(info(el)).toBe('" dog" (text 1, position 1) act: -4');
    el.querySelector("[data-testid=texts]")!.dispatchEvent(new MouseEvent("mouseleave"));
    expect(model.get("hoveredToken")).toBeNull();
    expect(el.querySelectorAll(".ml-hl")).toHaveLength(0);
  });

  it("switching the value set recolours the tokens and updates the hover text", () => {
    const { model, el, cleanup } = mount(kernelState());
    spans(el)[0].dispatchEvent(new MouseEvent("mouseenter"));
    const picker = el.querySelector<HTMLSelectElement>("[data-testid=set]")!;
    expect([...picker.options].map((o) => o.value)).toEqual(["act", "loss"]);
    picker.value = "loss";
    picker.dispatchEvent(new Event("change"));
    expect(model.get("selectedSet")).toBe("loss");
    expect(spans(el).map((span) => span.title)).toEqual(["loss: 3", "loss: 2", "loss: 1", "loss: 0", "loss: 0.5"]);
    expect(info(el)).toBe('"The" (text 0, position 0) loss: 3');
    // The scale stays diverging around 0, but a set on one side of 0 labels its centre once.
    expect([...el.querySelectorAll(".ml-legend-labels span")].map((span) => span.textContent)).toEqual(["0", "3"]);
    // A set chosen in the kernel shows as well.
    model.set("selectedSet", "act");
    expect(picker.value).toBe("act");
    expect(spans(el)[0].title).toBe("act: 0");
    cleanup();
    expect(el.children).toHaveLength(0);
  });

  it("one text and one set: no picker, the set named; a sequential scale", () => {
    const { el } = mount({
      tokens: [["x", "y"]], values: new Float32Array([1, 3]), setNames: ["loss"], textLengths: [2],
      colorScale: "sequential", center: 0, selectedSet: "loss", hoveredToken: null,
    });
    expect(el.querySelector("[data-testid=set]")).toBeNull();
    expect(el.querySelector("[data-testid=set-name]")!.textContent).toBe("loss");
    spans(el)[0].dispatchEvent(new MouseEvent("mouseenter"));
    expect(info(el)).toBe('"x" (position 0) loss: 1');
    expect(el.querySelector(".ml-legend-labels")!.textContent).toBe("01.53");
  });
});
