/**
 * HookedTransformer configuration: TransformerLens's HookedTransformerConfig with camelCase keys.
 * `resolveConfig` fills defaults and checks consistency, so every component can rely on a
 * complete, valid `Config`.
 */

export type ActFn = "gelu" | "gelu_new" | "gelu_fast" | "relu" | "silu" | "solu_ln";
export type NormalizationType = "LN" | "LNPre" | "RMS" | "RMSPre" | "none";
export type PositionalEmbeddingType = "standard" | "rotary" | "shortformer";

/** What the user writes: dims and layers are required, the rest has TransformerLens's defaults. */
export interface ConfigInput {
  nLayers: number;
  dModel: number;
  nCtx: number;
  dHead: number;
  nHeads?: number;
  dMlp?: number;
  dVocab: number;
  /** Output vocabulary size; defaults to dVocab. */
  dVocabOut?: number;
  actFn?: ActFn;
  normalizationType?: NormalizationType;
  eps?: number;
  positionalEmbeddingType?: PositionalEmbeddingType;
  attnOnly?: boolean;
  parallelAttnMlp?: boolean;
  gatedMlp?: boolean;
  /** Grouped-query attention: number of key/value heads (divides nHeads). Defaults to nHeads. */
  nKeyValueHeads?: number;
  rotaryDim?: number;
  rotaryBase?: number;
  /** Scale attention scores by 1/sqrt(dHead) (TransformerLens's use_attn_scale). */
  useAttnScale?: boolean;
  /** Divisor of the attention scores; defaults to sqrt(dHead). */
  attnScale?: number;
  /** Compute per-head outputs (blocks.L.attn.hook_result, [batch, pos, head, dModel]). Costs memory. */
  useAttnResult?: boolean;
  /** Initialise weights randomly (with `seed`) when constructing without a state dict. */
  initWeights?: boolean;
  initRange?: number;
  seed?: number;
  /** Prepend the BOS token by default in toTokens and string inputs. */
  defaultPrependBos?: boolean;
  /** Tokenizer name (e.g. "gpt2") or undefined for models without one. */
  tokenizerName?: string;
  /** Model name, for display. */
  modelName?: string;
  /** Original architecture (GPT2LMHeadModel, GPTNeoXForCausalLM, LlamaForCausalLM, ...). */
  originalArchitecture?: string;
  /** Which weight processing has been applied (set by loaders). */
  normalizationApplied?: { foldLn: boolean; centerWritingWeights: boolean; centerUnembed: boolean; foldValueBiases: boolean };
}

export type Config = Required<Omit<ConfigInput, "tokenizerName" | "modelName" | "originalArchitecture" | "normalizationApplied" | "seed">> & {
  seed: number | undefined;
  tokenizerName: string | undefined;
  modelName: string;
  originalArchitecture: string | undefined;
  normalizationApplied: { foldLn: boolean; centerWritingWeights: boolean; centerUnembed: boolean; foldValueBiases: boolean };
};

const ACT_FNS: ActFn[] = ["gelu", "gelu_new", "gelu_fast", "relu", "silu", "solu_ln"];
const NORMS: NormalizationType[] = ["LN", "LNPre", "RMS", "RMSPre", "none"];
const POS: PositionalEmbeddingType[] = ["standard", "rotary", "shortformer"];

function positiveInt(key: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new Error(`Config.${key} must be a positive integer; got ${JSON.stringify(value)}.`);
  }
  return value;
}

function oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new Error(`Config.${key} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}; got ${JSON.stringify(value)}.`);
  }
  return value as T;
}

const KNOWN_KEYS = new Set<string>([
  "nLayers", "dModel", "nCtx", "dHead", "nHeads", "dMlp", "dVocab", "dVocabOut", "actFn", "normalizationType", "eps",
  "positionalEmbeddingType", "attnOnly", "parallelAttnMlp", "gatedMlp", "nKeyValueHeads", "rotaryDim", "rotaryBase",
  "useAttnScale", "attnScale", "useAttnResult", "initWeights", "initRange", "seed", "defaultPrependBos",
  "tokenizerName", "modelName", "originalArchitecture", "normalizationApplied",
]);

/** Fills defaults and validates. Throws an error naming the bad key and what was expected. */
export function resolveConfig(input: ConfigInput | Config): Config {
  if (input === null || typeof input !== "object") throw new Error(`A config must be an object; got ${JSON.stringify(input)}.`);
  for (const key of Object.keys(input)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new Error(`Config has an unknown key "${key}". Keys are camelCase TransformerLens names: ${[...KNOWN_KEYS].join(", ")}.`);
    }
  }
  const nLayers = positiveInt("nLayers", input.nLayers);
  const dModel = positiveInt("dModel", input.dModel);
  const nCtx = positiveInt("nCtx", input.nCtx);
  const dHead = positiveInt("dHead", input.dHead);
  const nHeads = positiveInt("nHeads", input.nHeads ?? Math.floor(dModel / dHead));
  const dVocab = positiveInt("dVocab", input.dVocab);
  const attnOnly = input.attnOnly ?? false;
  const dMlp = attnOnly ? (input.dMlp ?? 4 * dModel) : positiveInt("dMlp", input.dMlp ?? 4 * dModel);
  const actFn = attnOnly ? (input.actFn ?? "relu") : oneOf("actFn", input.actFn ?? "gelu", ACT_FNS);
  const normalizationType = oneOf("normalizationType", input.normalizationType ?? "LN", NORMS);
  const positionalEmbeddingType = oneOf("positionalEmbeddingType", input.positionalEmbeddingType ?? "standard", POS);
  const nKeyValueHeads = positiveInt("nKeyValueHeads", input.nKeyValueHeads ?? nHeads);
  if (nHeads % nKeyValueHeads !== 0) {
    throw new Error(`Config.nKeyValueHeads (${nKeyValueHeads}) must divide nHeads (${nHeads}) for grouped-query attention.`);
  }
  const rotaryDim = positionalEmbeddingType === "rotary" ? positiveInt("rotaryDim", input.rotaryDim ?? dHead) : (input.rotaryDim ?? dHead);
  if (positionalEmbeddingType === "rotary" && (rotaryDim > dHead || rotaryDim % 2 !== 0)) {
    throw new Error(`Config.rotaryDim must be even and at most dHead (${dHead}); got ${rotaryDim}.`);
  }
  const eps = input.eps ?? 1e-5;
  if (!(eps > 0)) throw new Error(`Config.eps must be positive; got ${eps}.`);
  const parallelAttnMlp = input.parallelAttnMlp ?? false;
  if (input.gatedMlp && actFn === "solu_ln") throw new Error('Config.actFn "solu_ln" cannot be used with gatedMlp.');
  if (attnOnly && parallelAttnMlp) throw new Error("Config.attnOnly and Config.parallelAttnMlp cannot both be true.");
  const useAttnScale = input.useAttnScale ?? true;
  return {
    nLayers, dModel, nCtx, dHead, nHeads, dMlp, dVocab,
    dVocabOut: positiveInt("dVocabOut", input.dVocabOut ?? dVocab),
    actFn, normalizationType, eps, positionalEmbeddingType, attnOnly, parallelAttnMlp,
    gatedMlp: input.gatedMlp ?? false,
    nKeyValueHeads, rotaryDim,
    rotaryBase: input.rotaryBase ?? 10000,
    useAttnScale,
    attnScale: input.attnScale ?? (useAttnScale ? Math.sqrt(dHead) : 1),
    useAttnResult: input.useAttnResult ?? false,
    initWeights: input.initWeights ?? true,
    initRange: input.initRange ?? 0.8 / Math.sqrt(dModel),
    seed: input.seed,
    defaultPrependBos: input.defaultPrependBos ?? true,
    tokenizerName: input.tokenizerName,
    modelName: input.modelName ?? "custom",
    originalArchitecture: input.originalArchitecture,
    normalizationApplied: input.normalizationApplied ?? { foldLn: false, centerWritingWeights: false, centerUnembed: false, foldValueBiases: false },
  };
}
