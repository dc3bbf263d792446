/**
 * Data preparation of the attention-patterns widget (kernel side, no DOM): attention patterns
 * from an ActivationCache or a pattern tensor, as one Float32 buffer, with the token strings.
 *
 * Buffer layout: [prompt, layer, head, query, key], row-major, every prompt padded to the same
 * nPos (the batch's sequence length). Index of (p, l, h, q, k):
 *   (((p * nLayers + l) * nHeads + h) * nPos + q) * nPos + k
 * where l and h index `layers` / `heads` (the model's layer and head numbers).
 */
import { tf } from "../backend";
import { ActivationCache } from "../cache/activationCache";

/** Something that gives token strings: HookedTransformer does. */
export interface StrTokenSource {
  toStrTokens(input: string | number[], options?: { prependBos?: boolean }): string[];
}

/** Where the token strings come from: given directly, or a model and its input. */
export interface TokenOptions {
  /** Token strings of one prompt, or of each prompt. */
  tokens?: string[] | string[][];
  /** With `input`: the model whose tokenizer gives the token strings. */
  model?: StrTokenSource;
  /** With `model`: the text(s) or token ids the patterns were computed from. */
  input?: string | string[] | number[] | number[][];
  /** With `model` and text input: whether BOS was prepended (the model's default otherwise). */
  prependBos?: boolean;
}

export interface AttentionDataOptions extends TokenOptions {
  /** The layer(s) to show (model layer numbers); default every layer in the cache or tensor. */
  layer?: number | number[];
  /** The heads to show (head numbers); default all. */
  heads?: number[];
  /** The prompts (batch indices) to show; default all. */
  prompts?: number[];
  /**
   * For a 4-D tensor: whether axis 0 is the batch or the layer. By default "layer" when one
   * prompt's tokens are given and "batch" otherwise (both read the same when axis 0 has size 1).
   */
  firstAxis?: "batch" | "layer";
}

export interface AttentionData {
  /** Token strings per prompt (each of its real length, at most nPos). */
  tokens: string[][];
  /** [prompt, layer, head, q, k] (see the file comment). */
  patterns: Float32Array;
  nPrompts: number;
  nLayers: number;
  nHeads: number;
  nPos: number;
  /** The model layer number of each layer slot. */
  layers: number[];
  /** The model head number of each head slot. */
  heads: number[];
  /** The batch index of each prompt slot. */
  prompts: number[];
}

/** One source array, [batch, layer, head, q, k] as `at` reads it. */
interface Source {
  nBatch: number;
  nLayers: number;
  nHeads: number;
  nPos: number;
  /** Model layer number of each source layer. */
  layerNumbers: number[];
  /** The values of source layer `l` for batch entry `b`: [head, q, k] flattened. */
  block(b: number, l: number): Float32Array;
}

export function prepareAttention(input: ActivationCache | tf.Tensor, options: AttentionDataOptions = {}): AttentionData {
  const tokenLists = resolveTokens(options, "attentionPatterns");
  const source = input instanceof ActivationCache ? cacheSource(input) : tensorSource(input, options, tokenLists);

  const layers = pickLayers(source, options.layer);
  const heads = pickIndices(options.heads, source.nHeads, "heads", "head");
  const prompts = pickIndices(options.prompts, source.nBatch, "prompts", "prompt (batch index)");
  const { nPos } = source;

  // Token strings: one list per source batch entry (or one list for every prompt when only one is given).
  let tokens: string[][];
  if (tokenLists === undefined) {
    throw new Error("attentionPatterns: give the token strings (`tokens`) or a `model` and its `input`, to label the axes.");
  } else if (tokenLists.length === source.nBatch) {
    tokens = prompts.map((p) => tokenLists[p]);
  } else if (tokenLists.length === 1 && (source.nBatch === 1 || options.firstAxis === "batch")) {
    // An explicit batch axis with one token list: every prompt has those tokens.
    tokens = prompts.map(() => [...tokenLists[0]]);
  } else {
    throw new Error(
      `attentionPatterns: ${tokenLists.length} token lists for ${source.nBatch} prompts in the patterns; give one token list per prompt.`,
    );
  }
  tokens.forEach((list, i) => {
    if (list.length > nPos || (list.length < nPos && tokenLists.length === 1 && options.model === undefined)) {
      throw new Error(
        `attentionPatterns: prompt ${prompts[i]} has ${list.length} tokens but the patterns have ${nPos} positions; the token strings must match the pattern's query/key axes.`,
      );
    }
  });

  const block = nPos * nPos;
  const patterns = new Float32Array(prompts.length * layers.length * heads.length * block);
  let offset = 0;
  for (const p of prompts) {
    for (const l of layers) {
      const values = source.block(p, l);
      for (const h of heads) {
        patterns.set(values.subarray(h * block, (h + 1) * block), offset);
        offset += block;
      }
    }
  }
  return {
    tokens,
    patterns,
    nPrompts: prompts.length,
    nLayers: layers.length,
    nHeads: heads.length,
    nPos,
    layers: layers.map((l) => source.layerNumbers[l]),
    heads,
    prompts,
  };
}

/** Token strings per prompt from the options, or undefined when none were given. */
export function resolveTokens(options: TokenOptions, caller: string): string[][] | undefined {
  if (options.tokens !== undefined) {
    if (options.model !== undefined || options.input !== undefined) throw new Error(`${caller}: give either \`tokens\` or \`model\` and \`input\`, not both.`);
    const list = options.tokens;
    if (list.length > 0 && Array.isArray(list[0])) return (list as string[][]).map((row) => [...row]);
    if (!list.every((t) => typeof t === "string")) throw new Error(`${caller}: \`tokens\` must be strings (string[] for one prompt, string[][] for several).`);
    return [[...(list as string[])]];
  }
  if (options.model !== undefined || options.input !== undefined) {
    if (options.model === undefined || options.input === undefined) throw new Error(`${caller}: \`model\` and \`input\` go together (the model tokenizes the input).`);
    const { model, input } = options;
    const opts = options.prependBos === undefined ? {} : { prependBos: options.prependBos };
    if (typeof input === "string") return [model.toStrTokens(input, opts)];
    if (input.length > 0 && Array.isArray(input[0])) return (input as number[][]).map((ids) => model.toStrTokens(ids));
    if (input.length > 0 && typeof input[0] === "string") return (input as string[]).map((text) => model.toStrTokens(text, opts));
    return [model.toStrTokens(input as number[])];
  }
  return undefined;
}

function cacheSource(cache: ActivationCache): Source {
  const layerNumbers: number[] = [];
  for (let l = 0; l < cache.model.cfg.nLayers; l++) if (cache.has("pattern", l)) layerNumbers.push(l);
  if (layerNumbers.length === 0) {
    throw new Error("attentionPatterns: the cache holds no attention patterns (hook_pattern); run runWithCache without a namesFilter, or with one that keeps \"hook_pattern\".");
  }
  const first = cache.get("pattern", layerNumbers[0]);
  const rank = first.shape.length;
  if (rank !== 3 && rank !== 4) throw new Error(`attentionPatterns: expected hook_pattern of shape [batch, head, query, key], got [${first.shape.join(", ")}]`);
  const shape4 = rank === 4 ? first.shape : [1, ...first.shape];
  const [nBatch, nHeads, nQ, nK] = shape4;
  checkSquare(nQ, nK);
  // dataSync reads the cached tensors themselves: no new tensors.
  const data = layerNumbers.map((l) => cache.get("pattern", l).dataSync() as Float32Array);
  const perBatch = nHeads * nQ * nK;
  return {
    nBatch, nLayers: layerNumbers.length, nHeads, nPos: nQ, layerNumbers,
    block: (b, l) => data[l].subarray(b * perBatch, (b + 1) * perBatch),
  };
}

function tensorSource(tensor: tf.Tensor, options: AttentionDataOptions, tokenLists: string[][] | undefined): Source {
  const shape = tensor.shape;
  let nBatch = 1;
  let nLayers = 1;
  let nHeads: number, nQ: number, nK: number;
  if (shape.length === 3) {
    [nHeads, nQ, nK] = shape;
  } else if (shape.length === 4) {
    const firstAxis = options.firstAxis ?? (tokenLists !== undefined && tokenLists.length === 1 ? "layer" : "batch");
    if (firstAxis === "batch") nBatch = shape[0];
    else nLayers = shape[0];
    [, nHeads, nQ, nK] = shape;
  } else {
    throw new Error(
      `attentionPatterns: expected a pattern tensor [head, query, key], [batch, head, query, key] or [layer, head, query, key], got shape [${shape.join(", ")}]`,
    );
  }
  checkSquare(nQ, nK);
  const data = tensor.dataSync() as Float32Array;
  const perBlock = nHeads * nQ * nK;
  // With a 4-D tensor only one of nBatch, nLayers exceeds 1, so b + l picks the right block.
  const single = options.layer === undefined || Array.isArray(options.layer) || nLayers > 1 ? undefined : options.layer;
  return {
    nBatch, nLayers, nHeads, nPos: nQ,
    // A tensor of one layer shown as `layer: n` is labelled n.
    layerNumbers: nLayers === 1 && single !== undefined ? [single] : Array.from({ length: nLayers }, (_, l) => l),
    block: (b, l) => data.subarray((b + l) * perBlock, (b + l + 1) * perBlock),
  };
}

function checkSquare(nQ: number, nK: number): void {
  if (nQ !== nK) throw new Error(`attentionPatterns: query and key axes differ (${nQ} vs ${nK}); only full-sequence patterns are supported.`);
}

/** Source layer slots for the `layer` option (model layer numbers). */
function pickLayers(source: Source, layer: number | number[] | undefined): number[] {
  if (layer === undefined) return source.layerNumbers.map((_, i) => i);
  const wanted = Array.isArray(layer) ? layer : [layer];
  return wanted.map((n) => {
    const slot = source.layerNumbers.indexOf(n);
    if (slot < 0) throw new Error(`attentionPatterns: layer ${n} is not in the patterns (layers there: ${source.layerNumbers.join(", ")}).`);
    return slot;
  });
}

function pickIndices(wanted: number[] | undefined, size: number, option: string, what: string): number[] {
  if (wanted === undefined) return Array.from({ length: size }, (_, i) => i);
  if (wanted.length === 0) throw new Error(`attentionPatterns: \`${option}\` is empty.`);
  for (const i of wanted) {
    if (!Number.isInteger(i) || i < 0 || i >= size) throw new Error(`attentionPatterns: ${what} ${i} is out of range (the patterns have ${size}).`);
  }
  return [...wanted];
}
