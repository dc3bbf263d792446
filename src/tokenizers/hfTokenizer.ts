import * as fs from "fs";
import * as path from "path";
import { checkTokenId, truncateForMessage, type Tokenizer } from "./tokenizer";

/** What `toJSON()` gives: a reference to the directory (the vocabulary itself is large). */
export interface HfTokenizerJSON {
  type: "hf";
  /** The directory holding tokenizer.json: absolute, or (in a checkpoint's config.json) relative to the checkpoint folder. */
  dir: string;
}

export interface HfTokenizerOptions {
  /** The directory the files came from (needed by toJSON, and named in error messages). */
  dir?: string;
  /** Short identifier; default "hf". */
  name?: string;
  /**
   * special_tokens_map.json, parsed. Its special tokens override those of a tokenizer_config.json
   * without "added_tokens_decoder" (older files), and fill in for a newer one.
   */
  specialTokensMap?: unknown;
}

// The package's own declaration files need a newer TypeScript than the notebook kernel's, so the
// little we use is described here and the package is required lazily.
interface CoreEncoding {
  /** undefined where a piece has no id and the vocabulary has no unknown token */
  ids: (number | undefined)[];
  tokens: string[];
}
interface CoreTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): CoreEncoding;
  decode(ids: number[], options?: { skip_special_tokens?: boolean; clean_up_tokenization_spaces?: boolean }): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
}
interface CoreModule {
  Tokenizer: new (tokenizerJson: object, tokenizerConfig: object) => CoreTokenizer;
}

let core: CoreModule | undefined;
function loadCore(): CoreModule {
  core ??= require("@huggingface/tokenizers") as CoreModule;
  return core;
}

type JsonObject = Record<string, unknown>;

const TOKENIZER_FILE = "tokenizer.json";
const CONFIG_FILE = "tokenizer_config.json";
const SPECIAL_TOKENS_FILE = "special_tokens_map.json";

/** The files of a Hugging Face tokenizer folder that HfTokenizer reads (tokenizer.json is required). */
export const HF_TOKENIZER_FILES = [TOKENIZER_FILE, CONFIG_FILE, SPECIAL_TOKENS_FILE] as const;

/**
 * Any Hugging Face "fast" tokenizer (tokenizer.json, plus tokenizer_config.json for the special
 * tokens), fully offline: GPT-NeoX / Pythia byte-level BPE, Llama's SentencePiece BPE with byte
 * fallback, Llama-3 / SmolLM byte-level BPE, WordPiece, Unigram.
 *
 * The tokenization itself is done by the `@huggingface/tokenizers` package (pure JavaScript, no
 * dependencies). On top of it:
 * - `encode` never adds special tokens: the post-processor's BOS/EOS (Llama's "<s>") are left out,
 *   because the model adds BOS itself (prependBos). Special tokens written in the text ("<s>",
 *   "<|endoftext|>") still become their ids.
 * - `decode` keeps special tokens, and only cleans up spaces (" ." -> ".") when
 *   tokenizer_config.json sets `clean_up_tokenization_spaces: true`.
 * - `tokenStrings` gives each token's text as it reads inside a sequence: Llama's "▁world" is
 *   " world" (decoding it alone at the start of a text would drop the space).
 * - BOS / EOS / pad come from tokenizer_config.json and special_tokens_map.json (which one wins
 *   follows Hugging Face); a BOS / EOS neither names is taken from what the post-processor adds
 *   around a text.
 */
export class HfTokenizer implements Tokenizer {
  readonly name: string;
  /** Every id of the vocabulary, added tokens included. */
  readonly vocabSize: number;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly padTokenId: number | undefined;
  /**
   * Whether Hugging Face's tokenizer adds BOS by default (tokenizer_config.json's
   * `add_bos_token`, else what the post-processor does). `encode` never adds it.
   */
  readonly addBosToken: boolean;
  /** The directory the files came from, when known. */
  readonly dir: string | undefined;

  private readonly core: CoreTokenizer;
  private readonly cleanUpSpaces: boolean;
  /** A special token that decodes verbatim; decoding after it shows a token as it reads mid-sequence. */
  private readonly anchor: { id: number; text: string } | undefined;
  private readonly stringCache = new Map<number, string>();
  private textToId: Map<string, number> | undefined;

  /**
   * @param tokenizerJson tokenizer.json, parsed
   * @param tokenizerConfig tokenizer_config.json, parsed (optional)
   */
  constructor(tokenizerJson: unknown, tokenizerConfig?: unknown, options: HfTokenizerOptions = {}) {
    this.name = options.name ?? "hf";
    this.dir = options.dir === undefined ? undefined : path.resolve(options.dir);
    const jsonFile = this.dir === undefined ? "the tokenizer.json object" : path.join(this.dir, TOKENIZER_FILE);
    const configFile = this.dir === undefined ? "the tokenizer_config.json object" : path.join(this.dir, CONFIG_FILE);
    const mapFile = this.dir === undefined ? "the special_tokens_map.json object" : path.join(this.dir, SPECIAL_TOKENS_FILE);

    const config = checkConfig(tokenizerConfig, configFile);
    const specialMap = checkConfig(options.specialTokensMap, mapFile);
    const json = checkTokenizerJson(tokenizerJson, jsonFile, config);
    try {
      this.core = new (loadCore().Tokenizer)(json, config);
    } catch (error) {
      throw new Error(`HfTokenizer: could not build a tokenizer from ${jsonFile}: ${(error as Error).message}`);
    }

    let maxId = -1;
    for (const id of this.core.get_vocab(true).values()) if (id > maxId) maxId = id;
    if (maxId < 0) throw new Error(`HfTokenizer: ${jsonFile} has an empty vocabulary`);
    this.vocabSize = maxId + 1;

    // As in Hugging Face: special_tokens_map.json overrides an older tokenizer_config.json (one
    // without "added_tokens_decoder"); a newer one has the last word.
    const sources: (readonly [JsonObject, string])[] = [
      [config, configFile],
      [specialMap, mapFile],
    ];
    if (!("added_tokens_decoder" in config)) sources.reverse();
    const named = (key: string): { id: number | undefined; given: boolean } => {
      for (const [source, file] of sources) {
        if (!(key in source)) continue;
        const text = specialTokenText(source[key], key, file);
        if (text === undefined) return { id: undefined, given: true };
        const id = this.core.token_to_id(text);
        if (id === undefined) {
          throw new Error(`HfTokenizer: ${file} names ${key} ${JSON.stringify(text)}, which is not in the vocabulary of ${jsonFile}`);
        }
        return { id, given: true };
      }
      return { id: undefined, given: false };
    };
    const bos = named("bos_token");
    const eos = named("eos_token");
    const pad = named("pad_token");
    const added = this.specialTokensAround(jsonFile);
    this.bosTokenId = bos.given ? bos.id : added.before[0];
    this.eosTokenId = eos.given ? eos.id : added.after.at(-1);
    this.padTokenId = pad.id;
    const addBos = config.add_bos_token;
    this.addBosToken =
      typeof addBos === "boolean" ? addBos : this.bosTokenId !== undefined && added.before.includes(this.bosTokenId);
    this.cleanUpSpaces = config.clean_up_tokenization_spaces === true;

    const anchorId = this.bosTokenId ?? firstAddedToken(json);
    this.anchor = anchorId === undefined ? undefined : { id: anchorId, text: this.decodeRaw([anchorId], false) };
  }

  /** Reads tokenizer.json (required), tokenizer_config.json and special_tokens_map.json (optional) from `dir`. */
  static async fromDirectory(dir: string, options: Omit<HfTokenizerOptions, "dir" | "specialTokensMap"> = {}): Promise<HfTokenizer> {
    const files = await readTokenizerFiles(dir);
    return new HfTokenizer(files.tokenizer, files.config, { ...options, dir, specialTokensMap: files.specialTokensMap });
  }

  /** `fromDirectory`, reading the files synchronously (what `tokenizerFromJSON` uses). */
  static fromDirectorySync(dir: string, options: Omit<HfTokenizerOptions, "dir" | "specialTokensMap"> = {}): HfTokenizer {
    const files = readTokenizerFilesSync(dir);
    return new HfTokenizer(files.tokenizer, files.config, { ...options, dir, specialTokensMap: files.specialTokensMap });
  }

  encode(text: string): number[] {
    if (typeof text !== "string") throw new Error(`${this.name} tokenizer: encode needs a string, got ${typeof text}`);
    if (text.length === 0) return [];
    const { ids, tokens } = this.core.encode(text, { add_special_tokens: false });
    const missing = ids.findIndex((id) => id === undefined);
    if (missing >= 0) {
      throw new Error(
        `${this.name} tokenizer: the piece ${JSON.stringify(tokens[missing])} of ${JSON.stringify(truncateForMessage(text))} ` +
          `has no id, and the vocabulary has no unknown token`,
      );
    }
    return ids as number[];
  }

  decode(ids: readonly number[]): string {
    this.checkIds(ids);
    return ids.length === 0 ? "" : this.decodeRaw(ids, this.cleanUpSpaces);
  }

  /** Each token's text as it reads inside a sequence (byte pieces of one character show as U+FFFD). */
  tokenStrings(ids: readonly number[]): string[] {
    this.checkIds(ids);
    return ids.map((id) => {
      let text = this.stringCache.get(id);
      if (text === undefined) {
        text = this.tokenText(id);
        this.stringCache.set(id, text);
      }
      return text;
    });
  }

  /**
   * The id of `token` when it is one token: first, when `encode(token)` gives exactly one id, that
   * id (as TransformerLens's to_single_token; Llama's "world" is "▁world"); else the id whose
   * `tokenStrings` text is `token` (" world"); else the vocabulary entry spelled `token` ("▁world",
   * "<0x0A>", "Ġthe").
   */
  tokenId(token: string): number | undefined {
    if (typeof token !== "string" || token.length === 0) return undefined;
    const ids = this.core.encode(token, { add_special_tokens: false }).ids;
    if (ids.length === 1 && ids[0] !== undefined) return ids[0];
    if (this.textToId === undefined) {
      const map = new Map<string, number>();
      for (let id = 0; id < this.vocabSize; id++) {
        if (this.core.id_to_token(id) === undefined) continue;
        const text = this.tokenStrings([id])[0];
        if (!map.has(text) && !text.includes("\uFFFD")) map.set(text, id);
      }
      this.textToId = map;
    }
    return this.textToId.get(token) ?? this.core.token_to_id(token);
  }

  /** The raw vocabulary entry of an id ("Ġthe", "▁world", "<0x0A>"). */
  idToToken(id: number): string {
    this.checkIds([id]);
    return this.core.id_to_token(id) as string;
  }

  /** `{ type: "hf", dir }`; only for a tokenizer loaded from a directory. */
  toJSON(): HfTokenizerJSON {
    if (this.dir === undefined) {
      throw new Error(
        `${this.name} tokenizer: it was built from objects, not read from a directory, so it has no JSON form; ` +
          `write tokenizer.json (and tokenizer_config.json) to a directory and load it with HfTokenizer.fromDirectory`,
      );
    }
    return { type: "hf", dir: this.dir };
  }

  private checkIds(ids: readonly number[]): void {
    for (let i = 0; i < ids.length; i++) {
      checkTokenId(this.name, ids[i], i, this.vocabSize);
      if (this.core.id_to_token(ids[i]) === undefined) {
        throw new Error(`${this.name} tokenizer: token id ${ids[i]} at index ${i} has no entry in the vocabulary`);
      }
    }
  }

  private decodeRaw(ids: readonly number[], cleanUp: boolean): string {
    return this.core.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: cleanUp });
  }

  private tokenText(id: number): string {
    if (this.anchor !== undefined) {
      const both = this.decodeRaw([this.anchor.id, id], false);
      if (both.startsWith(this.anchor.text)) return both.slice(this.anchor.text.length);
    }
    return this.decodeRaw([id], false);
  }

  /** The ids the post-processor puts before and after a text when asked for special tokens. */
  private specialTokensAround(jsonFile: string): { before: number[]; after: number[] } {
    const none = { before: [], after: [] };
    let plain: (number | undefined)[];
    let full: (number | undefined)[];
    try {
      plain = this.core.encode("a", { add_special_tokens: false }).ids;
      full = this.core.encode("a", { add_special_tokens: true }).ids;
    } catch (error) {
      throw new Error(`HfTokenizer: the tokenizer of ${jsonFile} cannot encode a test text: ${(error as Error).message}`);
    }
    for (let start = 0; start + plain.length <= full.length; start++) {
      if (plain.every((id, k) => full[start + k] === id)) {
        const before = full.slice(0, start);
        const after = full.slice(start + plain.length);
        if ([...before, ...after].some((id) => id === undefined)) return none;
        return { before: before as number[], after: after as number[] };
      }
    }
    return none;
  }
}

interface TokenizerFiles {
  tokenizer: unknown;
  config: unknown;
  specialTokensMap: unknown;
}

const FILE_NAMES = [TOKENIZER_FILE, CONFIG_FILE, SPECIAL_TOKENS_FILE] as const;

async function readTokenizerFiles(dir: string): Promise<TokenizerFiles> {
  checkDirectory(dir);
  const texts: (string | undefined)[] = [];
  for (const name of FILE_NAMES) {
    const file = path.join(dir, name);
    try {
      texts.push(await fs.promises.readFile(file, "utf8"));
    } catch (error) {
      texts.push(missingOrThrow(error, file));
    }
  }
  return parseTokenizerFiles(dir, texts);
}

function readTokenizerFilesSync(dir: string): TokenizerFiles {
  checkDirectory(dir);
  const texts = FILE_NAMES.map((name) => {
    const file = path.join(dir, name);
    try {
      return fs.readFileSync(file, "utf8");
    } catch (error) {
      return missingOrThrow(error, file);
    }
  });
  return parseTokenizerFiles(dir, texts);
}

/** undefined for a missing file; any other read error is thrown, naming the file. */
function missingOrThrow(error: unknown, file: string): undefined {
  if ((error as { code?: string }).code === "ENOENT") return undefined;
  throw new Error(`HfTokenizer: cannot read ${file}: ${(error as Error).message}`);
}

/** Parses the texts of FILE_NAMES (undefined: absent); tokenizer.json is required. */
function parseTokenizerFiles(dir: string, texts: readonly (string | undefined)[]): TokenizerFiles {
  if (texts[0] === undefined) throw missingTokenizerJson(dir);
  const [tokenizer, config, specialTokensMap] = texts.map((text, i) => (text === undefined ? undefined : parseJson(text, path.join(dir, FILE_NAMES[i]))));
  return { tokenizer, config, specialTokensMap };
}

function checkDirectory(dir: string): void {
  let isDir = false;
  try {
    isDir = fs.statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new Error(`HfTokenizer: ${dir} is not a directory (expected one holding tokenizer.json)`);
}

function missingTokenizerJson(dir: string): Error {
  const slow = ["tokenizer.model", "vocab.json", "merges.txt", "vocab.txt"].filter((f) => fs.existsSync(path.join(dir, f)));
  const hint =
    slow.length > 0
      ? ` It has ${slow.join(", ")}, the files of a "slow" tokenizer, which mechlab does not read; in Python, ` +
        `AutoTokenizer.from_pretrained(dir).save_pretrained(dir) writes tokenizer.json.`
      : "";
  return new Error(`HfTokenizer: ${dir} has no tokenizer.json (a Hugging Face "fast" tokenizer is needed).${hint}`);
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`HfTokenizer: ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}

function checkConfig(config: unknown, file: string): JsonObject {
  if (config === undefined) return {};
  if (!isObject(config)) throw new Error(`HfTokenizer: ${file} must hold a JSON object, not ${kindOf(config)}`);
  return config;
}

/** A special token entry: a string, an AddedToken object ({ content }), or null / absent. */
function specialTokenText(value: unknown, key: string, file: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") return value;
  if (isObject(value) && typeof value.content === "string") return value.content;
  throw new Error(`HfTokenizer: ${key} in ${file} must be a string or an object with "content", not ${kindOf(value)}`);
}

const COMPONENTS = ["normalizer", "pre_tokenizer", "post_processor", "decoder"] as const;

/**
 * Checks the parts of tokenizer.json the package relies on, and returns a shallow copy with absent
 * optional parts filled in (and a boolean `add_prefix_space` of tokenizer_config.json applied to a
 * ByteLevel pre-tokenizer, as Hugging Face's byte-level tokenizers do).
 */
function checkTokenizerJson(json: unknown, file: string, config: JsonObject): JsonObject {
  if (!isObject(json)) throw new Error(`HfTokenizer: ${file} must hold a JSON object, not ${kindOf(json)}`);
  const model = json.model;
  if (!isObject(model)) throw new Error(`HfTokenizer: ${file} has no "model" object (got ${kindOf(model)})`);
  if (model.vocab === undefined || model.vocab === null) throw new Error(`HfTokenizer: ${file} has no "model.vocab"`);
  if (model.type === "BPE") {
    if (!isObject(model.vocab)) throw new Error(`HfTokenizer: "model.vocab" in ${file} must be an object (token -> id) for a BPE model`);
    if (!Array.isArray(model.merges)) throw new Error(`HfTokenizer: ${file} has a BPE model without a "merges" array`);
  }
  const addedTokens = json.added_tokens ?? [];
  if (!Array.isArray(addedTokens)) throw new Error(`HfTokenizer: "added_tokens" in ${file} must be an array`);
  addedTokens.forEach((t: unknown, i) => {
    if (!isObject(t) || typeof t.content !== "string" || !Number.isInteger(t.id) || (t.id as number) < 0) {
      throw new Error(`HfTokenizer: added_tokens[${i}] in ${file} needs "content" (a string) and "id" (an integer >= 0)`);
    }
  });
  const copy: JsonObject = { ...json, added_tokens: addedTokens };
  for (const key of COMPONENTS) {
    const value = json[key] ?? null;
    if (value !== null && !isObject(value)) throw new Error(`HfTokenizer: "${key}" in ${file} must be an object or null`);
    copy[key] = value;
  }
  if (typeof config.add_prefix_space === "boolean") copy.pre_tokenizer = withPrefixSpace(copy.pre_tokenizer, config.add_prefix_space);
  return copy;
}

function withPrefixSpace(preTokenizer: unknown, addPrefixSpace: boolean): unknown {
  if (!isObject(preTokenizer)) return preTokenizer;
  if (preTokenizer.type === "ByteLevel") return { ...preTokenizer, add_prefix_space: addPrefixSpace };
  if (preTokenizer.type === "Sequence" && Array.isArray(preTokenizer.pretokenizers)) {
    return { ...preTokenizer, pretokenizers: preTokenizer.pretokenizers.map((p: unknown) => withPrefixSpace(p, addPrefixSpace)) };
  }
  return preTokenizer;
}

/** The first special added token, else the first added token. */
function firstAddedToken(json: JsonObject): number | undefined {
  const added = json.added_tokens as { id: number; special?: unknown }[];
  return (added.find((t) => t.special === true) ?? added[0])?.id;
}
