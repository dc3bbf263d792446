/**
 * Training data for the induction organism: random tokens in which every random span is followed
 * by a repeat of itself, "x₁ … x_L x₁ … x_L", with span lengths L drawn afresh each time. Fresh
 * random tokens cannot be predicted; a repeat can, from its second token on, by a model that finds
 * the earlier occurrence of the current token and copies what followed it (an induction head, fed
 * by a previous-token head). Because L varies, no fixed offset works: only that circuit does.
 *
 * Sequences start with BOS (id `bos`); other ids are in [0, vocab).
 */
import type { SeededRandom } from "../../train/seededRandom";

export interface RepeatedSpanOptions {
  /** Tokens per sequence, BOS included. */
  length: number;
  /** Random tokens are drawn from [0, vocab). */
  vocab: number;
  bos: number;
  /** Span lengths, inclusive (default [4, 20]). */
  spanLength?: [number, number];
}

/** One sequence of `length` ids: BOS, then random spans each followed by its repeat (the last one cut at `length`). */
export function repeatedSpanSequence(random: SeededRandom, options: RepeatedSpanOptions): number[] {
  const { length, vocab, bos } = options;
  const [shortest, longest] = options.spanLength ?? [4, 20];
  if (!(Number.isInteger(shortest) && Number.isInteger(longest) && 1 <= shortest && shortest <= longest)) {
    throw new Error(`repeatedSpanSequence: spanLength must be two whole numbers 1 ≤ shortest ≤ longest, got [${shortest}, ${longest}].`);
  }
  const tokens = [bos];
  while (tokens.length < length) {
    const span = Array.from({ length: shortest + random.int(longest - shortest + 1) }, () => random.int(vocab));
    tokens.push(...span, ...span);
  }
  return tokens.slice(0, length);
}

/** BOS, then `half` random tokens, then the same `half` tokens again (the standard induction test). */
export function repeatedRandomTokens(random: SeededRandom, half: number, vocab: number, bos: number): number[] {
  const first = Array.from({ length: half }, () => random.int(vocab));
  return [bos, ...first, ...first];
}
