// @vitest-environment jsdom
/**
 * LogitLensView in jsdom with an in-memory model and a hand-made state (so every number shown is
 * known): column headers, row names, cell labels and colours, hover text, the click panel, and
 * the mode / token / colour switches.
 */
import { afterEach, describe, expect, it } from "vitest";
import { getView } from "../../widgets/views/index";
import { MemoryModel } from "../../widgets/views/memoryModel";
import { renderLogitLensView, truncateLabel } from "../../widgets/views/logitLensView";

/**
 * Two modes over a 3-token prompt "^ab" with target "next", topK 2, d_vocab 100:
 * accumulated rows "embed", "final"; decomposed rows "embed", "L0 attn".
 */
function state(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const nPos = 3;
  const topK = 2;
  const nRows = 4;
  // Top tokens of each cell (row-major [row, pos]): names say where they are.
  const topTokens: string[] = [];
  const topIds: number[] = [];
  const topProbs: number[] = [];
  const topLogits: number[] = [];
  for (let r = 0; r < nRows; r++)
    for (let p = 0; p < nPos; p++) {
      topTokens.push(`r${r}p${p}`, "second");
      topIds.push(10 * r + p, 99);
      topProbs.push(0.5 + 0.1 * p, 0.1);
      topLogits.push(r - 1 + p, -2);
    }
  // Row 1 (final), pos 0: the top token is the target "a" (id 1).
  topTokens[(1 * nPos + 0) * topK] = "a";
  topIds[(1 * nPos + 0) * topK] = 1;
  return {
    modes: ["accumulated", "decomposed"],
    rowStarts: [0, 2],
    rowNames: [["embed", "final"], ["embed", "L0 attn"]],
    rowLabels: [["0_pre", "final_post"], ["embed", "0_attn_out"]],
    tokens: ["^", "a", "b"],
    nPos, topK, dVocab: 100,
    targetKind: "next",
    targetIds: new Int32Array([1, 2, -1]),
    targetTokens: ["a", "b", ""],
    targetProb: new Float32Array([0.1, 0.2, NaN, 0.6, 0.05, NaN, 0.3, 0.4, NaN, 0.01, 0.02, NaN]),
    targetLogit: new Float32Array([-1, 0.5, NaN, 3, -2, NaN, 1, 2, NaN, -4, -3, NaN]),
    targetRank: new Int32Array([5, 2, 0, 1, 100, 0, 3, 2, 0, 50, 10, 0]),
    topIds: new Int32Array(topIds),
    topProbs: new Float32Array(topProbs),
    topLogits: new Float32Array(topLogits),
    topTokens,
    mode: "accumulated",
    colorBy: "probability",
    show: "target",
    selectedCell: null,
    hoveredCell: null,
    ...overrides,
  };
}

function mount(overrides: Record<string, unknown> = {}): { model: MemoryModel; el: HTMLElement } {
  const model = new MemoryModel(state(overrides));
  const el = document.createElement("div");
  document.body.append(el);
  renderLogitLensView({ model, el });
  return { model, el };
}

const cells = (el: HTMLElement): HTMLElement[] => [...el.querySelectorAll<HTMLElement>("td.ml-lens-cell")];
const cell = (el: HTMLElement, r: number, p: number): HTMLElement => el.querySelector<HTMLElement>(`td.ml-lens-cell[data-row="${r}"][data-pos="${p}"]`)!;
const text = (el: HTMLElement, testId: string): string => el.querySelector(`[data-testid=${testId}]`)!.textContent!;
const choose = (el: HTMLElement, testId: string, value: string): void => {
  const select = el.querySelector<HTMLSelectElement>(`select[data-testid=${testId}]`)!;
  select.value = value;
  select.dispatchEvent(new Event("change"));
};
const alpha = (td: HTMLElement): number => Number(/rgba\([^)]*, ([\d.]+)\)/.exec(td.style.backgroundColor)![1]);

afterEach(() => document.body.replaceChildren());

describe("LogitLensView", () => {
  it("is registered under LogitLensView", () => {
    expect(getView("LogitLensView")).toBe(renderLogitLensView);
  });

  it("draws rows × positions with token headers, next-token row, row names and top-token labels", () => {
    const { el } = mount();
    const heads = [...el.querySelectorAll("thead tr:first-child th .ml-lens-token")].map((th) => th.textContent);
    expect(heads).toEqual(["^", "a", "b"]);
    const targets = [...el.querySelectorAll("thead tr:nth-child(2) th")].map((th) => th.textContent);
    expect(targets).toEqual(["next →", "a", "b", "–"]);
    expect([...el.querySelectorAll("tbody th")].map((th) => th.textContent)).toEqual(["embed", "final"]);
    expect(cells(el)).toHaveLength(2 * 3);
    expect(cells(el).map((td) => td.textContent)).toEqual(["r0p0", "r0p1", "r0p2", "a", "r1p1", "r1p2"]);
    // The top token equal to the target is marked; the last position has no target (hatched).
    expect(cell(el, 1, 0).classList.contains("ml-lens-hit")).toBe(true);
    expect(cell(el, 0, 0).classList.contains("ml-lens-hit")).toBe(false);
    expect(cell(el, 0, 2).classList.contains("ml-lens-none")).toBe(true);
    // Probability colours: 0..1 sequential, 0.85 opacity at p = 1.
    expect(alpha(cell(el, 1, 0))).toBeCloseTo(0.85 * 0.6, 3);
    expect(alpha(cell(el, 0, 0))).toBeCloseTo(0.85 * 0.1, 3);
    expect(text(el, "legend-caption")).toBe("probability of the next token");
    expect(el.querySelector(".ml-legend-labels")!.textContent).toBe("00.51");
  });

  it("hover shows the cell's numbers (also as its title) and sets hoveredCell", () => {
    const { model, el } = mount();
    cell(el, 1, 1).dispatchEvent(new MouseEvent("mouseenter"));
    expect(model.get("hoveredCell")).toEqual([1, 1]);
    const expected = 'final, position 1 "a": next "b" p 0.05, logit -2, rank 100; top "r1p1": p 0.6, logit 1';
    expect(text(el, "info")).toBe(expected);
    expect(cell(el, 1, 1).title).toBe(expected);
    expect(cell(el, 1, 1).classList.contains("ml-hl")).toBe(true);
    expect(cell(el, 0, 2).title).toBe('embed, position 2 "b": no next token; top "r0p2": p 0.7, logit 1');
    el.querySelector("table.ml-lens-grid")!.dispatchEvent(new MouseEvent("mouseleave"));
    expect(model.get("hoveredCell")).toBeNull();
  });

  it("click selects the cell and lists its top-k with the target's numbers", () => {
    const { model, el } = mount();
    expect(text(el, "panel")).toBe("Click a cell for its top tokens.");
    cell(el, 1, 0).click();
    expect(model.get("selectedCell")).toEqual([1, 0]);
    expect(model.saves).toBeGreaterThan(0);
    expect(text(el, "panel-title")).toBe('final, position 0 "^"');
    const rows = [...el.querySelectorAll("[data-testid=topk] tr")].map((tr) => [...tr.querySelectorAll("td")].slice(0, 4).map((td) => td.textContent));
    expect(rows).toEqual([[], ["1", '"a"', "0.5", "0"], ["2", '"second"', "0.1", "-2"]]);
    expect(el.querySelector("[data-testid=topk] tr.ml-lens-is-target")!.textContent).toContain('"a"');
    expect(text(el, "panel-target")).toBe('next "a": p 0.6, logit 3, rank 1');
    expect(cell(el, 1, 0).classList.contains("ml-selected")).toBe(true);
    // A selection made in the kernel shows too.
    model.set("selectedCell", [0, 2]);
    expect(text(el, "panel-title")).toBe('embed, position 2 "b"');
    expect(el.querySelector("[data-testid=panel-target]")).toBeNull();
  });

  it("switches colour quantity, target / top token, and mode", () => {
    const { model, el } = mount({ selectedCell: [1, 1] });
    choose(el, "color-by", "rank");
    expect(model.get("colorBy")).toBe("rank");
    // Rank 1 → full colour; rank 100 = d_vocab → none.
    expect(alpha(cell(el, 1, 0))).toBeCloseTo(0.85, 3);
    expect(alpha(cell(el, 1, 1))).toBeCloseTo(0, 3);
    expect(text(el, "legend-caption")).toBe("rank of the next token (log scale, 1 = top)");
    expect(el.querySelector(".ml-legend-labels")!.textContent).toBe("100101");

    choose(el, "color-by", "logit");
    expect(text(el, "legend-caption")).toBe("logit of the next token");
    // Diverging around 0 over [-2, 3]: 3 is full blue, -2 is red at 2/3.
    expect(cell(el, 1, 0).style.backgroundColor).toMatch(/rgba\(33, 102, 172, 0\.85\)/);
    expect(cell(el, 1, 1).style.backgroundColor).toMatch(/rgba\(178, 24, 43, 0\.567\)/);

    choose(el, "show", "top");
    expect(model.get("show")).toBe("top");
    expect(text(el, "legend-caption")).toBe("logit of each cell's top token");
    expect(cell(el, 0, 2).classList.contains("ml-lens-none")).toBe(false);

    choose(el, "mode", "decomposed");
    expect(model.get("mode")).toBe("decomposed");
    expect(model.get("selectedCell")).toBeNull();
    expect([...el.querySelectorAll("tbody th")].map((th) => th.textContent)).toEqual(["embed", "L0 attn"]);
    expect(cells(el).map((td) => td.textContent)).toEqual(["r2p0", "r2p1", "r2p2", "r3p0", "r3p1", "r3p2"]);
    expect(el.querySelector("thead th")!.textContent).toBe("term \\ token");
  });

  it("without a target offers only the top token; with one mode no mode switch", () => {
    const { el } = mount({ targetKind: "top", targetIds: new Int32Array(0), targetTokens: [], targetProb: new Float32Array(0), targetLogit: new Float32Array(0), targetRank: new Int32Array(0), show: "top", modes: ["accumulated"], rowStarts: [0], rowNames: [["embed", "final"]], rowLabels: [["0_pre", "final_post"]] });
    expect(el.querySelector("select[data-testid=show]")).toBeNull();
    expect(el.querySelector("select[data-testid=mode]")).toBeNull();
    expect(el.querySelectorAll("thead tr")).toHaveLength(1);
    expect(cell(el, 0, 0).title).toBe('embed, position 0 "^": top "r0p0": p 0.5, logit -1');
  });

  it("truncates long labels, keeping the whole token on hover", () => {
    expect(truncateLabel("abcdefgh")).toBe("abcde…");
    expect(truncateLabel("ab\n")).toBe("ab↵");
    expect(truncateLabel(" ")).toBe("␣");
    expect(truncateLabel(" a")).toBe(" a");
    const { el } = mount({ tokens: ["^", " internationalization", "b"] });
    const th = el.querySelectorAll("thead tr:first-child th")[2] as HTMLElement;
    expect(th.querySelector(".ml-lens-token")!.textContent).toBe(" inte…");
    expect(th.title).toBe('position 1: " internationalization"');
  });
});
