/** toTokens / toStrTokens / toSingleToken / getTokenPosition with prependBos, and generate. */
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ready, tf } from "../src/backend";
import { HookedTransformer } from "../src/model/hookedTransformer";
import { gpt2Tokenizer } from "../src/tokenizers/gpt2";
import { CharTokenizer } from "../src/tokenizers/charTokenizer";

let model: HookedTransformer;

beforeAll(async () => {
  await ready();
  model = await HookedTransformer.create(
    { nLayers: 1, dModel: 16, nHeads: 2, dHead: 8, dMlp: 32, dVocab: 50257, nCtx: 32, seed: 1 },
    { tokenizer: gpt2Tokenizer() },
  );
});

afterEach(() => vi.restoreAllMocks());

describe("tokens", () => {
  it("toTokens prepends BOS by default, as TransformerLens does", () => {
    const withBos = model.toTokens("Hello world");
    expect(withBos.arraySync()).toEqual([[50256, 15496, 995]]);
    const without = model.toTokens("Hello world", { prependBos: false });
    expect(without.arraySync()).toEqual([[15496, 995]]);
    tf.dispose([withBos, without]);
  });

  it("several texts are right-padded, and forward masks the padding in the loss", () => {
    const tokens = model.toTokens(["Hello world", "Hello"]);
    expect(tokens.arraySync()).toEqual([
      [50256, 15496, 995],
      [50256, 15496, 50256],
    ]);
    const batchLoss = model.forward(["Hello world", "Hello"], { returnType: "loss", lossPerToken: true });
    const alone = model.forward("Hello", { returnType: "loss", lossPerToken: true });
    // The short text's real-token loss is the same as running it alone (right padding is causal-safe).
    expect(Math.abs((batchLoss.arraySync() as number[][])[1][0] - (alone.arraySync() as number[][])[0][0])).toBeLessThan(1e-5);
    tf.dispose([tokens, batchLoss, alone]);
  });

  it("toStrTokens, toString and toSingleToken", () => {
    expect(model.toStrTokens("Hello world")).toEqual(["<|endoftext|>", "Hello", " world"]);
    expect(model.toStrTokens([15496, 995])).toEqual(["Hello", " world"]);
    expect(model.toString([15496, 995])).toBe("Hello world");
    expect(model.toSingleToken(" Mary")).toBe(5335);
    expect(() => model.toSingleToken("Hello world")).toThrow(/is 2 tokens \(\["Hello"," world"\]\), not one/);
  });

  it("toSingleToken suggests the leading space when that makes one token", () => {
    expect(() => model.toSingleToken("telescope")).toThrow(/Did you mean " telescope"/);
  });

  it("getTokenPosition counts the prepended BOS and warns once that it does", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const text = "When Mary and John went to the store, John gave a drink to";
    expect(model.getTokenPosition(" John", text)).toBe(4);
    expect(model.getTokenPosition(" John", text, { mode: "last" })).toBe(10);
    expect(model.getTokenPosition(" John", text, { prependBos: false })).toBe(3);
    expect(warn.mock.calls.length).toBeLessThanOrEqual(1);
    expect(() => model.getTokenPosition(" Bob", text)).toThrow(/" Bob" \(id 5811\) does not occur/);
  });

  it("a text that already starts with BOS gets a warning about the double BOS", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const tokens = model.toTokens("<|endoftext|>Hi");
    expect((tokens.arraySync() as number[][])[0].slice(0, 2)).toEqual([50256, 50256]);
    expect(warn.mock.calls.map((c) => String(c[0])).join("\n")).toMatch(/two BOS tokens.*prependBos: false/s);
    tokens.dispose();
  });
});

describe("generate", () => {
  it("greedy generation picks the argmax at every step and returns text for text", async () => {
    const text = await model.generate("Hello", { maxNewTokens: 4, temperature: 0 });
    const ids = [50256, 15496];
    for (let i = 0; i < 4; i++) {
      const logits = model.forward([ids]);
      const next = tf.tidy(() => logits.slice([0, ids.length - 1, 0], [1, 1, -1]).reshape([-1]).argMax().dataSync()[0]);
      logits.dispose();
      ids.push(next);
    }
    expect(text).toBe("Hello" + gpt2Tokenizer().decode(ids.slice(2)));
  });

  it("sampling is repeatable with a seed, respects topK, and tokens in give tokens out", async () => {
    const a = await model.generate([[50256, 15496]], { maxNewTokens: 5, seed: 7, topK: 3 });
    const b = await model.generate([[50256, 15496]], { maxNewTokens: 5, seed: 7, topK: 3 });
    expect(a.shape).toEqual([1, 7]);
    expect(a.arraySync()).toEqual(b.arraySync());
    // Every sampled token is among the top 3 at its step.
    const ids = (a.arraySync() as number[][])[0];
    for (let step = 2; step < 7; step++) {
      const logits = model.forward([ids.slice(0, step)]);
      const top = tf.tidy(() => tf.topk(logits.slice([0, step - 1, 0], [1, 1, -1]).reshape([-1]), 3).indices.dataSync());
      logits.dispose();
      expect(Array.from(top)).toContain(ids[step]);
    }
    tf.dispose([a, b]);
  });

  it("stops at EOS, stops when aborted, and rejects bad options", async () => {
    const tokenizer = new CharTokenizer("ab", { bos: "^", eos: "$" });
    const tiny = await HookedTransformer.create({ nLayers: 1, dModel: 8, nHeads: 2, dHead: 4, dMlp: 8, dVocab: tokenizer.vocabSize, nCtx: 16, seed: 2 }, { tokenizer });
    // Force EOS: a hook that makes the EOS logit huge through the unembedding bias is simplest.
    tiny.param("unembed.b_U").assign(tf.tensor1d([0, 0, 0, 100]));
    const text = await tiny.generate("ab", { maxNewTokens: 5 });
    expect(text).toBe("ab");
    const controller = new AbortController();
    let steps = 0;
    const out = await tiny.generate([[0, 1]], { maxNewTokens: 10, stopAtEos: false, signal: controller.signal, onToken: () => { steps++; if (steps === 2) controller.abort(); } });
    expect(out.shape).toEqual([1, 4]);
    out.dispose();
    await expect(tiny.generate("ab", { topP: 1.5 })).rejects.toThrow(/topP must be in \(0, 1\]/);
    await expect(tiny.generate("ab", { temperature: -1 })).rejects.toThrow(/temperature must be ≥ 0/);
    tiny.dispose();
  });
});
