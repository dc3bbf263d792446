/**
 * The shipped ioi-toy organism, measured live: on held-out templates with held-out name pairs it
 * prefers the indirect object to the subject (mean logit difference IO − S and accuracy IO > S);
 * the logit difference is checked against one forward pass per prompt read with plain loops;
 * the recorded metrics are what the weights show; and training runs a few steps into the layout.
 */
import { existsSync, mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { ioiDataset } from "../../src/organisms/ioi/ioiDataset";
import { ioiLogitDiff, ioiOrganism, ioiToyGenerator } from "../../src/organisms/ioi/ioiOrganism";
import { loadOrganism, organismTrainingRecord } from "../../src/organisms/loadOrganism";
import { trainOrganism } from "../../src/organisms/trainOrganism";
import type { VocabTokenizer } from "../../src/tokenizers/vocabTokenizer";

let scratch: string;
beforeAll(async () => {
  await ready();
  scratch = mkdtempSync(join(tmpdir(), "mechlab-ioi-test-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("ioi-toy, shipped", () => {
  it("names the indirect object on held-out templates with held-out name pairs; evaluate() is the recorded metrics", async () => {
    const before = tf.memory().numTensors;
    const model = await loadOrganism("ioi-toy");
    const generator = ioiToyGenerator(model.tokenizer as VocabTokenizer);
    // Held-out templates × pairs of names never IO and S together in training (each name was, with others).
    const heldOut = ioiLogitDiff(model, generator, "heldOut", "heldOutPairs", 300, 99);
    expect(heldOut.logitDiff).toBeGreaterThanOrEqual(2);
    expect(heldOut.accuracy).toBeGreaterThanOrEqual(0.9);
    const trained = ioiLogitDiff(model, generator, "train", "train", 300, 99);
    expect(trained.logitDiff).toBeGreaterThanOrEqual(2);

    const metrics = await ioiOrganism.evaluate(model);
    const recorded = organismTrainingRecord("ioi-toy").metrics;
    expect(Object.keys(metrics).sort()).toEqual(Object.keys(recorded).sort());
    for (const key of Object.keys(recorded)) expect(metrics[key]).toBeCloseTo(recorded[key], 4);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("ioiLogitDiff equals one unpadded forward pass per prompt read with plain loops", async () => {
    const model = await loadOrganism("ioi-toy");
    const generator = ioiToyGenerator(model.tokenizer as VocabTokenizer);
    const n = 12;
    const data = ioiDataset(generator, { n, seed: 5, templates: "heldOut", names: "heldOutPairs" });
    const diffs = data.clean.map((p) => {
      const logits = tf.tidy(() => (model.forward(tf.tensor2d([p.tokens], [1, p.tokens.length], "int32"), { returnType: "logits" }) as tf.Tensor3D).arraySync()[0]);
      const last = logits[p.positions.end];
      return last[p.ioTokenId] - last[p.sTokenId];
    });
    const mean = diffs.reduce((a, b) => a + b, 0) / n;
    const measured = ioiLogitDiff(model, generator, "heldOut", "heldOutPairs", n, 5);
    expect(measured.logitDiff).toBeCloseTo(mean, 4);
    expect(measured.accuracy).toBe(diffs.filter((d) => d > 0).length / n);
    model.dispose();
  });
});

describe("training ioi-toy", () => {
  it("runs a few steps into the shipped layout, and the result loads with its tokenizer", async () => {
    const out = join(scratch, "ioi-toy");
    const record = await trainOrganism("ioi-toy", { outDir: out, steps: 3, progress: false });
    expect(record.steps).toBe(3);
    expect(existsSync(join(out, ".run"))).toBe(false);
    expect(existsSync(join(out, "training.json"))).toBe(true);
    expect(Object.keys(record.metrics)).toContain("heldOutLogitDiff");
    const model = await loadOrganism("ioi-toy", { modelsDir: scratch });
    expect(model.cfg.nLayers).toBe(3);
    const [a, b] = ioiToyGenerator(model.tokenizer as VocabTokenizer).trainNames;
    expect(model.toStrTokens(`When ${a} and ${b} went to the store , ${b} gave a drink to`).slice(0, 3)).toEqual(["<s>", "When", a]);
    model.dispose();
  });
});
