/**
 * The shipped text-lm organism, measured live: its loss on held-out State of the Union speeches is
 * far below the unigram baseline (≥ 1.5 nats/token), text round-trips through its tokenizer, and
 * it continues a prompt with readable text; the recorded metrics are what the weights show. The
 * corpus helpers are checked against plain loops, and the training plumbing runs for 3 steps.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { listOrganismCheckpoints, loadOrganism, organismTrainingRecord } from "../../src/organisms/loadOrganism";
import { modelsDir } from "../../src/organisms/modelsDir";
import {
  cleanSpeech,
  evenlySpacedWindows,
  randomWindows,
  sotuSpeeches,
  sotuSplit,
  tokenStream,
  unigramCounts,
  unigramCrossEntropy,
} from "../../src/organisms/textLm/sotuCorpus";
import { heldOutBatch, heldOutLossAndBaseline, textLmOrganism, textLmStreams } from "../../src/organisms/textLm/textLmOrganism";
import { trainOrganism } from "../../src/organisms/trainOrganism";
import { CharTokenizer } from "../../src/tokenizers/charTokenizer";
import { SeededRandom } from "../../src/train/seededRandom";

let scratch: string;
beforeAll(async () => {
  await ready();
  scratch = mkdtempSync(join(tmpdir(), "mechlab-text-lm-test-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Mean next-token negative log-likelihood of `tokens` [n, pos] from the model's logits, in plain loops. */
function plainLoopLoss(logits: number[][][], tokens: number[][]): number {
  let sum = 0;
  let count = 0;
  for (let b = 0; b < tokens.length; b++) {
    for (let p = 0; p + 1 < tokens[b].length; p++) {
      const row = logits[b][p];
      const max = Math.max(...row);
      let z = 0;
      for (const v of row) z += Math.exp(v - max);
      sum += max + Math.log(z) - row[tokens[b][p + 1]];
      count++;
    }
  }
  return sum / count;
}

describe("the State of the Union corpus", () => {
  it("splits by year (held out: years ending in 5), cleans whitespace only", () => {
    const all = sotuSpeeches();
    const train = sotuSplit("train");
    const heldOut = sotuSplit("heldOut");
    expect(all.length).toBe(233);
    expect(train.length + heldOut.length).toBe(all.length);
    expect(heldOut.every((s) => s.year % 10 === 5)).toBe(true);
    expect(train.some((s) => s.year % 10 === 5)).toBe(false);
    expect(heldOut.map((s) => s.year)).toContain(1945);
    expect(cleanSpeech("  Fellow  citizens,\n\tthe  state ")).toBe("Fellow citizens, the state");
  });

  it("token streams, windows and the unigram baseline agree with plain loops", () => {
    const tok = new CharTokenizer("abc ", { bos: "^" });
    const stream = tokenStream(["ab c", "ca"], tok);
    expect(Array.from(stream)).toEqual([4, 0, 1, 3, 2, 4, 2, 0]);
    const windows = evenlySpacedWindows(stream, 3, 4, 4);
    // starts round(k · (8 − 3) / 3) = 0, 2, 3
    expect(Array.from(windows)).toEqual([4, 4, 0, 1, /**/ 4, 1, 3, 2, /**/ 4, 3, 2, 4]);
    const random = new SeededRandom(5);
    const batch = randomWindows(stream, random, 50, 3, 4);
    for (let b = 0; b < 50; b++) {
      const row = Array.from(batch.subarray(b * 3, b * 3 + 3));
      expect(row[0]).toBe(4);
      const starts = [0, 1, 2, 3, 4, 5, 6].filter((s) => stream[s] === row[1] && stream[s + 1] === row[2]);
      expect(starts.length).toBeGreaterThan(0);
    }
    const counts = unigramCounts(stream, 5);
    expect(Array.from(counts)).toEqual([2, 1, 2, 1, 2]);
    // add-one: p = (count + 1) / (8 + 5)
    const expected = -(Math.log(3 / 13) + Math.log(2 / 13) + Math.log(3 / 13)) / 3;
    expect(unigramCrossEntropy([0, 1, 2], counts)).toBeCloseTo(expected, 12);
    expect(() => tokenStream(["a"], new CharTokenizer("a"))).toThrow(/has no BOS token/);
  });
});

describe("text-lm, shipped", () => {
  it("held-out loss is at least 1.5 nats below the unigram baseline; evaluate gives the recorded metrics", async () => {
    const before = tf.memory().numTensors;
    const model = await loadOrganism("text-lm");
    expect(model.cfg.nLayers).toBe(1);
    expect(model.cfg.dMlp).toBe(512);
    const { heldOutLoss, unigramLoss } = heldOutLossAndBaseline(model);
    expect(unigramLoss).toBeGreaterThan(5);
    expect(unigramLoss - heldOutLoss).toBeGreaterThanOrEqual(1.5);

    // The held-out loss agrees with plain-loop log-softmax over the model's logits (4 windows).
    const batch = heldOutBatch(model, 4);
    const logits = model.forward(batch, { returnType: "logits" }) as tf.Tensor3D;
    const oracle = plainLoopLoss(logits.arraySync(), batch.arraySync());
    tf.dispose([batch, logits]);
    expect(heldOutLossAndBaseline(model, 4).heldOutLoss).toBeCloseTo(oracle, 4);

    const recorded = organismTrainingRecord("text-lm").metrics;
    const metrics = await textLmOrganism.evaluate(model);
    expect(Object.keys(metrics).sort()).toEqual(Object.keys(recorded).sort());
    for (const key of Object.keys(recorded)) expect(metrics[key]).toBeCloseTo(recorded[key], 6);
    expect(metrics.heldOutLoss).toBeCloseTo(heldOutLoss, 10);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("text round-trips through its tokenizer, and it continues a prompt with readable text", async () => {
    const before = tf.memory().numTensors;
    const model = await loadOrganism("text-lm");
    const speech = sotuSplit("heldOut")[3].text.slice(0, 300);
    const strTokens = model.toStrTokens(speech);
    expect(strTokens[0]).toBe("<|endoftext|>");
    expect(strTokens.slice(1).join("")).toBe(speech);
    // Characters the BPE splits into bytes show as U+FFFD token by token, but decode exactly.
    const text = speech + " 1945 — “naïve” café ☃";
    const tokens = model.toTokens(text);
    expect(model.toString(tokens)).toEqual(["<|endoftext|>" + text]);
    // Common words are single tokens.
    expect(model.toStrTokens(" the United States of America", { prependBos: false })).toContain(" United");
    tokens.dispose();

    const prompt = "The state of the Union";
    const continued = await model.generate(prompt, { maxNewTokens: 12, temperature: 0 });
    expect(continued.startsWith(prompt)).toBe(true);
    const added = continued.slice(prompt.length);
    expect(added.length).toBeGreaterThan(5);
    expect(added).not.toContain("\uFFFD");
    expect(added).toMatch(/[a-z]{2,}/);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("ships one checkpoint half way through training, with its tokenizer; it predicts worse than the end", async () => {
    const record = organismTrainingRecord("text-lm");
    expect(record.command).toBe("mechlab train text-lm");
    expect(record.steps).toBe(textLmOrganism.defaultSteps);
    const steps = listOrganismCheckpoints("text-lm");
    expect(steps).toEqual(record.checkpoints);
    expect(steps).toEqual([record.steps / 2]);
    const middle = await loadOrganism("text-lm", { checkpoint: steps[0] });
    const final = await loadOrganism("text-lm");
    expect(middle.toStrTokens(" the Congress")).toEqual(final.toStrTokens(" the Congress"));
    expect(heldOutLossAndBaseline(middle, 16).heldOutLoss).toBeGreaterThan(heldOutLossAndBaseline(final, 16).heldOutLoss);
    middle.dispose();
    final.dispose();
  });
});

describe("training text-lm", () => {
  it("runs 3 steps into the shipped layout; the tokenizer is the shipped one; the result loads", async () => {
    const out = join(scratch, "text-lm");
    const record = await trainOrganism("text-lm", { outDir: out, steps: 3, progress: false });
    expect(record).toMatchObject({ organism: "text-lm", steps: 3, seed: 0, stopped: false, checkpoints: [2] });
    for (const file of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "training.json", "README.md"]) expect(existsSync(join(out, file))).toBe(true);
    expect(existsSync(join(out, "checkpoints", "step-000002", "tokenizer.json"))).toBe(true);
    expect(existsSync(join(out, ".run"))).toBe(false);
    // The recipe's tokenizer training reproduces the shipped tokenizer exactly.
    expect(readFileSync(join(out, "tokenizer.json"), "utf8")).toBe(readFileSync(join(modelsDir(), "text-lm", "tokenizer.json"), "utf8"));
    const model = await loadOrganism("text-lm", { modelsDir: scratch });
    expect(model.toStrTokens(" the Union")).toEqual(["<|endoftext|>", " the", " Union"]);
    expect(textLmStreams(model.tokenizer!).heldOut.length).toBeGreaterThan(200_000);
    // Barely trained: near the unigram baseline, not below it by much.
    expect(record.metrics.lossBelowUnigram).toBeLessThan(0.5);
    model.dispose();
    await expect(textLmOrganism.load(scratch)).rejects.toThrow(/has no tokenizer\.json/);
  });
});
