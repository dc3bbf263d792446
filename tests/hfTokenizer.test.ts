import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../src/backend";
import { ensureHubTokenizerFiles, type FetchLike, repoCacheDir } from "../src/loading/hub";
import { loadPretrainedWeights } from "../src/loading/pretrained";
import { writeSafetensors, type RawTensor } from "../src/loading/safetensors";
import { HookedTransformer } from "../src/model/hookedTransformer";
import { encodeText } from "../src/model/tokenInput";
import { gpt2Tokenizer, HfTokenizer, tokenizerFromJSON, tokenizerToJSON } from "../src/tokenizers";
import { randomHfWeights, tinyHfConfigs } from "./reference";

let root: string;
let counter = 0;
function tempDir(label: string): string {
  const dir = path.join(root, `${label}-${counter++}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

let startTensors = 0;
beforeAll(async () => {
  await ready();
  root = fs.mkdtempSync(path.join(os.tmpdir(), "mechlab-hftok-"));
  startTensors = tf.memory().numTensors;
});

afterAll(() => {
  expect(tf.memory().numTensors).toBe(startTensors);
  fs.rmSync(root, { recursive: true, force: true });
});

/** Writes tokenizer.json (and the optional files given) into a new directory. */
function writeTokenizerDir(json: unknown, config?: unknown, specialTokensMap?: unknown): string {
  const dir = tempDir("tok");
  fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(json));
  if (config !== undefined) fs.writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(config));
  if (specialTokensMap !== undefined) fs.writeFileSync(path.join(dir, "special_tokens_map.json"), JSON.stringify(specialTokensMap));
  return dir;
}

/**
 * The byte -> character table of byte-level BPE: printable Latin-1 bytes stand for themselves,
 * every other byte for the next free code point from 256 on (so " " is "Ġ", "\n" is "Ċ").
 */
function byteLevelAlphabet(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) table.push(String.fromCodePoint(printable(b) ? b : next++));
  return table;
}
const BYTE_CHARS = byteLevelAlphabet();

// ------------------------------------------------------------------------- byte-level BPE (NeoX)

/**
 * A GPT-NeoX-like tokenizer: <|endoftext|> 0, <|padding|> 1, the 256 byte characters 2..257
 * (in byte order), then one token per merge from 258 on.
 */
const NEOX_MERGES = ["Ġ t", "h e", "Ġt he", "i n", "Ġ c", "a t", "Ġc at", "in g"];
function neoxJson(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  BYTE_CHARS.forEach((c, b) => (vocab[c] = 2 + b));
  NEOX_MERGES.forEach((m, i) => (vocab[m.replace(" ", "")] = 258 + i));
  const added = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [added(0, "<|endoftext|>"), added(1, "<|padding|>")],
    normalizer: { type: "NFC" },
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, vocab, merges: NEOX_MERGES },
  };
}
const NEOX_CONFIG = { add_prefix_space: false, bos_token: "<|endoftext|>", eos_token: "<|endoftext|>", unk_token: "<|endoftext|>", tokenizer_class: "GPTNeoXTokenizer" };
/** The id of a single byte's token. */
const byteId = (char: string) => 2 + char.charCodeAt(0);

describe("a byte-level BPE (GPT-NeoX layout)", () => {
  let tok: HfTokenizer;
  beforeAll(async () => {
    tok = await HfTokenizer.fromDirectory(writeTokenizerDir(neoxJson(), NEOX_CONFIG));
  });

  it("has the vocabulary size and special tokens of its files", () => {
    expect(tok.name).toBe("hf");
    expect(tok.vocabSize).toBe(258 + NEOX_MERGES.length);
    expect(tok.bosTokenId).toBe(0);
    expect(tok.eosTokenId).toBe(0);
    expect(tok.padTokenId).toBeUndefined();
    expect(tok.addBosToken).toBe(false);
  });

  it("encodes with the merges (ids derived by hand)", () => {
    // "the" -> t,h,e -> (h e) -> t,he ; " cat" -> Ġ,c,a,t -> Ġc, at -> Ġcat
    expect(tok.encode("the cat")).toEqual([byteId("t"), 259, 264]);
    // " the" -> Ġt, he -> Ġthe ; " thing" -> Ġt,h,i,n,g -> Ġt,h,in,g -> Ġt,h,ing
    expect(tok.encode(" the thing")).toEqual([260, 258, byteId("h"), 265]);
    expect(tok.encode("")).toEqual([]);
    // A special token written in the text is its id; no BOS is added anywhere.
    expect(tok.encode("<|endoftext|>the")).toEqual([0, byteId("t"), 259]);
    expect(tok.encode("\n")).toEqual([2 + 0x0a]);
  });

  it("round-trips text, including characters made of several byte tokens", () => {
    for (const text of ["the cat", " the thing", "naïve café 🙂 ünïcödé", "tabs\tand\nnewlines  ", "<|endoftext|>after", "x"]) {
      expect(tok.decode(tok.encode(text))).toBe(text);
    }
    const emoji = tok.encode("🙂");
    expect(emoji.length).toBe(4); // four UTF-8 bytes, no merges
    expect(tok.tokenStrings(emoji)).toEqual(["\uFFFD", "\uFFFD", "\uFFFD", "\uFFFD"]);
    expect(tok.decode([])).toBe("");
  });

  it("shows each token's own text, and finds ids of single tokens", () => {
    expect(tok.tokenStrings(tok.encode(" the thing"))).toEqual([" the", " t", "h", "ing"]);
    expect(tok.tokenStrings([0, 1])).toEqual(["<|endoftext|>", "<|padding|>"]);
    expect(tok.tokenId(" the")).toBe(260);
    expect(tok.tokenId("ing")).toBe(265);
    expect(tok.tokenId("<|endoftext|>")).toBe(0);
    expect(tok.tokenId("Ġcat")).toBe(264); // the raw vocabulary entry
    expect(tok.tokenId(" the cat")).toBeUndefined();
    expect(tok.idToToken(260)).toBe("Ġthe");
  });

  it("rejects ids outside the vocabulary", () => {
    expect(() => tok.decode([5, tok.vocabSize])).toThrow(/token id 266 at index 1 is out of range/);
    expect(() => tok.tokenStrings([-1])).toThrow(/out of range/);
    expect(() => tok.decode([1.5])).toThrow(/out of range/);
  });

  it("applies add_prefix_space from tokenizer_config.json", () => {
    const spaced = new HfTokenizer(neoxJson(), { ...NEOX_CONFIG, add_prefix_space: true });
    expect(spaced.encode("the")).toEqual([260]);
  });

  it("is prepended a BOS by the model's encodeText, not by encode", () => {
    expect(encodeText(tok, "the cat", true)).toEqual([0, byteId("t"), 259, 264]);
    expect(encodeText(tok, "the cat", false)).toEqual([byteId("t"), 259, 264]);
  });
});

// ------------------------------------------------------------ SentencePiece BPE (Llama layout)

/**
 * A Llama-2-like tokenizer: <unk> 0, <s> 1, </s> 2, the byte tokens <0x00>..<0xFF> 3..258, then
 * "▁" and a few letters and merges. The normalizer prepends "▁" and turns spaces into "▁"; the
 * post-processor adds <s>; the decoder undoes it all and strips the leading space.
 */
const LLAMA_PIECES = ["▁", "h", "e", "l", "o", "w", "r", "d", "▁h", "ll", "▁he", "llo", "▁hello", "▁w", "or", "▁wor", "ld", "▁world"];
const LLAMA_MERGES = ["▁ h", "l l", "▁h e", "ll o", "▁he llo", "▁ w", "o r", "▁w or", "l d", "▁wor ld"];
const L = (piece: string) => 259 + LLAMA_PIECES.indexOf(piece);
const byteToken = (b: number) => 3 + b;
function llamaJson(): Record<string, unknown> {
  const vocab: Record<string, number> = { "<unk>": 0, "<s>": 1, "</s>": 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`] = byteToken(b);
  LLAMA_PIECES.forEach((p, i) => (vocab[p] = 259 + i));
  const added = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")],
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "Prepend", prepend: "▁" },
        { type: "Replace", pattern: { String: " " }, content: "▁" },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "<s>", type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] } },
    },
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: "▁" }, content: " " },
        { type: "ByteFallback" },
        { type: "Fuse" },
        { type: "Strip", content: " ", start: 1, stop: 0 },
      ],
    },
    model: { type: "BPE", dropout: null, unk_token: "<unk>", continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab, merges: LLAMA_MERGES },
  };
}
const LLAMA_CONFIG = {
  add_bos_token: true,
  add_eos_token: false,
  bos_token: { __type: "AddedToken", content: "<s>", lstrip: false, normalized: false, rstrip: false, single_word: false },
  eos_token: "</s>",
  pad_token: null,
  unk_token: "<unk>",
  clean_up_tokenization_spaces: false,
  legacy: false,
  tokenizer_class: "LlamaTokenizer",
};

describe("a SentencePiece BPE with byte fallback (Llama layout)", () => {
  let tok: HfTokenizer;
  beforeAll(async () => {
    tok = await HfTokenizer.fromDirectory(writeTokenizerDir(llamaJson(), LLAMA_CONFIG));
  });

  it("reads BOS / EOS from tokenizer_config.json (strings or AddedToken objects)", () => {
    expect(tok.bosTokenId).toBe(1);
    expect(tok.eosTokenId).toBe(2);
    expect(tok.padTokenId).toBeUndefined();
    expect(tok.addBosToken).toBe(true);
    expect(tok.vocabSize).toBe(259 + LLAMA_PIECES.length);
  });

  it("encodes without BOS although the post-processor adds one", () => {
    // "▁hello▁world": ▁h, ll, ▁he, llo, ▁hello, then ▁w, or, ▁wor, ld, ▁world
    expect(tok.encode("hello world")).toEqual([L("▁hello"), L("▁world")]);
    // "▁hold": ▁h, then l d -> ld
    expect(tok.encode("hold")).toEqual([L("▁h"), L("o"), L("ld")]);
    expect(tok.encode("hello  world")).toEqual([L("▁hello"), L("▁"), L("▁world")]);
    expect(encodeText(tok, "hello world", true)).toEqual([1, L("▁hello"), L("▁world")]);
  });

  it("falls back to byte tokens for unknown characters, and round-trips them", () => {
    // é is C3 A9 in UTF-8
    expect(tok.encode("hé")).toEqual([L("▁h"), byteToken(0xc3), byteToken(0xa9)]);
    expect(tok.encode("\n")).toEqual([L("▁"), byteToken(0x0a)]);
    for (const text of ["hé", "hello world", "hello  world", "😀 and ∑", "a\nb", "wörld"]) {
      expect(tok.decode(tok.encode(text))).toBe(text);
    }
  });

  it("shows tokens with the space their ▁ stands for", () => {
    expect(tok.tokenStrings([1, L("▁hello"), L("▁world")])).toEqual(["<s>", " hello", " world"]);
    expect(tok.tokenStrings(tok.encode("hé"))).toEqual([" h", "\uFFFD", "\uFFFD"]);
    expect(tok.tokenStrings([byteToken(0x0a), L("ld")])).toEqual(["\n", "ld"]);
    // decode strips the space of the first ▁, as Hugging Face's decode does
    expect(tok.decode([L("▁world")])).toBe("world");
    expect(tok.decode([1, L("▁hello")])).toBe("<s> hello");
  });

  it("finds single tokens by text or by vocabulary entry", () => {
    expect(tok.tokenId("world")).toBe(L("▁world")); // encode("world") is one token
    expect(tok.tokenId(" world")).toBe(L("▁world")); // its tokenStrings text
    expect(tok.tokenId("▁world")).toBe(L("▁world"));
    expect(tok.tokenId("<0x0A>")).toBe(byteToken(0x0a));
    expect(tok.tokenId("</s>")).toBe(2);
    expect(tok.tokenId("hello world")).toBeUndefined();
  });

  it("without tokenizer_config.json, takes BOS from the post-processor", () => {
    const bare = new HfTokenizer(llamaJson());
    expect(bare.bosTokenId).toBe(1);
    expect(bare.eosTokenId).toBeUndefined();
    expect(bare.addBosToken).toBe(true);
    // special_tokens_map.json fills in what tokenizer_config.json leaves out
    const specialTokensMap = { eos_token: "</s>", pad_token: "<unk>" };
    const mapped = new HfTokenizer(llamaJson(), { add_bos_token: false }, { specialTokensMap });
    expect([mapped.bosTokenId, mapped.eosTokenId, mapped.padTokenId, mapped.addBosToken]).toEqual([1, 2, 0, false]);
    // ... and overrides an older tokenizer_config.json, but not a newer one (with added_tokens_decoder)
    const older = new HfTokenizer(llamaJson(), { pad_token: "</s>" }, { specialTokensMap });
    expect(older.padTokenId).toBe(0);
    const newer = new HfTokenizer(llamaJson(), { pad_token: "</s>", added_tokens_decoder: {} }, { specialTokensMap });
    expect([newer.padTokenId, newer.eosTokenId]).toEqual([2, 2]);
  });
});

// ------------------------------------------------------------------------------- GPT-2 agreement

/**
 * GPT-2's tokenizer.json rebuilt from the merge ranks shipped with gpt-tokenizer: the vocabulary is
 * each token's bytes in byte-level characters; the merge making a token is found by running BPE on
 * its bytes with only the lower-ranked tokens, which leaves exactly two parts.
 */
function gpt2TokenizerJson(): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const ranks = (require("gpt-tokenizer/bpeRanks/r50k_base") as { default: readonly (string | readonly number[])[] }).default;
  const encoder = new TextEncoder();
  const latin1 = (bytes: ArrayLike<number>) => String.fromCharCode(...Array.from(bytes));
  const rankOf = new Map<string, number>();
  const tokenBytes = ranks.map((piece) => (typeof piece === "string" ? encoder.encode(piece) : Uint8Array.from(piece)));
  tokenBytes.forEach((bytes, rank) => rankOf.set(latin1(bytes), rank));
  const vocab: Record<string, number> = {};
  tokenBytes.forEach((bytes, rank) => (vocab[Array.from(bytes, (b) => BYTE_CHARS[b]).join("")] = rank));
  vocab["<|endoftext|>"] = 50256;
  const merges: string[] = [];
  tokenBytes.forEach((bytes, rank) => {
    if (bytes.length < 2) return;
    let parts = Array.from(bytes, (b) => latin1([b]));
    for (;;) {
      let best = -1;
      let bestRank = rank;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = rankOf.get(parts[i] + parts[i + 1]);
        if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
      }
      if (best < 0) break;
      parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
    }
    if (parts.length !== 2) throw new Error(`token ${rank} does not split into two lower-ranked tokens`);
    const show = (s: string) => Array.from(s, (c) => BYTE_CHARS[c.charCodeAt(0)]).join("");
    merges.push(`${show(parts[0])} ${show(parts[1])}`);
  });
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    added_tokens: [{ id: 50256, content: "<|endoftext|>", single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", ...byteLevel },
    post_processor: { type: "ByteLevel", ...byteLevel },
    decoder: { type: "ByteLevel", ...byteLevel },
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "", fuse_unk: false, vocab, merges },
  };
}

describe("GPT-2's vocabulary as a tokenizer.json", () => {
  it("gives the same ids, text and token strings as the built-in GPT-2 tokenizer", () => {
    const json = gpt2TokenizerJson();
    expect((json.model as { merges: string[] }).merges.length).toBe(50000);
    const hf = new HfTokenizer(json, { bos_token: "<|endoftext|>", eos_token: "<|endoftext|>" });
    const gpt2 = gpt2Tokenizer();
    expect(hf.vocabSize).toBe(gpt2.vocabSize);
    expect([hf.bosTokenId, hf.eosTokenId]).toEqual([gpt2.bosTokenId, gpt2.eosTokenId]);
    const paragraph =
      "Mechanistic interpretability reverse-engineers neural networks. It's the 2nd time we've tried; " +
      "they'll see 12345 tokens   with  spaces,\n\nnewlines\tand tabs. Ünïcödé, naïve café, 日本語, emoji 🙂👍🏽!" +
      "<|endoftext|>A new document:   indented code() { return x**2; } // done  ";
    const ids = gpt2.encode(paragraph);
    expect(hf.encode(paragraph)).toEqual(ids);
    expect(hf.decode(ids)).toBe(paragraph);
    expect(hf.tokenStrings(ids)).toEqual(gpt2.tokenStrings(ids));
    for (const word of [" the", "Hello", " Paris", "<|endoftext|>"]) expect(hf.tokenId(word)).toBe(gpt2.tokenId(word));
  });
});

// ---------------------------------------------------------------------------- errors and JSON

describe("errors and serialisation", () => {
  it("names the file and what is wrong", async () => {
    const empty = tempDir("empty");
    await expect(HfTokenizer.fromDirectory(empty)).rejects.toThrow(new RegExp(`${empty.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} has no tokenizer\\.json`));
    fs.writeFileSync(path.join(empty, "tokenizer.model"), "x");
    await expect(HfTokenizer.fromDirectory(empty)).rejects.toThrow(/tokenizer\.model, the files of a "slow" tokenizer.*save_pretrained/);
    await expect(HfTokenizer.fromDirectory(path.join(empty, "nope"))).rejects.toThrow(/is not a directory/);

    const broken = tempDir("broken");
    fs.writeFileSync(path.join(broken, "tokenizer.json"), "{ not json");
    await expect(HfTokenizer.fromDirectory(broken)).rejects.toThrow(/broken-\d+\/tokenizer\.json is not valid JSON/);
    expect(() => HfTokenizer.fromDirectorySync(broken)).toThrow(/tokenizer\.json is not valid JSON/);

    const badConfig = writeTokenizerDir(neoxJson());
    fs.writeFileSync(path.join(badConfig, "tokenizer_config.json"), "[1, 2");
    await expect(HfTokenizer.fromDirectory(badConfig)).rejects.toThrow(/tokenizer_config\.json is not valid JSON/);

    const noModel = writeTokenizerDir({ added_tokens: [] });
    await expect(HfTokenizer.fromDirectory(noModel)).rejects.toThrow(/tokenizer\.json has no "model" object/);
    const noMerges = writeTokenizerDir({ ...neoxJson(), model: { type: "BPE", vocab: { a: 0 } } });
    await expect(HfTokenizer.fromDirectory(noMerges)).rejects.toThrow(/tokenizer\.json has a BPE model without a "merges" array/);
    const badAdded = writeTokenizerDir({ ...neoxJson(), added_tokens: [{ id: "x", content: "<s>" }] });
    await expect(HfTokenizer.fromDirectory(badAdded)).rejects.toThrow(/added_tokens\[0\] in .*tokenizer\.json needs "content"/);
    const unknownPart = writeTokenizerDir({ ...neoxJson(), decoder: { type: "NoSuchDecoder" } });
    await expect(HfTokenizer.fromDirectory(unknownPart)).rejects.toThrow(/could not build a tokenizer from .*tokenizer\.json: Unknown Decoder type: NoSuchDecoder/);

    const wrongBos = writeTokenizerDir(neoxJson(), { bos_token: "<s>" });
    await expect(HfTokenizer.fromDirectory(wrongBos)).rejects.toThrow(/tokenizer_config\.json names bos_token "<s>", which is not in the vocabulary/);
    expect(() => new HfTokenizer([1, 2])).toThrow(/the tokenizer\.json object must hold a JSON object, not an array/);
  });

  it("serialises as a reference to its directory and comes back through tokenizerFromJSON", async () => {
    const dir = writeTokenizerDir(llamaJson(), LLAMA_CONFIG);
    const tok = await HfTokenizer.fromDirectory(dir);
    const json = tokenizerToJSON(tok);
    expect(json).toEqual({ type: "hf", dir: path.resolve(dir) });
    const back = tokenizerFromJSON(JSON.stringify(json));
    expect(back).toBeInstanceOf(HfTokenizer);
    expect(back.encode("hello wörld")).toEqual(tok.encode("hello wörld"));
    expect([back.bosTokenId, back.eosTokenId, back.vocabSize]).toEqual([1, 2, tok.vocabSize]);
    expect(() => tokenizerFromJSON({ type: "hf" })).toThrow(/an "hf" tokenizer needs "dir"/);
    expect(() => tokenizerFromJSON({ type: "hf", dir: path.join(dir, "gone") })).toThrow(/is not a directory/);
    expect(() => new HfTokenizer(llamaJson()).toJSON()).toThrow(/built from objects, not read from a directory/);
    // the other types are unchanged
    expect(tokenizerFromJSON({ type: "gpt2" }).name).toBe("gpt2");
  });
});

// ----------------------------------------------------------------------------------- the loader

function toRaw(weights: ReturnType<typeof randomHfWeights>): Record<string, RawTensor> {
  return Object.fromEntries(
    Object.entries(weights).map(([name, w]) => [name, { dtype: "float32", shape: w.shape, data: Float32Array.from(w.data) } as RawTensor]),
  );
}

/** A tiny GPT-NeoX checkpoint in HF layout, with the NeoX tokenizer files unless told otherwise. */
async function writeNeoxModelDir(withTokenizer: boolean): Promise<string> {
  const dir = tempDir("model");
  const config = tinyHfConfigs.neox as Record<string, unknown>;
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
  await writeSafetensors(path.join(dir, "model.safetensors"), toRaw(randomHfWeights("neox", config, 5)));
  if (withTokenizer) {
    fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(neoxJson()));
    fs.writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(NEOX_CONFIG));
  }
  return dir;
}

/** A fake hub serving the files of `dir` for `repo`; `fail` makes a file's request throw (no network). */
function fakeHub(repo: string, dir: string, fail: string[] = []) {
  const requests: string[] = [];
  const fetchImpl: FetchLike = async (url) => {
    const prefix = `https://huggingface.co/${repo}/resolve/main/`;
    const file = url.startsWith(prefix) ? decodeURIComponent(url.slice(prefix.length)) : url;
    requests.push(file);
    if (fail.includes(file)) throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });
    if (!fs.existsSync(path.join(dir, file))) return new Response("Entry not found", { status: 404 });
    return new Response(new Uint8Array(fs.readFileSync(path.join(dir, file))), { status: 200 });
  };
  return { fetchImpl, requests };
}
const noNetwork: FetchLike = async () => {
  throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ENOTFOUND" } });
};
const silent = { onProgress: () => undefined, processWeights: false } as const;

async function load(nameOrDir: string, options: Parameters<typeof loadPretrainedWeights>[1] = {}) {
  const loaded = await loadPretrainedWeights(nameOrDir, { ...silent, ...options });
  tf.dispose(Object.values(loaded.stateDict));
  return loaded;
}

describe("loading models with tokenizer files", () => {
  const HUB_ENV = ["HF_HUB_OFFLINE", "HF_ENDPOINT", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"];
  const savedEnv: Record<string, string | undefined> = {};
  beforeAll(() => {
    for (const key of HUB_ENV) {
      savedEnv[key] = process.env[key];
      delete process.env[key];
    }
  });
  afterAll(() => {
    for (const key of HUB_ENV) if (savedEnv[key] !== undefined) process.env[key] = savedEnv[key];
  });

  it("a local directory with tokenizer.json reports tokenizerDir", async () => {
    const dir = await writeNeoxModelDir(true);
    const loaded = await load(dir);
    expect(loaded.tokenizerName).toBeUndefined();
    expect(loaded.tokenizerDir).toBe(path.resolve(dir));
    const tok = await HfTokenizer.fromDirectory(loaded.tokenizerDir as string);
    expect(tok.encode(" the thing")).toEqual([260, 258, byteId("h"), 265]);
    const without = await load(await writeNeoxModelDir(false));
    expect(without.tokenizerDir).toBeUndefined();
    expect("tokenizerDir" in without).toBe(false);
  });

  it("downloads the tokenizer files from the hub, then uses the cache", async () => {
    const served = await writeNeoxModelDir(true);
    fs.writeFileSync(path.join(served, "special_tokens_map.json"), JSON.stringify({ pad_token: "<|padding|>" }));
    const cacheDir = tempDir("cache");
    const hub = fakeHub("tiny/neox", served);
    const loaded = await load("tiny/neox", { cacheDir, fetchImpl: hub.fetchImpl });
    expect(hub.requests).toEqual(["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]);
    const cached = repoCacheDir("tiny/neox", "main", cacheDir);
    expect(loaded.tokenizerDir).toBe(cached);
    expect(loaded.notes.join(" ")).not.toMatch(/tokenizer/);
    const tok = await HfTokenizer.fromDirectory(loaded.tokenizerDir as string);
    expect([tok.bosTokenId, tok.eosTokenId, tok.padTokenId]).toEqual([0, 0, 1]);
    expect(tok.decode(tok.encode("the cat"))).toBe("the cat");

    const again = await load("tiny/neox", { cacheDir, fetchImpl: noNetwork });
    expect(again.source.fromCache).toBe(true);
    expect(again.tokenizerDir).toBe(cached);
    expect(again.notes).toEqual(loaded.notes);
  });

  it("a 404 on the tokenizer files does not fail the download, and is remembered", async () => {
    const served = await writeNeoxModelDir(false);
    const cacheDir = tempDir("cache");
    const hub = fakeHub("tiny/no-tokenizer", served);
    const loaded = await load("tiny/no-tokenizer", { cacheDir, fetchImpl: hub.fetchImpl });
    expect(loaded.tokenizerDir).toBeUndefined();
    expect(loaded.notes.join(" ")).not.toMatch(/tokenizer/);
    // Without tokenizer.json the other tokenizer files are not asked for.
    expect(hub.requests).toEqual(["config.json", "model.safetensors", "tokenizer.json"]);
    const files = await ensureHubTokenizerFiles("tiny/no-tokenizer", { cacheDir, fetchImpl: noNetwork });
    expect(files).toMatchObject({ present: [], absent: ["tokenizer.json"], downloaded: [], problems: [] });
    const again = await load("tiny/no-tokenizer", { cacheDir, fetchImpl: noNetwork });
    expect(again.tokenizerDir).toBeUndefined();
    expect(again.notes.join(" ")).not.toMatch(/tokenizer/);

    // tokenizer.json without tokenizer_config.json: the config's 404 is fine too.
    const partial = await writeNeoxModelDir(false);
    fs.writeFileSync(path.join(partial, "tokenizer.json"), JSON.stringify(neoxJson()));
    const hub2 = fakeHub("tiny/partial", partial);
    const loaded2 = await load("tiny/partial", { cacheDir, fetchImpl: hub2.fetchImpl });
    expect(loaded2.tokenizerDir).toBe(repoCacheDir("tiny/partial", "main", cacheDir));
    expect((await HfTokenizer.fromDirectory(loaded2.tokenizerDir as string)).bosTokenId).toBeUndefined();
  });

  it("a network failure on the tokenizer files leaves a note, and a later load fetches them", async () => {
    const served = await writeNeoxModelDir(true);
    const cacheDir = tempDir("cache");
    const flaky = fakeHub("tiny/flaky", served, ["tokenizer.json"]);
    const loaded = await load("tiny/flaky", { cacheDir, fetchImpl: flaky.fetchImpl });
    expect(loaded.tokenizerDir).toBeUndefined();
    expect(loaded.notes.join(" ")).toMatch(/tokenizer files could not all be fetched \(tokenizer\.json: Could not reach the Hugging Face hub .*ECONNRESET/);
    const offline = await load("tiny/flaky", { cacheDir, fetchImpl: noNetwork, offline: true });
    expect(offline.notes.join(" ")).toMatch(/offline mode \(offline: true\)/);

    const good = fakeHub("tiny/flaky", served);
    const later = await load("tiny/flaky", { cacheDir, fetchImpl: good.fetchImpl });
    expect(good.requests).toEqual(["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]); // the weights came from the cache
    expect(later.tokenizerDir).toBe(repoCacheDir("tiny/flaky", "main", cacheDir));
  });

  it("the GPT-2 family keeps its built-in tokenizer and fetches no tokenizer files", async () => {
    const dir = tempDir("gpt2");
    const config = tinyHfConfigs.gpt2 as Record<string, unknown>;
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
    await writeSafetensors(path.join(dir, "model.safetensors"), toRaw(randomHfWeights("gpt2", config, 3)));
    const hub = fakeHub("tiny/gpt2", dir);
    const loaded = await load("tiny/gpt2", { cacheDir: tempDir("cache"), fetchImpl: hub.fetchImpl });
    expect(loaded.tokenizerName).toBe("gpt2");
    expect(loaded.tokenizerDir).toBeUndefined();
    expect(hub.requests).toEqual(["config.json", "model.safetensors"]);
  });
});

describe("HookedTransformer.fromPretrained with a tokenizer.json", () => {
  it("attaches the model's own tokenizer, so text input works", async () => {
    const dir = tempDir("neox-with-tokenizer");
    const config = { ...(tinyHfConfigs.neox as Record<string, unknown>), vocab_size: 300 };
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
    await writeSafetensors(path.join(dir, "model.safetensors"), toRaw(randomHfWeights("neox", config, 5)));
    fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(neoxJson()));
    fs.writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(NEOX_CONFIG));
    const model = await HookedTransformer.fromPretrained(dir);
    expect(model.tokenizer).toBeInstanceOf(HfTokenizer);
    const tokens = model.toTokens("the cat");
    expect((tokens.arraySync() as number[][])[0]).toEqual([0, ...model.tokenizer!.encode("the cat")]);
    const logits = model.forward("the cat");
    expect(logits.shape).toEqual([1, tokens.shape[1], 300]);
    tokens.dispose();
    logits.dispose();
    model.dispose();
  });
});
