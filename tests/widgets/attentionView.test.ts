// @vitest-environment jsdom
/**
 * AttentionView in jsdom with an in-memory model: tokens on the page, thumbnails for every
 * layer × head, click to focus, the heatmap's cells and axes, hover highlighting and
 * `hoveredToken`, pickers and the upper-triangle mask. (No 2-D canvas here: pixels are for the
 * browser tests.)
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ready, tf } from "../../src/backend";
import { attentionPatterns } from "../../src/widgets/attentionWidget";
import { renderAttentionView } from "../../widgets/views/attentionView";
import { getView } from "../../widgets/views/index";
import { MemoryModel } from "../../widgets/views/memoryModel";

const TOKENS = ["<|endoftext|>", "When", " Mary", " and"];
const N = TOKENS.length;
const LAYERS = [0, 1];
const HEADS = [0, 1, 2];

/** A causal pattern whose value encodes (layer, head, q, k) so cells can be checked. */
function patterns(): Float32Array {
  const out = new Float32Array(LAYERS.length * HEADS.length * N * N);
  let i = 0;
  for (let l = 0; l < LAYERS.length; l++)
    for (let h = 0; h < HEADS.length; h++)
      for (let q = 0; q < N; q++) for (let k = 0; k < N; k++) out[i++] = k <= q ? (k === q ? 0.5 : 0.5 / q) : 0;
  return out;
}

function state(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tokens: [TOKENS], patterns: patterns(), nPrompts: 1, nLayers: 2, nHeads: 3, nPos: N, layers: LAYERS, heads: HEADS,
    selectedPrompt: 0, selectedLayer: null, selectedHead: null, hoveredToken: null, maskUpperTriangle: true, ...extra,
  };
}

function mount(extra: Record<string, unknown> = {}): { model: MemoryModel; el: HTMLElement; cleanup: () => void } {
  const model = new MemoryModel(state(extra));
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = renderAttentionView({ model, el }) as () => void;
  return { model, el, cleanup };
}

const q = (el: HTMLElement, selector: string): HTMLElement[] => [...el.querySelectorAll<HTMLElement>(selector)];
const hover = (target: Element): void => void target.dispatchEvent(new MouseEvent("mouseenter"));

// A backend chosen up front (else tfjs tries WebGL in this window-like environment).
beforeAll(async () => {
  await ready();
});

// jsdom has no 2-D canvas context (it would log "not implemented"): the view must do without one.
beforeEach(() => {
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
});
afterEach(() => {
  vi.restoreAllMocks();
  document.body.replaceChildren();
});

describe("AttentionView", () => {
  it("is registered under AttentionView", () => {
    expect(getView("AttentionView")).toBe(renderAttentionView);
  });

  it("shows the tokens and a thumbnail per layer and head; clicking one focuses that head", () => {
    const { model, el } = mount();
    expect(q(el, "[data-testid=tokens] .ml-token").map((t) => t.textContent)).toEqual(TOKENS);
    const thumbs = q(el, "[data-testid=thumbnail]");
    expect(thumbs.map((t) => `${t.dataset.layer}.${t.dataset.head}`)).toEqual(["0.0", "0.1", "0.2", "1.0", "1.1", "1.2"]);
    expect(thumbs.every((t) => t.querySelector("canvas")?.width === N)).toBe(true);
    expect(q(el, "[data-testid=heatmap]")[0].parentElement!.style.display).toBe("none");

    thumbs[4].click();
    expect(model.get("selectedLayer")).toBe(1);
    expect(model.get("selectedHead")).toBe(1);
    expect(model.saves).toBeGreaterThan(0);
    expect(q(el, "[data-testid=grid]")[0].style.display).toBe("none");
    const cells = q(el, "[data-testid=heatmap] .ml-cell");
    expect(cells).toHaveLength(N * N);
    expect(q(el, "[data-testid=query-label]").map((t) => t.textContent)).toEqual(TOKENS);
    expect(q(el, "[data-testid=key-label]").map((t) => t.textContent)).toEqual(TOKENS);
    expect((el.querySelector("[data-testid=head]") as HTMLSelectElement).value).toBe("1");
    expect((el.querySelector("[data-testid=layer]") as HTMLSelectElement).value).toBe("1");
  });

  it("colours cells by value, blanks the upper triangle when masked, and the mask toggles", () => {
    const { model, el } = mount({ selectedLayer: 0, selectedHead: 2 });
    const cell = (qq: number, k: number) => el.querySelector<HTMLElement>(`.ml-cell[data-q="${qq}"][data-k="${k}"]`)!;
    expect(cell(2, 2).title).toBe(" Mary →  Mary: 0.5");
    expect(cell(2, 2).style.backgroundColor).not.toBe("transparent");
    expect(cell(1, 3).classList.contains("ml-masked")).toBe(true);
    const box = el.querySelector<HTMLInputElement>("[data-testid=mask]")!;
    expect(box.checked).toBe(true);
    box.checked = false;
    box.dispatchEvent(new Event("change"));
    expect(model.get("maskUpperTriangle")).toBe(false);
    expect(cell(1, 3).classList.contains("ml-masked")).toBe(false);
    expect(cell(1, 3).title).toBe("When →  and: 0");
  });

  it("hovering a token highlights its row and column, lists the values, and sets hoveredToken", () => {
    const { model, el } = mount({ selectedLayer: 1, selectedHead: 0 });
    hover(q(el, "[data-testid=query-label]")[2]);
    expect(model.get("hoveredToken")).toBe(2);
    const rows = q(el, ".ml-cell.ml-hl-row");
    const cols = q(el, ".ml-cell.ml-hl-col");
    expect(rows.map((c) => c.dataset.q)).toEqual(["2", "2", "2", "2"]);
    expect(cols.map((c) => c.dataset.k)).toEqual(["2", "2", "2", "2"]);
    expect(q(el, "[data-testid=key-label]")[2].classList.contains("ml-hl")).toBe(true);
    expect(q(el, "[data-testid=tokens] .ml-token")[2].classList.contains("ml-hl")).toBe(true);
    const info = el.querySelector("[data-testid=info]")!.textContent!;
    expect(info).toContain('" Mary" (2) attends to: " Mary" (2) 0.5, "<|endoftext|>" (0) 0.25, "When" (1) 0.25');
    expect(info).toContain('attended by: " Mary" (2) 0.5, " and" (3) 0.167');

    // Hovering the token strip does the same; leaving clears it.
    hover(q(el, "[data-testid=tokens] .ml-token")[0]);
    expect(model.get("hoveredToken")).toBe(0);
    expect(q(el, ".ml-cell.ml-hl-row").map((c) => c.dataset.q)).toEqual(["0", "0", "0", "0"]);
    el.querySelector("[data-testid=heatmap]")!.dispatchEvent(new MouseEvent("mouseleave"));
    expect(model.get("hoveredToken")).toBeNull();
    expect(q(el, ".ml-hl-row, .ml-hl-col")).toHaveLength(0);

    // A hover set from the kernel shows too.
    model.set("hoveredToken", 3);
    expect(q(el, ".ml-cell.ml-hl-row").map((c) => c.dataset.q)).toEqual(["3", "3", "3", "3"]);
  });

  it("pickers switch layer and head and return to the grid; a layer narrows the grid", () => {
    const { model, el } = mount();
    const layer = el.querySelector<HTMLSelectElement>("[data-testid=layer]")!;
    const head = el.querySelector<HTMLSelectElement>("[data-testid=head]")!;
    layer.value = "1";
    layer.dispatchEvent(new Event("change"));
    expect(model.get("selectedLayer")).toBe(1);
    expect(q(el, "[data-testid=thumbnail]").map((t) => t.dataset.layer)).toEqual(["1", "1", "1"]);
    head.value = "2";
    head.dispatchEvent(new Event("change"));
    expect(model.get("selectedHead")).toBe(2);
    expect(el.querySelector("[data-testid=heatmap]")!.parentElement!.style.display).toBe("");
    el.querySelector<HTMLButtonElement>("[data-testid=back]")!.click();
    expect(model.get("selectedHead")).toBeNull();
    expect(q(el, "[data-testid=grid]")[0].style.display).toBe("");
  });

  it("several prompts: a prompt picker; switching shows the other prompt's tokens", () => {
    const two = new Float32Array(2 * patterns().length);
    two.set(patterns());
    two.set(patterns(), patterns().length);
    const { model, el, cleanup } = mount({ tokens: [TOKENS, ["A", " B", " C", " D"]], patterns: two, nPrompts: 2 });
    const picker = el.querySelector<HTMLSelectElement>("[data-testid=prompt]")!;
    picker.value = "1";
    picker.dispatchEvent(new Event("change"));
    expect(model.get("selectedPrompt")).toBe(1);
    expect(q(el, "[data-testid=tokens] .ml-token").map((t) => t.textContent)).toEqual(["A", " B", " C", " D"]);
    cleanup();
    expect(el.children).toHaveLength(0);
  });

  it("draws each thumbnail as one pixel per (query, key), opacity by value, when a 2-D context exists", () => {
    const images: ImageData[] = [];
    const context = {
      createImageData: (w: number, h: number) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
      putImageData: (image: ImageData) => void images.push(image),
    };
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(context as never);
    mount();
    expect(images).toHaveLength(LAYERS.length * HEADS.length);
    const alpha = (qq: number, k: number) => images[0].data[(qq * N + k) * 4 + 3];
    expect(alpha(0, 0)).toBe(Math.round(255 * 0.85 * 0.5));
    expect(alpha(0, 3)).toBe(0);
    expect(alpha(3, 0)).toBe(Math.round(255 * 0.85 * (0.5 / 3)));
  });

  it("renders the state the kernel model makes from a pattern tensor", () => {
    const t = tf.tensor(patterns(), [LAYERS.length, HEADS.length, N, N]);
    const w = attentionPatterns(t, { tokens: TOKENS, heads: [2, 0] });
    t.dispose();
    const model = new MemoryModel(w.getState() as unknown as Record<string, unknown>);
    const el = document.createElement("div");
    renderAttentionView({ model, el });
    expect(q(el, "[data-testid=thumbnail]").map((th) => `${th.dataset.layer}.${th.dataset.head}`)).toEqual(["0.2", "0.0", "1.2", "1.0"]);
    q(el, "[data-testid=thumbnail]")[2].click();
    expect(model.get("selectedLayer")).toBe(1);
    expect(model.get("selectedHead")).toBe(2);
    expect(el.querySelector<HTMLElement>('.ml-cell[data-q="1"][data-k="0"]')!.title).toBe("When → <|endoftext|>: 0.5");
  });
});
