import { layoutSpecialTokens } from "./specialTokens";
import { checkTokenId, truncateForMessage, type Tokenizer } from "./tokenizer";

export interface VocabTokenizerOptions {
  bos?: string;
  eos?: string;
  pad?: string;
  /** What separates tokens in the text; default " ". */
  separator?: string;
}

export interface VocabTokenizerJSON {
  type: "vocab";
  words: string[];
  separator: string;
  bos?: string;
  eos?: string;
  pad?: string;
}

/**
 * A word-level tokenizer over a fixed list of words: Othello moves ("a3 b4 c5"), numbers and
 * operators ("12 + 7 ="), and the like.
 *
 * `encode` splits the text on the separator, ignores empty pieces (so repeated separators
 * are fine) and looks each piece up; `decode` joins the tokens with the separator, so
 * decode(encode(text)) is the text with its separators normalised.
 *
 * Ids: the words get 0 .. words.length - 1 in the order given; then come the special tokens
 * in the order bos, eos, pad (only those given; roles with the same string share one id).
 * Special strings ("<bos>") may appear in the text as pieces and map to their ids.
 */
export class VocabTokenizer implements Tokenizer {
  readonly name = "vocab";
  readonly vocabSize: number;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly padTokenId: number | undefined;
  readonly separator: string;

  private readonly options: Omit<VocabTokenizerOptions, "separator">;
  private readonly wordList: readonly string[];
  /** Token strings in id order: the words, then the special tokens. */
  private readonly strings: readonly string[];
  private readonly idOf: ReadonlyMap<string, number>;

  constructor(words: readonly string[], options: VocabTokenizerOptions = {}) {
    const separator = options.separator ?? " ";
    if (typeof separator !== "string" || separator.length === 0) {
      throw new Error(`VocabTokenizer: the separator must be a non-empty string, got ${JSON.stringify(separator)}`);
    }
    if (!Array.isArray(words) || words.length === 0) {
      throw new Error("VocabTokenizer: the vocabulary is empty; pass a non-empty array of words");
    }
    const idOf = new Map<string, number>();
    words.forEach((w, i) => {
      if (typeof w !== "string" || w.length === 0) {
        throw new Error(`VocabTokenizer: word ${i} is ${JSON.stringify(w)}; words must be non-empty strings`);
      }
      if (w.includes(separator)) {
        throw new Error(
          `VocabTokenizer: word ${i} ${JSON.stringify(w)} contains the separator ${JSON.stringify(separator)}, ` +
            `so it could never be encoded`,
        );
      }
      const earlier = idOf.get(w);
      if (earlier !== undefined) {
        throw new Error(`VocabTokenizer: duplicate word ${JSON.stringify(w)} in the vocabulary (at ${earlier} and ${i})`);
      }
      idOf.set(w, i);
    });

    const specials = { bos: options.bos, eos: options.eos, pad: options.pad };
    for (const [role, value] of Object.entries(specials)) {
      if (typeof value === "string" && value.includes(separator)) {
        throw new Error(
          `VocabTokenizer: the ${role} token ${JSON.stringify(value)} contains the separator ${JSON.stringify(separator)}`,
        );
      }
    }
    const layout = layoutSpecialTokens(
      "VocabTokenizer",
      words.length,
      [
        ["bos", specials.bos],
        ["eos", specials.eos],
        ["pad", specials.pad],
      ],
      (s) => idOf.has(s),
      "vocabulary",
    );
    layout.strings.forEach((s, i) => idOf.set(s, words.length + i));

    this.separator = separator;
    this.options = specials;
    this.wordList = [...words];
    this.strings = [...words, ...layout.strings];
    this.idOf = idOf;
    this.vocabSize = this.strings.length;
    this.bosTokenId = layout.ids.bos;
    this.eosTokenId = layout.ids.eos;
    this.padTokenId = layout.ids.pad;
  }

  /** The vocabulary's words in id order (special tokens not included). */
  get words(): readonly string[] {
    return this.wordList;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    let offset = 0; // character offset of the current piece, for error messages
    let pieceIndex = 0; // index among the non-empty pieces, i.e. the token position
    for (const piece of text.split(this.separator)) {
      if (piece.length > 0) {
        const id = this.idOf.get(piece);
        if (id === undefined) {
          throw new Error(
            `VocabTokenizer: ${JSON.stringify(piece)} (token ${pieceIndex}, at character ${offset}) is not in the ` +
              `vocabulary; known words (${this.wordList.length}): ${truncateForMessage(this.wordList.join(" "))}` +
              (this.strings.length > this.wordList.length
                ? `; special tokens: ${this.strings.slice(this.wordList.length).join(" ")}`
                : ""),
          );
        }
        ids.push(id);
        pieceIndex++;
      }
      offset += piece.length + this.separator.length;
    }
    return ids;
  }

  decode(ids: readonly number[]): string {
    return this.tokenStrings(ids).join(this.separator);
  }

  tokenStrings(ids: readonly number[]): string[] {
    return ids.map((id, i) => {
      checkTokenId(this.name, id, i, this.vocabSize);
      return this.strings[id];
    });
  }

  tokenId(token: string): number | undefined {
    return this.idOf.get(token);
  }

  toJSON(): VocabTokenizerJSON {
    const json: VocabTokenizerJSON = { type: "vocab", words: [...this.wordList], separator: this.separator };
    for (const key of ["bos", "eos", "pad"] as const) {
      const value = this.options[key];
      if (value !== undefined) json[key] = value;
    }
    return json;
  }
}
