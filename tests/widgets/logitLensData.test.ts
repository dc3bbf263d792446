/**
 * Logit-lens widget data and kernel model: the buffer layout against each mode's result read
 * directly, top-k lists of a cell, the widget's state and getters, building it from a prompt,
 * errors, and no tensor leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { logitLensSync } from "../../src/analysis/logitLens";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { CharTokenizer } from "../../src/tokenizers";
import { cellTopK, prepareLogitLens } from "../../src/widgets/logitLensData";
import { logitLensFromPrompt, logitLensWidget, LogitLensWidget } from "../../src/widgets/logitLensWidget";
import * as mechlab from "../../src";

const PROMPT = "abba cab";
let model: HookedTransformer;

beforeAll(async () => {
  await ready();
  model = await HookedTransformer.create(
    { nLayers: 2, dModel: 16, nHeads: 4, dHead: 4, dMlp: 24, dVocab: 6, nCtx: 16, seed: 4 },
    { tokenizer: new CharTokenizer("abc ", { bos: "^", eos: "$" }) },
  );
});

afterAll(() => model.dispose());

describe("prepareLogitLens", () => {
  it("puts both modes' rows end to end; every cell matches its mode's result", () => {
    const { output, cache } = model.runWithCache(PROMPT);
    const acc = logitLensSync(cache, { input: PROMPT, topK: 3 });
    const dec = logitLensSync(cache, { input: PROMPT, topK: 3, mode: "decomposed" });
    const data = prepareLogitLens([acc, dec]);
    expect(data.modes).toEqual(["accumulated", "decomposed"]);
    expect(data.rowStarts).toEqual([0, 3]);
    expect(data.rowNames).toEqual([["embed", "L1 in", "final"], ["embed", "pos_embed", "L0 attn", "L0 mlp", "L1 attn", "L1 mlp"]]);
    expect(data.tokens).toEqual(["^", ..."abba cab"]);
    expect(data.targetTokens).toEqual([..."abba cab", ""]);
    expect(data.targetKind).toBe("next");
    const nPos = 9;
    expect(data.targetProb.length).toBe(9 * nPos);
    expect(data.topIds.length).toBe(9 * nPos * 3);
    [acc, dec].forEach((result, m) => {
      for (let r = 0; r < result.nRows; r++)
        for (let p = 0; p < nPos; p++) {
          const here = (data.rowStarts[m] + r) * nPos + p;
          const there = r * nPos + p;
          expect(data.targetProb[here]).toEqual(result.targetProb![there]);
          expect(data.targetLogit[here]).toEqual(result.targetLogit![there]);
          expect(data.targetRank[here]).toBe(result.targetRank![there]);
          const list = cellTopK(data, result.mode, r, p);
          expect(list.map((e) => e.id)).toEqual([...result.topIds.slice(there * 3, there * 3 + 3)]);
          expect(list.map((e) => e.prob)).toEqual([...result.topProbs.slice(there * 3, there * 3 + 3)]);
          expect(list.map((e) => e.logit)).toEqual([...result.topLogits.slice(there * 3, there * 3 + 3)]);
          expect(list.map((e) => e.token)).toEqual(list.map((e) => "abc ^$"[e.id]));
        }
    });
    output.dispose();
    cache.dispose();
  });

  it("a lens without target keeps empty target buffers; unknown positions are numbered", () => {
    const { output, cache } = model.runWithCache(PROMPT);
    const data = prepareLogitLens(logitLensSync(cache));
    expect(data.targetKind).toBe("top");
    expect(data.targetProb.length).toBe(0);
    expect(data.targetIds.length).toBe(0);
    expect(data.tokens).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8"]);
    output.dispose();
    cache.dispose();
  });

  it("refuses results of different prompts, targets or repeated modes, and bad cells", () => {
    const { output, cache } = model.runWithCache(PROMPT);
    const a = logitLensSync(cache, { input: PROMPT });
    expect(() => prepareLogitLens([])).toThrow(/no logit-lens results/);
    expect(() => prepareLogitLens([a, a])).toThrow(/two results of mode "accumulated"/);
    expect(() => prepareLogitLens([a, logitLensSync(cache, { input: PROMPT, mode: "decomposed", topK: 2 })])).toThrow(/same prompt with the same target and topK/);
    expect(() => prepareLogitLens([a, logitLensSync(cache, { input: PROMPT, mode: "decomposed", target: 1 })])).toThrow(/same prompt with the same target/);
    const data = prepareLogitLens(a);
    expect(() => cellTopK(data, "decomposed", 0, 0)).toThrow(/mode "decomposed" was not computed/);
    expect(() => cellTopK(data, "accumulated", 3, 0)).toThrow(/row must be an integer in \[0, 3\)/);
    expect(() => cellTopK(data, "accumulated", 0, 9)).toThrow(/position must be an integer in \[0, 9\)/);
    output.dispose();
    cache.dispose();
  });
});

describe("LogitLensWidget", () => {
  it("holds both modes, typed-array buffers and the selection; selectedTopK reads the selected cell", () => {
    const before = tf.memory().numTensors;
    const { output, cache } = model.runWithCache(PROMPT);
    const w = logitLensWidget(cache, { model, input: PROMPT, topK: 4, colorBy: "rank" });
    output.dispose();
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(w).toBeInstanceOf(LogitLensWidget);
    expect(w.viewName).toBe("LogitLensView");
    const state = w.getState();
    expect(state).toMatchObject({ mode: "accumulated", colorBy: "rank", show: "target", selectedCell: null, hoveredCell: null, modes: ["accumulated", "decomposed"], topK: 4 });
    expect(state.topProbs).toBeInstanceOf(Float32Array);
    expect(state.topIds).toBeInstanceOf(Int32Array);
    expect(state.targetRank).toBeInstanceOf(Int32Array);
    expect(w.selectedTopK()).toBeNull();
    expect(w.selected).toBeNull();
    w.set("selectedCell", [2, 3]);
    const list = w.selectedTopK()!;
    expect(list).toHaveLength(4);
    expect(list).toEqual(cellTopK(state, "accumulated", 2, 3));
    // Probabilities come most likely first and sum to at most 1.
    expect(list.every((e, k) => k === 0 || e.prob <= list[k - 1].prob)).toBe(true);
    expect(w.selected).toMatchObject({ mode: "accumulated", row: 2, rowName: "final", position: 3, token: "b" });
    w.set("mode", "decomposed");
    expect(w.selected!.rowName).toBe("L0 attn");
    expect(String(w.mimeBundle()["text/plain"])).toBe("LogitLens(accumulated: 3 rows, decomposed: 6 rows × 9 positions, top 4)");
    expect(mechlab.logitLensWidget).toBe(logitLensWidget);
  });

  it("builds from a model and a prompt, one mode, disposing its own run", async () => {
    const before = tf.memory().numTensors;
    const w = await logitLensFromPrompt(model, PROMPT, { modes: ["decomposed"], target: "c" });
    expect(tf.memory().numTensors).toBe(before);
    expect(w.get("modes")).toEqual(["decomposed"]);
    expect(w.get("mode")).toBe("decomposed");
    expect(w.get("targetKind")).toBe("token");
    expect(w.get("targetTokens")).toEqual(new Array(9).fill("c"));
    // The same numbers as computing from a cache.
    const { output, cache } = model.runWithCache(PROMPT);
    const direct = logitLensSync(cache, { mode: "decomposed", target: "c" });
    expect([...w.get("targetProb")]).toEqual([...direct.targetProb!]);
    output.dispose();
    cache.dispose();
  });

  it("explains bad options", () => {
    const { output, cache } = model.runWithCache(PROMPT);
    expect(() => logitLensWidget(cache, { modes: ["accumulated"], mode: "decomposed" })).toThrow(/mode "decomposed" was not computed/);
    expect(() => logitLensWidget(cache, { modes: [] })).toThrow(/modes must list/);
    expect(() => logitLensWidget(cache, { colorBy: "entropy" as never })).toThrow(/colorBy must be/);
    expect(() => logitLensWidget(cache, { show: "target" })).toThrow(/show "target" needs a target token/);
    expect(() => logitLensWidget(cache, { input: PROMPT, selectedCell: [5, 0] })).toThrow(/row must be an integer in \[0, 3\)/);
    output.dispose();
    cache.dispose();
  });
});
