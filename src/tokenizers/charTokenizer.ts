import { layoutSpecialTokens } from "./specialTokens";
import { checkTokenId, truncateForMessage, type Tokenizer } from "./tokenizer";

export interface CharTokenizerOptions {
  bos?: string;
  eos?: string;
  pad?: string;
  /** Token that characters outside the alphabet map to; without it they are an error. */
  unknown?: string;
}

export interface CharTokenizerJSON extends CharTokenizerOptions {
  type: "chars";
  /** The alphabet, one character (code point) per token, in id order. */
  alphabet: string;
}

/**
 * One token per character (Unicode code point), for the model organisms that read
 * characters (bracket matching, sorting, modular arithmetic on digits, ...).
 *
 * Ids: the alphabet's characters get 0 .. alphabet.length - 1 in the order given; then come
 * the special tokens in the order bos, eos, pad, unknown (only those given; roles with the
 * same string share one id). Special strings may be longer than one character ("<bos>")
 * and are recognised in the text; where one starts, it wins over the single character.
 */
export class CharTokenizer implements Tokenizer {
  readonly name = "chars";
  readonly vocabSize: number;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly padTokenId: number | undefined;
  readonly unknownTokenId: number | undefined;

  private readonly options: CharTokenizerOptions;
  /** Token strings in id order: the alphabet, then the special tokens. */
  private readonly strings: readonly string[];
  private readonly idOf: ReadonlyMap<string, number>;
  /** Special strings, longest first, for matching in the text. */
  private readonly specials: readonly string[];
  private readonly alphabetText: string;

  constructor(alphabet: string | readonly string[], options: CharTokenizerOptions = {}) {
    const chars = typeof alphabet === "string" ? Array.from(alphabet) : [...alphabet];
    const idOf = new Map<string, number>();
    chars.forEach((c, i) => {
      if (typeof c !== "string" || Array.from(c).length !== 1) {
        throw new Error(
          `CharTokenizer: alphabet entry ${i} is ${JSON.stringify(c)}; each entry must be exactly one character`,
        );
      }
      const earlier = idOf.get(c);
      if (earlier !== undefined) {
        throw new Error(`CharTokenizer: character ${JSON.stringify(c)} appears twice in the alphabet (at ${earlier} and ${i})`);
      }
      idOf.set(c, i);
    });
    if (chars.length === 0) throw new Error("CharTokenizer: the alphabet is empty");

    const layout = layoutSpecialTokens(
      "CharTokenizer",
      chars.length,
      [
        ["bos", options.bos],
        ["eos", options.eos],
        ["pad", options.pad],
        ["unknown", options.unknown],
      ],
      (s) => idOf.has(s),
      "alphabet",
    );
    layout.strings.forEach((s, i) => idOf.set(s, chars.length + i));

    this.options = { ...options };
    this.strings = [...chars, ...layout.strings];
    this.idOf = idOf;
    this.specials = [...layout.strings].sort((a, b) => b.length - a.length);
    this.alphabetText = chars.join("");
    this.vocabSize = this.strings.length;
    this.bosTokenId = layout.ids.bos;
    this.eosTokenId = layout.ids.eos;
    this.padTokenId = layout.ids.pad;
    this.unknownTokenId = layout.ids.unknown;
  }

  /** The alphabet's characters in id order (special tokens not included). */
  get alphabet(): string {
    return this.alphabetText;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    let position = 0; // in code points, for error messages
    let i = 0; // in UTF-16 units
    while (i < text.length) {
      const special = this.specials.find((s) => text.startsWith(s, i));
      if (special !== undefined) {
        ids.push(this.idOf.get(special) as number);
        i += special.length;
        position += Array.from(special).length;
        continue;
      }
      const c = String.fromCodePoint(text.codePointAt(i) as number);
      const id = this.idOf.get(c) ?? this.unknownTokenId;
      if (id === undefined) {
        const code = (c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0");
        throw new Error(
          `CharTokenizer: character ${JSON.stringify(c)} (U+${code}) at position ${position} is not in the ` +
            `alphabet ${JSON.stringify(truncateForMessage(this.alphabetText))} (${Array.from(this.alphabetText).length} characters); ` +
            `pass { unknown: "..." } to map such characters to an unknown token`,
        );
      }
      ids.push(id);
      i += c.length;
      position++;
    }
    return ids;
  }

  decode(ids: readonly number[]): string {
    return this.tokenStrings(ids).join("");
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

  toJSON(): CharTokenizerJSON {
    const json: CharTokenizerJSON = { type: "chars", alphabet: this.alphabetText };
    for (const key of ["bos", "eos", "pad", "unknown"] as const) {
      const value = this.options[key];
      if (value !== undefined) json[key] = value;
    }
    return json;
  }
}
