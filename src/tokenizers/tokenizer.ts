/**
 * The contract every tokenizer in mechlab implements. Models, caches and widgets only ever
 * talk to a `Tokenizer`, so GPT-2's BPE and the tiny vocabularies of the model organisms are
 * interchangeable.
 */
export interface Tokenizer {
  /** Short identifier: "gpt2", "chars", "vocab", ... */
  readonly name: string;
  /** Number of token ids, special tokens included; valid ids are 0 .. vocabSize - 1. */
  readonly vocabSize: number;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly padTokenId: number | undefined;
  /** Text to ids. No BOS is added here; the model adds it (prependBos). */
  encode(text: string): number[];
  /** Ids to text. Throws on an id outside [0, vocabSize). */
  decode(ids: readonly number[]): string;
  /** The string of each token on its own (for toStrTokens); length equals ids.length */
  tokenStrings(ids: readonly number[]): string[];
  /** The id of a string that is exactly one token, or undefined */
  tokenId(token: string): number | undefined;
}

/**
 * Throws unless `id` is an integer in [0, vocabSize). `index` is the id's position in the
 * array being decoded, so the message points at the offending entry.
 */
export function checkTokenId(tokenizerName: string, id: number, index: number, vocabSize: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
    throw new Error(
      `${tokenizerName} tokenizer: token id ${String(id)} at index ${index} is out of range; ` +
        `valid ids are integers in [0, ${vocabSize}) (0 .. ${vocabSize - 1})`,
    );
  }
}

/** Shortens a long listing for an error message: the first `max` characters, then "…". */
export function truncateForMessage(text: string, max = 80): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max).join("")}…`;
}
