/**
 * The IOI prompt generator: ABBA/BABA structure, corruptions that change exactly the tokens they
 * name, positions that point at the names, the same generator on GPT-2's tokenizer, and splits
 * whose held-out templates and names never reach training prompts. Checked against plain word
 * splitting of the prompt text and GPT-2's own encoding of it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { IOI_TEMPLATES, IoiGenerator, ioiDataset, ioiTokenTensors, type IoiPrompt } from "../../src/organisms/ioi/ioiDataset";
import { IOI_FILLER_PATTERNS, ioiToyGenerator, ioiToyTokenizer, ioiTrainingSequence } from "../../src/organisms/ioi/ioiOrganism";
import { gpt2Tokenizer } from "../../src/tokenizers/gpt2";
import { SeededRandom } from "../../src/train/seededRandom";

beforeAll(async () => {
  await ready();
});

const toy = ioiToyGenerator();

/** Checks one prompt against its text split into words (the toy vocabulary's tokens) and its names. */
function checkStructure(p: IoiPrompt, words: string[]): void {
  // words[i] is token i + 1 (token 0 is BOS).
  expect(words[p.positions.io - 1]).toBe(p.io);
  expect(words[p.positions.s1 - 1]).toBe(p.s);
  expect(words[p.positions.s2 - 1]).toBe(p.s2);
  expect(p.positions.end).toBe(words.length);
  expect(words.at(-1)).toBe(IOI_TEMPLATES[p.template].split(" ").at(-1));
  if (p.order === "ABBA") expect(p.positions.io).toBeLessThan(p.positions.s1);
  else expect(p.positions.s1).toBeLessThan(p.positions.io);
  expect(p.positions.s2).toBeGreaterThan(Math.max(p.positions.io, p.positions.s1));
  // IO and S are the only names of the first clause; nowhere else in the prompt is a name.
  const nameSet = new Set(toy.nameList("all"));
  const namePositions = words.map((w, i) => (nameSet.has(w) ? i + 1 : -1)).filter((i) => i >= 0);
  expect(namePositions).toEqual([p.positions.io, p.positions.s1, p.positions.s2].sort((a, b) => a - b));
}

describe("IOI prompts", () => {
  it("are ABBA or BABA: IO once, S twice (S2 in the second clause), positions on the names, answers their ids", () => {
    const data = ioiDataset(toy, { n: 300, seed: 5 });
    const orders = new Set<string>();
    for (const p of data.clean) {
      orders.add(p.order);
      expect(p.io).not.toBe(p.s);
      expect(p.s2).toBe(p.s);
      checkStructure(p, p.text.split(" "));
      expect(p.tokens).toEqual([toy.tokenizer.bosTokenId, ...toy.tokenizer.encode(p.text)]);
      expect(p.ioTokenId).toBe(toy.tokenizer.tokenId(p.io));
      expect(p.sTokenId).toBe(toy.tokenizer.tokenId(p.s));
      expect(p.tokens[p.positions.io]).toBe(p.ioTokenId);
      expect(p.tokens[p.positions.s1]).toBe(p.sTokenId);
      expect(p.tokens[p.positions.s2]).toBe(p.sTokenId);
    }
    expect([...orders].sort()).toEqual(["ABBA", "BABA"]);
    for (const order of ["ABBA", "BABA"] as const) {
      expect(ioiDataset(toy, { n: 20, order }).clean.every((p) => p.order === order)).toBe(true);
    }
  });

  it("fill Wang et al.'s example the way the paper writes it", () => {
    const gpt2 = new IoiGenerator(gpt2Tokenizer(), { names: ["Mary", "John", "Kate", "Tom", "Anna", "Paul"], heldOutNameFraction: 0 });
    const abba = gpt2.build(1, { n1: "Mary", n2: "John", s2: "John", place: "store", object: "drink" }, "ABBA");
    expect(abba.text).toBe("When Mary and John went to the store, John gave a drink to");
    expect(abba.io).toBe("Mary");
    expect(abba.s).toBe("John");
    expect(abba.positions).toEqual({ io: 2, s1: 4, s2: 10, end: 14 });
    const baba = gpt2.build(1, { n1: "John", n2: "Mary", s2: "John", place: "store", object: "drink" }, "BABA");
    expect(baba.io).toBe("Mary");
    expect(baba.positions).toEqual({ io: 4, s1: 2, s2: 10, end: 14 });
  });

  it("pad to the longest prompt and give [n, pos] int32 tensors (the caller disposes)", () => {
    const before = tf.memory().numTensors;
    const data = ioiDataset(toy, { n: 40, seed: 2, corruption: "abc" });
    const len = Math.max(...data.clean.map((p) => p.tokens.length));
    data.tokens.forEach((row, i) => {
      expect(row).toHaveLength(len);
      expect(row.slice(0, data.clean[i].tokens.length)).toEqual(data.clean[i].tokens);
      expect(row.slice(data.clean[i].tokens.length).every((t) => t === data.padTokenId)).toBe(true);
    });
    const { clean, corrupted } = ioiTokenTensors(data);
    expect(clean.shape).toEqual([40, len]);
    expect(clean.dtype).toBe("int32");
    expect(corrupted!.arraySync()).toEqual(data.corruptedTokens);
    clean.dispose();
    corrupted!.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("IOI corruptions", () => {
  const changed = (a: number[], b: number[]) => a.map((t, i) => (t !== b[i] ? i : -1)).filter((i) => i >= 0);

  it('"abc" replaces S2, and only S2, with a third name', () => {
    const data = ioiDataset(toy, { n: 200, seed: 3, corruption: "abc" });
    data.clean.forEach((p, i) => {
      const c = data.corrupted![i];
      expect(changed(p.tokens, c.tokens)).toEqual([p.positions.s2]);
      expect(c.positions).toEqual(p.positions);
      expect([p.io, p.s]).not.toContain(c.s2);
      expect(toy.trainNames).toContain(c.s2);
    });
  });

  it('"s2-to-io" replaces S2, and only S2, with IO', () => {
    const data = ioiDataset(toy, { n: 100, seed: 4, corruption: "s2-to-io" });
    data.clean.forEach((p, i) => {
      const c = data.corrupted![i];
      expect(changed(p.tokens, c.tokens)).toEqual([p.positions.s2]);
      expect(c.tokens[p.positions.s2]).toBe(p.ioTokenId);
    });
  });

  it('"all-new" replaces IO, S1 and S2 with other people, keeping S repeated', () => {
    const data = ioiDataset(toy, { n: 100, seed: 6, corruption: "all-new" });
    data.clean.forEach((p, i) => {
      const c = data.corrupted![i];
      expect(changed(p.tokens, c.tokens)).toEqual([p.positions.io, p.positions.s1, p.positions.s2].sort((a, b) => a - b));
      expect(c.tokens[p.positions.s1]).toBe(c.tokens[p.positions.s2]);
      expect(c.tokens[p.positions.io]).not.toBe(c.tokens[p.positions.s1]);
      expect([p.io, p.s]).not.toContain(c.io);
      expect([p.io, p.s]).not.toContain(c.s);
      checkStructure(c, c.text.split(" "));
    });
  });
});

describe("IOI prompts for GPT-2", () => {
  it("keep single-token names and places, and the positions point at ' Name' tokens of GPT-2's encoding", () => {
    const tok = gpt2Tokenizer();
    const generator = new IoiGenerator(tok);
    expect(generator.trainNames.length).toBeGreaterThan(500);
    for (const name of [...generator.trainNames.slice(0, 50), ...generator.heldOutNames.slice(0, 50)]) {
      expect(tok.encode(` ${name}`)).toHaveLength(1);
    }
    const data = ioiDataset(generator, { n: 100, seed: 8, templates: "all", corruption: "abc" });
    const templatesSeen = new Set<number>();
    for (const [i, p] of data.clean.entries()) {
      templatesSeen.add(p.template);
      expect(p.text).not.toMatch(/ [,.]/);
      expect(p.tokens).toEqual([50256, ...tok.encode(p.text)]);
      const strings = tok.tokenStrings(p.tokens);
      expect(strings[p.positions.io]).toBe(` ${p.io}`);
      expect(strings[p.positions.s1]).toBe(` ${p.s}`);
      expect(strings[p.positions.s2]).toBe(` ${p.s}`);
      expect(strings[p.positions.end]).toBe(" to");
      expect(p.ioTokenId).toBe(tok.tokenId(` ${p.io}`));
      const c = data.corrupted![i];
      expect(c.tokens).toEqual([50256, ...tok.encode(c.text)]);
      expect(tok.tokenStrings(c.tokens)[p.positions.s2]).toBe(` ${c.s2}`);
    }
    expect(templatesSeen.size).toBeGreaterThan(15);
  });
});

describe("IOI splits", () => {
  it("hold out templates and names that training sampling never produces", () => {
    expect(toy.heldOutTemplates.length).toBeGreaterThanOrEqual(5);
    expect(toy.trainTemplates.length).toBeGreaterThanOrEqual(15);
    expect(toy.heldOutNames.length).toBeGreaterThanOrEqual(50);
    const train = new Set(toy.trainNames);
    expect(toy.heldOutNames.some((n) => train.has(n))).toBe(false);
    const random = new SeededRandom(11);
    for (let i = 0; i < 2000; i++) {
      const p = toy.sample(random, { templates: "train", names: "train" });
      expect(toy.trainTemplates).toContain(p.template);
      expect(train.has(p.io) && train.has(p.s)).toBe(true);
    }
    // Held-out pairs of training names: about the asked fraction of pairs, never together in training prompts.
    const names = toy.trainNames;
    let pairs = 0;
    let held = 0;
    for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++, pairs++) if (toy.isHeldOutPair(names[i], names[j])) held++;
    expect(held / pairs).toBeGreaterThan(0.18);
    expect(held / pairs).toBeLessThan(0.22);
    const again = new SeededRandom(13);
    for (let i = 0; i < 2000; i++) {
      const p = toy.sample(again, { templates: "train", names: "train" });
      expect(toy.isHeldOutPair(p.io, p.s)).toBe(false);
      const q = toy.sample(again, { templates: "heldOut", names: "heldOutPairs" });
      expect(toy.isHeldOutPair(q.io, q.s) && toy.isHeldOutPair(q.s, q.io)).toBe(true);
      expect(train.has(q.io) && train.has(q.s)).toBe(true);
    }
    // The held-out splits are what evaluation draws from.
    const unseen = ioiDataset(toy, { n: 200, templates: "heldOut", names: "heldOut" }).clean;
    expect(unseen.every((p) => toy.heldOutTemplates.includes(p.template) && toy.heldOutNames.includes(p.io) && toy.heldOutNames.includes(p.s))).toBe(true);
  });

  it("training sequences: the IOI prompt at the start uses training names; held-out names occur only in filler", () => {
    const tok = toy.tokenizer;
    const train = new Set(toy.trainNames);
    const heldOut = new Set(toy.heldOutNames);
    const random = new SeededRandom(12);
    let prompts = 0;
    let heldOutInFiller = 0;
    for (let i = 0; i < 500; i++) {
      const { tokens, answerAt } = ioiTrainingSequence(toy, random);
      expect(tokens).toHaveLength(32);
      const words = tok.tokenStrings(tokens);
      if (answerAt >= 0) {
        prompts++;
        // The prompt, its answer and " ." end at answerAt + 2.
        const promptWords = words.slice(1, answerAt + 2);
        expect(promptWords.filter((w) => heldOut.has(w))).toEqual([]);
        expect(train.has(words[answerAt + 1])).toBe(true);
        expect(words[answerAt + 2]).toBe(".");
        const text = promptWords.slice(0, -1).join(" ");
        const template = toy.templates.findIndex((t) => new RegExp(`^${t.replace(/([,.])/g, " $1").replace(/\[[A-Z0-9]+\]/g, "\\S+")}$`).test(text));
        expect(toy.trainTemplates).toContain(template);
      }
      heldOutInFiller += words.filter((w) => heldOut.has(w)).length;
    }
    expect(prompts).toBeGreaterThan(300);
    expect(heldOutInFiller).toBeGreaterThan(50);
  });

  it("every word of the held-out templates occurs in the training templates or the filler", () => {
    const split = (s: string) => s.replace(/([,.])/g, " $1").split(" ").filter((w) => w && !/^\[/.test(w));
    const seen = new Set([...toy.trainTemplates.flatMap((i) => split(IOI_TEMPLATES[i])), ...IOI_FILLER_PATTERNS.flatMap(split)]);
    for (const i of toy.heldOutTemplates) expect(split(IOI_TEMPLATES[i]).filter((w) => !seen.has(w))).toEqual([]);
    expect(ioiToyTokenizer().vocabSize).toBeLessThan(2000);
  });
});

describe("IOI generator input errors", () => {
  it("names what was wrong", () => {
    expect(() => ioiDataset(toy, { n: 0 })).toThrow(/n must be a positive integer, got 0/);
    expect(() => ioiDataset(toy, { n: 2, templates: "test" as never })).toThrow(/template split must be "train", "heldOut" or "all", got "test"/);
    expect(() => ioiDataset(toy, { n: 2, names: "none" as never })).toThrow(/name split must be "train", "heldOut", "heldOutPairs" or "all", got "none"/);
    expect(() => ioiDataset(toy, { n: 2, corruption: "abb" as never })).toThrow(/corruption must be "abc", "s2-to-io" or "all-new", got "abb"/);
    expect(() => toy.sample(new SeededRandom(1), { order: "AABB" as never })).toThrow(/order must be "ABBA", "BABA" or "mixed"/);
    expect(() => new IoiGenerator(gpt2Tokenizer(), { names: ["Mary", "John"] })).toThrow(/only 2 of the names are a single token/);
    expect(() => new IoiGenerator(gpt2Tokenizer(), { templates: ["[N1] and [N2] met"] })).toThrow(/must contain \[S\] exactly once/);
    expect(() => new IoiGenerator(gpt2Tokenizer()).sample(new SeededRandom(1), { names: "heldOutPairs" })).toThrow(/no pairs are held out/);
    expect(() => new IoiGenerator(gpt2Tokenizer(), { heldOutPairFraction: 1 })).toThrow(/heldOutPairFraction must be in \[0, 1\), got 1/);
    expect(() => new IoiGenerator(gpt2Tokenizer(), { heldOutTemplates: [25] })).toThrow(/held-out template index 25 is not in \[0, 20\)/);
  });
});
