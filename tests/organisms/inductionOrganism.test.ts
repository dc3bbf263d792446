/**
 * The shipped induction-2l organism, measured live on repeated random tokens: a layer-0
 * previous-token head and a layer-1 induction head (TransformerLens-style scores ≥ 0.8), and a
 * loss on the repeated half far below the first; the recorded metrics are what the weights show.
 * Checkpoints along training cover the phase change. Its data generator and training plumbing
 * are checked directly.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { repeatedRandomTokens, repeatedSpanSequence } from "../../src/organisms/induction/inductionData";
import { inductionMetrics, inductionOrganism } from "../../src/organisms/induction/inductionOrganism";
import { listOrganismCheckpoints, loadOrganism, organismTrainingHistory, organismTrainingRecord } from "../../src/organisms/loadOrganism";
import { trainOrganism } from "../../src/organisms/trainOrganism";
import { SeededRandom } from "../../src/train/seededRandom";

let scratch: string;
beforeAll(async () => {
  await ready();
  scratch = mkdtempSync(join(tmpdir(), "mechlab-induction-test-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("induction-2l data", () => {
  it("is BOS, then random spans each followed by its repeat, with lengths in the range", () => {
    const random = new SeededRandom(3);
    for (let n = 0; n < 50; n++) {
      const seq = repeatedSpanSequence(random, { length: 48, vocab: 512, bos: 512, spanLength: [4, 20] });
      expect(seq).toHaveLength(48);
      expect(seq[0]).toBe(512);
      expect(seq.slice(1).every((t) => Number.isInteger(t) && t >= 0 && t < 512)).toBe(true);
      // Parse it back: at each span start some length L in [4, 20] has the next L tokens repeated
      // right after (the last span or its repeat may be cut off by the sequence end).
      let at = 1;
      while (at < 48) {
        const fits = [];
        for (let L = 4; L <= 20; L++) {
          const first = seq.slice(at, at + L);
          const second = seq.slice(at + L, at + 2 * L);
          if (second.every((t, i) => t === first[i])) fits.push(L);
        }
        expect(fits.length).toBeGreaterThan(0);
        at += 2 * fits[0];
      }
    }
    expect(() => repeatedSpanSequence(random, { length: 10, vocab: 5, bos: 5, spanLength: [3, 2] })).toThrow(/spanLength must be two whole numbers 1 ≤ shortest ≤ longest, got \[3, 2\]/);
  });

  it("repeated random tokens are BOS, x, x", () => {
    const seq = repeatedRandomTokens(new SeededRandom(1), 23, 512, 512);
    expect(seq).toHaveLength(47);
    expect(seq[0]).toBe(512);
    expect(seq.slice(24)).toEqual(seq.slice(1, 24));
  });
});

describe("induction-2l, shipped", () => {
  it("has a previous-token head in layer 0 and an induction head in layer 1; repeats are predicted", async () => {
    const before = tf.memory().numTensors;
    const model = await loadOrganism("induction-2l");
    const metrics = inductionMetrics(model);
    expect(metrics.previousTokenScore).toBeGreaterThanOrEqual(0.8);
    expect(metrics.inductionScore).toBeGreaterThanOrEqual(0.8);
    expect(metrics.lossSecondCopy).toBeLessThan(metrics.lossFirstCopy / 4);
    expect(await inductionOrganism.evaluate(model)).toEqual(organismTrainingRecord("induction-2l").metrics);
    expect(model.toStrTokens("baba beba baba")).toEqual(["<s>", "baba", "beba", "baba"]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("ships checkpoints across the phase change: none before it has an induction head, the last ones do", async () => {
    const steps = listOrganismCheckpoints("induction-2l");
    expect(steps[0]).toBe(0);
    expect(steps.length).toBeGreaterThanOrEqual(10);
    expect(steps).toEqual(organismTrainingRecord("induction-2l").checkpoints);
    const scores: number[] = [];
    for (const step of steps) {
      const model = await loadOrganism("induction-2l", { checkpoint: step });
      scores.push(inductionMetrics(model, 8).inductionScore);
      model.dispose();
    }
    expect(scores[0]).toBeLessThan(0.2);
    expect(scores.at(-1)).toBeGreaterThanOrEqual(0.8);
    // The change is abrupt: some checkpoint has no induction head while one 2–3 checkpoints later does.
    const jump = scores.findIndex((s, i) => s < 0.2 && scores.slice(i + 1, i + 4).some((later) => later >= 0.6));
    expect(jump).toBeGreaterThan(0);
    // Training logged the evaluations along the way (history.json).
    const history = organismTrainingHistory("induction-2l")!;
    expect(history.training.loss).toHaveLength(organismTrainingRecord("induction-2l").steps);
    expect(history.evals.map((e) => e.step)).toContain(steps.at(-1));
  });
});

describe("training induction-2l", () => {
  it("runs a few steps into the shipped layout, and the result loads with its tokenizer", async () => {
    const out = join(scratch, "induction-2l");
    const record = await trainOrganism("induction-2l", { outDir: out, steps: 4, progress: false });
    expect(record.steps).toBe(4);
    expect(record.checkpoints).toEqual([0, 4]);
    expect(existsSync(join(out, ".run"))).toBe(false);
    const history = JSON.parse(readFileSync(join(out, "history.json"), "utf8"));
    expect(history.training.step).toEqual([1, 2, 3, 4]);
    const model = await loadOrganism("induction-2l", { modelsDir: scratch });
    expect(model.cfg.nLayers).toBe(2);
    expect(model.cfg.positionalEmbeddingType).toBe("shortformer");
    expect(model.toStrTokens("baba")).toEqual(["<s>", "baba"]);
    model.dispose();
  });
});
