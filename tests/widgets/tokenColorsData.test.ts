/**
 * Token-colours widget data preparation and kernel model: token strings (given, or from a model
 * with the GPT-2 tokenizer), value sets laid out as [set, token] Float32, colour-scale choice,
 * errors, and no tensor leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { gpt2Tokenizer } from "../../src/tokenizers";
import { prepareTokenColors } from "../../src/widgets/tokenColorsData";
import { tokenColors, TokenColorsWidget } from "../../src/widgets/tokenColorsWidget";
import * as mechlab from "../../src";

let model: HookedTransformer;

beforeAll(async () => {
  await ready();
  model = await HookedTransformer.create(
    { nLayers: 1, dModel: 8, nHeads: 2, dHead: 4, dMlp: 16, dVocab: 50257, nCtx: 32, actFn: "relu", seed: 1 },
    { tokenizer: gpt2Tokenizer() },
  );
});

afterAll(() => model.dispose());

describe("prepareTokenColors", () => {
  it("one text of token strings and one value set", () => {
    const data = prepareTokenColors(["a", " b", "c"], [0.5, 2, 1]);
    expect(data).toEqual({
      tokens: [["a", " b", "c"]],
      values: new Float32Array([0.5, 2, 1]),
      setNames: ["values"],
      textLengths: [3],
      colorScale: "sequential",
      center: 0,
    });
  });

  it("texts tokenized by a model with the GPT-2 tokenizer; named sets laid out [set, token]", () => {
    const texts = ["Hello world", "The quick brown fox"];
    const tokens = texts.map((t) => model.toStrTokens(t));
    expect(tokens[1]).toEqual(["<|endoftext|>", "The", " quick", " brown", " fox"]);
    // Ragged texts: nested arrays, one row per text.
    const rows = tokens.map((t, i) => t.map((_, p) => (i === 0 ? [1, -2, 3][p] : p + 4)));
    const loss = tokens.map((t) => t.map((_, p) => p / 10));
    const data = prepareTokenColors(texts, { "neuron 0.3": rows, loss }, { model });
    expect(data.tokens).toEqual(tokens);
    expect(data.setNames).toEqual(["neuron 0.3", "loss"]);
    expect(data.textLengths).toEqual(tokens.map((t) => t.length));
    const total = tokens[0].length + tokens[1].length;
    expect(data.values.length).toBe(2 * total);
    // set s, text t, position p ↔ values[s * total + start(t) + p]
    expect(data.values[tokens[0].length + 2]).toBe(rows[1][2]);
    expect(data.values[total + tokens[0].length + 3]).toBe(Math.fround(loss[1][3]));
    expect(data.colorScale).toBe("diverging"); // values on both sides of 0
  });

  it("tensor values: [pos] for one text, [text, pos] for equal-length texts; colour scale and centre options", () => {
    const one = tf.tensor1d([3, 1, 2]);
    expect(Array.from(prepareTokenColors(["x", "y", "z"], one).values)).toEqual([3, 1, 2]);
    const two = tf.tensor2d([[1, 2], [3, 4]]);
    const data = prepareTokenColors([["a", "b"], ["c", "d"]], { two }, { colorScale: "diverging", center: 2.5 });
    expect(Array.from(data.values)).toEqual([1, 2, 3, 4]);
    expect(data).toMatchObject({ colorScale: "diverging", center: 2.5 });
    expect(prepareTokenColors(["a", "b"], [-1, -2]).colorScale).toBe("sequential");
    expect(prepareTokenColors(["a", "b"], new Float64Array([-1, 2])).colorScale).toBe("diverging");
    tf.dispose([one, two]);
  });

  it("explains mismatches", () => {
    expect(() => prepareTokenColors(["a", "b"], [1, 2, 3])).toThrow(/value set "values", text 0: 3 values for 2 tokens/);
    expect(() => prepareTokenColors([["a"], ["b"]], { act: [[1]] })).toThrow(/value set "act" has values for 1 text\(s\) but there are 2 text\(s\)/);
    expect(() => prepareTokenColors(["a"], {})).toThrow(/no value sets given/);
    expect(() => prepareTokenColors("some text", [1])).toThrow(/a text needs a `model`/);
    expect(() => prepareTokenColors([["a"]], [1], { model })).toThrow(/with a `model`, give text\(s\) to tokenize/);
    const t3 = tf.zeros([1, 1, 1]);
    expect(() => prepareTokenColors(["a"], t3)).toThrow(/must be \[pos\] or \[text, pos\], got a tensor of shape \[1, 1, 1\]/);
    t3.dispose();
  });

  it("creates no tensors", () => {
    const v = tf.tensor1d([1, 2, 3]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      prepareTokenColors(["a", "b", "c"], { v });
      tokenColors(["a", "b", "c"], v);
      expect(() => prepareTokenColors(["a"], v)).toThrow();
    }
    expect(tf.memory().numTensors).toBe(before);
    v.dispose();
  });
});

describe("TokenColorsWidget", () => {
  it("state: tokens, one Float32 values buffer, set names, selected set; hover read back in the kernel", () => {
    const w = mechlab.tokenColors([["a", "b"], ["c"]], { first: [[1, 2], [3]], second: [[-1, 0], [5]] }, { selectedSet: "second" });
    expect(w).toBeInstanceOf(TokenColorsWidget);
    expect(w.get("_view_name")).toBe("TokenColorsView");
    expect(w.get("values")).toEqual(new Float32Array([1, 2, 3, -1, 0, 5]));
    expect(w.getState()).toMatchObject({ setNames: ["first", "second"], selectedSet: "second", textLengths: [2, 1], hoveredToken: null });
    expect(w.valuesOf()).toEqual([[-1, 0], [5]]);
    expect(w.valuesOf("first")).toEqual([[1, 2], [3]]);
    w.set("hoveredToken", [1, 0]);
    expect(w.hovered).toEqual({ text: 1, position: 0, token: "c", value: 5 });
    expect(String(w.mimeBundle()["text/plain"])).toBe("TokenColors(2 text(s), 3 tokens, sets: first, second)");
    expect(() => tokenColors(["a"], [1], { selectedSet: "nope" })).toThrow(/selectedSet "nope" is not a value set \(values\)/);
  });
});
