/**
 * Training data for the induction organism: random token sequences in which spans of earlier
 * tokens repeat. Fresh random tokens cannot be predicted; a repeated span can, from its second
 * token on, by a model that finds the earlier occurrence of the current token and copies what
 * followed it (an induction head, fed by a previous-token head). So that is what the model learns.
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
  /** Probability that the next span is a copy of an earlier one (default 0.5). */
  repeatProbability?: number;
  /** Span lengths, inclusive (default [4, 12]). */
  spanLength?: [number, number];
}

/** One sequence of `length` ids: BOS, then fresh random spans and copies of earlier spans. */
export function repeatedSpanSequence(random: SeededRandom, options: RepeatedSpanOptions): number[] {
  const { length, vocab, bos } = options;
  const [shortest, longest] = options.spanLength ?? [4, 12];
  const repeat = options.repeatProbability ?? 0.5;
  const tokens = [bos];
  while (tokens.length < length) {
    const span = shortest + random.int(longest - shortest + 1);
    const available = tokens.length - 1; // earlier real tokens (BOS excluded)
    if (available >= shortest && random.next() < repeat) {
      const start = 1 + random.int(available - Math.min(span, available) + 1);
      const copy = tokens.slice(start, start + span);
      tokens.push(...copy);
    } else {
      for (let i = 0; i < span; i++) tokens.push(random.int(vocab));
    }
  }
  return tokens.slice(0, length);
}

/** BOS, then `half` random tokens, then the same `half` tokens again (the standard induction test). */
export function repeatedRandomTokens(random: SeededRandom, half: number, vocab: number, bos: number): number[] {
  const first = Array.from({ length: half }, () => random.int(vocab));
  return [bos, ...first, ...first];
}
