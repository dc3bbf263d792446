/**
 * Training a byte-level BPE tokenizer (GPT-2's scheme) on a corpus, written as a Hugging Face
 * tokenizer.json that `HfTokenizer` reads.
 *
 *   const bpe = trainByteLevelBpe(texts, { vocabSize: 2048 });
 *   writeBpeTokenizer(dir, bpe);                  // tokenizer.json + tokenizer_config.json
 *   const tokenizer = HfTokenizer.fromDirectorySync(dir);
 *
 * Text is split into pre-tokens with GPT-2's regex (" the", "'s", " 1776", "\n\n"), each
 * pre-token's UTF-8 bytes are written with GPT-2's byte-to-unicode characters ("Ġ" for a
 * space), and merges are learned inside pre-tokens only. Pair frequencies are counted over the
 * unique pre-tokens, weighted by how often each occurs, so the work grows with the number of
 * distinct words, not with the length of the text.
 *
 * The merge rule: the adjacent pair with the highest count (summed over all pre-tokens,
 * non-overlapping occurrences counted left to right, as merging applies them) is merged next;
 * among pairs with equal counts, the one whose left symbol, then right symbol, is smallest in
 * UTF-16 code-unit order (the order of their byte-level strings).
 *
 * Ids: the special tokens first (default "<|endoftext|>" = 0, which is BOS and EOS), then the
 * 256 single bytes in byte order, then one token per merge in the order learned.
 */
import * as fs from "fs";
import * as path from "path";

/** GPT-2's pre-tokenisation pattern (the one Hugging Face's ByteLevel pre-tokenizer uses). */
export const GPT2_PRETOKENIZE_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * GPT-2's byte-to-unicode map: byte b -> a printable character. Printable Latin-1 bytes map to
 * themselves; the other 68 bytes map to U+0100 onwards, in byte order (space -> "Ġ", "\n" -> "Ċ").
 */
export function bytesToUnicode(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) table.push(String.fromCharCode(printable(b) ? b : next++));
  return table;
}

const BYTE_CHARS = bytesToUnicode();
const UTF8 = new TextEncoder();

/** The pre-tokens of a text, each as its byte-level string ("Ġthe"). */
export function byteLevelPreTokens(text: string): string[] {
  const pieces = text.match(GPT2_PRETOKENIZE_PATTERN) ?? [];
  return pieces.map((piece) => Array.from(UTF8.encode(piece), (b) => BYTE_CHARS[b]).join(""));
}

export interface BpeTrainingOptions {
  /** Size of the vocabulary: special tokens + 256 bytes + merges. */
  vocabSize: number;
  /** Added tokens before the bytes (default ["<|endoftext|>"]); the first is BOS and EOS. */
  specialTokens?: string[];
  /** Pairs seen fewer times than this are never merged (default 2); training may stop short of vocabSize. */
  minFrequency?: number;
}

export interface TrainedBpe {
  /** Special tokens, ids 0 .. specialTokens.length - 1. */
  specialTokens: string[];
  /** Learned merges, in order: [left, right] byte-level strings. */
  merges: [string, string][];
  /** Every token's byte-level string in id order (special tokens, bytes, merges). */
  vocab: string[];
}

/** Counts of the distinct pre-tokens of the texts. */
export function countPreTokens(texts: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    if (typeof text !== "string") throw new Error(`trainByteLevelBpe: every text must be a string, got ${typeof text}`);
    for (const word of byteLevelPreTokens(text)) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}

/** Learns byte-level BPE merges on `texts` (see the module comment for the rule). */
export function trainByteLevelBpe(texts: Iterable<string>, options: BpeTrainingOptions): TrainedBpe {
  const specialTokens = options.specialTokens ?? ["<|endoftext|>"];
  const minFrequency = options.minFrequency ?? 2;
  const base = specialTokens.length + 256;
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < base || options.vocabSize > 65536) {
    throw new Error(`trainByteLevelBpe: vocabSize must be a whole number from ${base} (special tokens + 256 bytes) to 65536, got ${options.vocabSize}`);
  }
  if (new Set(specialTokens).size !== specialTokens.length) throw new Error(`trainByteLevelBpe: the special tokens must be distinct, got ${JSON.stringify(specialTokens)}`);
  if (!Number.isInteger(minFrequency) || minFrequency < 1) throw new Error(`trainByteLevelBpe: minFrequency must be a whole number ≥ 1, got ${minFrequency}`);

  // Symbols are numbered: 0..255 the bytes, then one per merge. symbolText holds their strings.
  const symbolText: string[] = [...BYTE_CHARS];
  const byteOf = new Map(BYTE_CHARS.map((c, b) => [c, b]));
  const words: Int32Array[] = [];
  const wordCounts: number[] = [];
  for (const [word, count] of countPreTokens(texts)) {
    words.push(Int32Array.from(Array.from(word, (c) => byteOf.get(c) as number)));
    wordCounts.push(count);
  }

  const KEY = 65536; // pair (a, b) -> a * KEY + b
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  /** Adds `sign` × the word's count for each pair occurrence (non-overlapping, left to right). */
  const countWord = (w: number, sign: 1 | -1) => {
    const symbols = words[w];
    const weight = sign * wordCounts[w];
    let previousKey = -1;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = symbols[i] * KEY + symbols[i + 1];
      // "aaa" holds the pair (a, a) once when merged left to right, not twice.
      if (key === previousKey) {
        previousKey = -1;
        continue;
      }
      previousKey = key;
      const count = (pairCounts.get(key) ?? 0) + weight;
      if (count === 0) pairCounts.delete(key);
      else pairCounts.set(key, count);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (set === undefined) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) countWord(w, 1);

  const merges: [string, string][] = [];
  while (base + merges.length < options.vocabSize) {
    let bestKey = -1;
    let bestCount = 0;
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && count > 0 && pairBefore(key, bestKey))) {
        bestKey = key;
        bestCount = count;
      }
    }
    if (bestKey < 0 || bestCount < minFrequency) break;
    const left = Math.floor(bestKey / KEY);
    const right = bestKey % KEY;
    const merged = symbolText.length;
    symbolText.push(symbolText[left] + symbolText[right]);
    merges.push([symbolText[left], symbolText[right]]);

    for (const w of pairWords.get(bestKey) ?? []) {
      const symbols = words[w];
      let found = false;
      for (let i = 0; i + 1 < symbols.length; i++) if (symbols[i] === left && symbols[i + 1] === right) found = true;
      if (!found) continue;
      countWord(w, -1);
      const out: number[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
          out.push(merged);
          i++;
        } else out.push(symbols[i]);
      }
      words[w] = Int32Array.from(out);
      countWord(w, 1);
    }
    pairCounts.delete(bestKey);
    pairWords.delete(bestKey);
  }

  function pairBefore(key: number, other: number): boolean {
    if (other < 0) return true;
    const [a, b] = [symbolText[Math.floor(key / KEY)], symbolText[key % KEY]];
    const [c, d] = [symbolText[Math.floor(other / KEY)], symbolText[other % KEY]];
    return a !== c ? a < c : b < d;
  }

  return { specialTokens: [...specialTokens], merges, vocab: [...specialTokens, ...BYTE_CHARS, ...merges.map(([a, b]) => a + b)] };
}

/** The Hugging Face tokenizer.json of a trained BPE (byte-level pre-tokenizer and decoder, no normaliser). */
export function bpeTokenizerJson(bpe: TrainedBpe): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  bpe.vocab.forEach((token, id) => {
    if (token in vocab) throw new Error(`bpeTokenizerJson: the token ${JSON.stringify(token)} appears twice in the vocabulary (ids ${vocab[token]} and ${id})`);
    vocab[token] = id;
  });
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: bpe.specialTokens.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", ...byteLevel },
    post_processor: { type: "ByteLevel", ...byteLevel },
    decoder: { type: "ByteLevel", ...byteLevel },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: bpe.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** tokenizer_config.json: the first special token is BOS and EOS; nothing is added when encoding. */
export function bpeTokenizerConfig(bpe: TrainedBpe): Record<string, unknown> {
  const first = bpe.specialTokens[0];
  return {
    tokenizer_class: "PreTrainedTokenizerFast",
    add_prefix_space: false,
    add_bos_token: false,
    clean_up_tokenization_spaces: false,
    ...(first === undefined ? {} : { bos_token: first, eos_token: first }),
  };
}

/** Writes tokenizer.json and tokenizer_config.json to `dir` (created if needed); `HfTokenizer.fromDirectory(dir)` reads them. */
export function writeBpeTokenizer(dir: string, bpe: TrainedBpe): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(bpeTokenizerJson(bpe)) + "\n");
  fs.writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(bpeTokenizerConfig(bpe), null, 2) + "\n");
}

/**
 * `tokenizer.encode`, computed one pre-token at a time with each distinct pre-token encoded once:
 * the same ids for a byte-level BPE whose pre-tokenizer is GPT-2's pattern with no normaliser
 * (what `writeBpeTokenizer` writes), where BPE never merges across pre-tokens, and many times
 * faster on a large corpus. Texts that contain one of `specialTokens` go to `tokenizer.encode` whole.
 */
export function preTokenCachedEncoder(tokenizer: { encode(text: string): number[] }, specialTokens: readonly string[] = ["<|endoftext|>"]): (text: string) => number[] {
  const cache = new Map<string, number[]>();
  return (text: string) => {
    if (specialTokens.some((s) => text.includes(s))) return tokenizer.encode(text);
    const ids: number[] = [];
    for (const piece of text.match(GPT2_PRETOKENIZE_PATTERN) ?? []) {
      let pieceIds = cache.get(piece);
      if (pieceIds === undefined) cache.set(piece, (pieceIds = tokenizer.encode(piece)));
      for (const id of pieceIds) ids.push(id);
    }
    return ids;
  };
}
