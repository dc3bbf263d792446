import { checkTokenId, type Tokenizer } from "./tokenizer";

/**
 * GPT-2's byte-level BPE, fully offline.
 *
 * The merge ranks and the encoder come from the `gpt-tokenizer` package (its `r50k_base`
 * encoding is GPT-2's vocabulary, shipped inside the package). We use it for the BPE merges
 * of plain text only; the rest is done here:
 * - `<|endoftext|>` in the input is split out by us and becomes id 50256, as in Hugging
 *   Face's GPT-2 tokenizer (the package's own special-token search only finds a special
 *   token at the very start of the text).
 * - decoding works on the raw bytes of each token and turns them into text with a fresh,
 *   non-streaming `TextDecoder`; the package's decoder keeps undecoded bytes between calls.
 *
 * Invalid UTF-8 (a token, or a run of tokens, that ends inside a multi-byte character) is
 * decoded with one U+FFFD per maximal invalid byte sequence (the WHATWG / Unicode
 * recommended practice), which is what Hugging Face's lossy decode gives. `tokenStrings`
 * decodes each token on its own, so the tokens of one emoji show as "\uFFFD" pieces, as
 * TransformerLens's to_str_tokens shows them.
 *
 * Lone UTF-16 surrogates in the input cannot be encoded as UTF-8 and are encoded as U+FFFD.
 */

/** The id of `<|endoftext|>`: GPT-2's BOS, EOS and (by convention) pad token. */
export const GPT2_END_OF_TEXT_ID = 50256;
export const GPT2_END_OF_TEXT = "<|endoftext|>";
export const GPT2_VOCAB_SIZE = 50257;

// The package's modules are required lazily (loading the ranks takes a moment and a few
// megabytes). "gpt-tokenizer/encoding/..." resolves through the package's exports map under
// both `require` and `import`. We describe the little we use ourselves rather than import the
// package's declaration files: those need TypeScript >= 5.6 to parse, and the notebook
// kernel's TypeScript is older.
interface R50kModule {
  encode(text: string): number[];
  readonly vocabularySize: number;
}
interface RanksModule {
  /** rank -> the token's text when it is valid UTF-8 on its own, else its bytes */
  readonly default: readonly (string | readonly number[])[];
}

/** GPT-2's tokenizer. Get the shared instance with `gpt2Tokenizer()`. */
export class Gpt2Tokenizer implements Tokenizer {
  readonly name = "gpt2";
  readonly vocabSize = GPT2_VOCAB_SIZE;
  readonly bosTokenId = GPT2_END_OF_TEXT_ID;
  readonly eosTokenId = GPT2_END_OF_TEXT_ID;
  readonly padTokenId = GPT2_END_OF_TEXT_ID;

  private readonly bpe: R50kModule;
  /** rank -> the token's text (valid UTF-8) or its raw bytes (not valid UTF-8 on its own) */
  private readonly ranks: readonly (string | readonly number[])[];
  private readonly bytesCache: (Uint8Array | undefined)[];
  private readonly utf8Encoder = new TextEncoder();
  private stringToId: Map<string, number> | undefined;

  constructor() {
    this.bpe = require("gpt-tokenizer/encoding/r50k_base") as R50kModule;
    this.ranks = (require("gpt-tokenizer/bpeRanks/r50k_base") as RanksModule).default;
    if (this.ranks.length !== GPT2_END_OF_TEXT_ID || this.bpe.vocabularySize !== GPT2_VOCAB_SIZE) {
      throw new Error(
        `gpt2 tokenizer: gpt-tokenizer's r50k_base has ${this.ranks.length} ranks and vocabulary size ` +
          `${this.bpe.vocabularySize}; expected ${GPT2_END_OF_TEXT_ID} and ${GPT2_VOCAB_SIZE}`,
      );
    }
    this.bytesCache = new Array<Uint8Array | undefined>(GPT2_VOCAB_SIZE);
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    const segments = text.split(GPT2_END_OF_TEXT);
    for (let s = 0; s < segments.length; s++) {
      if (s > 0) ids.push(GPT2_END_OF_TEXT_ID);
      const segment = segments[s];
      if (segment.length === 0) continue;
      // The segment holds no special token, so the package's default check cannot throw.
      for (const id of this.bpe.encode(segment)) ids.push(id);
    }
    return ids;
  }

  decode(ids: readonly number[]): string {
    let text = "";
    // Consecutive byte tokens are decoded together: one character may span several tokens.
    let pending: Uint8Array[] = [];
    const flush = (): void => {
      if (pending.length > 0) {
        text += decodeUtf8(pending);
        pending = [];
      }
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      checkTokenId(this.name, id, i, this.vocabSize);
      const piece = id === GPT2_END_OF_TEXT_ID ? GPT2_END_OF_TEXT : this.ranks[id];
      if (typeof piece === "string") {
        flush();
        text += piece;
      } else {
        pending.push(this.tokenBytes(id));
      }
    }
    flush();
    return text;
  }

  tokenStrings(ids: readonly number[]): string[] {
    return ids.map((id, i) => {
      checkTokenId(this.name, id, i, this.vocabSize);
      if (id === GPT2_END_OF_TEXT_ID) return GPT2_END_OF_TEXT;
      const piece = this.ranks[id];
      return typeof piece === "string" ? piece : decodeUtf8([this.tokenBytes(id)]);
    });
  }

  /**
   * The id of the vocabulary entry whose text is exactly `token` ("<|endoftext|>" included).
   * The 344 entries that are not valid UTF-8 on their own have no such text, so they are
   * never returned. Every other entry's text encodes back to that entry alone, so this agrees
   * with `encode(token)` whenever the result is one id.
   */
  tokenId(token: string): number | undefined {
    if (this.stringToId === undefined) {
      const map = new Map<string, number>();
      this.ranks.forEach((piece, id) => {
        if (typeof piece === "string") map.set(piece, id);
      });
      map.set(GPT2_END_OF_TEXT, GPT2_END_OF_TEXT_ID);
      this.stringToId = map;
    }
    return this.stringToId.get(token);
  }

  /** The raw UTF-8 bytes of one token. */
  tokenBytes(id: number): Uint8Array {
    checkTokenId(this.name, id, 0, this.vocabSize);
    let bytes = this.bytesCache[id];
    if (bytes === undefined) {
      const piece = id === GPT2_END_OF_TEXT_ID ? GPT2_END_OF_TEXT : this.ranks[id];
      bytes = typeof piece === "string" ? this.utf8Encoder.encode(piece) : Uint8Array.from(piece);
      this.bytesCache[id] = bytes;
    }
    return bytes;
  }

  toJSON(): { type: "gpt2" } {
    return { type: "gpt2" };
  }
}

/** Lossy UTF-8 decoding of the concatenated chunks (U+FFFD for invalid sequences). */
function decodeUtf8(chunks: readonly Uint8Array[]): string {
  let total = 0;
  for (const c of chunks) total += c.length;
  const all = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.length;
  }
  // A new decoder each call: nothing carries over between calls.
  return new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(all);
}

let shared: Gpt2Tokenizer | undefined;

/** The shared GPT-2 tokenizer, built on first use. */
export function gpt2Tokenizer(): Gpt2Tokenizer {
  shared ??= new Gpt2Tokenizer();
  return shared;
}
