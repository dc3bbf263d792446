/**
 * The logit lens: read the residual stream (or each term added to it) through the model's final
 * norm and unembedding, as if the model stopped there, and see which tokens it already predicts.
 *
 * Rows, for one prompt (a batch index) and every position:
 *   "accumulated" — the residual stream at the input of each layer and the final stream
 *                   (cache.accumulatedResid: "0_pre" = the embeddings, "1_pre", ..., "final_post").
 *                   Each row goes through the whole final norm, w and b included, then W_U + b_U,
 *                   so the "final_post" row is exactly the model's logits. The norm's scale is the
 *                   row's own (lnScale "own", default: ln_final applied to that stream, the logit
 *                   lens proper) or the cached scale of the final stream (lnScale "final", as
 *                   TransformerLens's accumulated_resid(apply_ln=True)); the final row is
 *                   the same either way.
 *   "decomposed"  — each term of the final stream (cache.decomposeResid: embed, pos_embed, each
 *                   layer's attn_out and mlp_out) through the final norm with its scale frozen at
 *                   the cached value (applyLnToStack), times the norm's w, times W_U. The biases
 *                   (the norm's b, b_U) belong to no term and are left out, so the rows' logits add
 *                   up to the model's logits minus b·W_U + b_U (exactly, for LN / LNPre / RMS).
 * logits [row, pos, d_vocab] → softmax → per cell the target token's probability, logit and rank,
 * and the top-k tokens.
 *
 * Memory: only one row's logits [pos, d_vocab] exist at a time (each row in its own tf.tidy); the
 * residual stack [rows, batch, pos, dModel] exists briefly (a copy of the cached streams), then
 * only the chosen prompt's [rows, pos, dModel] is kept. The results are plain typed arrays. Ownership: nothing returned is a tensor; the cache and the model
 * keep their tensors; no tensor made here outlives the call.
 */
import { tf } from "../backend";
import type { ActivationCache } from "../cache/activationCache";
import { applyLnToStack } from "../cache/layerNormStack";
import { interruptSignal } from "../notebook/interrupt";

export type LogitLensMode = "accumulated" | "decomposed";

/**
 * Which token each cell reports on:
 *   "next"   — the prompt's next token (position p: token p + 1; the last position has none);
 *   "top"    — no fixed token (each cell's own top token is in the top-k lists);
 *   a number — that token id at every position; a string — that token (one token) everywhere;
 *   number[] — one token id per position (−1: none).
 */
export type LogitLensTarget = "next" | "top" | number | string | number[];

/** What logitLens reads from the model besides the cache: token strings and ids. */
export interface LensTokenizer {
  toStrTokens(input: number[]): string[];
  toSingleToken?(token: string): number;
  toTokens?(input: string, options?: { prependBos?: boolean }): tf.Tensor;
}

export interface LogitLensOptions {
  /** "accumulated" (default) or "decomposed" (see the file comment). */
  mode?: LogitLensMode;
  /** The prompt (batch index) to read; default 0. */
  batchIndex?: number;
  /**
   * The prompt's token ids: [pos], [batch, pos] (number[][] or a tensor), or text tokenized by
   * `model` (with `prependBos`, the model's default otherwise). Needed for target "next".
   */
  input?: string | number[] | number[][] | Int32Array | tf.Tensor;
  prependBos?: boolean;
  /** Default "next" when the prompt's tokens are known, "top" otherwise. */
  target?: LogitLensTarget;
  /** How many top tokens per cell; default 5 (at most d_vocab). */
  topK?: number;
  /** Accumulated mode: the final norm's scale per row ("own", default) or the cached final one. */
  lnScale?: "own" | "final";
  /** Token strings and ids; default the cache's model (a HookedTransformer with a tokenizer). */
  model?: LensTokenizer;
  /** Stops the async version between rows (the kernel's interrupt stops it too). */
  signal?: AbortSignal;
  /** Called after each row with (rows done, rows in all). */
  onProgress?: (done: number, total: number) => void;
}

export interface LogitLensResult {
  mode: LogitLensMode;
  /** The cache's names of the rows ("0_pre", ..., "final_post" / "embed", "0_attn_out", ...). */
  labels: string[];
  /** Readable row names ("embed", "L1 in", "final" / "embed", "L0 attn", "L0 mlp"). */
  rowNames: string[];
  nRows: number;
  nPos: number;
  dVocab: number;
  topK: number;
  batchIndex: number;
  /** The prompt's token ids [pos], when known. */
  promptIds: Int32Array | null;
  /** The prompt's token strings [pos] (ids as "#id" without a tokenizer), when known. */
  promptTokens: string[] | null;
  /** "next", "top" or "token" (fixed ids, given by number, string or per-position list). */
  targetKind: "next" | "top" | "token";
  /** The target id of each position [pos], −1 where none; null for "top". */
  targetIds: Int32Array | null;
  /** The target's strings [pos] ("" where none); null for "top". */
  targetTokens: string[] | null;
  /** [row, pos] probability of the target (NaN where none); null for "top". */
  targetProb: Float32Array | null;
  /** [row, pos] logit of the target; null for "top". */
  targetLogit: Float32Array | null;
  /** [row, pos] rank of the target, 1 = the most likely token (1 + how many logits are larger); 0 where none; null for "top". */
  targetRank: Int32Array | null;
  /** [row, pos, k] ids of the k most likely tokens, most likely first. */
  topIds: Int32Array;
  /** [row, pos, k] their probabilities. */
  topProbs: Float32Array;
  /** [row, pos, k] their logits. */
  topLogits: Float32Array;
  /** [row, pos, k] their strings. */
  topTokens: string[];
}

/** Everything fixed before the rows are computed. */
interface LensPlan {
  result: LogitLensResult;
  /** [rows, pos, dModel] of the chosen prompt, owned by the plan (disposed once the rows are done). */
  stack: tf.Tensor;
  /** Target id per position, with 0 standing in where there is none (masked afterwards). */
  gatherIds: Int32Array;
  tokenStrings: (ids: number[]) => string[];
}

/**
 * The logit lens of one prompt (see the file comment), async: yields to the event loop between
 * rows, reports progress and stops on `signal` or a kernel interrupt (throwing an Error named
 * "Interrupted" / "AbortError"). Returns plain arrays; no tensors stay alive.
 */
export async function logitLens(cache: ActivationCache, options: LogitLensOptions = {}): Promise<LogitLensResult> {
  const plan = makePlan(cache, options);
  const interrupt = interruptSignal();
  try {
    for (let r = 0; r < plan.result.nRows; r++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (options.signal?.aborted) throw abortError("logitLens: stopped by its AbortSignal.", "AbortError");
      if (interrupt.aborted) throw abortError("logitLens: the cell that started it was interrupted.", "Interrupted");
      computeRow(cache, plan, r, options);
      options.onProgress?.(r + 1, plan.result.nRows);
    }
  } finally {
    plan.stack.dispose();
  }
  return finish(plan);
}

/** logitLens without yielding (for small models and widgets built in one call). */
export function logitLensSync(cache: ActivationCache, options: LogitLensOptions = {}): LogitLensResult {
  const plan = makePlan(cache, options);
  try {
    for (let r = 0; r < plan.result.nRows; r++) {
      computeRow(cache, plan, r, options);
      options.onProgress?.(r + 1, plan.result.nRows);
    }
  } finally {
    plan.stack.dispose();
  }
  return finish(plan);
}

function abortError(message: string, name: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** Readable name of a row label of accumulatedResid / decomposeResid. */
export function lensRowName(label: string): string {
  if (label === "0_pre") return "embed";
  if (label === "final_post") return "final";
  const m = /^(\d+)_(pre|mid|attn_out|mlp_out)$/.exec(label);
  if (!m) return label;
  const kind = { pre: "in", mid: "mid", attn_out: "attn", mlp_out: "mlp" }[m[2] as "pre" | "mid" | "attn_out" | "mlp_out"];
  return `L${m[1]} ${kind}`;
}

function makePlan(cache: ActivationCache, options: LogitLensOptions): LensPlan {
  const method = "logitLens";
  if (cache.isDisposed) throw new Error(`${method}: this ActivationCache has been disposed; run the model again to get a new cache.`);
  const mode = options.mode ?? "accumulated";
  if (mode !== "accumulated" && mode !== "decomposed") throw new Error(`${method}: mode must be "accumulated" or "decomposed"; got ${JSON.stringify(mode)}.`);
  const lnScale = options.lnScale ?? "own";
  if (lnScale !== "own" && lnScale !== "final") throw new Error(`${method}: lnScale must be "own" or "final"; got ${JSON.stringify(lnScale)}.`);
  if (mode === "decomposed" && options.lnScale === "own") {
    throw new Error(`${method}: lnScale "own" is for accumulated mode; a decomposed term is not a residual stream, so it takes the final stream's cached scale.`);
  }
  const model = cache.model;
  for (const name of ["unembed.W_U", "unembed.b_U"]) if (!model.hasParam(name)) throw new Error(`${method}: the cache's model has no "${name}".`);
  const W_U = model.param("unembed.W_U");
  const dVocab = W_U.shape[1]!;

  // Batch and positions, from the final residual stream.
  const finalName = `blocks.${model.cfg.nLayers - 1}.hook_resid_post`;
  if (!cache.has(finalName)) throw new Error(`${method} needs "${finalName}" in the cache; run runWithCache without a namesFilter (or one that keeps the residual stream hooks).`);
  if (!cache.hasPosDim) throw new Error(`${method} needs every position; this cache was made with a single-index posSlice. Run runWithCache without posSlice.`);
  const shape = cache.get(finalName).shape; // [batch, pos, dModel] or [pos, dModel]
  const nBatch = cache.hasBatchDim ? shape[0]! : 1;
  const nPos = cache.hasBatchDim ? shape[1]! : shape[0]!;
  const batchIndex = options.batchIndex ?? 0;
  if (!Number.isInteger(batchIndex) || batchIndex < 0 || batchIndex >= nBatch) {
    throw new Error(`${method}: batchIndex must be an integer in [0, ${nBatch}) (the cache's batch size); got ${batchIndex}.`);
  }
  const topK = options.topK ?? 5;
  if (!Number.isInteger(topK) || topK < 1 || topK > dVocab) throw new Error(`${method}: topK must be an integer in [1, ${dVocab}] (d_vocab); got ${topK}.`);

  const tokenizer = options.model ?? asTokenizer(model);
  const tokenStrings = (ids: number[]): string[] => (tokenizer && hasTokenizer(tokenizer) ? tokenizer.toStrTokens(ids) : ids.map((id) => `#${id}`));
  const promptIds = promptTokenIds(options, tokenizer, batchIndex, nBatch, nPos, dVocab);

  // Target ids per position.
  const rawTarget = options.target ?? (promptIds ? "next" : "top");
  let targetKind: LogitLensResult["targetKind"];
  let targetIds: Int32Array | null = null;
  if (rawTarget === "top") targetKind = "top";
  else if (rawTarget === "next") {
    if (!promptIds) throw new Error(`${method}: target "next" needs the prompt's tokens: pass input (token ids, or the text with a model that tokenizes it).`);
    targetKind = "next";
    targetIds = new Int32Array(nPos).fill(-1);
    for (let p = 0; p + 1 < nPos; p++) targetIds[p] = promptIds[p + 1];
  } else {
    targetKind = "token";
    targetIds = new Int32Array(nPos);
    if (typeof rawTarget === "number") targetIds.fill(checkId(rawTarget, dVocab, "target"));
    else if (typeof rawTarget === "string") {
      if (!tokenizer?.toSingleToken) throw new Error(`${method}: a target given as text needs a model with a tokenizer; pass a token id instead.`);
      targetIds.fill(checkId(tokenizer.toSingleToken(rawTarget), dVocab, "target"));
    } else if (Array.isArray(rawTarget)) {
      if (rawTarget.length !== nPos) throw new Error(`${method}: target lists ${rawTarget.length} token ids for ${nPos} positions; give one per position (−1 for none).`);
      rawTarget.forEach((id, p) => (targetIds![p] = id === -1 ? -1 : checkId(id, dVocab, `target[${p}]`)));
    } else throw new Error(`${method}: target must be "next", "top", a token id, a token string or one id per position; got ${JSON.stringify(rawTarget)}.`);
  }

  const { stack, labels } = mode === "accumulated" ? cache.accumulatedResid() : cache.decomposeResid();
  const nRows = labels.length;
  const hasTarget = targetIds !== null;
  const cells = nRows * nPos;
  const result: LogitLensResult = {
    mode, labels, rowNames: labels.map(lensRowName), nRows, nPos, dVocab, topK, batchIndex,
    promptIds, promptTokens: promptIds ? tokenStrings([...promptIds]) : null,
    targetKind, targetIds,
    targetTokens: targetIds ? [...targetIds].map((id) => (id < 0 ? "" : tokenStrings([id])[0])) : null,
    targetProb: hasTarget ? new Float32Array(cells) : null,
    targetLogit: hasTarget ? new Float32Array(cells) : null,
    targetRank: hasTarget ? new Int32Array(cells) : null,
    topIds: new Int32Array(cells * topK),
    topProbs: new Float32Array(cells * topK),
    topLogits: new Float32Array(cells * topK),
    topTokens: [],
  };
  const gatherIds = targetIds ? targetIds.map((id) => Math.max(id, 0)) : new Int32Array(nPos);
  // Decomposed terms, and accumulated rows with lnScale "final", take the cached final scale now
  // (applyLnToStack checks the stack against the cached scale, so before the batch is sliced).
  // Then only the chosen prompt's rows are kept: [rows, pos, dModel].
  const frozen = mode === "decomposed" || lnScale === "final";
  const kept = tf.tidy(() => {
    const normalized = frozen ? applyLnToStack(cache, stack, undefined) : stack;
    return cache.hasBatchDim ? tf.gather(normalized, [batchIndex], 1).squeeze([1]) : normalized.clone();
  });
  stack.dispose();
  return { result, stack: kept, gatherIds, tokenStrings };
}

/** One row's logits [pos, d_vocab] → its cells of the result. Everything made here is freed. */
function computeRow(cache: ActivationCache, plan: LensPlan, r: number, options: LogitLensOptions): void {
  const { result, stack, gatherIds } = plan;
  const { nPos, topK, dVocab, batchIndex, mode } = result;
  const cfg = cache.model.cfg;
  const normalized = mode === "accumulated" && (options.lnScale ?? "own") === "own" ? "raw" : "normalized";
  const [logitsT, topValues, topIndices, logSumExp] = tf.tidy(() => {
    let row = tf.gather(stack, [r], 0); // [1, pos, dModel]
    // Own scale: the row's centred (LN) root mean square, i.e. the final norm applied to this stream.
    if (normalized === "raw") row = applyLnToStack(cache, row, undefined, { recomputeLn: true });
    let x = row.reshape([nPos, cfg.dModel]);
    // The norm's weight (and, for the stream itself, its bias); none for LNPre / RMSPre / none.
    if (cfg.normalizationType !== "none" && cache.model.hasParam("ln_final.w")) x = tf.mul(x, cache.model.param("ln_final.w"));
    const streamItself = mode === "accumulated";
    if (streamItself && cache.model.hasParam("ln_final.b") && cfg.normalizationType === "LN") x = tf.add(x, cache.model.param("ln_final.b"));
    let logits = tf.matMul(x, cache.model.param("unembed.W_U")); // [pos, d_vocab]
    if (streamItself) logits = tf.add(logits, cache.model.param("unembed.b_U"));
    const { values, indices } = tf.topk(logits, topK); // [pos, k]
    return [logits, values, indices, tf.logSumExp(logits, 1) /* [pos] */];
  });
  const top = topValues.dataSync() as Float32Array;
  const ids = topIndices.dataSync() as Int32Array;
  const lse = logSumExp.dataSync() as Float32Array;
  // The target's logit and rank (1 + how many logits are strictly larger) from the row's logits on
  // the JS side: one pass, cheaper than an elementwise comparison on the tensor backend.
  const tLogit = new Float32Array(nPos);
  const above = new Int32Array(nPos);
  if (result.targetIds) {
    const logits = logitsT.dataSync() as Float32Array; // [pos, d_vocab]
    for (let p = 0; p < nPos; p++) {
      const offset = p * dVocab;
      const t = logits[offset + gatherIds[p]];
      let count = 0;
      for (let v = 0; v < dVocab; v++) if (logits[offset + v] > t) count++;
      tLogit[p] = t;
      above[p] = count;
    }
  }
  for (const t of [logitsT, topValues, topIndices, logSumExp]) t.dispose();

  const base = r * nPos;
  for (let p = 0; p < nPos; p++) {
    for (let k = 0; k < topK; k++) {
      const i = (base + p) * topK + k;
      result.topIds[i] = ids[p * topK + k];
      result.topLogits[i] = top[p * topK + k];
      result.topProbs[i] = Math.exp(top[p * topK + k] - lse[p]);
    }
    if (result.targetIds) {
      const none = result.targetIds[p] < 0;
      result.targetLogit![base + p] = none ? NaN : tLogit[p];
      result.targetProb![base + p] = none ? NaN : Math.exp(tLogit[p] - lse[p]);
      result.targetRank![base + p] = none ? 0 : above[p] + 1;
    }
  }
}

function finish(plan: LensPlan): LogitLensResult {
  const { result } = plan;
  result.topTokens = plan.tokenStrings([...result.topIds]);
  return result;
}

function checkId(id: number, dVocab: number, what: string): number {
  if (!Number.isInteger(id) || id < 0 || id >= dVocab) throw new Error(`logitLens: ${what} ${id} is not a token id in [0, ${dVocab}).`);
  return id;
}

function asTokenizer(model: unknown): LensTokenizer | undefined {
  const m = model as Partial<LensTokenizer>;
  return typeof m.toStrTokens === "function" ? (m as LensTokenizer) : undefined;
}

/** A HookedTransformer without a tokenizer has toStrTokens but throws; the others are taken at their word. */
function hasTokenizer(source: LensTokenizer): boolean {
  return !("tokenizer" in source) || (source as { tokenizer?: unknown }).tokenizer !== undefined;
}

/** The prompt's ids [pos] for batch `batchIndex`, or null when not given. */
function promptTokenIds(options: LogitLensOptions, tokenizer: LensTokenizer | undefined, batchIndex: number, nBatch: number, nPos: number, dVocab: number): Int32Array | null {
  const input = options.input;
  if (input === undefined) return null;
  let rows: number[][];
  if (typeof input === "string") {
    if (!tokenizer?.toTokens) throw new Error("logitLens: input given as text needs a model that tokenizes it (options.model, or the cache's model with a tokenizer).");
    const tokens = tokenizer.toTokens(input, options.prependBos === undefined ? {} : { prependBos: options.prependBos });
    rows = tokens.arraySync() as number[][];
    tokens.dispose();
  } else if (input instanceof tf.Tensor) {
    const value = input.arraySync() as number[] | number[][];
    rows = input.rank === 1 ? [value as number[]] : (value as number[][]);
    if (input.rank > 2) throw new Error(`logitLens: input tokens must be [pos] or [batch, pos]; got a tensor of shape [${input.shape.join(", ")}].`);
  } else if (input instanceof Int32Array) rows = [[...input]];
  else if (input.length > 0 && Array.isArray(input[0])) rows = input as number[][];
  else rows = [input as number[]];
  const row = rows.length === 1 ? rows[0] : rows[batchIndex];
  if (rows.length !== 1 && rows.length !== nBatch) throw new Error(`logitLens: input has ${rows.length} prompts but the cache has ${nBatch}.`);
  if (!row || row.length !== nPos) {
    throw new Error(`logitLens: the input has ${row?.length ?? 0} tokens but the cache has ${nPos} positions; pass the tokens the cache was made from (same prependBos).`);
  }
  return Int32Array.from(row, (id, p) => checkId(id, dVocab, `input token ${p}`));
}
