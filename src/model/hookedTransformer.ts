/**
 * HookedTransformer: a transformer language model with TransformerLens's hook points, on
 * TensorFlow.js. Every activation can be read (runWithCache), replaced (runWithHooks) or
 * differentiated (runWithCache with includeGradients).
 *
 * Ownership: the model owns its parameters (free them with `model.dispose()`). Every method that
 * returns a tensor returns a new one the caller owns, unless its comment says otherwise.
 */
import { assertReady, ready, tf } from "../backend";
import { ActivationCache } from "../cache/activationCache";
import type { CacheModel } from "../cache/cacheModel";
import { unknownHookError, type HookName } from "../hooks/hookNames";
import { HookPoint, type HookFn, type HookSelector } from "../hooks/hookPoint";
import { gradientsAtHookPoints, type Observer, type ObservedRun } from "../hooks/activationGradients";
import type { Tokenizer } from "../tokenizers/tokenizer";
import { rotaryTables } from "./components/rotary";
import { resolveConfig, type Config, type ConfigInput } from "./config";
import type { ForwardContext } from "./forwardContext";
import { forwardPass } from "./forwardPass";
import { generateTokens, type GenerateOptions } from "./generate";
import { modelHookNames } from "./hookPointNames";
import { initialStateDict } from "./init";
import { nextTokenLoss } from "./loss";
import { ParamStore } from "./params";
import { expectedParamShapes, type StateDict } from "./stateDict";
import { encodeText, requireTokenizer, toTokenBatch, warnOnce, type ModelInput, type TokenizeOptions } from "./tokenInput";
import { StackedWeights } from "./stackedWeights";
import { sliceAlong, type PosSlice } from "../cache/posSlice";
import { readCheckpoint, writeCheckpoint } from "./checkpoint";
import type { PastKeyValues } from "./forwardPass";
import { loadPretrainedWeights, type LoadPretrainedOptions } from "../loading/pretrained";
import { getTokenizer } from "../tokenizers";
import { HfTokenizer } from "../tokenizers/hfTokenizer";

export type ForwardReturnType = "logits" | "loss" | "both" | "none";

export interface ForwardOptions extends TokenizeOptions {
  /** "logits" (default), "loss", "both" ({ logits, loss }) or "none". */
  returnType?: ForwardReturnType;
  /** Loss per token [batch, pos − 1] instead of its mean. */
  lossPerToken?: boolean;
  /** Start at this block; the input is then the residual stream [batch, pos, dModel] at its hook_resid_pre. */
  startAtLayer?: number;
  /** Stop before this block and return the residual stream [batch, pos, dModel] (returnType is ignored). */
  stopAtLayer?: number;
  /** [batch, pos], 1 = real token, 0 = padding. Computed automatically for padded text batches. */
  attentionMask?: tf.Tensor2D;
  /** Tokens for the loss when the input is a residual stream (startAtLayer). */
  tokens?: tf.Tensor2D;
  /**
   * Keys and values of the positions before this input (from a cache of an earlier run:
   * blocks.L.attn.hook_k — hook_rot_k in rotary models — and hook_v). The input then continues
   * that sequence: positions are counted from `pastKeyValues.length`, and only the new positions
   * are computed. Not with an attention mask.
   */
  pastKeyValues?: PastKeyValues;
}

/** A forward hook: which hook point(s), and the function to run there. */
export type FwdHook = [HookSelector | HookName, HookFn];

export interface RunWithHooksOptions extends ForwardOptions {
  fwdHooks?: FwdHook[];
  /** Remove these hooks after the run (default true). */
  resetHooksEnd?: boolean;
}

export type NamesFilter = undefined | string | string[] | ((name: string) => boolean);

export interface RunWithCacheOptions extends RunWithHooksOptions {
  /** Which activations to cache (default all). */
  namesFilter?: NamesFilter;
  /** Drop the batch axis of every cached activation (the batch must be 1). */
  removeBatchDim?: boolean;
  /**
   * Cache only these positions, as TransformerLens: a number (negative counts from the end) picks
   * one position and drops the position axis; [start, end) keeps the axis.
   */
  posSlice?: PosSlice;
  /** Also cache d(metric)/d(activation) at every cached hook point. */
  includeGradients?: boolean;
  /** The scalar whose gradients are cached: a function of the logits [batch, pos, dVocabOut]. */
  metric?: (logits: tf.Tensor3D) => tf.Scalar | tf.Tensor;
}

export interface BothResult {
  logits: tf.Tensor3D;
  loss: tf.Tensor;
}

function compileFilter(filter: NamesFilter): (name: string) => boolean {
  if (filter === undefined) return () => true;
  if (typeof filter === "function") return filter;
  const names = new Set(typeof filter === "string" ? [filter] : filter);
  return (name) => names.has(name);
}

/**
 * Position axis of a cached activation: the query axis for attention scores and patterns
 * ([batch, head, query, key]), axis 1 for everything else ([batch, pos, ...]).
 */
function posAxis(name: string): number {
  return name.endsWith("hook_pattern") || name.endsWith("hook_attn_scores") ? 2 : 1;
}

/** runWithCache's posSlice, as TransformerLens's: a number picks one position and drops the axis; [start, end) keeps it. */
function slicePositions(name: string, tensor: tf.Tensor, posSlice: PosSlice): tf.Tensor {
  return sliceAlong(tensor, posSlice, posAxis(name), `posSlice for "${name}"`);
}

export class HookedTransformer implements CacheModel {
  readonly cfg: Config;
  tokenizer: Tokenizer | undefined;
  private readonly params = new ParamStore();
  private readonly hookPoints = new Map<string, HookPoint>();
  private rotary: { cos: tf.Tensor2D; sin: tf.Tensor2D } | undefined;
  private readonly stacked: StackedWeights;
  /** Hooks that run after the user's hooks in the current run (caching, gradient probes). */
  private observers: Observer[] = [];

  /**
   * A model from a config. Weights are random (seeded by cfg.seed) unless `stateDict` is given;
   * the state dict's tensors are copied (the caller keeps ownership). Needs the backend started:
   * use `await HookedTransformer.create(...)` or `await ready()` first.
   */
  constructor(config: ConfigInput | Config, options: { stateDict?: StateDict; tokenizer?: Tokenizer } = {}) {
    assertReady("new HookedTransformer");
    this.cfg = resolveConfig(config);
    this.tokenizer = options.tokenizer;
    if (this.tokenizer && this.tokenizer.vocabSize > this.cfg.dVocab) {
      throw new Error(`The ${this.tokenizer.name} tokenizer has ${this.tokenizer.vocabSize} tokens but the model's dVocab is ${this.cfg.dVocab}.`);
    }
    for (const name of modelHookNames(this.cfg)) this.hookPoints.set(name, new HookPoint(name));
    if (options.stateDict) {
      this.loadStateDict(options.stateDict);
    } else {
      const initial = initialStateDict(this.cfg);
      try {
        this.loadStateDict(initial);
      } finally {
        for (const t of Object.values(initial)) t.dispose();
      }
    }
    if (this.cfg.positionalEmbeddingType === "rotary") {
      this.rotary = rotaryTables(this.cfg.nCtx, this.cfg.rotaryDim, this.cfg.rotaryBase);
    }
    this.stacked = new StackedWeights(this.cfg, this.params);
  }

  /** Starts the backend if needed, then builds the model (see the constructor). */
  static async create(config: ConfigInput, options: { stateDict?: StateDict; tokenizer?: Tokenizer } = {}): Promise<HookedTransformer> {
    await ready();
    return new HookedTransformer(config, options);
  }

  /** Same as `create` with a state dict; the name the loaders use. */
  static async fromConfigAndStateDict(config: ConfigInput, stateDict: StateDict, options: { tokenizer?: Tokenizer } = {}): Promise<HookedTransformer> {
    return HookedTransformer.create(config, { ...options, stateDict });
  }

  /**
   * A pretrained model: a local directory in Hugging Face layout (config.json + safetensors) or a
   * hub name ("gpt2", "pythia-70m", "owner/name", ...) downloaded once into the cache
   * (MECHLAB_CACHE, default ~/.cache/mechlab/hub). Weights are processed as in TransformerLens
   * (foldLn, centerWritingWeights, centerUnembed, foldValueBiases) unless `processWeights: false`.
   */
  static async fromPretrained(nameOrDir: string, options: LoadPretrainedOptions = {}): Promise<HookedTransformer> {
    await ready();
    const loaded = await loadPretrainedWeights(nameOrDir, options);
    try {
      let tokenizer = loaded.tokenizerName ? getTokenizer(loaded.tokenizerName) : undefined;
      if (!tokenizer && loaded.tokenizerDir) {
        try {
          tokenizer = await HfTokenizer.fromDirectory(loaded.tokenizerDir);
        } catch (error) {
          warnOnce(`tokenizer-load-${loaded.tokenizerDir}`, `the model loaded, but its tokenizer did not (${(error as Error).message}); pass token ids, or set one with model.setTokenizer.`);
        }
      }
      if (tokenizer && tokenizer.vocabSize > (loaded.config.dVocab as number)) {
        warnOnce(
          `tokenizer-size-${loaded.config.dVocab}`,
          `the ${tokenizer.name} tokenizer has ${tokenizer.vocabSize} tokens, more than this model's dVocab (${loaded.config.dVocab}); no tokenizer was attached. Pass token ids, or set one with model.setTokenizer.`,
        );
        tokenizer = undefined;
      }
      return new HookedTransformer({ ...loaded.config, tokenizerName: loaded.tokenizerName ?? loaded.config.tokenizerName }, { stateDict: loaded.stateDict, tokenizer });
    } finally {
      for (const t of Object.values(loaded.stateDict)) t.dispose();
    }
  }

  /** fromPretrained without any weight processing: the weights exactly as the checkpoint has them. */
  static async fromPretrainedNoProcessing(nameOrDir: string, options: Omit<LoadPretrainedOptions, "processWeights"> = {}): Promise<HookedTransformer> {
    return HookedTransformer.fromPretrained(nameOrDir, { ...options, processWeights: false });
  }

  /** Loads a checkpoint written by `model.save(dir)`. */
  static async load(dir: string): Promise<HookedTransformer> {
    await ready();
    const { config, stateDict, tokenizer } = await readCheckpoint(dir);
    try {
      return new HookedTransformer(config, { stateDict, tokenizer });
    } finally {
      for (const t of Object.values(stateDict)) t.dispose();
    }
  }

  /** Writes config.json (config + tokenizer) and model.safetensors to `dir`; `metadata` is stored in config.json. */
  async save(dir: string, metadata?: Record<string, unknown>): Promise<void> {
    await writeCheckpoint(dir, this.cfg, this.stateDict(), this.tokenizer, metadata);
  }

  // ---------------------------------------------------------------- parameters

  /**
   * Replaces the parameters. Every name the config implies must be present with its shape; an
   * unknown name is an error (a config that does not match the weights). Values are copied.
   */
  loadStateDict(stateDict: StateDict): void {
    const expected = expectedParamShapes(this.cfg);
    const problems: string[] = [];
    for (const [name, shape] of expected) {
      const value = stateDict[name];
      if (!value) problems.push(`missing "${name}" [${shape.join(", ")}]`);
      else if (value.rank !== shape.length || !value.shape.every((d, i) => d === shape[i])) {
        problems.push(`"${name}" has shape [${value.shape.join(", ")}], the config implies [${shape.join(", ")}]`);
      }
    }
    for (const name of Object.keys(stateDict)) if (!expected.has(name)) problems.push(`unexpected "${name}"`);
    if (problems.length > 0) {
      throw new Error(`The weights do not match the config (${this.cfg.modelName}): ${problems.slice(0, 8).join("; ")}${problems.length > 8 ? `; and ${problems.length - 8} more` : ""}.`);
    }
    for (const [name] of expected) this.params.set(name, stateDict[name]);
  }

  /** The parameters by TransformerLens name. The tensors are the model's own: do not dispose them. */
  stateDict(): StateDict {
    return Object.fromEntries(this.params.entries());
  }

  /** The parameter variables (for optimisers). Owned by the model. */
  parameters(): tf.Variable[] {
    return this.params.entries().map(([, v]) => v);
  }

  /**
   * A parameter by name: the model's own tf.Variable (do not dispose it). Editing it in place
   * (`model.param(name).assign(value)`) changes the model.
   */
  param(name: string): tf.Variable {
    return this.params.get(name);
  }

  hasParam(name: string): boolean {
    return this.params.has(name);
  }

  /** Number of trainable numbers. */
  get numParams(): number {
    return this.params.entries().reduce((n, [, v]) => n + v.size, 0);
  }

  // Stacked weights, TransformerLens's model.W_Q etc. Owned by the model (recomputed when
  // the parameters change); do not dispose them.
  /** [dVocab, dModel] */ get W_E(): tf.Tensor { return this.params.get("embed.W_E"); }
  /** [nCtx, dModel] */ get W_pos(): tf.Tensor { return this.params.get("pos_embed.W_pos"); }
  /** [dModel, dVocabOut] */ get W_U(): tf.Tensor { return this.params.get("unembed.W_U"); }
  /** [dVocabOut] */ get b_U(): tf.Tensor { return this.params.get("unembed.b_U"); }
  /** [nLayers, nHeads, dModel, dHead] */ get W_Q(): tf.Tensor { return this.stacked.get("attn.W_Q"); }
  /** [nLayers, nKeyValueHeads, dModel, dHead] */ get W_K(): tf.Tensor { return this.stacked.get("attn.W_K"); }
  /** [nLayers, nKeyValueHeads, dModel, dHead] */ get W_V(): tf.Tensor { return this.stacked.get("attn.W_V"); }
  /** [nLayers, nHeads, dHead, dModel] */ get W_O(): tf.Tensor { return this.stacked.get("attn.W_O"); }
  /** [nLayers, nHeads, dHead] */ get b_Q(): tf.Tensor { return this.stacked.get("attn.b_Q"); }
  /** [nLayers, nKeyValueHeads, dHead] */ get b_K(): tf.Tensor { return this.stacked.get("attn.b_K"); }
  /** [nLayers, nKeyValueHeads, dHead] */ get b_V(): tf.Tensor { return this.stacked.get("attn.b_V"); }
  /** [nLayers, dModel] */ get b_O(): tf.Tensor { return this.stacked.get("attn.b_O"); }
  /** [nLayers, dModel, dMlp] */ get W_in(): tf.Tensor { return this.stacked.get("mlp.W_in"); }
  /** [nLayers, dModel, dMlp] (gated MLPs) */ get W_gate(): tf.Tensor { return this.stacked.get("mlp.W_gate"); }
  /** [nLayers, dMlp, dModel] */ get W_out(): tf.Tensor { return this.stacked.get("mlp.W_out"); }
  /** [nLayers, dMlp] */ get b_in(): tf.Tensor { return this.stacked.get("mlp.b_in"); }
  /** [nLayers, dModel] */ get b_out(): tf.Tensor { return this.stacked.get("mlp.b_out"); }

  // ---------------------------------------------------------------- hooks

  /** Every hook point name of this model, in forward order. */
  get hookNames(): string[] {
    return [...this.hookPoints.keys()];
  }

  /** The HookPoint object for a name (throws with suggestions for an unknown name). */
  hookPoint(name: HookName | string): HookPoint {
    const point = this.hookPoints.get(name);
    if (!point) throw unknownHookError(name, this.hookPoints.keys(), `this model (${this.describe()})`);
    return point;
  }

  private describe(): string {
    const c = this.cfg;
    const kind = [c.attnOnly ? "attention-only" : undefined, c.parallelAttnMlp ? "parallel attn+MLP" : undefined, `${c.normalizationType} norm`, `${c.positionalEmbeddingType} positions`]
      .filter(Boolean)
      .join(", ");
    return `${c.modelName}: ${c.nLayers} layers, ${kind}`;
  }

  private selectHookPoints(selector: HookSelector): HookPoint[] {
    if (typeof selector === "function") return [...this.hookPoints.values()].filter((p) => selector(p.name));
    if (typeof selector !== "string") throw new Error(`A hook selector is a hook name or a function of the name; got ${typeof selector}.`);
    return [this.hookPoint(selector)];
  }

  /**
   * Attaches a hook. Returns a function that removes it. Temporary hooks (the default) are removed
   * by resetHooks(); permanent ones only by resetHooks({ includingPermanent: true }).
   */
  addHook(selector: HookSelector | HookName, fn: HookFn, options: { permanent?: boolean; prepend?: boolean } = {}): () => void {
    if (typeof fn !== "function") throw new Error(`addHook needs a hook function (activation, context) => tensor | void; got ${typeof fn}.`);
    const removers = this.selectHookPoints(selector).map((point) => point.addHook(fn, options));
    return () => removers.forEach((remove) => remove());
  }

  /** Removes hooks from every hook point (temporary ones, or all with includingPermanent). */
  resetHooks(options: { includingPermanent?: boolean } = {}): void {
    for (const point of this.hookPoints.values()) point.removeHooks(options.includingPermanent ?? false);
  }

  /**
   * Runs `fn` with the hooks attached, then removes them, also when `fn` throws or rejects.
   * `fn` may be async.
   */
  async withHooks<T>(hooks: FwdHook[], fn: (model: this) => T | Promise<T>): Promise<T> {
    const remove = this.attachAll(hooks);
    try {
      return await fn(this);
    } finally {
      remove();
    }
  }

  private attachAll(hooks: FwdHook[]): () => void {
    const removers: (() => void)[] = [];
    try {
      for (const [selector, fn] of hooks) removers.push(this.addHook(selector, fn));
    } catch (error) {
      removers.forEach((remove) => remove());
      throw error;
    }
    return () => removers.reverse().forEach((remove) => remove());
  }

  /** Runs `fn` with `observer` attached after the user's hooks at every hook point. */
  private observed<T>(observer: Observer, fn: () => T): T {
    this.observers.push(observer);
    try {
      return fn();
    } finally {
      this.observers = this.observers.filter((o) => o !== observer);
    }
  }

  private context(): ForwardContext {
    return {
      cfg: this.cfg,
      params: this.params,
      hook: (name, activation) => {
        const point = this.hookPoints.get(name);
        let current = point ? point.run(activation) : activation;
        for (const observe of this.observers) current = observe(name, current);
        return current;
      },
    };
  }

  // ---------------------------------------------------------------- tokens

  /** Gives the model a tokenizer (e.g. after building it from a config). */
  setTokenizer(tokenizer: Tokenizer): void {
    if (tokenizer.vocabSize > this.cfg.dVocab) throw new Error(`The ${tokenizer.name} tokenizer has ${tokenizer.vocabSize} tokens but the model's dVocab is ${this.cfg.dVocab}.`);
    this.tokenizer = tokenizer;
  }

  /** int32 tokens [batch, pos] for text(s) (padded on the right by default). Caller owns the tensor. */
  toTokens(input: string | string[], options: TokenizeOptions = {}): tf.Tensor2D {
    const { tokens, attentionMask } = toTokenBatch(input, this.cfg, this.tokenizer, options);
    attentionMask?.dispose();
    return tokens;
  }

  /**
   * Text for token ids: a token or one sequence → one string; a batch (number[][] or a 2-D
   * tensor) → one string per sequence. Without arguments, a description of the model.
   */
  toString(): string;
  toString(tokens: number | number[] | tf.Tensor1D | tf.Scalar): string;
  toString(tokens: number[][] | tf.Tensor2D): string[];
  toString(tokens?: number | number[] | number[][] | tf.Tensor): string | string[] {
    if (tokens === undefined) return `HookedTransformer(${this.describe()})`;
    const tok = requireTokenizer(this.tokenizer, "toString");
    const value = tokens instanceof tf.Tensor ? (tokens.arraySync() as number | number[] | number[][]) : tokens;
    if (typeof value === "number") return tok.decode([value]);
    if (value.length > 0 && Array.isArray(value[0])) return (value as number[][]).map((row) => tok.decode(row));
    return tok.decode(value as number[]);
  }

  /** The string of each token: for text (tokenized with prependBos as toTokens) or for ids [pos]. */
  toStrTokens(input: string | number[] | tf.Tensor, options: { prependBos?: boolean } = {}): string[] {
    const tok = requireTokenizer(this.tokenizer, "toStrTokens");
    if (typeof input === "string") return tok.tokenStrings(encodeText(tok, input, options.prependBos ?? this.cfg.defaultPrependBos));
    const ids = input instanceof tf.Tensor ? (input.arraySync() as number[] | number[][]) : input;
    if (Array.isArray(ids[0])) {
      if ((ids as number[][]).length !== 1) throw new Error("toStrTokens takes one sequence; got a batch. Index the sequence first.");
      return tok.tokenStrings((ids as number[][])[0]);
    }
    return tok.tokenStrings(ids as number[]);
  }

  /** The id of a string that is exactly one token (e.g. " Mary"); throws explaining otherwise. */
  toSingleToken(token: string): number {
    const tok = requireTokenizer(this.tokenizer, "toSingleToken");
    const ids = tok.encode(token);
    if (ids.length !== 1) {
      const hint = !token.startsWith(" ") && tok.encode(` ${token}`).length === 1 ? ` Did you mean " ${token}" (with a leading space, as words inside a sentence are tokenized)?` : "";
      throw new Error(`"${token}" is ${ids.length} tokens (${JSON.stringify(tok.tokenStrings(ids))}), not one.${hint}`);
    }
    return ids[0];
  }

  /**
   * The position of `token` in `input` (text, tokenized with prependBos, or ids), counting the BOS
   * if one is prepended. `mode` "first" (default) or "last" occurrence.
   */
  getTokenPosition(token: string | number, input: string | number[] | tf.Tensor, options: { mode?: "first" | "last"; prependBos?: boolean } = {}): number {
    const tokenId = typeof token === "number" ? token : this.toSingleToken(token);
    let ids: number[];
    if (typeof input === "string") {
      const prependBos = options.prependBos ?? this.cfg.defaultPrependBos;
      ids = encodeText(requireTokenizer(this.tokenizer, "getTokenPosition"), input, prependBos);
      if (prependBos) warnOnce("position-bos", "getTokenPosition counts the prepended BOS token as position 0 (as the model sees it).");
    } else {
      const value = input instanceof tf.Tensor ? (input.arraySync() as number[] | number[][]) : input;
      if (Array.isArray(value[0])) {
        if ((value as number[][]).length !== 1) throw new Error("getTokenPosition takes one sequence; got a batch.");
        ids = (value as number[][])[0];
      } else ids = value as number[];
    }
    const position = options.mode === "last" ? ids.lastIndexOf(tokenId) : ids.indexOf(tokenId);
    if (position < 0) {
      const shown = this.tokenizer ? JSON.stringify(this.tokenizer.tokenStrings([tokenId])[0]) : String(tokenId);
      throw new Error(`Token ${shown} (id ${tokenId}) does not occur in the input.`);
    }
    return position;
  }

  // ---------------------------------------------------------------- running

  forward(input: ModelInput | tf.Tensor3D, options: ForwardOptions & { returnType: "both" }): BothResult;
  forward(input: ModelInput | tf.Tensor3D, options: ForwardOptions & { returnType: "none" }): undefined;
  forward(input: ModelInput | tf.Tensor3D, options: ForwardOptions & { returnType: "loss" }): tf.Tensor;
  forward(input: ModelInput | tf.Tensor3D, options?: ForwardOptions): tf.Tensor3D;
  /**
   * Runs the model. Returns logits [batch, pos, dVocabOut] by default; see ForwardOptions for the
   * loss, partial runs (startAtLayer / stopAtLayer) and padding. Results are owned by the caller.
   */
  forward(input: ModelInput | tf.Tensor3D, options: ForwardOptions = {}): tf.Tensor | BothResult | undefined {
    assertReady("HookedTransformer.forward");
    const returnType = options.returnType ?? "logits";
    if (!["logits", "loss", "both", "none"].includes(returnType)) {
      throw new Error(`returnType must be "logits", "loss", "both" or "none"; got ${JSON.stringify(returnType)}.`);
    }
    const startAtLayer = options.startAtLayer ?? 0;
    const { stopAtLayer } = options;
    this.checkLayerRange(startAtLayer, stopAtLayer);

    let tokens: tf.Tensor2D | undefined;
    let residual: tf.Tensor3D | undefined;
    let ownedMask: tf.Tensor2D | undefined;
    if (startAtLayer > 0) {
      if (!(input instanceof tf.Tensor) || input.rank !== 3 || input.shape[2] !== this.cfg.dModel) {
        const got = input instanceof tf.Tensor ? `a tensor of shape [${input.shape.join(", ")}]` : typeof input;
        throw new Error(`With startAtLayer the input is the residual stream [batch, pos, dModel=${this.cfg.dModel}]; got ${got}.`);
      }
      if (input.shape[1]! > this.cfg.nCtx) throw new Error(`The residual stream has ${input.shape[1]} positions but nCtx is ${this.cfg.nCtx}.`);
      residual = input as tf.Tensor3D;
      tokens = options.tokens;
    } else {
      const batch = toTokenBatch(input as ModelInput, this.cfg, this.tokenizer, options);
      tokens = batch.tokens;
      ownedMask = batch.attentionMask;
    }
    const attentionMask = options.attentionMask ?? ownedMask;
    const shapeSource = residual ?? tokens!;
    if (attentionMask && (attentionMask.rank !== 2 || attentionMask.shape[0] !== shapeSource.shape[0] || attentionMask.shape[1] !== shapeSource.shape[1])) {
      throw new Error(`attentionMask has shape [${attentionMask.shape.join(", ")}]; expected [batch, pos] = [${shapeSource.shape.slice(0, 2).join(", ")}].`);
    }
    if (options.pastKeyValues) this.checkPastKeyValues(options.pastKeyValues, shapeSource.shape[0]!, shapeSource.shape[1]!, startAtLayer, stopAtLayer, attentionMask);
    const wantsLoss = stopAtLayer === undefined && (returnType === "loss" || returnType === "both");
    if (wantsLoss && !tokens) throw new Error("The loss needs the tokens: pass { tokens } when the input is a residual stream.");

    try {
      return tf.tidy(() => {
        const out = forwardPass(this.context(), {
          tokens: residual ? undefined : tokens,
          residual,
          attentionMask: attentionMask ? (attentionMask.toFloat() as tf.Tensor2D) : undefined,
          startAtLayer,
          stopAtLayer,
          rotary: this.rotary,
          past: options.pastKeyValues,
        });
        if (stopAtLayer !== undefined) return out;
        if (returnType === "logits") return out;
        if (returnType === "none") return undefined as unknown as tf.Tensor;
        const loss = nextTokenLoss(out, tokens!, options.lossPerToken ?? false, attentionMask ? (attentionMask.toFloat() as tf.Tensor2D) : undefined);
        if (returnType === "loss") return loss;
        return { logits: out, loss } as unknown as tf.Tensor;
      }) as tf.Tensor | BothResult | undefined;
    } finally {
      if (tokens && tokens !== options.tokens && !(input instanceof tf.Tensor && tokens === input)) tokens.dispose();
      ownedMask?.dispose();
    }
  }

  private checkPastKeyValues(past: PastKeyValues, batch: number, pos: number, start: number, stop: number | undefined, attentionMask: tf.Tensor2D | undefined): void {
    const { nKeyValueHeads, dHead, nCtx } = this.cfg;
    if (attentionMask) throw new Error("pastKeyValues cannot be combined with an attention mask (padding).");
    if (!Number.isInteger(past.length) || past.length < 0) throw new Error(`pastKeyValues.length must be a whole number ≥ 0; got ${past.length}.`);
    if (past.length + pos > nCtx) throw new Error(`pastKeyValues.length ${past.length} + ${pos} new positions exceeds nCtx ${nCtx}.`);
    for (let layer = start; layer < (stop ?? this.cfg.nLayers); layer++) {
      for (const [what, t] of [["keys", past.keys[layer]], ["values", past.values[layer]]] as const) {
        const expected = [batch, past.length, nKeyValueHeads, dHead];
        if (!t || t.shape.join() !== expected.join()) {
          throw new Error(`pastKeyValues.${what}[${layer}] must be [batch, length, nKeyValueHeads, dHead] = [${expected.join(", ")}]; got ${t ? `[${t.shape.join(", ")}]` : "nothing"}.`);
        }
      }
    }
  }

  private checkLayerRange(start: number, stop: number | undefined): void {
    const n = this.cfg.nLayers;
    if (!Number.isInteger(start) || start < 0 || start > n) throw new Error(`startAtLayer must be an integer in [0, ${n}]; got ${start}.`);
    if (stop !== undefined && (!Number.isInteger(stop) || stop < start || stop > n)) {
      throw new Error(`stopAtLayer must be an integer in [startAtLayer=${start}, ${n}]; got ${stop}.`);
    }
  }

  /** Runs with temporary hooks, removed afterwards (also on error). Same return as forward. */
  runWithHooks(input: ModelInput | tf.Tensor3D, options: RunWithHooksOptions & { returnType: "both" }): BothResult;
  runWithHooks(input: ModelInput | tf.Tensor3D, options: RunWithHooksOptions & { returnType: "loss" }): tf.Tensor;
  runWithHooks(input: ModelInput | tf.Tensor3D, options: RunWithHooksOptions & { returnType: "none" }): undefined;
  runWithHooks(input: ModelInput | tf.Tensor3D, options?: RunWithHooksOptions): tf.Tensor3D;
  runWithHooks(input: ModelInput | tf.Tensor3D, options: RunWithHooksOptions = {}): tf.Tensor | BothResult | undefined {
    const remove = this.attachAll(options.fwdHooks ?? []);
    try {
      return this.forward(input, options as ForwardOptions);
    } finally {
      if (options.resetHooksEnd ?? true) remove();
    }
  }

  /**
   * Runs the model and caches activations. Returns the output (as forward) and an
   * ActivationCache; the caller owns both (`cache.dispose()`).
   * With `includeGradients` and a `metric`, the cache also holds d(metric)/d(activation) for every
   * cached hook point (cache.grad(name)); the model runs twice (values, then gradients).
   */
  runWithCache(input: ModelInput | tf.Tensor3D, options: RunWithCacheOptions & { returnType: "both" }): { output: BothResult; cache: ActivationCache };
  runWithCache(input: ModelInput | tf.Tensor3D, options: RunWithCacheOptions & { returnType: "loss" }): { output: tf.Tensor; cache: ActivationCache };
  runWithCache(input: ModelInput | tf.Tensor3D, options?: RunWithCacheOptions): { output: tf.Tensor3D; cache: ActivationCache };
  runWithCache(input: ModelInput | tf.Tensor3D, options: RunWithCacheOptions = {}): { output: tf.Tensor | BothResult | undefined; cache: ActivationCache } {
    const filter = compileFilter(options.namesFilter);
    if (typeof options.namesFilter === "string" || Array.isArray(options.namesFilter)) {
      for (const name of typeof options.namesFilter === "string" ? [options.namesFilter] : options.namesFilter) this.hookPoint(name);
    }
    if (options.includeGradients && typeof options.metric !== "function") {
      throw new Error("includeGradients needs a metric: a function from the logits [batch, pos, dVocabOut] to a scalar tensor.");
    }
    const cached = new Map<string, tf.Tensor>();
    const observer = (name: string, activation: tf.Tensor): tf.Tensor => {
      if (!filter(name)) return activation;
      if (options.removeBatchDim && activation.shape[0] !== 1) {
        throw new Error(`removeBatchDim needs a batch of 1; "${name}" has batch ${activation.shape[0]}.`);
      }
      let stored = options.posSlice !== undefined ? slicePositions(name, activation, options.posSlice) : activation;
      if (options.removeBatchDim) stored = stored.squeeze([0]);
      // Kept tensors survive the forward pass's tidy; the cache owns them.
      cached.set(name, tf.keep(stored === activation ? activation.clone() : stored));
      return activation;
    };

    let output: tf.Tensor | BothResult | undefined;
    try {
      output = this.observed(observer, () => this.runWithHooks(input, options));
    } catch (error) {
      for (const t of cached.values()) t.dispose();
      throw error;
    }

    let gradients: Map<string, tf.Tensor> | undefined;
    if (options.includeGradients) {
      try {
        // Check the metric on this run's logits first: an error thrown inside tf.grads leaves the
        // tensors tfjs saved for the backward pass behind.
        if (output instanceof tf.Tensor && output.rank === 3) {
          const size = tf.tidy(() => options.metric!(output as tf.Tensor3D).size);
          if (size !== 1) throw new Error(`The metric must return a scalar; it returned a tensor of ${size} values for logits of shape [${output.shape.join(", ")}].`);
        }
        gradients = this.activationGradients(input, options, [...cached.keys()]);
      } catch (error) {
        for (const t of cached.values()) t.dispose();
        disposeOutput(output);
        throw error;
      }
    }
    const hasPosDim = options.posSlice === undefined || options.posSlice === null || Array.isArray(options.posSlice);
    return { output, cache: new ActivationCache(this, cached, { gradients, hasBatchDim: !options.removeBatchDim, hasPosDim }) };
  }

  /** Gradients for runWithCache, sliced like the cached activations. */
  private activationGradients(input: ModelInput | tf.Tensor3D, options: RunWithCacheOptions, names: string[]): Map<string, tf.Tensor> {
    const run: ObservedRun = (observer, returnType) =>
      this.observed(observer, () => this.runWithHooks(input, { ...options, returnType: returnType as "logits" }));
    const grads = gradientsAtHookPoints(run, names, options.metric!);
    if (options.posSlice === undefined && !options.removeBatchDim) return grads;
    for (const [name, full] of grads) {
      grads.set(
        name,
        tf.tidy(() => {
          const sliced = options.posSlice !== undefined ? slicePositions(name, full, options.posSlice) : full;
          return options.removeBatchDim ? sliced.squeeze([0]) : sliced;
        }),
      );
      full.dispose();
    }
    return grads;
  }

  /**
   * Samples a continuation. `input` is text (returns text) or token ids / an int32 tensor
   * [batch, pos] (returns an int32 tensor [batch, pos + new] the caller owns). Async: it yields
   * between tokens, reports progress through `onToken`, and stops when `signal` aborts.
   */
  async generate(input: string, options?: GenerateOptions): Promise<string>;
  async generate(input: number[] | number[][] | tf.Tensor, options?: GenerateOptions): Promise<tf.Tensor2D>;
  async generate(input: string | number[] | number[][] | tf.Tensor, options: GenerateOptions = {}): Promise<string | tf.Tensor2D> {
    return generateTokens(this, input, options);
  }

  /** Frees the parameters and derived tensors. The model cannot run afterwards. */
  dispose(): void {
    this.params.dispose();
    this.stacked.dispose();
    this.rotary?.cos.dispose();
    this.rotary?.sin.dispose();
    this.rotary = undefined;
  }

  [Symbol.for("Jupyter.display")](): Record<string, string> {
    const c = this.cfg;
    const text = `${this.toString()}\n  dModel ${c.dModel}, nHeads ${c.nHeads} × dHead ${c.dHead}${c.attnOnly ? "" : `, dMlp ${c.dMlp} (${c.actFn})`}, dVocab ${c.dVocab}, nCtx ${c.nCtx}, ${this.numParams.toLocaleString("en")} parameters, ${this.hookPoints.size} hook points`;
    return { "text/plain": text };
  }
}

function disposeOutput(output: tf.Tensor | BothResult | undefined): void {
  if (!output) return;
  if (output instanceof tf.Tensor) output.dispose();
  else {
    output.logits.dispose();
    output.loss.dispose();
  }
}
