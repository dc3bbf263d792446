/**
 * A readable vocabulary for organisms trained on random tokens: consonant–vowel syllables
 * ("ba", "be", ..., "zu"), so token strings show well in widgets and the same token is easy to
 * spot when it repeats.
 */
const CONSONANTS = "bdfghklmnprstvz";
const VOWELS = "aeiou";

/** The first `size` syllables (at most 75). */
export function syllables(size: number): string[] {
  const all = [...CONSONANTS].flatMap((c) => [...VOWELS].map((v) => c + v));
  if (!Number.isInteger(size) || size < 1 || size > all.length) throw new Error(`syllables: size must be a whole number in 1..${all.length}, got ${size}.`);
  return all.slice(0, size);
}
