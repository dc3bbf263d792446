import { describe, expect, it } from "vitest";
import { Tiktoken, type TiktokenBPE } from "js-tiktoken/lite";
import {
  CharTokenizer,
  GPT2_END_OF_TEXT_ID,
  VocabTokenizer,
  getTokenizer,
  gpt2Tokenizer,
  tokenizerFromJSON,
  tokenizerToJSON,
  type Tokenizer,
} from "../src/tokenizers";

// js-tiktoken's GPT-2 ranks are only reachable through its exports map ("js-tiktoken/ranks/gpt2"),
// which node10 type resolution cannot follow; its CommonJS build exports the ranks object itself.
const gpt2RanksModule = require("js-tiktoken/ranks/gpt2") as TiktokenBPE | { default: TiktokenBPE };
const gpt2Ranks = "default" in gpt2RanksModule ? gpt2RanksModule.default : gpt2RanksModule;
const reference = new Tiktoken(gpt2Ranks);
const referenceEncode = (text: string): number[] => reference.encode(text, "all");

// ---------------------------------------------------------------------------------------------
// A varied corpus: prose, code, numbers, whitespace runs, punctuation, contractions, many scripts
// and emoji, special-token look-alikes.
// ---------------------------------------------------------------------------------------------
const CORPUS: string[] = [
  "Hello world",
  " Hello world",
  "hello world",
  "The quick brown fox jumps over the lazy dog.",
  "Mechanistic interpretability tries to reverse-engineer the algorithms that a trained network " +
    "implements. Induction heads, for instance, look back for an earlier copy of the current token " +
    "and predict whatever came after it; they appear abruptly during training, in a phase change.",
  "When Mary and John went to the store, John gave a drink to Mary. When Mary and John went to the " +
    "store, Mary gave a drink to",
  "I don't think it's done. You're right, we've checked; they'll see, I'm sure he'd agree.",
  "DON'T SHOUT! IT'S FINE. We'RE here, THEY'LL wait, she'D know, I'M ok, YOU'VE gone.",
  "The cat's toy, the dogs' bowls, Chris's book, and the 1990's songs.",
  "Curly quotes: it’s, don’t, “quoted”, ‘single’ — and an en dash – plus an ellipsis…",
  "  leading spaces, trailing spaces   ",
  "\n\nNewlines\nbetween\n\n\nlines\n",
  "Tabs\tand\t\tmixed \t whitespace\r\nwith CRLF\r\nline endings",
  "Runs of spaces:          ten, and then    four, then one.",
  "                                                                          ",
  "\n\n\n\n\n\n\n\n",
  "Numbers: 0 1 12 123 1234 12345 123456 1234567 3.14159 -42 +7 1e10 0x1F 1,000,000 2024-06-01 12:30:45",
  "Arithmetic: 12 + 7 = 19; 99*99=9801; 2^10 = 1024; 7/3 ≈ 2.333",
  "Phone +1 (555) 010-9999, ISBN 978-3-16-148410-0, $19.99, €5, £3.50, ¥1000, 50% off!!!",
  "Punctuation soup: !@#$%^&*()_+-=[]{}|;':\",./<>?`~ ... --- *** ### ??? !!! ;;",
  "function add(a: number, b: number): number {\n  return a + b;\n}\n\nconsole.log(add(2, 3));\n",
  "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n\nprint([fib(i) for i in range(10)])\n",
  "for (let i = 0; i < 10; i++) {\n\tif (xs[i] !== undefined && xs[i] >= 0) { total += xs[i]; }\n}",
  "<div class=\"box\" id='main'><p>Hi &amp; bye</p></div>",
  '{"name": "mechlab", "version": "0.1.0", "layers": [1, 2, 3], "nested": {"ok": true, "x": null}}',
  "SELECT id, name FROM users WHERE age >= 21 ORDER BY name DESC LIMIT 10;",
  "https://example.com/path/to/page?query=value&other=1#section",
  "snake_case_name camelCaseName PascalCaseName kebab-case-name SCREAMING_CASE",
  "Accents: café, naïve, résumé, façade, jalapeño, Zürich, Ångström, Dvořák, Łódź.",
  "Combining marks: e\u0301 a\u0308 n\u0303 o\u0302\u0323 (decomposed forms).",
  "Greek: Η γρήγορη καφέ αλεπού. Cyrillic: Съешь же ещё этих мягких французских булок.",
  "Arabic: مرحبا بالعالم. Hebrew: שלום עולם. Hindi: नमस्ते दुनिया. Thai: สวัสดีชาวโลก",
  "Chinese: 你好，世界！机器学习很有趣。 Japanese: こんにちは世界、カタカナとひらがな。 Korean: 안녕하세요 세계",
  "Emoji: 🙂 😀😃😄 👍🏽 👩‍💻 👨‍👩‍👧‍👦 🇯🇵🇫🇷 ❤️ ✨🔥💯 🧠",
  "Math symbols: ∀x ∈ ℝ, ∃y: x² + y² ≤ 1 ⇒ √(x²) ≥ 0; ∑ᵢ aᵢ = ∫ f(x) dx; α β γ δ ε",
  "Box drawing ┌──┐ │  │ └──┘ and arrows ← ↑ → ↓ ↔ and music ♩♪♫♬",
  "Zero-width: a\u200bb\u200cc\u200dd and a byte-order mark \uFEFF in the middle, NBSP\u00a0here.",
  "Mixed scripts in one word: abcабвαβγ你好123",
  "Special token <|endoftext|> in the middle, at the end <|endoftext|>",
  "<|endoftext|>starts with it, and twice in a row <|endoftext|><|endoftext|> then text",
  "Look-alikes that are not special: <|endoftext| <endoftext|> <|ENDOFTEXT|> < |endoftext|>",
  "Repeated letters: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbb zzzzzzzzzz",
  "Repeated punctuation: .................................. ------------------------- ==========",
  "Sentence with 's at the start: 's is a suffix, 't too, 'll and 're and 've and 'm and 'd.",
  "A long word: Pneumonoultramicroscopicsilicovolcanoconiosis and antidisestablishmentarianism.",
  "Markdown:\n# Title\n\n- item one\n- item two\n\n```ts\nconst x = 1;\n```\n\n> quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
  "Othello moves: a3 b4 c5 d6 e3 f4 g5 h6; chess: 1. e4 e5 2. Nf3 Nc6 3. Bb5 a6 4. Ba4 Nf6 5. O-O Be7",
  "Hexadecimal dump: de ad be ef 00 ff 7f 80 0a 0d ca fe ba be",
  "A residual stream is the sum of the embedding and of every layer's output. Each attention head reads " +
    "from it through its query, key and value weights and writes back through its output weights, so the " +
    "stream acts as a shared communication channel between layers. Activation patching swaps one " +
    "activation from a corrupted run into a clean run (or the other way round) and measures how much the " +
    "logit difference moves; if it barely moves, the component was not needed for the behaviour.",
  "class Counter:\n    def __init__(self) -> None:\n        self.counts: dict[str, int] = {}\n\n" +
    "    def add(self, word: str) -> None:\n        self.counts[word] = self.counts.get(word, 0) + 1\n\n" +
    "    def __repr__(self) -> str:\n        return f\"Counter({self.counts!r})\"\n",
  "export async function* chunks<T>(xs: AsyncIterable<T>, size = 8): AsyncGenerator<T[]> {\n" +
    "  let buf: T[] = [];\n  for await (const x of xs) {\n    buf.push(x);\n    if (buf.length === size) { yield buf; buf = []; }\n" +
    "  }\n  if (buf.length) yield buf;\n}\n",
  "Dates and times: Mon, 01 Jan 2024 00:00:00 GMT; 31/12/1999 23:59; Q3 FY2025; the '90s and the 2010s; 10:45pm.",
  "Versions v1.2.3-beta.4+build.567, paths C:\\Users\\me\\file.txt and /usr/local/bin/node, email me@example.org.",
  "She said, \"It's 5 o'clock somewhere,\" and he replied, 'Isn't it always?' (They'd both laughed.)",
  "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore " +
    "et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris.",
];

/** Small deterministic PRNG so that the generated strings are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FUZZ_PIECES = [
  "a", "the", " the", "The", "don", "'t", "'s", "'S", "’s", " ", "  ", "   ", "\n", "\n\n", "\t", "\r\n",
  "1", "23", "456", "7890", ".", ",", "!", "?", "...", "--", "(", ")", "{", "}", "<", "|", ">", "=",
  "é", "e\u0301", "ß", "ñ", "你", "好", "世界", "こ", "ん", "한", "🙂", "👍🏽", "👩‍💻", "🇫🇷", "∑", "√", "\u00a0",
  "\u200b", "\uFEFF", "<|endoftext|>", "<|", "endoftext", "|>", "Hello", " world", "x_y", "camelCase",
];

function fuzzStrings(count: number, seed: number): string[] {
  const rand = mulberry32(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(rand() * 30);
    let s = "";
    for (let j = 0; j < n; j++) s += FUZZ_PIECES[Math.floor(rand() * FUZZ_PIECES.length)];
    out.push(s);
  }
  return out;
}

describe("GPT-2 tokenizer", () => {
  const gpt2 = gpt2Tokenizer();

  it("has GPT-2's vocabulary size and special ids", () => {
    expect(gpt2.name).toBe("gpt2");
    expect(gpt2.vocabSize).toBe(50257);
    expect(gpt2.bosTokenId).toBe(50256);
    expect(gpt2.eosTokenId).toBe(50256);
    expect(gpt2.padTokenId).toBe(50256);
    expect(GPT2_END_OF_TEXT_ID).toBe(50256);
    expect(gpt2Tokenizer()).toBe(gpt2); // cached singleton
    expect(getTokenizer("gpt2")).toBe(gpt2);
  });

  it("gives the published ids for well-known examples", () => {
    const known: [string, number[]][] = [
      ["Hello world", [15496, 995]],
      [" Hello world", [18435, 995]],
      ["<|endoftext|>", [50256]],
      ["hello world", [31373, 995]],
      ["Hello, my dog is cute", [15496, 11, 616, 3290, 318, 13779]],
      ["The quick brown fox jumps over the lazy dog.", [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13]],
    ];
    for (const [text, ids] of known) {
      expect(gpt2.encode(text), text).toEqual(ids);
      expect(referenceEncode(text), `reference: ${text}`).toEqual(ids);
      expect(gpt2.decode(ids)).toBe(text);
    }
    expect(gpt2.tokenStrings([464, 2068, 7586, 21831])).toEqual(["The", " quick", " brown", " fox"]);
  });

  it("treats <|endoftext|> inside the text as the special token", () => {
    expect(gpt2.encode("a <|endoftext|>b")).toEqual([64, 220, 50256, 65]);
    expect(gpt2.encode("<|endoftext|><|endoftext|>")).toEqual([50256, 50256]);
    expect(gpt2.encode("x<|endoftext|>")).toEqual([87, 50256]);
    // A near miss is ordinary text.
    expect(gpt2.encode("<|endoftext|")).not.toContain(50256);
    expect(gpt2.decode([50256, 15496])).toBe("<|endoftext|>Hello");
  });

  it("matches js-tiktoken on a varied corpus and round-trips it", () => {
    const corpus = [...CORPUS, CORPUS.join("\n"), CORPUS.join(" ")];
    const totalChars = CORPUS.reduce((n, s) => n + s.length, 0);
    expect(totalChars).toBeGreaterThan(5000);
    for (const text of corpus) {
      const ids = gpt2.encode(text);
      expect(ids, JSON.stringify(text)).toEqual(referenceEncode(text));
      expect(gpt2.decode(ids)).toBe(text);
      expect(gpt2.tokenStrings(ids)).toHaveLength(ids.length);
    }
  });

  it("matches js-tiktoken on generated strings and round-trips them", () => {
    for (const text of fuzzStrings(400, 1234)) {
      const ids = gpt2.encode(text);
      expect(ids, JSON.stringify(text)).toEqual(referenceEncode(text));
      expect(gpt2.decode(ids)).toBe(text);
    }
  });

  it("decodes arbitrary id sequences like js-tiktoken (lossy UTF-8)", () => {
    const rand = mulberry32(99);
    for (let k = 0; k < 200; k++) {
      // Start with "a" so a leading byte-order mark never arises: js-tiktoken's decoder drops one.
      const ids = [64];
      const n = 1 + Math.floor(rand() * 20);
      for (let j = 0; j < n; j++) ids.push(Math.floor(rand() * 50257));
      expect(gpt2.decode(ids), JSON.stringify(ids)).toBe(reference.decode(ids));
    }
  });

  it("shows partial UTF-8 tokens as U+FFFD, one per maximal invalid sequence", () => {
    // 🙂 is F0 9F 99 82, split by BPE into [F0 9F] and [99 82].
    const ids = gpt2.encode("🙂");
    expect(ids).toEqual([8582, 25081]);
    expect(gpt2.tokenStrings(ids)).toEqual(["\uFFFD", "\uFFFD\uFFFD"]);
    expect(gpt2.decode(ids)).toBe("🙂");
    expect(gpt2.decode([8582])).toBe("\uFFFD");
    // Nothing is carried over from one call to the next.
    expect(gpt2.decode([15496])).toBe("Hello");
    expect(gpt2.decode([8582, 15496])).toBe("\uFFFDHello");
    // A byte-order mark (EF BB BF) at the start is kept, not stripped.
    expect(gpt2.decode(gpt2.encode("\uFEFFabc"))).toBe("\uFEFFabc");
  });

  it("looks up single tokens by their text", () => {
    expect(gpt2.tokenId(" Hello")).toBe(18435);
    expect(gpt2.tokenId("Hello")).toBe(15496);
    expect(gpt2.tokenId("<|endoftext|>")).toBe(50256);
    expect(gpt2.tokenId(" Hello world")).toBeUndefined();
    expect(gpt2.tokenId("")).toBeUndefined();
    for (const id of [0, 13, 262, 995, 50255]) {
      const [text] = gpt2.tokenStrings([id]);
      expect(gpt2.tokenId(text)).toBe(id);
      expect(gpt2.encode(text)).toEqual([id]);
    }
  });

  it("has 344 byte-only entries; every other entry's text is that one token", () => {
    let byteOnly = 0;
    for (let id = 0; id < 50256; id++) {
      const [text] = gpt2.tokenStrings([id]);
      if (gpt2.tokenId(text) === id) {
        expect(gpt2.encode(text)).toEqual([id]);
      } else {
        // Not valid UTF-8 on its own: its text contains U+FFFD and it has no exact string.
        expect(text).toContain("\uFFFD");
        byteOnly++;
      }
    }
    expect(byteOnly).toBe(344);
  });

  it("rejects ids outside the vocabulary, saying which and where", () => {
    expect(() => gpt2.decode([15496, 50257])).toThrow(/token id 50257 at index 1 .*\[0, 50257\)/);
    expect(() => gpt2.decode([-1])).toThrow(/token id -1 at index 0/);
    expect(() => gpt2.decode([1.5])).toThrow(/token id 1.5 at index 0/);
    expect(() => gpt2.tokenStrings([0, 1, 99999])).toThrow(/token id 99999 at index 2 .*\[0, 50257\)/);
  });

  it("serialises as { type: 'gpt2' }", () => {
    expect(tokenizerToJSON(gpt2)).toEqual({ type: "gpt2" });
    expect(tokenizerFromJSON({ type: "gpt2" })).toBe(gpt2);
    expect(tokenizerFromJSON(JSON.stringify(gpt2))).toBe(gpt2);
  });
});

describe("getTokenizer", () => {
  it("throws for unknown names, listing the known ones", () => {
    expect(() => getTokenizer("llama")).toThrow(/unknown tokenizer "llama".*known tokenizers: gpt2/);
    expect(() => getTokenizer("toString")).toThrow(/unknown tokenizer/);
  });
});

describe("CharTokenizer", () => {
  it("gives one token per character, specials after the alphabet", () => {
    const t = new CharTokenizer("abc", { bos: "<bos>", eos: "<eos>", pad: "<pad>", unknown: "?" });
    expect(t.name).toBe("chars");
    expect(t.vocabSize).toBe(7);
    expect([t.bosTokenId, t.eosTokenId, t.padTokenId, t.unknownTokenId]).toEqual([3, 4, 5, 6]);
    expect(t.encode("abcba")).toEqual([0, 1, 2, 1, 0]);
    expect(t.decode([0, 1, 2])).toBe("abc");
    expect(t.encode("<bos>ab<eos><pad>")).toEqual([3, 0, 1, 4, 5]);
    expect(t.decode([3, 0, 1, 4, 5])).toBe("<bos>ab<eos><pad>");
    expect(t.tokenStrings([3, 2, 6])).toEqual(["<bos>", "c", "?"]);
    expect(t.encode("axb")).toEqual([0, 6, 1]);
    expect(t.tokenId("b")).toBe(1);
    expect(t.tokenId("<eos>")).toBe(4);
    expect(t.tokenId("ab")).toBeUndefined();
  });

  it("works on code points, not UTF-16 units", () => {
    const t = new CharTokenizer(["🙂", "x", "你"]);
    expect(t.vocabSize).toBe(3);
    expect(t.encode("x🙂你🙂")).toEqual([1, 0, 2, 0]);
    expect(t.decode([1, 0, 2, 0])).toBe("x🙂你🙂");
    const fromString = new CharTokenizer("🙂x你");
    expect(fromString.encode("🙂x你")).toEqual([0, 1, 2]);
  });

  it("shares one id between roles given the same string", () => {
    const t = new CharTokenizer("01", { bos: "|", eos: "|", pad: "_" });
    expect([t.bosTokenId, t.eosTokenId, t.padTokenId, t.vocabSize]).toEqual([2, 2, 3, 4]);
    expect(t.encode("|01_")).toEqual([2, 0, 1, 3]);
  });

  it("round-trips text over the alphabet", () => {
    const t = new CharTokenizer("()[]{} ", { bos: "^" });
    const text = "(([]){ })[ ] {}";
    expect(t.decode(t.encode(text))).toBe(text);
    expect(t.decode(t.encode("^" + text))).toBe("^" + text);
  });

  it("names the unknown character, its position and the alphabet", () => {
    const t = new CharTokenizer("0123456789+=");
    expect(() => t.encode("12+x=3")).toThrow(/character "x" \(U\+0078\) at position 3 .*alphabet "0123456789\+="/);
    // The position counts code points.
    expect(() => new CharTokenizer("12🙂").encode("1🙂2y")).toThrow(/character "y" \(U\+0079\) at position 3/);
    const long = new CharTokenizer(Array.from({ length: 200 }, (_, i) => String.fromCodePoint(0x4e00 + i)));
    let message = "";
    try {
      long.encode("a");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/character "a" \(U\+0061\) at position 0/);
    expect(message).toContain("…");
    expect(message).toContain("(200 characters)");
    expect(message.length).toBeLessThan(400);
  });

  it("rejects bad alphabets and specials", () => {
    expect(() => new CharTokenizer("abca")).toThrow(/"a" appears twice in the alphabet \(at 0 and 3\)/);
    expect(() => new CharTokenizer("")).toThrow(/alphabet is empty/);
    expect(() => new CharTokenizer(["a", "bc"])).toThrow(/entry 1 is "bc"; each entry must be exactly one character/);
    expect(() => new CharTokenizer("abc", { bos: "a" })).toThrow(/bos token "a" is also in the alphabet/);
    expect(() => new CharTokenizer("abc", { pad: "" })).toThrow(/pad token must be a non-empty string/);
  });

  it("rejects out-of-range ids", () => {
    const t = new CharTokenizer("ab", { bos: "<s>" });
    expect(() => t.decode([0, 3])).toThrow(/token id 3 at index 1 .*\[0, 3\)/);
    expect(() => t.tokenStrings([-2])).toThrow(/token id -2 at index 0/);
  });

  it("serialises to JSON and back", () => {
    const t = new CharTokenizer("ab🙂", { bos: "<bos>", unknown: "?" });
    const json = t.toJSON();
    expect(json).toEqual({ type: "chars", alphabet: "ab🙂", bos: "<bos>", unknown: "?" });
    const back = tokenizerFromJSON(JSON.parse(JSON.stringify(json)));
    expect(back).toBeInstanceOf(CharTokenizer);
    expect(back.vocabSize).toBe(t.vocabSize);
    expect(back.bosTokenId).toBe(t.bosTokenId);
    expect(back.encode("<bos>a🙂z")).toEqual(t.encode("<bos>a🙂z"));
    expect(tokenizerToJSON(back)).toEqual(json);
  });
});

describe("VocabTokenizer", () => {
  const moves = ["a3", "b4", "c5", "d6"];

  it("encodes separator-split words and decodes by joining", () => {
    const t = new VocabTokenizer(moves, { bos: "<bos>", pad: "<pad>" });
    expect(t.name).toBe("vocab");
    expect(t.vocabSize).toBe(6);
    expect([t.bosTokenId, t.eosTokenId, t.padTokenId]).toEqual([4, undefined, 5]);
    expect(t.encode("a3 b4 c5")).toEqual([0, 1, 2]);
    expect(t.encode("  a3   d6 ")).toEqual([0, 3]); // empty pieces ignored
    expect(t.encode("")).toEqual([]);
    expect(t.encode("<bos> a3 <pad>")).toEqual([4, 0, 5]);
    expect(t.decode([4, 0, 3])).toBe("<bos> a3 d6");
    expect(t.tokenStrings([1, 5])).toEqual(["b4", "<pad>"]);
    expect(t.tokenId("c5")).toBe(2);
    expect(t.tokenId("<bos>")).toBe(4);
    expect(t.tokenId("e7")).toBeUndefined();
  });

  it("round-trips number sentences", () => {
    const numbers = [...Array.from({ length: 20 }, (_, i) => String(i)), "+", "=", "-"];
    const t = new VocabTokenizer(numbers, { bos: "<bos>", eos: "<eos>" });
    const text = "<bos> 12 + 7 = 19 <eos>";
    expect(t.encode(text)).toEqual([23, 12, 20, 7, 21, 19, 24]);
    expect(t.decode(t.encode(text))).toBe(text);
  });

  it("supports another separator", () => {
    const t = new VocabTokenizer(["x", "y z", "w"], { separator: "," });
    expect(t.separator).toBe(",");
    expect(t.encode("x,y z,,w")).toEqual([0, 1, 2]);
    expect(t.decode([2, 1])).toBe("w,y z");
  });

  it("names the unknown piece and its position", () => {
    const t = new VocabTokenizer(moves, { bos: "<bos>" });
    let message = "";
    try {
      t.encode("a3  b4 zz9 c5");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('"zz9" (token 2, at character 7) is not in the vocabulary');
    expect(message).toContain("known words (4): a3 b4 c5 d6");
    expect(message).toContain("special tokens: <bos>");
    const big = new VocabTokenizer(Array.from({ length: 500 }, (_, i) => `w${i}`));
    expect(() => big.encode("w1 nope")).toThrow(/"nope" \(token 1, at character 3\).*known words \(500\): w0 w1 .*…/);
  });

  it("rejects bad vocabularies", () => {
    expect(() => new VocabTokenizer(["a3", "b4", "a3"])).toThrow(/duplicate word "a3" in the vocabulary \(at 0 and 2\)/);
    expect(() => new VocabTokenizer([])).toThrow(/vocabulary is empty/);
    expect(() => new VocabTokenizer(["a", ""])).toThrow(/word 1 is ""; words must be non-empty/);
    expect(() => new VocabTokenizer(["a b"])).toThrow(/word 0 "a b" contains the separator " "/);
    expect(() => new VocabTokenizer(["a"], { separator: "" })).toThrow(/separator must be a non-empty string/);
    expect(() => new VocabTokenizer(["a", "b"], { eos: "b" })).toThrow(/eos token "b" is also in the vocabulary/);
    expect(() => new VocabTokenizer(["a"], { bos: "<b o s>" })).toThrow(/bos token "<b o s>" contains the separator/);
  });

  it("rejects out-of-range ids", () => {
    const t = new VocabTokenizer(moves);
    expect(() => t.decode([0, 1, 4])).toThrow(/token id 4 at index 2 .*\[0, 4\)/);
  });

  it("serialises to JSON and back", () => {
    const t = new VocabTokenizer(moves, { bos: "<s>", eos: "</s>", separator: " " });
    const json = t.toJSON();
    expect(json).toEqual({ type: "vocab", words: moves, separator: " ", bos: "<s>", eos: "</s>" });
    const back = tokenizerFromJSON(JSON.parse(JSON.stringify(json)));
    expect(back).toBeInstanceOf(VocabTokenizer);
    expect(back.encode("<s> a3 d6 </s>")).toEqual(t.encode("<s> a3 d6 </s>"));
    expect(back.eosTokenId).toBe(t.eosTokenId);
    expect(tokenizerToJSON(back)).toEqual(json);
  });
});

describe("tokenizerFromJSON errors", () => {
  it("explains what is wrong", () => {
    expect(() => tokenizerFromJSON(null)).toThrow(/expected an object like \{ type: "gpt2" \}, got null/);
    expect(() => tokenizerFromJSON([1, 2])).toThrow(/got an array/);
    expect(() => tokenizerFromJSON("{not json")).toThrow(/not valid JSON/);
    expect(() => tokenizerFromJSON({ type: "bpe" })).toThrow(/unknown tokenizer type "bpe"; known types: gpt2, chars, vocab/);
    expect(() => tokenizerFromJSON({})).toThrow(/unknown tokenizer type undefined/);
    expect(() => tokenizerFromJSON({ type: "chars" })).toThrow(/"chars" tokenizer needs "alphabet"/);
    expect(() => tokenizerFromJSON({ type: "chars", alphabet: "ab", bos: 3 })).toThrow(/"bos" of a "chars" tokenizer must be a string, got 3/);
    expect(() => tokenizerFromJSON({ type: "vocab", words: "a b" })).toThrow(/"vocab" tokenizer needs "words" \(an array of strings\)/);
    expect(() => tokenizerFromJSON({ type: "vocab", words: ["a", "a"] })).toThrow(/duplicate word "a"/);
  });

  it("refuses tokenizers without toJSON", () => {
    const bare: Tokenizer = {
      name: "bare",
      vocabSize: 1,
      bosTokenId: undefined,
      eosTokenId: undefined,
      padTokenId: undefined,
      encode: () => [],
      decode: () => "",
      tokenStrings: () => [],
      tokenId: () => undefined,
    };
    expect(() => tokenizerToJSON(bare)).toThrow(/tokenizer "bare" has no toJSON\(\) method/);
  });
});
