/**
 * Feature dashboard data preparation and kernel model, checked against plain-loop oracles written
 * here: top-k contexts (sorted by hand), their windows, band samples, histogram counts (by
 * comparing with the edges), density, and the direct logit effect (a plain matmul, sorted by
 * hand); bad input; no leaked tensors.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { CharTokenizer } from "../../src/tokenizers";
import { contextOf, prepareFeatureDashboard, type FeatureDashboardData } from "../../src/widgets/featureDashboardData";
import { featureDashboard, FeatureDashboardWidget } from "../../src/widgets/featureDashboardWidget";
import * as mechlab from "../../src";

/** A seeded generator for test data (not the one the code uses). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Ragged dataset: text t has lengths[t] tokens "t<t>p<p>" and activations (ReLU of a shifted uniform). */
function dataset(lengths: number[], seed = 1): { acts: number[][]; tokens: string[][] } {
  const r = lcg(seed);
  const acts = lengths.map((n) => Array.from({ length: n }, () => Math.max(0, Math.fround(r() * 4 - 1.5))));
  const tokens = lengths.map((n, t) => Array.from({ length: n }, (_, p) => `t${t}p${p}`));
  return { acts, tokens };
}

/** Context c of the prepared data read straight from the buffers. */
function contexts(data: FeatureDashboardData): { text: number; position: number; start: number; tokens: string[]; acts: number[] }[] {
  let offset = 0;
  return data.contextTokens.map((tokens, c) => {
    const acts = Array.from(data.contextActivations.subarray(offset, offset + tokens.length));
    offset += tokens.length;
    return { text: data.contextText[c], position: data.contextPosition[c], start: data.contextStart[c], tokens, acts };
  });
}

let model: HookedTransformer;
const ALPHABET = "abcdefgh ";

beforeAll(async () => {
  await ready();
  model = await HookedTransformer.create(
    { nLayers: 1, dModel: 8, nHeads: 2, dHead: 4, dMlp: 12, dVocab: 12, nCtx: 16, actFn: "relu", seed: 3 },
    { tokenizer: new CharTokenizer(ALPHABET, { bos: "^" }) },
  );
});

afterAll(() => model.dispose());

describe("prepareFeatureDashboard: contexts", () => {
  it("top-k texts by their max activation, each a window of contextLeft / contextRight tokens around the max", () => {
    const lengths = [20, 5, 17, 30, 1, 12, 25, 9];
    const { acts, tokens } = dataset(lengths);
    const data = prepareFeatureDashboard(acts, { tokens, topK: 5, contextLeft: 6, contextRight: 3 });

    // Oracle: each text's first argmax, texts sorted by value (desc), then by text index.
    const perText = acts.map((row, t) => {
      let best = 0;
      for (let p = 1; p < row.length; p++) if (row[p] > row[best]) best = p;
      return { t, p: best, v: row[best] };
    });
    perText.sort((a, b) => b.v - a.v || a.t - b.t);
    const expected = perText.slice(0, 5);

    expect(data.groupLabels).toEqual(["Top activations"]);
    expect(Array.from(data.groupSizes)).toEqual([5]);
    const got = contexts(data);
    expect(got.map((c) => [c.text, c.position])).toEqual(expected.map((e) => [e.t, e.p]));
    got.forEach((c, i) => {
      const { t, p } = expected[i];
      const start = Math.max(0, p - 6);
      const end = Math.min(lengths[t], p + 4);
      expect(c.start).toBe(start);
      expect(c.tokens).toEqual(tokens[t].slice(start, end));
      expect(c.acts).toEqual(acts[t].slice(start, end));
      // Values arrive sorted.
      if (i > 0) expect(c.acts[c.position - c.start]).toBeLessThanOrEqual(got[i - 1].acts[got[i - 1].position - got[i - 1].start]);
    });
    // The maximum over the whole dataset is the first context's highlighted value.
    expect(data.maxActivation).toBe(Math.max(...acts.flat()));
    expect(data.minActivation).toBe(Math.min(...acts.flat()));
  });

  it("onePerText: false ranks every token; windows clipped at both ends of a text", () => {
    const acts = [[0, 5, 1, 4], [3, 0, 6]];
    const tokens = [["a", "b", "c", "d"], ["e", "f", "g"]];
    const data = prepareFeatureDashboard(acts, { tokens, topK: 3, onePerText: false, contextLeft: 1, contextRight: 1 });
    const got = contexts(data);
    expect(got.map((c) => [c.text, c.position])).toEqual([[1, 2], [0, 1], [0, 3]]);
    expect(got.map((c) => c.tokens)).toEqual([["f", "g"], ["a", "b", "c"], ["c", "d"]]);
    expect(got.map((c) => c.acts)).toEqual([[0, 6], [0, 5, 1], [1, 4]]);
    // Ties keep the earlier text and position.
    const ties = prepareFeatureDashboard([[2, 2], [2, 1]], { tokens: [["a", "b"], ["c", "d"]], topK: 3, onePerText: false, contextLeft: 0, contextRight: 0 });
    expect(contexts(ties).map((c) => [c.text, c.position])).toEqual([[0, 0], [0, 1], [1, 0]]);
  });

  it("contextOf gives {text, position, tokens, activations} and the group", () => {
    const acts = [[0, 5, 1, 4], [3, 0, 6]];
    const data = prepareFeatureDashboard(acts, { tokens: [["a", "b", "c", "d"], ["e", "f", "g"]], topK: 2, contextLeft: 2, contextRight: 0 });
    expect(contextOf(data, 1)).toEqual({ index: 1, group: "Top activations", text: 0, position: 1, start: 0, tokens: ["a", "b"], activations: [0, 5], activation: 5 });
    expect(() => contextOf(data, 2)).toThrow(/context 2 does not exist \(there are 2\)/);
  });

  it("a [nTexts, pos] tensor with right padding: only each text's tokens count", () => {
    const acts = tf.tensor2d([[1, 2, 9], [4, 0, 0]]); // text 0 has 2 real tokens: the 9 is padding
    const data = prepareFeatureDashboard(acts, { tokens: [["a", "b"], ["c", "d", "e"]], topK: 2 });
    expect(data.nTokens).toBe(5);
    expect(data.maxActivation).toBe(4);
    expect(contexts(data).map((c) => [c.text, c.position, c.acts])).toEqual([[1, 0, [4, 0, 0]], [0, 1, [1, 2]]]);
    acts.dispose();
  });

  it("band samples: each lies in its interval of the max, counts per band match a hand count, same seed same picks", () => {
    const lengths = [40, 33, 50, 27];
    const { acts, tokens } = dataset(lengths, 7);
    const options = { tokens, topK: 2, bands: 4, samplesPerBand: 3, seed: 5 };
    const data = prepareFeatureDashboard(acts, options);
    const max = Math.max(...acts.flat());
    expect(data.groupLabels).toHaveLength(5);
    const all = contexts(data);
    let c = 2;
    for (let b = 0; b < 4; b++) {
      const hi = max - (b * max) / 4;
      const lo = max - ((b + 1) * max) / 4;
      const inBand = acts.flat().filter((v) => v > 0 && v > lo * (1 + 1e-9) && v <= hi * (1 + 1e-9)).length;
      expect(data.groupLabels[b + 1]).toContain(`${inBand} token(s)`);
      expect(data.groupSizes[b + 1]).toBe(Math.min(3, inBand));
      for (let k = 0; k < data.groupSizes[b + 1]; k++, c++) {
        const v = all[c].acts[all[c].position - all[c].start];
        expect(v).toBe(acts[all[c].text][all[c].position]);
        expect(v).toBeGreaterThan(lo - 1e-6);
        expect(v).toBeLessThanOrEqual(hi + 1e-6);
      }
    }
    // Boundaries by hand: a value equal to a band's upper end belongs to that band.
    const edges = prepareFeatureDashboard([[0, 1, 2, 3, 4]], { tokens: [["a", "b", "c", "d", "e"]], topK: 1, bands: 2, samplesPerBand: 5, contextLeft: 0, contextRight: 0 });
    expect(edges.groupLabels.slice(1)).toEqual(["Activation in (2, 4] · 2 token(s)", "Activation in (0, 2] · 2 token(s)"]);
    expect(Array.from(edges.contextActivations)).toEqual([4, 4, 3, 2, 1]);
    const again = prepareFeatureDashboard(acts, options);
    expect(Array.from(again.contextPosition)).toEqual(Array.from(data.contextPosition));
    expect(Array.from(again.contextText)).toEqual(Array.from(data.contextText));
  });
});

describe("prepareFeatureDashboard: histogram and density", () => {
  it("counts of active values per bin match a count against the edges; density is the active fraction", () => {
    const lengths = [64, 31, 80];
    const { acts, tokens } = dataset(lengths, 11);
    const data = prepareFeatureDashboard(acts, { tokens, bins: 12 });
    const values = acts.flat();
    const active = values.filter((v) => v > 0);
    expect(data.nTokens).toBe(values.length);
    expect(data.nActive).toBe(active.length);
    expect(data.density).toBeCloseTo(active.length / values.length, 12);

    const edges = Array.from(data.histogramEdges);
    expect(edges).toHaveLength(13);
    expect(edges[0]).toBeCloseTo(Math.min(...active), 6);
    expect(edges[12]).toBeCloseTo(Math.max(...active), 6);
    for (let i = 1; i < edges.length; i++) expect(edges[i] - edges[i - 1]).toBeCloseTo((edges[12] - edges[0]) / 12, 5);
    const oracle = edges.slice(0, -1).map((lo, i) => active.filter((v) => v >= lo && (i === 11 ? v <= edges[12] : v < edges[i + 1])).length);
    expect(Array.from(data.histogramCounts)).toEqual(oracle);
    expect(oracle.reduce((a, b) => a + b, 0)).toBe(active.length);
  });

  it("a hand-made case: values 1..4 and zeros, a threshold", () => {
    const data = prepareFeatureDashboard([[0, 1, 2, 2, 3, 4, 0, 4]], { tokens: [["a", "b", "c", "d", "e", "f", "g", "h"]], bins: 3 });
    expect(Array.from(data.histogramEdges)).toEqual([1, 2, 3, 4]);
    expect(Array.from(data.histogramCounts)).toEqual([1, 2, 3]);
    expect(data.density).toBe(6 / 8);
    const above = prepareFeatureDashboard([[0, 1, 2, 2, 3, 4, 0, 4]], { tokens: [["a", "b", "c", "d", "e", "f", "g", "h"]], bins: 2, activeThreshold: 2 });
    expect(above.nActive).toBe(3);
    expect(Array.from(above.histogramEdges)).toEqual([3, 3.5, 4]);
    expect(Array.from(above.histogramCounts)).toEqual([1, 2]);
  });

  it("never active: empty histogram, density 0; one distinct active value: a widened range", () => {
    const never = prepareFeatureDashboard([[0, -1, 0]], { tokens: [["a", "b", "c"]] });
    expect(never.density).toBe(0);
    expect(never.histogramCounts).toHaveLength(0);
    const one = prepareFeatureDashboard([[0, 2, 2]], { tokens: [["a", "b", "c"]], bins: 4 });
    expect(one.histogramEdges[0]).toBeLessThan(2);
    expect(one.histogramEdges[4]).toBeGreaterThan(2);
    expect(Array.from(one.histogramCounts).reduce((a, b) => a + b, 0)).toBe(2);
  });
});

describe("prepareFeatureDashboard: logit effect", () => {
  /** Oracle: plain matmul direction @ W_U and hand-sorted ids. */
  function oracle(direction: number[], wU: number[][], k: number): { boosted: number[]; suppressed: number[]; values: number[] } {
    const dVocab = wU[0].length;
    const values = Array.from({ length: dVocab }, (_, j) => direction.reduce((sum, d, i) => sum + d * wU[i][j], 0));
    const ids = values.map((_, j) => j);
    const boosted = [...ids].sort((a, b) => values[b] - values[a] || a - b).slice(0, k);
    const suppressed = [...ids].sort((a, b) => values[a] - values[b] || a - b).slice(0, k);
    return { boosted, suppressed, values };
  }

  it("direction @ W_U from arrays, with a vocabulary", () => {
    const r = lcg(21);
    const dModel = 6;
    const dVocab = 15;
    const wU = Array.from({ length: dModel }, () => Array.from({ length: dVocab }, () => r() * 2 - 1));
    const direction = Array.from({ length: dModel }, () => r() * 2 - 1);
    const vocab = Array.from({ length: dVocab }, (_, j) => `v${j}`);
    const data = prepareFeatureDashboard([[1, 2]], { tokens: [["a", "b"]], direction, unembed: wU, vocab, topLogits: 4 });
    const o = oracle(direction, wU, 4);
    expect(Array.from(data.boostedIds)).toEqual(o.boosted);
    expect(Array.from(data.suppressedIds)).toEqual(o.suppressed);
    expect(data.boostedTokens).toEqual(o.boosted.map((j) => `v${j}`));
    Array.from(data.boostedLogits).forEach((v, i) => expect(v).toBeCloseTo(o.values[o.boosted[i]], 5));
    Array.from(data.suppressedLogits).forEach((v, i) => expect(v).toBeCloseTo(o.values[o.suppressed[i]], 5));
  });

  it("a neuron's W_out row through the model's W_U, token strings from its tokenizer; model + tokenIds for the contexts", () => {
    const neuron = 3;
    const wOut = (model.W_out.arraySync() as number[][][])[0][neuron];
    const wU = model.W_U.arraySync() as number[][];
    const ids = [[9, 0, 1, 2], [9, 3, 8, 4]];
    const direction = tf.tensor1d(wOut);
    const before = tf.memory().numTensors;
    const data = prepareFeatureDashboard([[0, 1, 0, 2], [3, 0, 0, 1]], { model, tokenIds: ids, direction, topLogits: 5, topK: 2 });
    expect(tf.memory().numTensors).toBe(before);
    const o = oracle(wOut, wU, 5);
    expect(Array.from(data.boostedIds)).toEqual(o.boosted);
    expect(Array.from(data.suppressedIds)).toEqual(o.suppressed);
    const stringOf = (j: number): string => (j < ALPHABET.length ? ALPHABET[j] : j === ALPHABET.length ? "^" : `#${j}`);
    expect(data.boostedTokens).toEqual(o.boosted.map(stringOf));
    expect(data.suppressedTokens).toEqual(o.suppressed.map(stringOf));
    Array.from(data.boostedLogits).forEach((v, i) => expect(v).toBeCloseTo(o.values[o.boosted[i]], 4));
    expect(data.contextTokens).toEqual([["^", "d", " ", "e"], ["^", "a", "b", "c"]]);
    direction.dispose();
  });
});

describe("prepareFeatureDashboard: bad input and memory", () => {
  const tokens = [["a", "b"]];
  it("explains what was wrong", () => {
    expect(() => prepareFeatureDashboard([[1, 2]], {})).toThrow(/give the dataset's token strings/);
    expect(() => prepareFeatureDashboard([[1, 2, 3]], { tokens })).toThrow(/text 0 has 2 token strings but 3 activations/);
    expect(() => prepareFeatureDashboard([[1, 2], [3, 4]], { tokens })).toThrow(/1 token list\(s\) for 2 row\(s\)/);
    const cube = tf.zeros([1, 2, 3]);
    expect(() => prepareFeatureDashboard(cube, { tokens })).toThrow(/must be \[nTexts, pos\].*got a tensor of shape \[1, 2, 3\]/);
    cube.dispose();
    expect(() => prepareFeatureDashboard([[1, NaN]], { tokens })).toThrow(/text 0, position 1 is NaN/);
    expect(() => prepareFeatureDashboard([[1, 2]], { tokens, topK: 0 })).toThrow(/topK must be a positive integer, got 0/);
    expect(() => prepareFeatureDashboard([[1, 2]], { tokens, contextLeft: -1 })).toThrow(/contextLeft must be a non-negative integer/);
    expect(() => prepareFeatureDashboard([[1, 2]], { tokens, direction: [1, 2] })).toThrow(/a `direction` needs W_U/);
    expect(() => prepareFeatureDashboard([[1, 2]], { tokens, direction: [1, 2], unembed: [[1, 2, 3]] })).toThrow(/direction must be \[d_model\] = \[1\].*got 2 numbers/);
    expect(() => prepareFeatureDashboard([[1, 2]], { tokens, direction: [1, 2, 3], model })).toThrow(/direction must be \[d_model\] = \[8\]/);
    expect(() => prepareFeatureDashboard([[1, 2]], { tokenIds: [[0, 1]] })).toThrow(/`tokenIds` need a `model`/);
    expect(() => prepareFeatureDashboard([[1, "x"]] as never, { tokens })).toThrow(/must hold numbers; entry 1 is "x"/);
    expect(() => prepareFeatureDashboard([[]], { tokens: [[]] })).toThrow(/no tokens/);
  });

  it("leaves no tensors behind (successes and errors), and disposes none of the caller's", () => {
    const acts = tf.tensor2d([[0, 1, 2], [3, 0, 1]]);
    const direction = tf.randomNormal([8]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      prepareFeatureDashboard(acts, { tokens: [["a", "b", "c"], ["d", "e", "f"]], direction, model, bands: 2 });
      featureDashboard(acts, { tokenIds: [[0, 1, 2], [3, 4, 5]], model, direction });
      expect(() => prepareFeatureDashboard(acts, { tokens: [["a", "b", "c"], ["d", "e", "f"]], direction: tf.zeros([3]) as tf.Tensor1D, model })).toThrow();
    }
    // The failed calls' tf.zeros([3]) are the test's own five tensors.
    expect(tf.memory().numTensors).toBe(before + 5);
    expect(acts.isDisposed).toBe(false);
    expect(direction.isDisposed).toBe(false);
    acts.dispose();
    direction.dispose();
  });
});

describe("FeatureDashboardWidget", () => {
  it("state: typed arrays for the numbers, the view name, selectedContext read back as a context", () => {
    const w = mechlab.featureDashboard([[0, 5, 1, 4], [3, 0, 6]], { tokens: [["a", "b", "c", "d"], ["e", "f", "g"]], topK: 2, contextLeft: 1, contextRight: 1, title: "neuron 0.3" });
    expect(w).toBeInstanceOf(FeatureDashboardWidget);
    expect(w.viewName).toBe("FeatureDashboardView");
    const state = w.getState();
    expect(state.title).toBe("neuron 0.3");
    expect(state.contextActivations).toBeInstanceOf(Float32Array);
    expect(state.contextText).toBeInstanceOf(Int32Array);
    expect(state.histogramCounts).toBeInstanceOf(Int32Array);
    expect(state.selectedContext).toBeNull();
    expect(w.selected).toBeNull();
    w.set("selectedContext", 1);
    expect(w.selected).toMatchObject({ text: 0, position: 1, tokens: ["a", "b", "c"], activations: [0, 5, 1] });
    expect(w.mimeBundle()["text/plain"]).toMatch(/FeatureDashboard\(neuron 0\.3: max 6, density 71\.4% of 7 tokens, 2 context\(s\)\)/);
    expect(String(w.mimeBundle()["text/html"])).toContain("FeatureDashboardView");
  });
});
