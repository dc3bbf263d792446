/**
 * Readable vocabularies for organisms trained on random tokens: consonant–vowel syllables
 * ("ba", "be", ..., "zu") and two-syllable words ("baba", "beba", ...), so token strings show
 * well in widgets and the same token is easy to spot when it repeats.
 */
const CONSONANTS = "bdfghklmnprstvz";
const VOWELS = "aeiou";

/** The first `size` syllables (at most 75). */
export function syllables(size: number): string[] {
  const all = [...CONSONANTS].flatMap((c) => [...VOWELS].map((v) => c + v));
  if (!Number.isInteger(size) || size < 1 || size > all.length) throw new Error(`syllables: size must be a whole number in 1..${all.length}, got ${size}.`);
  return all.slice(0, size);
}

/** `size` distinct two-syllable words (at most 75² = 5625): word i = syllable(i mod 75) + syllable(⌊i / 75⌋). */
export function syllableWords(size: number): string[] {
  const all = syllables(75);
  if (!Number.isInteger(size) || size < 1 || size > all.length ** 2) throw new Error(`syllableWords: size must be a whole number in 1..${all.length ** 2}, got ${size}.`);
  return Array.from({ length: size }, (_, i) => all[i % all.length] + all[Math.floor(i / all.length)]);
}
