/**
 * Byte-level BPE training: the merges equal a brute-force reference (every candidate pair's count
 * found by merging it in every word), the written tokenizer.json loads through HfTokenizer and
 * encodes exactly as a plain-loop BPE encoder of the same merges does, and any text round-trips.
 */
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bytesToUnicode,
  byteLevelPreTokens,
  preTokenCachedEncoder,
  trainByteLevelBpe,
  writeBpeTokenizer,
  type TrainedBpe,
} from "../../src/tokenizers/bpeTraining";
import { tokenizerFromJSON } from "../../src/tokenizers/fromJSON";
import { HfTokenizer } from "../../src/tokenizers/hfTokenizer";
import { SeededRandom } from "../../src/train/seededRandom";

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "mechlab-bpe-test-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const CORPUS = [
  "The low lower lowest newer newest wider widest. The banana bandana and the cabana!",
  "aaaa aaa aa a baaa aaab — it's the 1st, isn't it? We'll see: 2024, 2025 and 12345.",
  "Fellow-Citizens of the Senate and House of Representatives: the state of the Union is strong.",
  "Ünïcödé naïve café — 東京 and 🎉🎉 emoji, tabs\tand\nnew lines\n\n  spaced   out  ",
];

// ------------------------------------------------------------------ brute-force reference

/** Merges `left right` everywhere in `symbols`, left to right; returns the new symbols and how many merges happened. */
function mergeWord(symbols: string[], left: string, right: string): { out: string[]; merges: number } {
  const out: string[] = [];
  let merges = 0;
  for (let i = 0; i < symbols.length; i++) {
    if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
      out.push(left + right);
      merges++;
      i++;
    } else out.push(symbols[i]);
  }
  return { out, merges };
}

/** The documented rule, done slowly: each candidate's count is the number of merges it would make. */
function referenceMerges(texts: string[], vocabSize: number, minFrequency: number): [string, string][] {
  const counts = new Map<string, number>();
  for (const text of texts) for (const w of byteLevelPreTokens(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
  let words = [...counts].map(([w, c]) => ({ symbols: Array.from(w), count: c }));
  const merges: [string, string][] = [];
  while (1 + 256 + merges.length < vocabSize) {
    const candidates = new Map<string, [string, string]>();
    for (const { symbols } of words) for (let i = 0; i + 1 < symbols.length; i++) candidates.set(JSON.stringify([symbols[i], symbols[i + 1]]), [symbols[i], symbols[i + 1]]);
    let best: [string, string] | undefined;
    let bestCount = 0;
    for (const [left, right] of candidates.values()) {
      let count = 0;
      for (const w of words) count += w.count * mergeWord(w.symbols, left, right).merges;
      const earlier = best !== undefined && (left !== best[0] ? left < best[0] : right < best[1]);
      if (count > bestCount || (count === bestCount && earlier)) [best, bestCount] = [[left, right], count];
    }
    if (best === undefined || bestCount < minFrequency) break;
    merges.push(best);
    words = words.map((w) => ({ symbols: mergeWord(w.symbols, best![0], best![1]).out, count: w.count }));
  }
  return merges;
}

/** Plain-loop BPE encoding with the trained merges: per pre-token, merge the lowest-ranked adjacent pair until none is left. */
function referenceEncode(bpe: TrainedBpe, text: string): number[] {
  const rank = new Map(bpe.merges.map(([a, b], i) => [`${a} ${b}`, i]));
  const idOf = new Map(bpe.vocab.map((t, i) => [t, i]));
  const ids: number[] = [];
  for (const word of byteLevelPreTokens(text)) {
    let symbols = Array.from(word);
    for (;;) {
      let bestAt = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const r = rank.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (r !== undefined && r < bestRank) [bestAt, bestRank] = [i, r];
      }
      if (bestAt < 0) break;
      symbols = [...symbols.slice(0, bestAt), symbols[bestAt] + symbols[bestAt + 1], ...symbols.slice(bestAt + 2)];
    }
    for (const s of symbols) ids.push(idOf.get(s)!);
  }
  return ids;
}

/** Random well-formed text: ASCII, Latin-1, CJK, emoji, combining marks, all kinds of whitespace and punctuation. */
function randomText(random: SeededRandom, length: number): string {
  const pools = [
    () => String.fromCharCode(32 + random.int(95)),
    () => " ",
    () => ["\n", "\t", "\r\n", "  ", "\u00a0", "\u2003", "\n\n"][random.int(7)],
    () => String.fromCharCode(0xa1 + random.int(0x17f - 0xa1)),
    () => String.fromCharCode(0x4e00 + random.int(0x500)),
    () => String.fromCodePoint(0x1f300 + random.int(0x300)),
    () => "e\u0301",
    () => ["'s", "'ll", "'re", "—", "“", "”", "…", "<|", "|>"][random.int(9)],
    () => String.fromCharCode(random.int(32)),
  ];
  let out = "";
  for (let i = 0; i < length; i++) out += pools[random.int(pools.length)]();
  return out;
}

describe("byte-level BPE training", () => {
  it("GPT-2's byte-to-unicode map: 256 distinct printable characters, space is Ġ and newline Ċ", () => {
    const table = bytesToUnicode();
    expect(new Set(table).size).toBe(256);
    expect([table[32], table[10], table[65], table[0xad]]).toEqual(["Ġ", "Ċ", "A", "Ń"]);
    expect(byteLevelPreTokens("Hello world, it's 2024!\n")).toEqual(["Hello", "Ġworld", ",", "Ġit", "'s", "Ġ2024", "!", "Ċ"]);
  });

  it("learns the same merges, in the same order, as the brute-force reference", () => {
    for (const minFrequency of [1, 2]) {
      const bpe = trainByteLevelBpe(CORPUS, { vocabSize: 1000, minFrequency });
      const reference = referenceMerges(CORPUS, 1000, minFrequency);
      expect(reference.length).toBeGreaterThan(minFrequency === 1 ? 150 : 40);
      expect(bpe.merges).toEqual(reference);
    }
    // Stopping at the vocabulary size: the first merges only.
    const small = trainByteLevelBpe(CORPUS, { vocabSize: 257 + 10 });
    expect(small.merges).toEqual(referenceMerges(CORPUS, 257 + 10, 2));
    expect(small.vocab).toHaveLength(267);
  });

  it("counts a repeated pair as merging makes it ('aaa' holds (a, a) once); ties break by symbol order", () => {
    // Words "aaa" and "Ġbcbc": (a, a) would merge once, (b, c) twice, so (b, c) comes first
    // (counting overlapping pairs would make it a tie that (a, a) wins).
    const bpe = trainByteLevelBpe(["aaa bcbc"], { vocabSize: 258, minFrequency: 1 });
    expect(bpe.merges).toEqual([["b", "c"]]);
    // Ties go to the smallest left symbol in code-unit order: "a" (U+0061) < "x" < "Ġ" (U+0120).
    const tie = trainByteLevelBpe(["xy ab"], { vocabSize: 258, minFrequency: 1 });
    expect(tie.merges).toEqual([["a", "b"]]);
  });

  it("rejects bad options with a clear message", () => {
    expect(() => trainByteLevelBpe(CORPUS, { vocabSize: 100 })).toThrow(/vocabSize must be a whole number from 257 \(special tokens \+ 256 bytes\) to 65536, got 100/);
    expect(() => trainByteLevelBpe([42 as unknown as string], { vocabSize: 300 })).toThrow(/every text must be a string, got number/);
    expect(() => trainByteLevelBpe(CORPUS, { vocabSize: 300, specialTokens: ["<s>", "<s>"] })).toThrow(/special tokens must be distinct/);
  });
});

describe("a trained tokenizer.json", () => {
  let bpe: TrainedBpe;
  let dir: string;
  let tokenizer: HfTokenizer;
  beforeAll(() => {
    bpe = trainByteLevelBpe(CORPUS, { vocabSize: 400, minFrequency: 1 });
    dir = join(scratch, "bpe");
    writeBpeTokenizer(dir, bpe);
    tokenizer = HfTokenizer.fromDirectorySync(dir);
  });

  it("loads with its vocabulary and <|endoftext|> as BOS and EOS", () => {
    expect(tokenizer.vocabSize).toBe(bpe.vocab.length);
    expect([tokenizer.bosTokenId, tokenizer.eosTokenId]).toEqual([0, 0]);
    expect(tokenizer.encode("a<|endoftext|>b")).toEqual([...tokenizer.encode("a"), 0, ...tokenizer.encode("b")]);
    for (let id = 0; id < bpe.vocab.length; id++) expect(tokenizer.idToToken(id)).toBe(bpe.vocab[id]);
  });

  it("encodes as the plain-loop BPE encoder does, through the loader and the checkpoint JSON form", () => {
    const random = new SeededRandom(7);
    const viaJson = tokenizerFromJSON(tokenizer.toJSON());
    const texts = [...CORPUS, "the lowest newest bandana", ...Array.from({ length: 30 }, () => randomText(random, 60))];
    for (const text of texts) {
      const ids = referenceEncode(bpe, text);
      expect(tokenizer.encode(text)).toEqual(ids);
      expect(viaJson.encode(text)).toEqual(ids);
    }
    // Merged tokens are used: " low" is one token, "the" (never seen without a space before it) is two.
    expect(tokenizer.tokenStrings(tokenizer.encode("the low"))).toEqual(["t", "he", " low"]);
  });

  it("round-trips any text exactly: unicode, whitespace, punctuation, control characters", () => {
    const random = new SeededRandom(11);
    for (let i = 0; i < 200; i++) {
      const text = randomText(random, 1 + random.int(80));
      expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    }
    for (const text of CORPUS) expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    expect(tokenizer.decode(tokenizer.encode("  leading and trailing  \n"))).toBe("  leading and trailing  \n");
  });

  it("the pre-token cached encoder gives tokenizer.encode's ids", () => {
    const encode = preTokenCachedEncoder(tokenizer);
    const random = new SeededRandom(3);
    for (const text of [...CORPUS, "x<|endoftext|>y", ...Array.from({ length: 50 }, () => randomText(random, 100))]) expect(encode(text)).toEqual(tokenizer.encode(text));
  });
});
