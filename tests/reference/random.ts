/**
 * A small seeded PRNG for deterministic test weights: mulberry32 for uniforms, Box–Muller for
 * normals. Each parameter gets its own stream, seeded from (seed, name), so adding or removing a
 * parameter does not change the values of the others.
 */

/** mulberry32: a 32-bit state generator of uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normals by Box–Muller (uses both outputs of each pair). */
export function gaussian(uniform: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u1 = 1 - uniform(); // (0, 1]: log is finite
    const u2 = uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    spare = radius * Math.sin(2 * Math.PI * u2);
    return radius * Math.cos(2 * Math.PI * u2);
  };
}

/** FNV-1a hash of a string, to 32 bits. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** `size` values mean + std · N(0, 1), from the stream of (seed, name), rounded to float32. */
export function randomValues(size: number, seed: number, name: string, mean: number, std: number): Float32Array {
  const normal = gaussian(mulberry32((hashString(name) ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0));
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = mean + std * normal();
  return out;
}
