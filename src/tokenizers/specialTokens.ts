/**
 * Id layout of the special tokens of the fixed-vocabulary tokenizers (chars, vocab).
 *
 * The special tokens come after the regular tokens, in the order the roles are listed
 * (bos, eos, pad, then unknown where the tokenizer has one), skipping roles not given.
 * Roles given the same string share one id, e.g. `{ bos: "<|eot|>", eos: "<|eot|>" }`
 * adds a single token used as both BOS and EOS, as GPT-2 does.
 */

export type SpecialRole = "bos" | "eos" | "pad" | "unknown";

export interface SpecialTokenLayout {
  /** The distinct special strings in id order: the i-th has id `firstId + i`. */
  readonly strings: readonly string[];
  /** The id of each role that was given. */
  readonly ids: Partial<Record<SpecialRole, number>>;
}

/**
 * Assigns ids from `firstId` on. `isRegular` tells whether a string is already a regular
 * token; a special token may not reuse one, so that decoding stays unambiguous.
 */
export function layoutSpecialTokens(
  owner: string,
  firstId: number,
  roles: readonly (readonly [SpecialRole, string | undefined])[],
  isRegular: (s: string) => boolean,
  regularName: string,
): SpecialTokenLayout {
  const strings: string[] = [];
  const ids: Partial<Record<SpecialRole, number>> = {};
  for (const [role, value] of roles) {
    if (value === undefined) continue;
    if (typeof value !== "string" || value.length === 0) {
      throw new Error(`${owner}: the ${role} token must be a non-empty string, got ${JSON.stringify(value)}`);
    }
    if (isRegular(value)) {
      throw new Error(
        `${owner}: the ${role} token ${JSON.stringify(value)} is also in the ${regularName}; ` +
          `special tokens need strings of their own`,
      );
    }
    let index = strings.indexOf(value);
    if (index < 0) {
      index = strings.length;
      strings.push(value);
    }
    ids[role] = firstId + index;
  }
  return { strings, ids };
}
