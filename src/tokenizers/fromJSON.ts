import { CharTokenizer, type CharTokenizerJSON } from "./charTokenizer";
import { gpt2Tokenizer } from "./gpt2";
import { HfTokenizer, type HfTokenizerJSON } from "./hfTokenizer";
import type { Tokenizer } from "./tokenizer";
import { VocabTokenizer, type VocabTokenizerJSON } from "./vocabTokenizer";

/** A tokenizer as a plain, JSON-safe object (what gets saved next to a model's weights). */
export type TokenizerJSON = { type: "gpt2" } | CharTokenizerJSON | VocabTokenizerJSON | HfTokenizerJSON;

const KNOWN_TYPES = ["gpt2", "chars", "vocab", "hf"] as const;

/** The JSON form of a tokenizer that has one (all of mechlab's do). */
export function tokenizerToJSON(tokenizer: Tokenizer): TokenizerJSON {
  const withJSON = tokenizer as Tokenizer & { toJSON?: () => TokenizerJSON };
  if (typeof withJSON.toJSON !== "function") {
    throw new Error(`tokenizerToJSON: tokenizer "${tokenizer.name}" has no toJSON() method`);
  }
  return withJSON.toJSON();
}

/**
 * Rebuilds a tokenizer from `toJSON()`'s output (also accepts it already parsed from text).
 * An "hf" tokenizer is read again from its directory (synchronously), which must still exist.
 */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  if (typeof json === "string") {
    try {
      json = JSON.parse(json) as unknown;
    } catch (e) {
      throw new Error(`tokenizerFromJSON: the string is not valid JSON (${(e as Error).message})`);
    }
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error(`tokenizerFromJSON: expected an object like { type: "gpt2" }, got ${describe(json)}`);
  }
  const obj = json as Record<string, unknown>;
  const type = obj.type;
  switch (type) {
    case "gpt2":
      return gpt2Tokenizer();
    case "chars": {
      const alphabet = obj.alphabet;
      if (typeof alphabet !== "string" && !isStringArray(alphabet)) {
        throw new Error(`tokenizerFromJSON: a "chars" tokenizer needs "alphabet" (a string), got ${describe(alphabet)}`);
      }
      return new CharTokenizer(alphabet, {
        bos: optionalString(obj, "bos", type),
        eos: optionalString(obj, "eos", type),
        pad: optionalString(obj, "pad", type),
        unknown: optionalString(obj, "unknown", type),
      });
    }
    case "vocab": {
      const words = obj.words;
      if (!isStringArray(words)) {
        throw new Error(`tokenizerFromJSON: a "vocab" tokenizer needs "words" (an array of strings), got ${describe(words)}`);
      }
      return new VocabTokenizer(words, {
        bos: optionalString(obj, "bos", type),
        eos: optionalString(obj, "eos", type),
        pad: optionalString(obj, "pad", type),
        separator: optionalString(obj, "separator", type),
      });
    }
    case "hf": {
      const dir = obj.dir;
      if (typeof dir !== "string" || dir.length === 0) {
        throw new Error(`tokenizerFromJSON: an "hf" tokenizer needs "dir" (the directory holding tokenizer.json), got ${describe(dir)}`);
      }
      return HfTokenizer.fromDirectorySync(dir);
    }
    default:
      throw new Error(
        `tokenizerFromJSON: unknown tokenizer type ${describe(type)}; known types: ${KNOWN_TYPES.join(", ")}`,
      );
  }
}

function optionalString(obj: Record<string, unknown>, key: string, type: string): string | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string") {
    throw new Error(`tokenizerFromJSON: "${key}" of a "${type}" tokenizer must be a string, got ${describe(value)}`);
  }
  return value;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  const text = typeof value === "string" ? JSON.stringify(value) : typeof value === "object" ? "an object" : String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
