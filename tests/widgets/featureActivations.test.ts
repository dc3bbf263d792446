/**
 * featureActivations: batched, partial model runs give the same neuron / encoded feature values
 * as one full runWithCache read with plain loops; progress, AbortSignal, bad input, no leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { CharTokenizer } from "../../src/tokenizers";
import { featureActivations } from "../../src/widgets/featureActivations";
import { featureDashboard } from "../../src/widgets/featureDashboardWidget";

let model: HookedTransformer;
const TEXTS = ["abc def gh", "hgf edc ba", "aaa bbb cc", "ddd eee ff", "fade bead ", "cafe deaf "];

beforeAll(async () => {
  await ready();
  model = await HookedTransformer.create(
    { nLayers: 2, dModel: 16, nHeads: 4, dHead: 4, dMlp: 24, dVocab: 12, nCtx: 16, actFn: "gelu_new", seed: 9 },
    { tokenizer: new CharTokenizer("abcdefgh ", { bos: "^" }) },
  );
});

afterAll(() => model.dispose());

/** The whole dataset in one full run, read with plain loops: hook [batch, pos, d] as nested arrays. */
function fullRun(hook: string): number[][][] {
  const ids = model.toTokens(TEXTS);
  const { output, cache } = model.runWithCache(ids);
  const acts = cache.get(hook).arraySync() as number[][][];
  output.dispose();
  cache.dispose();
  ids.dispose();
  return acts;
}

describe("featureActivations", () => {
  it("one neuron, in batches of 4 (the last one short), matches a full run; progress per batch", async () => {
    const ids = model.toTokens(TEXTS);
    const progress: [number, number][] = [];
    const before = tf.memory().numTensors;
    const acts = await featureActivations(model, ids, { hook: "blocks.0.mlp.hook_post", index: 3, batchSize: 4, onProgress: (d, n) => progress.push([d, n]) });
    expect(tf.memory().numTensors).toBe(before);
    expect(progress).toEqual([[4, 6], [6, 6]]);
    const full = fullRun("blocks.0.mlp.hook_post");
    expect(acts).toHaveLength(6);
    acts.forEach((row, t) => {
      expect(row).toBeInstanceOf(Float32Array);
      expect(row).toHaveLength(11);
      row.forEach((v, p) => expect(v).toBeCloseTo(full[t][p][3], 5));
    });
    // Straight into the dashboard, with the model's token strings.
    const w = featureDashboard(acts, { model, tokenIds: ids, topK: 2 });
    const top = w.context(0);
    expect(top.tokens).toEqual(model.toStrTokens(TEXTS[top.text]).slice(top.start, top.position + 5));
    expect(top.activation).toBe(Math.max(...acts.map((row) => Math.max(...row))));
    ids.dispose();
  });

  it("encode: any function of the hook's activations (here the sum over d_model of layer 1's residual)", async () => {
    const ids = (model.toTokens(TEXTS).arraySync() as number[][]);
    const acts = await featureActivations(model, ids, { hook: "blocks.1.hook_resid_post", encode: (x) => x.sum(-1), batchSize: 5 });
    const full = fullRun("blocks.1.hook_resid_post");
    acts.forEach((row, t) => row.forEach((v, p) => expect(v).toBeCloseTo(full[t][p].reduce((a, b) => a + b, 0), 4)));
  });

  it("stops on its AbortSignal (before the next batch) without leaking", async () => {
    const ids = model.toTokens(TEXTS);
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    const run = featureActivations(model, ids, { hook: "blocks.0.mlp.hook_post", index: 0, batchSize: 2, signal: controller.signal, onProgress: (done) => done === 2 && controller.abort() });
    await expect(run).rejects.toMatchObject({ name: "AbortError" });
    expect(tf.memory().numTensors).toBe(before);
    ids.dispose();
  });

  it("explains bad input", async () => {
    const hook = "blocks.0.mlp.hook_post";
    await expect(featureActivations(model, [[0, 1], [2]], { hook, index: 0 })).rejects.toThrow(/text 1 has 1 token ids but text 0 has 2/);
    await expect(featureActivations(model, [[0, 1]], { hook })).rejects.toThrow(/either `index`.*or `encode`/);
    await expect(featureActivations(model, [[0, 1]], { hook, index: 0, encode: (x) => x })).rejects.toThrow(/not both or neither/);
    await expect(featureActivations(model, [[0, 1]], { hook, index: 24 })).rejects.toThrow(/index 24 is out of range for blocks\.0\.mlp\.hook_post, whose last axis has 24 entries/);
    await expect(featureActivations(model, [[0, 1]], { hook, encode: (x) => x })).rejects.toThrow(/must be \[batch, pos\] = \[1, 2\], got \[1, 2, 24\] from `encode`/);
    await expect(featureActivations(model, [[0, 1]], { hook: "blocks.0.mlp.hook_pots", index: 0 })).rejects.toThrow(/hook_post/);
    await expect(featureActivations(model, [], { hook, index: 0 })).rejects.toThrow(/at least one text/);
    const before = tf.memory().numTensors;
    await expect(featureActivations(model, [[0, 1]], { hook, index: 99 })).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });
});
