/**
 * The ActivationCache analysis methods (accumulatedResid, decomposeResid, stackHeadResults,
 * stackNeuronResults, applyLnToStack, logitAttrs, getFullResidDecomposition, ...) checked against
 * the activations the model itself cached: decompositions must sum to the cached residual stream,
 * per-head / per-neuron outputs to attn_out / mlp_out, LN-applied stacks to the norm's output and
 * logit attributions to the logits. Every model has random weights, biases and norm weights.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tf } from "../src/backend";
import type { ActivationCache } from "../src/cache/activationCache";
import type { ConfigInput } from "../src/model/config";
import { HookedTransformer } from "../src/model/hookedTransformer";
import { expectedParamShapes } from "../src/model/stateDict";

const BASE: ConfigInput = { nLayers: 2, dModel: 16, nHeads: 4, dHead: 4, dMlp: 32, dVocab: 23, nCtx: 16, seed: 1, actFn: "gelu", normalizationType: "LN" };
const BATCH = 3;
const POS = 7;
const TOL = 1e-4;

/** A model whose every parameter is random: biases and norm weights too, so no term vanishes. */
async function randomModel(overrides: Partial<ConfigInput> = {}, seed = 1): Promise<HookedTransformer> {
  const model = await HookedTransformer.create({ ...BASE, seed, ...overrides });
  const dict: Record<string, tf.Tensor> = {};
  let index = 0;
  for (const [name, shape] of expectedParamShapes(model.cfg)) {
    index += 1;
    const s = seed * 1000 + index;
    if (/\.w$/.test(name)) dict[name] = tf.randomUniform(shape, 0.5, 1.5, "float32", s);
    else if (/\.b(_[A-Za-z]+)?$/.test(name)) dict[name] = tf.randomNormal(shape, 0, 0.2, "float32", s);
    else dict[name] = tf.randomNormal(shape, 0, 0.3, "float32", s);
  }
  model.loadStateDict(dict);
  Object.values(dict).forEach((t) => t.dispose());
  return model;
}

function randomTokens(batch: number, pos: number, vocab: number, seed: number): tf.Tensor2D {
  let state = seed;
  const rows = Array.from({ length: batch }, () =>
    Array.from({ length: pos }, () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % vocab;
    }),
  );
  return tf.tensor2d(rows, [batch, pos], "int32");
}

/** Runs the model and returns its cache (logits disposed). */
function cacheOf(model: HookedTransformer, tokens: tf.Tensor2D, options: Parameters<HookedTransformer["runWithCache"]>[1] = {}): ActivationCache {
  const { output, cache } = model.runWithCache(tokens, options);
  output.dispose();
  return cache;
}

/** Asserts same shape and max |a − b| ≤ tol. Does not dispose. */
function expectClose(actual: tf.Tensor, expected: tf.Tensor, tol = TOL): void {
  expect(actual.shape).toEqual(expected.shape);
  const worst = tf.tidy(() => (actual.size === 0 ? 0 : tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]));
  expect(worst).toBeLessThanOrEqual(tol);
}

/** Runs f, checks (with tidy) and disposes what it returns; numTensors must come back. */
function expectNoLeak(f: () => tf.Tensor | tf.Tensor[] | { stack: tf.Tensor } | void): void {
  const before = tf.memory().numTensors;
  const out = f();
  if (out instanceof tf.Tensor) out.dispose();
  else if (Array.isArray(out)) out.forEach((t) => t.dispose());
  else if (out && "stack" in out) out.stack.dispose();
  expect(tf.memory().numTensors).toBe(before);
}

/** Σ over the component axis. */
const sum0 = (t: tf.Tensor): tf.Tensor => tf.sum(t, 0);

/** W_U[:, a] − W_U[:, b] as [dModel]. */
function unembedDiff(model: HookedTransformer, a: number, b: number): tf.Tensor {
  return tf.tidy(() => {
    const W_U = model.param("unembed.W_U");
    const col = (i: number) => W_U.slice([0, i], [W_U.shape[0], 1]).reshape([W_U.shape[0]]);
    return tf.sub(col(a), col(b));
  });
}

const VARIANTS: [string, Partial<ConfigInput>][] = [
  ["LN", {}],
  ["attention-only", { attnOnly: true }],
  ["RMS", { normalizationType: "RMS" }],
  ["parallel attn+MLP", { parallelAttnMlp: true }],
  ["LNPre", { normalizationType: "LNPre" }],
  ["gated RMSPre", { normalizationType: "RMSPre", gatedMlp: true, actFn: "silu" }],
  ["no norm, rotary", { normalizationType: "none", positionalEmbeddingType: "rotary" }],
  ["shortformer", { positionalEmbeddingType: "shortformer" }],
];

describe("decompositions sum to the cached residual stream", () => {
  for (const [name, overrides] of VARIANTS) {
    describe(name, () => {
      let model: HookedTransformer;
      let tokens: tf.Tensor2D;
      let cache: ActivationCache;
      beforeAll(async () => {
        model = await randomModel(overrides, 3);
        tokens = randomTokens(BATCH, POS, BASE.dVocab, 11);
        cache = cacheOf(model, tokens);
      });
      afterAll(() => {
        cache.dispose();
        tokens.dispose();
        model.dispose();
      });

      it("decomposeResid sums to resid_post (final) and resid_pre (layer 1)", () => {
        const { stack, labels } = cache.decomposeResid();
        const expectedLabels = ["embed"];
        if (model.cfg.positionalEmbeddingType === "standard") expectedLabels.push("pos_embed");
        for (let l = 0; l < 2; l++) expectedLabels.push(`${l}_attn_out`, ...(model.cfg.attnOnly ? [] : [`${l}_mlp_out`]));
        expect(labels).toEqual(expectedLabels);
        expect(stack.shape).toEqual([labels.length, BATCH, POS, 16]);
        tf.tidy(() => expectClose(sum0(stack), cache.get("blocks.1.hook_resid_post")));
        stack.dispose();
        const mid = cache.decomposeResid(1);
        tf.tidy(() => expectClose(sum0(mid.stack), cache.get("resid_pre", 1)));
        mid.stack.dispose();
        const zero = cache.decomposeResid(0);
        tf.tidy(() => expectClose(sum0(zero.stack), cache.get("resid_pre", 0)));
        zero.stack.dispose();
      });

      it("decomposeResid's modes split the stack", () => {
        const all = cache.decomposeResid();
        const attn = cache.decomposeResid(undefined, { mode: "attn", inclEmbeds: false });
        expect(attn.labels).toEqual(["0_attn_out", "1_attn_out"]);
        tf.tidy(() => {
          const embeds = cache.decomposeResid(0);
          let total = tf.add(sum0(embeds.stack), sum0(attn.stack));
          if (!model.cfg.attnOnly) {
            const mlp = cache.decomposeResid(undefined, { mode: "mlp", inclEmbeds: false });
            expect(mlp.labels).toEqual(["0_mlp_out", "1_mlp_out"]);
            total = tf.add(total, sum0(mlp.stack));
          }
          expectClose(total, sum0(all.stack));
        });
        all.stack.dispose();
        attn.stack.dispose();
      });

      for (const expandNeurons of [true, false]) {
        it(`getFullResidDecomposition sums exactly to the residual (expandNeurons ${expandNeurons})`, () => {
          for (const layer of [undefined, 1, 0]) {
            const { stack, labels } = cache.getFullResidDecomposition(layer, { expandNeurons });
            const n = layer ?? 2;
            const perLayer = model.cfg.attnOnly ? 4 : 4 + (expandNeurons ? 32 : 1);
            const embeds = model.cfg.positionalEmbeddingType === "standard" ? 2 : 1;
            expect(labels.length).toBe(n * perLayer + embeds + 1);
            expect(stack.shape).toEqual([labels.length, BATCH, POS, 16]);
            expect(labels[labels.length - 1]).toBe("bias");
            if (n > 0) expect(labels[0]).toBe("L0H0");
            if (n > 0 && !model.cfg.attnOnly) expect(labels).toContain(expandNeurons ? "L0N31" : "0_mlp_out");
            const expected = layer === undefined ? cache.get("resid_post", 1) : cache.get("resid_pre", layer);
            tf.tidy(() => expectClose(sum0(stack), expected));
            stack.dispose();
          }
        });
      }

      if (!overrides.attnOnly) {
        it("getFullResidDecomposition with mlpInput sums to the MLP's input", () => {
          const { stack, labels } = cache.getFullResidDecomposition(1, { mlpInput: true });
          const expected = model.cfg.parallelAttnMlp ? cache.get("resid_pre", 1) : cache.get("resid_mid", 1);
          expect(labels.includes("L1H0")).toBe(!model.cfg.parallelAttnMlp);
          tf.tidy(() => expectClose(sum0(stack), expected));
          stack.dispose();
          const coarse = cache.decomposeResid(1, { mlpInput: true });
          tf.tidy(() => expectClose(sum0(coarse.stack), expected));
          coarse.stack.dispose();
        });
      }

      it("accumulatedResid returns the cached resid_pre's and the final resid_post", () => {
        const { stack, labels } = cache.accumulatedResid();
        expect(labels).toEqual(["0_pre", "1_pre", "final_post"]);
        tf.tidy(() => {
          const [r0, r1, r2] = tf.unstack(stack);
          expectClose(r0, cache.get("resid_pre", 0), 0);
          expectClose(r1, cache.get("resid_pre", 1), 0);
          expectClose(r2, cache.get("resid_post", 1), 0);
        });
        stack.dispose();
        const upTo1 = cache.accumulatedResid(1);
        expect(upTo1.labels).toEqual(["0_pre", "1_pre"]);
        upTo1.stack.dispose();
      });

      it("stackHeadResults: each layer's heads + b_O equal its attn_out", () => {
        const { stack, labels } = cache.stackHeadResults();
        expect(labels).toEqual(["L0H0", "L0H1", "L0H2", "L0H3", "L1H0", "L1H1", "L1H2", "L1H3"]);
        expect(stack.shape).toEqual([8, BATCH, POS, 16]);
        tf.tidy(() => {
          for (let l = 0; l < 2; l++) {
            const heads = stack.slice([4 * l], [4]);
            expectClose(tf.add(sum0(heads), model.param(`blocks.${l}.attn.b_O`)), cache.get("attn_out", l));
          }
        });
        stack.dispose();
        // The bias component is Σ b_O; with the remainder the stack sums to the residual stream.
        const withExtras = cache.stackHeadResults(1, { includeBias: true, includeRemainder: true });
        expect(withExtras.labels.slice(-2)).toEqual(["bias", "remainder"]);
        tf.tidy(() => {
          const [heads, bias] = [withExtras.stack.slice([0], [4]), withExtras.stack.slice([4], [1])];
          expectClose(tf.add(sum0(heads), sum0(bias)), cache.get("attn_out", 0));
          expectClose(sum0(withExtras.stack), cache.get("resid_pre", 1));
        });
        withExtras.stack.dispose();
        const none = cache.stackHeadResults(0);
        expect(none.labels).toEqual([]);
        expect(none.stack.shape).toEqual([0, BATCH, POS, 16]);
        none.stack.dispose();
      });

      if (!overrides.attnOnly) {
        it("stackNeuronResults: each layer's neurons + b_out equal its mlp_out", () => {
          const { stack, labels } = cache.stackNeuronResults();
          expect(labels.length).toBe(64);
          expect(labels.slice(0, 2)).toEqual(["L0N0", "L0N1"]);
          expect(labels[32]).toBe("L1N0");
          expect(stack.shape).toEqual([64, BATCH, POS, 16]);
          tf.tidy(() => {
            for (let l = 0; l < 2; l++) {
              const neurons = stack.slice([32 * l], [32]);
              expectClose(tf.add(sum0(neurons), model.param(`blocks.${l}.mlp.b_out`)), cache.get("mlp_out", l));
            }
          });
          stack.dispose();
        });
      }
    });
  }
});

describe("per-head and per-neuron details", () => {
  let model: HookedTransformer;
  let tokens: tf.Tensor2D;
  let cache: ActivationCache;
  beforeAll(async () => {
    model = await randomModel({ useAttnResult: true }, 5);
    tokens = randomTokens(BATCH, POS, BASE.dVocab, 12);
    cache = cacheOf(model, tokens);
  });
  afterAll(() => {
    cache.dispose();
    tokens.dispose();
    model.dispose();
  });

  it("head outputs computed from hook_z equal the model's hook_result", () => {
    const fromResult = cache.stackHeadResults();
    const withoutResult = cache.filter((name) => !name.endsWith("hook_result"));
    const fromZ = withoutResult.stackHeadResults();
    expect(fromZ.labels).toEqual(fromResult.labels);
    expectClose(fromZ.stack, fromResult.stack);
    // computeHeadResults fills hook_result in the model's layout.
    expect(withoutResult.has("blocks.1.attn.hook_result")).toBe(false);
    withoutResult.computeHeadResults();
    expectClose(withoutResult.get("result", 1), cache.get("result", 1));
    expect(withoutResult.get("result", 0).shape).toEqual([BATCH, POS, 4, 16]);
    [fromResult.stack, fromZ.stack].forEach((t) => t.dispose());
    withoutResult.dispose();
  });

  it("neuronSlice picks neurons and labels them", () => {
    const all = cache.stackNeuronResults();
    const some = cache.stackNeuronResults(undefined, { neuronSlice: [4, 10] });
    expect(some.labels).toEqual(["L0N4", "L0N5", "L0N6", "L0N7", "L0N8", "L0N9", "L1N4", "L1N5", "L1N6", "L1N7", "L1N8", "L1N9"]);
    tf.tidy(() => expectClose(some.stack, tf.concat([all.stack.slice([4], [6]), all.stack.slice([36], [6])], 0)));
    const one = cache.stackNeuronResults(1, { neuronSlice: -1 });
    expect(one.labels).toEqual(["L0N31"]);
    tf.tidy(() => expectClose(one.stack, all.stack.slice([31], [1])));
    // getNeuronResults: activation layout [batch, pos, neurons, dModel].
    const layout = cache.getNeuronResults(1, { neuronSlice: [0, 3] });
    expect(layout.shape).toEqual([BATCH, POS, 3, 16]);
    tf.tidy(() => expectClose(layout.transpose([2, 0, 1, 3]), all.stack.slice([32], [3])));
    [all.stack, some.stack, one.stack, layout].forEach((t) => t.dispose());
  });

  it("stackNeuronResults' bias and remainder components", () => {
    const { stack, labels } = cache.stackNeuronResults(2, { includeBias: true, includeRemainder: true });
    expect(labels.slice(-2)).toEqual(["bias", "remainder"]);
    tf.tidy(() => {
      const neuronsAndBias = stack.slice([0], [65]);
      expectClose(sum0(neuronsAndBias), tf.add(cache.get("mlp_out", 0), cache.get("mlp_out", 1)));
      expectClose(sum0(stack), cache.get("resid_post", 1));
    });
    stack.dispose();
  });

  it("stackActivation stacks one activation over layers", () => {
    const patterns = cache.stackActivation("pattern");
    expect(patterns.shape).toEqual([2, BATCH, 4, POS, POS]);
    tf.tidy(() => expectClose(patterns.slice([1], [1]).squeeze([0]), cache.get("pattern", 1), 0));
    patterns.dispose();
  });
});

describe("applyLnToStack", () => {
  /** Σ_c applyLn(decomposition) against what the norm produced, undoing w and b where the model has them. */
  async function check(overrides: Partial<ConfigInput>): Promise<void> {
    const model = await randomModel(overrides, 7);
    const tokens = randomTokens(BATCH, POS, BASE.dVocab, 13);
    const cache = cacheOf(model, tokens);
    const type = model.cfg.normalizationType;
    const beforeNorm = (normalized: tf.Tensor, prefix: string): tf.Tensor => {
      let t = normalized;
      if (type === "LN") t = tf.sub(t, model.param(`${prefix}.b`));
      if (type === "LN" || type === "RMS") t = tf.div(t, model.param(`${prefix}.w`));
      return t;
    };
    for (const [layer, prefix, mlpInput] of [[undefined, "ln_final", false], [1, "blocks.1.ln1", false], [1, "blocks.1.ln2", true]] as const) {
      const { stack } = cache.getFullResidDecomposition(layer, { mlpInput });
      const normed = cache.applyLnToStack(stack, layer, { mlpInput });
      tf.tidy(() => expectClose(sum0(normed), beforeNorm(cache.get(`${prefix}.hook_normalized`), prefix)));
      // Recomputing the scale from a full decomposition's sum gives the cached scale back.
      const recomputed = cache.applyLnToStack(stack, layer, { mlpInput, recomputeLn: true });
      expectClose(recomputed, normed);
      // applyLn on the stacking method is the same as applying it afterwards.
      const direct = cache.getFullResidDecomposition(layer, { mlpInput, applyLn: true });
      expectClose(direct.stack, normed);
      [stack, normed, recomputed, direct.stack].forEach((t) => t.dispose());
    }
    cache.dispose();
    tokens.dispose();
    model.dispose();
  }

  it("LNPre: the components sum to ln_final.hook_normalized (and ln1, ln2 at layer 1)", () => check({ normalizationType: "LNPre" }));
  it("LN: the components sum to (hook_normalized − b) / w", () => check({ normalizationType: "LN" }));
  it("RMS: no centring; the components sum to hook_normalized / w", () => check({ normalizationType: "RMS" }));
  it("RMSPre: the components sum to hook_normalized", () => check({ normalizationType: "RMSPre" }));

  it("centres each component for LN but not for RMS", async () => {
    for (const [type, centred] of [["LN", true], ["RMS", false]] as const) {
      const model = await randomModel({ normalizationType: type }, 8);
      const tokens = randomTokens(1, POS, BASE.dVocab, 14);
      const cache = cacheOf(model, tokens);
      const { stack } = cache.decomposeResid();
      const normed = cache.applyLnToStack(stack);
      const meanAbs = tf.tidy(() => tf.max(tf.abs(tf.mean(normed, -1))).dataSync()[0]);
      if (centred) expect(meanAbs).toBeLessThan(1e-5);
      else expect(meanAbs).toBeGreaterThan(1e-3);
      [stack, normed].forEach((t) => t.dispose());
      cache.dispose();
      tokens.dispose();
      model.dispose();
    }
  });

  it("is a copy for a model without normalisation", async () => {
    const model = await randomModel({ normalizationType: "none" }, 9);
    const tokens = randomTokens(2, POS, BASE.dVocab, 15);
    const cache = cacheOf(model, tokens);
    const { stack } = cache.decomposeResid();
    const normed = cache.applyLnToStack(stack);
    expect(normed).not.toBe(stack);
    expectClose(normed, stack, 0);
    normed.dispose();
    expect(stack.isDisposed).toBe(false);
    stack.dispose();
    cache.dispose();
    tokens.dispose();
    model.dispose();
  });
});

describe("logitAttrs", () => {
  it("LNPre: the LN-applied full decomposition's attributions sum to the logit difference minus the b_U difference", async () => {
    const model = await randomModel({ normalizationType: "LNPre" }, 21);
    const tokens = randomTokens(BATCH, POS, BASE.dVocab, 16);
    const { output: logits, cache } = model.runWithCache(tokens);
    const [tok, other] = [5, 17];
    for (const expandNeurons of [true, false]) {
      const { stack } = cache.getFullResidDecomposition(undefined, { expandNeurons, applyLn: true });
      const attrs = cache.logitAttrs(stack, tok, { incorrectTokens: other });
      expect(attrs.shape).toEqual([stack.shape[0], BATCH, POS]);
      tf.tidy(() => {
        const column = (i: number) => logits.slice([0, 0, i], [BATCH, POS, 1]).reshape([BATCH, POS]);
        const b_U = model.param("unembed.b_U").dataSync();
        const expected = tf.sub(tf.sub(column(tok), column(other)), b_U[tok] - b_U[other]);
        expectClose(sum0(attrs), expected);
        // A single token: Σ attrs = logit − b_U.
        const single = cache.logitAttrs(stack, tok);
        expectClose(sum0(single), tf.sub(column(tok), b_U[tok]));
      });
      [stack, attrs].forEach((t) => t.dispose());
    }
    logits.dispose();
    cache.dispose();
    tokens.dispose();
    model.dispose();
  });

  it("LN: attributions ignore ln_final's w and b unless foldLnWeight; the bookkeeping then is exact", async () => {
    const model = await randomModel({ normalizationType: "LN" }, 22);
    const tokens = randomTokens(BATCH, POS, BASE.dVocab, 17);
    const { output: logits, cache } = model.runWithCache(tokens);
    const [tok, other] = [3, 9];
    const { stack } = cache.getFullResidDecomposition(undefined, { applyLn: true });
    tf.tidy(() => {
      const direction = unembedDiff(model, tok, other); // [dModel]
      const w = model.param("ln_final.w");
      const b = model.param("ln_final.b");
      // Default (TransformerLens): direction W_U[:, tok] − W_U[:, other] on the normalised-before-w-and-b stream.
      const plain = cache.logitAttrs(stack, tok, { incorrectTokens: other });
      const beforeWB = tf.div(tf.sub(cache.get("ln_final.hook_normalized"), b), w);
      expectClose(sum0(plain), tf.sum(tf.mul(beforeWB, direction), -1));
      // foldLnWeight: Σ attrs + b·direction + b_U diff = the logit difference.
      const folded = cache.logitAttrs(stack, tok, { incorrectTokens: other, foldLnWeight: true });
      const column = (i: number) => logits.slice([0, 0, i], [BATCH, POS, 1]).reshape([BATCH, POS]);
      const b_U = model.param("unembed.b_U").dataSync();
      const bookkept = tf.add(tf.add(sum0(folded), tf.sum(tf.mul(b, direction))), b_U[tok] - b_U[other]);
      expectClose(bookkept, tf.sub(column(tok), column(other)));
    });
    stack.dispose();
    logits.dispose();
    cache.dispose();
    tokens.dispose();
    model.dispose();
  });

  it("RMS with foldLnWeight: Σ attrs = logit difference − b_U difference", async () => {
    const model = await randomModel({ normalizationType: "RMS" }, 23);
    const tokens = randomTokens(BATCH, POS, BASE.dVocab, 18);
    const { output: logits, cache } = model.runWithCache(tokens);
    const { stack } = cache.decomposeResid(undefined, { applyLn: true });
    const attrs = cache.logitAttrs(stack, 1, { incorrectTokens: 2, foldLnWeight: true });
    tf.tidy(() => {
      const column = (i: number) => logits.slice([0, 0, i], [BATCH, POS, 1]).reshape([BATCH, POS]);
      const b_U = model.param("unembed.b_U").dataSync();
      expectClose(sum0(attrs), tf.sub(tf.sub(column(1), column(2)), b_U[1] - b_U[2]));
    });
    [stack, attrs].forEach((t) => t.dispose());
    logits.dispose();
    cache.dispose();
    tokens.dispose();
    model.dispose();
  });

  describe("token shapes", () => {
    let model: HookedTransformer;
    let tokens: tf.Tensor2D;
    let logits: tf.Tensor3D;
    let cache: ActivationCache;
    beforeAll(async () => {
      model = await randomModel({ normalizationType: "LNPre" }, 24);
      tokens = randomTokens(BATCH, POS, BASE.dVocab, 19);
      ({ output: logits, cache } = model.runWithCache(tokens));
    });
    afterAll(() => {
      [logits, tokens].forEach((t) => t.dispose());
      cache.dispose();
      model.dispose();
    });

    /** logit[b, p, tok[b]] − b_U[tok[b]] ... as [BATCH] at one position. */
    function lastLogitDiff(correct: number[], wrong: number[], pos: number): tf.Tensor {
      const rows = logits.slice([0, pos, 0], [BATCH, 1, BASE.dVocab]).reshape([BATCH, BASE.dVocab]).arraySync() as number[][];
      const b_U = model.param("unembed.b_U").dataSync();
      return tf.tensor1d(rows.map((row, b) => row[correct[b]] - row[wrong[b]] - (b_U[correct[b]] - b_U[wrong[b]])));
    }

    it("per-batch tokens [batch] with posSlice −1 (position axis dropped)", () => {
      const correct = [0, 7, 22];
      const wrong = [4, 4, 1];
      const { stack } = cache.getFullResidDecomposition(undefined, { applyLn: true, posSlice: -1 });
      expect(stack.shape.slice(1)).toEqual([BATCH, 16]);
      const attrs = cache.logitAttrs(stack, correct, { incorrectTokens: tf.tensor1d(wrong, "int32"), posSlice: -1 });
      expect(attrs.shape).toEqual([stack.shape[0], BATCH]);
      tf.tidy(() => expectClose(sum0(attrs), lastLogitDiff(correct, wrong, POS - 1)));
      // Per-batch tokens also broadcast over a kept position axis.
      const full = cache.getFullResidDecomposition(undefined, { applyLn: true });
      const broadcast = cache.logitAttrs(full.stack, correct, { incorrectTokens: wrong });
      expect(broadcast.shape).toEqual([stack.shape[0], BATCH, POS]);
      tf.tidy(() => expectClose(broadcast.slice([0, 0, POS - 1], [stack.shape[0], BATCH, 1]).reshape(attrs.shape), attrs));
      [stack, attrs, full.stack, broadcast].forEach((t) => t.dispose());
    });

    it("per-position tokens [batch, pos]: the next-token logits", () => {
      const { stack } = cache.decomposeResid(undefined, { applyLn: true });
      const next = (tokens.arraySync() as number[][]).map((row) => [...row.slice(1), row[0]]);
      const attrs = cache.logitAttrs(stack, next);
      tf.tidy(() => {
        const rows = logits.arraySync() as number[][][];
        const b_U = model.param("unembed.b_U").dataSync();
        const expected = tf.tensor2d(rows.map((r, b) => r.map((v, p) => v[next[b][p]] - b_U[next[b][p]])));
        expectClose(sum0(attrs), expected);
      });
      [stack, attrs].forEach((t) => t.dispose());
    });

    it("applyLn: true equals applyLnToStack first", () => {
      const raw = cache.decomposeResid(undefined, { posSlice: [2, 5] });
      const normed = cache.applyLnToStack(raw.stack, undefined, { posSlice: [2, 5] });
      const a = cache.logitAttrs(normed, 3, { incorrectTokens: 4 });
      const b = cache.logitAttrs(raw.stack, 3, { incorrectTokens: 4, applyLn: true, posSlice: [2, 5] });
      expectClose(b, a);
      [raw.stack, normed, a, b].forEach((t) => t.dispose());
    });

    it("rejects tokens that do not fit", () => {
      const { stack } = cache.decomposeResid(undefined, { posSlice: -1 });
      expect(() => cache.logitAttrs(stack, [1, 2])).toThrow(/do not fit/);
      expect(() => cache.logitAttrs(stack, 99)).toThrow(/not a token id/);
      expect(() => cache.logitAttrs(stack, [1, 2, 3], { incorrectTokens: 4 })).toThrow(/same shape/);
      stack.dispose();
    });
  });
});

describe("removeBatchDim and posSlice", () => {
  let model: HookedTransformer;
  let tokens: tf.Tensor2D;
  let batched: ActivationCache;
  let single: ActivationCache;
  let multi: ActivationCache;
  let multiTokens: tf.Tensor2D;
  beforeAll(async () => {
    model = await randomModel({ normalizationType: "LN" }, 31);
    tokens = randomTokens(1, POS, BASE.dVocab, 20);
    batched = cacheOf(model, tokens);
    single = cacheOf(model, tokens, { removeBatchDim: true });
    multiTokens = randomTokens(BATCH, POS, BASE.dVocab, 21);
    multi = cacheOf(model, multiTokens);
  });
  afterAll(() => {
    [batched, single, multi].forEach((c) => c.dispose());
    [tokens, multiTokens].forEach((t) => t.dispose());
    model.dispose();
  });

  /** Each method's stack from both caches: the unbatched one equals the batched one without axis 1. */
  const methods: [string, (c: ActivationCache, posSlice?: number | [number, number]) => { stack: tf.Tensor; labels: string[] }][] = [
    ["accumulatedResid", (c, posSlice) => c.accumulatedResid(undefined, { inclMid: true, applyLn: true, posSlice })],
    ["decomposeResid", (c, posSlice) => c.decomposeResid(1, { applyLn: true, posSlice })],
    ["stackHeadResults", (c, posSlice) => c.stackHeadResults(undefined, { applyLn: true, includeBias: true, includeRemainder: true, posSlice })],
    ["stackNeuronResults", (c, posSlice) => c.stackNeuronResults(1, { applyLn: true, neuronSlice: [3, 9], includeRemainder: true, posSlice })],
    ["getFullResidDecomposition", (c, posSlice) => c.getFullResidDecomposition(undefined, { applyLn: true, posSlice })],
    ["getFullResidDecomposition (mlp_out)", (c, posSlice) => c.getFullResidDecomposition(1, { expandNeurons: false, mlpInput: true, applyLn: true, posSlice })],
  ];

  for (const [name, run] of methods) {
    it(`${name}: without a batch axis`, () => {
      const a = run(batched);
      const b = run(single);
      expect(b.labels).toEqual(a.labels);
      expect(b.stack.shape).toEqual([a.stack.shape[0], POS, 16]);
      tf.tidy(() => expectClose(b.stack, a.stack.squeeze([1])));
      const c = cache1Attrs(single, b.stack);
      const d = cache1Attrs(batched, a.stack);
      tf.tidy(() => expectClose(c, d.squeeze([1])));
      [a.stack, b.stack, c, d].forEach((t) => t.dispose());
    });

    it(`${name}: posSlice −1 and [2, 5) equal slicing the full result`, () => {
      const full = run(multi);
      const last = run(multi, -1);
      const range = run(multi, [2, 5]);
      const components = full.stack.shape[0];
      expect(last.stack.shape).toEqual([components, BATCH, 16]);
      expect(range.stack.shape).toEqual([components, BATCH, 3, 16]);
      tf.tidy(() => {
        expectClose(last.stack, full.stack.slice([0, 0, POS - 1, 0], [components, BATCH, 1, 16]).squeeze([2]));
        expectClose(range.stack, full.stack.slice([0, 0, 2, 0], [components, BATCH, 3, 16]));
      });
      // The unbatched cache with posSlice −1: just [components, dModel].
      const tiny = run(single, -1);
      expect(tiny.stack.shape).toEqual([components, 16]);
      [full.stack, last.stack, range.stack, tiny.stack].forEach((t) => t.dispose());
    });
  }

  function cache1Attrs(cache: ActivationCache, stack: tf.Tensor): tf.Tensor {
    return cache.logitAttrs(stack, 2, { incorrectTokens: 6 });
  }

  it("logitAttrs takes per-position tokens [pos] on an unbatched cache", () => {
    const { stack } = single.decomposeResid(undefined, { applyLn: true });
    const ids = Array.from({ length: POS }, (_, p) => p);
    const attrs = single.logitAttrs(stack, ids, { hasBatchDim: false });
    expect(attrs.shape).toEqual([stack.shape[0], POS]);
    const batchedStack = batched.decomposeResid(undefined, { applyLn: true });
    const batchedAttrs = batched.logitAttrs(batchedStack.stack, [ids]);
    tf.tidy(() => expectClose(attrs, batchedAttrs.squeeze([1])));
    [stack, attrs, batchedStack.stack, batchedAttrs].forEach((t) => t.dispose());
  });

  it("a posSlice out of range is an error", () => {
    expect(() => multi.decomposeResid(undefined, { posSlice: POS })).toThrow(/out of range/);
    expect(() => multi.decomposeResid(undefined, { posSlice: [5, 2] })).toThrow(/selects nothing/);
  });

  it("applyLnToStack says to pass the same posSlice when shapes differ", () => {
    const { stack } = multi.decomposeResid(undefined, { posSlice: -1 });
    expect(() => multi.applyLnToStack(stack)).toThrow(/same posSlice/);
    stack.dispose();
  });
});

describe("errors for activations that were not cached", () => {
  let model: HookedTransformer;
  let tokens: tf.Tensor2D;
  beforeAll(async () => {
    model = await randomModel({}, 41);
    tokens = randomTokens(2, POS, BASE.dVocab, 22);
  });
  afterAll(() => {
    tokens.dispose();
    model.dispose();
  });

  it("names the missing hooks", () => {
    const residOnly = cacheOf(model, tokens, { namesFilter: (n) => n.includes("resid") || n === "hook_embed" });
    expect(() => residOnly.stackHeadResults()).toThrow(/stackHeadResults needs .*"blocks\.0\.attn\.hook_z", "blocks\.1\.attn\.hook_z"/);
    expect(() => residOnly.stackNeuronResults()).toThrow(/"blocks\.0\.mlp\.hook_post"/);
    expect(() => residOnly.decomposeResid()).toThrow(/"hook_pos_embed", "blocks\.0\.hook_attn_out"/);
    expect(() => residOnly.accumulatedResid(undefined, { applyLn: true })).toThrow(/accumulatedResid needs .*"ln_final\.hook_scale"/);
    expect(() => residOnly.getFullResidDecomposition()).toThrow(/namesFilter/);
    // Without ln_final.hook_scale, recomputeLn still works for a full decomposition.
    const { stack } = residOnly.accumulatedResid();
    expect(() => residOnly.applyLnToStack(stack)).toThrow(/"ln_final\.hook_scale".*recomputeLn/);
    expect(() => residOnly.applyLnToStack(stack, 1)).toThrow(/"blocks\.1\.ln1\.hook_scale"/);
    stack.dispose();
    residOnly.dispose();
    expect(() => residOnly.decomposeResid()).toThrow(/disposed/);
  });

  it("rejects bad layers and options", async () => {
    const cache = cacheOf(model, tokens);
    expect(() => cache.decomposeResid(3)).toThrow(/layer must be an integer in \[0, 2\]/);
    const wrongShape = tf.zeros([2, 5]);
    expect(() => cache.applyLnToStack(wrongShape)).toThrow(/dModel=16/);
    wrongShape.dispose();
    expect(() => cache.decomposeResid(undefined, { mode: "heads" as never })).toThrow(/mode/);
    expect(() => cache.decomposeResid(2, { mlpInput: true })).toThrow(/mlpInput/);
    expect(() => cache.stackActivation("blocks.0.attn.hook_z")).toThrow(/short activation name/);
    cache.dispose();
    const attnOnly = await randomModel({ attnOnly: true }, 42);
    const attnCache = cacheOf(attnOnly, tokens);
    expect(() => attnCache.stackNeuronResults()).toThrow(/attention-only/);
    expect(() => attnCache.accumulatedResid(undefined, { inclMid: true })).toThrow(/resid_mid/);
    attnCache.dispose();
    attnOnly.dispose();
  });
});

describe("memory", () => {
  it("every method's results are the only new tensors; disposing them and the cache frees everything", async () => {
    const model = await randomModel({ normalizationType: "LN" }, 51);
    const tokens = randomTokens(2, POS, BASE.dVocab, 23);
    const start = tf.memory().numTensors;
    const cache = cacheOf(model, tokens);
    const { stack } = cache.decomposeResid();
    expectNoLeak(() => cache.accumulatedResid(undefined, { inclMid: true, applyLn: true }));
    expectNoLeak(() => cache.decomposeResid(1, { applyLn: true, posSlice: -1 }));
    expectNoLeak(() => cache.stackHeadResults(undefined, { applyLn: true, includeBias: true, includeRemainder: true, posSlice: [1, 4] }));
    expectNoLeak(() => cache.stackHeadResults(0));
    expectNoLeak(() => cache.stackNeuronResults(undefined, { applyLn: true, neuronSlice: [0, 5], includeBias: true }));
    expectNoLeak(() => cache.getNeuronResults(0));
    expectNoLeak(() => cache.getFullResidDecomposition(undefined, { applyLn: true }));
    expectNoLeak(() => cache.getFullResidDecomposition(1, { expandNeurons: false, mlpInput: true }));
    expectNoLeak(() => cache.applyLnToStack(stack));
    expectNoLeak(() => cache.applyLnToStack(stack, 1, { recomputeLn: true }));
    expectNoLeak(() => cache.logitAttrs(stack, [1, 2], { incorrectTokens: [3, 4], applyLn: true, foldLnWeight: true }));
    expectNoLeak(() => cache.stackActivation("z"));
    // Failing calls leak nothing either.
    expectNoLeak(() => {
      expect(() => cache.logitAttrs(stack, [1, 2, 3])).toThrow();
      expect(() => cache.applyLnToStack(stack, undefined, { posSlice: -1 })).toThrow();
    });
    stack.dispose();
    cache.computeHeadResults();
    expect(cache.has("blocks.0.attn.hook_result")).toBe(true);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(start);
    tokens.dispose();
    model.dispose();
  });
});
