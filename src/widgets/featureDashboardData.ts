/**
 * Data preparation of the feature dashboard (kernel side, no DOM): for one SAE feature or one
 * neuron, from its activations over a dataset —
 *   - the max-activating contexts: a window of tokens around the token where the feature fires
 *     most (`contextLeft` tokens before it, `contextRight` after), with every window token's
 *     activation for highlighting;
 *   - optionally, contexts sampled from activation bands (intervals of the maximum activation,
 *     e.g. (0.75·max, max], (0.5·max, 0.75·max], …), to show what weaker activations look like;
 *   - a histogram of the active values (activation > `activeThreshold`) and the density (the
 *     fraction of tokens where the feature is active);
 *   - with an output `direction` [d_model] (an SAE decoder row W_dec[f], or a neuron's W_out row):
 *     its direct logit effect `direction @ W_U` [d_vocab] and the top boosted / suppressed tokens.
 *     This is the direct path only: nothing between the residual stream and the unembedding is
 *     applied (no final LayerNorm scale, no b_U), as TransformerLens-style dashboards do with
 *     W_dec @ W_U.
 *
 * Buffer layout of the contexts: context c's tokens are `contextTokens[c]`; their activations lie
 * end to end in `contextActivations` (context c starts at the sum of the earlier contexts'
 * lengths). Contexts are in group order: the top contexts first, then each band from high to low
 * (`groupSizes` says how many each group holds).
 *
 * Ownership: no argument is disposed and nothing returned is a tensor. Tensors given (activations,
 * token ids, direction, W_U) are read, never kept; the one tensor made (the logit effect) is
 * disposed before returning.
 *
 * Memory: the activations are read once (a tensor as one Float32 copy, arrays as they are); what
 * is kept is O(topK + bands · samplesPerBand) windows, the bins and the top logits, whatever the
 * dataset's size.
 */
import { tf } from "../backend";
import type { StrTokenSource } from "./attentionData";
import { SeededRandom } from "../train/seededRandom";

/** A feature's activations: [nTexts, pos] (a tensor, nested arrays, or one typed array per text), or one text's [pos]. */
export type FeatureActivations = tf.Tensor | number[][] | ArrayLike<number>[] | number[] | Float32Array;

/** A vector: a tensor [d] or numbers. */
export type VectorInput = tf.Tensor | number[] | Float32Array | Float64Array;

/** What the dashboard needs of a model: token strings, and W_U [dModel, dVocab] for the logit effect. */
export interface DashboardModel extends StrTokenSource {
  readonly W_U?: tf.Tensor;
}

export interface FeatureDashboardDataOptions {
  /** The dataset's token strings, one list per text (each as long as its row of activations, or shorter when the rows are right-padded). */
  tokens?: string[][];
  /** With `tokenIds`: the model that gives the token strings; also the source of W_U for `direction`. */
  model?: DashboardModel;
  /** With `model`: the token ids [nTexts, pos] the activations were computed from. */
  tokenIds?: number[][] | tf.Tensor;
  /**
   * Output direction [d_model]: an SAE decoder row or a neuron's W_out row. Its direct logit
   * effect is `direction @ W_U` only (no final LayerNorm, no b_U).
   */
  direction?: VectorInput;
  /** W_U [d_model, d_vocab] for the logit effect (default: `model.W_U`). */
  unembed?: tf.Tensor | number[][];
  /** The string of each vocabulary id (default: from `model`; otherwise "#id"). */
  vocab?: string[];
  /** How many max-activating contexts (default 10). */
  topK?: number;
  /** How many boosted and how many suppressed tokens (default 10). */
  topLogits?: number;
  /** Tokens shown before the max token (default 8). */
  contextLeft?: number;
  /** Tokens shown after the max token (default 4). */
  contextRight?: number;
  /** At most one top context per text (default true); false ranks every token of the dataset. */
  onePerText?: boolean;
  /** Number of activation bands to sample contexts from (equal intervals of (activeThreshold, max]; default 0: none). */
  bands?: number;
  /** Contexts sampled from each band (default 3). */
  samplesPerBand?: number;
  /** Seed of the band sampling (default 0). */
  seed?: number;
  /** Number of histogram bins (default 40). */
  bins?: number;
  /** The feature is active where its activation is above this (default 0). */
  activeThreshold?: number;
  /** The title shown (default "Feature"). */
  title?: string;
}

export interface FeatureDashboardData {
  title: string;
  /** Texts and (real, unpadded) tokens in the dataset. */
  nTexts: number;
  nTokens: number;
  /** Tokens with activation > activeThreshold, and their fraction of nTokens. */
  nActive: number;
  density: number;
  activeThreshold: number;
  /** The largest and smallest activation over the dataset. */
  maxActivation: number;
  minActivation: number;
  contextLeft: number;
  contextRight: number;

  /** Group labels ("Top activations", "Band 0.75–1 × max", …) and how many contexts each holds. */
  groupLabels: string[];
  groupSizes: Int32Array;
  /** Token strings of each context's window. */
  contextTokens: string[][];
  /** Activations of the window tokens, contexts end to end (see the file comment). */
  contextActivations: Float32Array;
  /** Per context: the text index, the position (in the text) of its highlighted token, the window's first position. */
  contextText: Int32Array;
  contextPosition: Int32Array;
  contextStart: Int32Array;

  /** Histogram of the active values: bins + 1 edges, bins counts (empty when nothing is active). */
  histogramEdges: Float32Array;
  histogramCounts: Int32Array;

  /** Direct logit effect (empty without a direction): top boosted (largest first) and suppressed (most negative first). */
  boostedTokens: string[];
  boostedIds: Int32Array;
  boostedLogits: Float32Array;
  suppressedTokens: string[];
  suppressedIds: Int32Array;
  suppressedLogits: Float32Array;
}

/** One context, read back from the prepared data. */
export interface FeatureContext {
  /** Index of the context in the dashboard. */
  index: number;
  group: string;
  /** Text index in the dataset and the position of the highlighted token in it. */
  text: number;
  position: number;
  /** The window: its first position in the text, its tokens and their activations. */
  start: number;
  tokens: string[];
  activations: number[];
  /** The activation at `position`. */
  activation: number;
}

const CALLER = "featureDashboard";

/** Prepares the dashboard of one feature (see the file comment; nothing given is disposed). */
export function prepareFeatureDashboard(activations: FeatureActivations, options: FeatureDashboardDataOptions = {}): FeatureDashboardData {
  const topK = positiveInt(options.topK ?? 10, "topK");
  const topLogits = positiveInt(options.topLogits ?? 10, "topLogits");
  const contextLeft = nonNegativeInt(options.contextLeft ?? 8, "contextLeft");
  const contextRight = nonNegativeInt(options.contextRight ?? 4, "contextRight");
  const bands = nonNegativeInt(options.bands ?? 0, "bands");
  const samplesPerBand = positiveInt(options.samplesPerBand ?? 3, "samplesPerBand");
  const bins = positiveInt(options.bins ?? 40, "bins");
  const threshold = options.activeThreshold ?? 0;
  if (!Number.isFinite(threshold)) throw new Error(`${CALLER}: activeThreshold must be a finite number, got ${threshold}.`);

  const rows = activationRows(activations);
  const tokens = datasetTokens(options, rows.length);
  // Each text's real length: its token list (right padding of a tensor row is ignored).
  const lengths = rows.map((row, t) => {
    const n = tokens[t].length;
    const padded = activations instanceof tf.Tensor;
    if (n > row.length || (!padded && n !== row.length)) {
      throw new Error(`${CALLER}: text ${t} has ${n} token strings but ${row.length} activations; give one activation per token${padded ? " (a tensor row may be longer: right padding)" : ""}.`);
    }
    return n;
  });

  // One pass: extremes, active count, and the top candidates.
  let nTokens = 0;
  let nActive = 0;
  let maxActivation = -Infinity;
  let minActivation = Infinity;
  const top = new TopK(topK);
  rows.forEach((row, t) => {
    let bestPos = -1;
    for (let p = 0; p < lengths[t]; p++) {
      const v = row[p];
      if (Number.isNaN(v)) throw new Error(`${CALLER}: activation of text ${t}, position ${p} is NaN.`);
      nTokens++;
      if (v > threshold) nActive++;
      if (v > maxActivation) maxActivation = v;
      if (v < minActivation) minActivation = v;
      if (options.onePerText === false) top.offer(v, t, p);
      else if (bestPos < 0 || v > row[bestPos]) bestPos = p;
    }
    if (options.onePerText !== false && bestPos >= 0) top.offer(row[bestPos], t, bestPos);
  });
  if (nTokens === 0) throw new Error(`${CALLER}: the dataset has no tokens (every text is empty).`);

  const groupLabels: string[] = ["Top activations"];
  const groups: Candidate[][] = [top.sorted()];
  if (bands > 0 && maxActivation > threshold) {
    for (const band of sampleBands(rows, lengths, threshold, maxActivation, bands, samplesPerBand, options.seed ?? 0)) {
      groupLabels.push(band.label);
      groups.push(band.picks);
    }
  }

  const contextTokens: string[][] = [];
  const acts: number[] = [];
  const contextText: number[] = [];
  const contextPosition: number[] = [];
  const contextStart: number[] = [];
  for (const group of groups) {
    for (const { text, position } of group) {
      const start = Math.max(0, position - contextLeft);
      const end = Math.min(lengths[text], position + contextRight + 1);
      contextTokens.push(tokens[text].slice(start, end));
      for (let p = start; p < end; p++) acts.push(rows[text][p]);
      contextText.push(text);
      contextPosition.push(position);
      contextStart.push(start);
    }
  }

  const { edges, counts } = histogram(rows, lengths, threshold, bins);
  const logits = logitEffect(options, topLogits);

  return {
    title: options.title ?? "Feature",
    nTexts: rows.length,
    nTokens,
    nActive,
    density: nActive / nTokens,
    activeThreshold: threshold,
    maxActivation,
    minActivation,
    contextLeft,
    contextRight,
    groupLabels,
    groupSizes: Int32Array.from(groups.map((g) => g.length)),
    contextTokens,
    contextActivations: Float32Array.from(acts),
    contextText: Int32Array.from(contextText),
    contextPosition: Int32Array.from(contextPosition),
    contextStart: Int32Array.from(contextStart),
    histogramEdges: edges,
    histogramCounts: counts,
    ...logits,
  };
}

/** Context `index` of prepared data, with its group. */
export function contextOf(data: Pick<FeatureDashboardData, "groupLabels" | "groupSizes" | "contextTokens" | "contextActivations" | "contextText" | "contextPosition" | "contextStart">, index: number): FeatureContext {
  const n = data.contextTokens.length;
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new Error(`${CALLER}: context ${index} does not exist (there are ${n}).`);
  let offset = 0;
  for (let c = 0; c < index; c++) offset += data.contextTokens[c].length;
  const tokens = [...data.contextTokens[index]];
  const activations = Array.from(data.contextActivations.subarray(offset, offset + tokens.length));
  let group = "";
  let seen = 0;
  for (let g = 0; g < data.groupLabels.length; g++) {
    seen += data.groupSizes[g];
    if (index < seen) {
      group = data.groupLabels[g];
      break;
    }
  }
  const start = data.contextStart[index];
  const position = data.contextPosition[index];
  return { index, group, text: data.contextText[index], position, start, tokens, activations, activation: activations[position - start] };
}

// ---------------------------------------------------------------- inputs

/** Rows of activations, one per text; tensors are read without making new tensors. */
function activationRows(activations: FeatureActivations): ArrayLike<number>[] {
  if (activations instanceof tf.Tensor) {
    if (activations.rank !== 1 && activations.rank !== 2) {
      throw new Error(`${CALLER}: activations must be [nTexts, pos] (or one text's [pos]), got a tensor of shape [${activations.shape.join(", ")}]. Index the feature or neuron first, e.g. cache.get("post", 0) → [batch, pos, dMlp] then take neuron 3.`);
    }
    const data = activations.dataSync() as Float32Array;
    if (activations.rank === 1) return [data];
    const [n, len] = activations.shape;
    return Array.from({ length: n }, (_, i) => data.subarray(i * len, (i + 1) * len));
  }
  if (!Array.isArray(activations) && !ArrayBuffer.isView(activations)) {
    throw new Error(`${CALLER}: activations must be a tensor [nTexts, pos], nested number arrays or typed arrays; got ${typeof activations}.`);
  }
  const list = activations as ArrayLike<unknown>;
  if (list.length === 0) throw new Error(`${CALLER}: no activations (an empty array).`);
  const first = list[0];
  if (typeof first === "number") {
    checkNumbers(list as ArrayLike<unknown>, "activations");
    return [list as ArrayLike<number>];
  }
  return Array.from(list as ArrayLike<unknown>, (row, t) => {
    if (!Array.isArray(row) && !ArrayBuffer.isView(row)) throw new Error(`${CALLER}: activations row ${t} is not an array of numbers.`);
    checkNumbers(row as ArrayLike<unknown>, `activations row ${t}`);
    return row as ArrayLike<number>;
  });
}

function checkNumbers(list: ArrayLike<unknown>, what: string): void {
  for (let i = 0; i < list.length; i++) {
    if (typeof list[i] !== "number") throw new Error(`${CALLER}: ${what} must hold numbers; entry ${i} is ${JSON.stringify(list[i])}.`);
  }
}

function datasetTokens(options: FeatureDashboardDataOptions, nTexts: number): string[][] {
  let tokens: string[][];
  if (options.tokens !== undefined) {
    if (options.tokenIds !== undefined) throw new Error(`${CALLER}: give either \`tokens\` or \`model\` and \`tokenIds\`, not both.`);
    if (!Array.isArray(options.tokens) || !options.tokens.every((row) => Array.isArray(row) && row.every((s) => typeof s === "string"))) {
      throw new Error(`${CALLER}: \`tokens\` must be the token strings of each text (string[][]).`);
    }
    tokens = options.tokens.map((row) => [...row]);
  } else if (options.tokenIds !== undefined) {
    if (options.model === undefined) throw new Error(`${CALLER}: \`tokenIds\` need a \`model\` to turn them into token strings.`);
    const ids = options.tokenIds instanceof tf.Tensor ? (options.tokenIds.arraySync() as number[] | number[][]) : options.tokenIds;
    const rows = ids.length > 0 && !Array.isArray(ids[0]) ? [ids as unknown as number[]] : (ids as number[][]);
    tokens = rows.map((row) => options.model!.toStrTokens(row));
  } else {
    throw new Error(`${CALLER}: give the dataset's token strings (\`tokens\`, string[][]) or a \`model\` and the \`tokenIds\`, to show the contexts.`);
  }
  if (tokens.length !== nTexts) throw new Error(`${CALLER}: ${tokens.length} token list(s) for ${nTexts} row(s) of activations; give one token list per text.`);
  return tokens;
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${CALLER}: ${name} must be a positive integer, got ${value}.`);
  return value;
}

function nonNegativeInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new Error(`${CALLER}: ${name} must be a non-negative integer, got ${value}.`);
  return value;
}

// ---------------------------------------------------------------- contexts

interface Candidate {
  value: number;
  text: number;
  position: number;
}

/** Keeps the k largest values; ties go to the earlier (text, position). Memory O(k). */
class TopK {
  private readonly items: Candidate[] = [];
  constructor(private readonly k: number) {}

  offer(value: number, text: number, position: number): void {
    const items = this.items;
    if (items.length === this.k && !(value > items[items.length - 1].value)) return;
    // Insert keeping the list sorted by value, descending; equal values keep arrival order.
    let i = items.length;
    while (i > 0 && items[i - 1].value < value) i--;
    items.splice(i, 0, { value, text, position });
    if (items.length > this.k) items.pop();
  }

  sorted(): Candidate[] {
    return [...this.items];
  }
}

/**
 * Contexts sampled from `bands` equal intervals of (threshold, max], highest first: interval b
 * (0 = highest) is (lo, hi] with hi = threshold + (max − threshold)·(bands − b)/bands. Reservoir
 * sampling with a seeded generator, so memory stays O(bands · samplesPerBand).
 */
function sampleBands(
  rows: ArrayLike<number>[], lengths: number[], threshold: number, max: number, bands: number, perBand: number, seed: number,
): { label: string; picks: Candidate[] }[] {
  const generator = new SeededRandom(seed);
  const random = (): number => generator.next();
  const width = (max - threshold) / bands;
  const reservoirs: Candidate[][] = Array.from({ length: bands }, () => []);
  const seen = new Array<number>(bands).fill(0);
  rows.forEach((row, t) => {
    for (let p = 0; p < lengths[t]; p++) {
      const v = row[p];
      if (!(v > threshold)) continue;
      // From the top: band b holds (max − (b + 1)·width, max − b·width], i.e. b = floor((max − v) / width).
      const b = Math.min(bands - 1, Math.floor((max - v) / width));
      seen[b]++;
      const reservoir = reservoirs[b];
      if (reservoir.length < perBand) reservoir.push({ value: v, text: t, position: p });
      else {
        const j = Math.floor(random() * seen[b]);
        if (j < perBand) reservoir[j] = { value: v, text: t, position: p };
      }
    }
  });
  return reservoirs.map((picks, b) => {
    const hi = max - b * width;
    const lo = max - (b + 1) * width;
    return { label: `Activation in (${fmt(lo)}, ${fmt(hi)}] · ${seen[b]} token(s)`, picks: picks.sort((a, c) => c.value - a.value || a.text - c.text || a.position - c.position) };
  });
}

function fmt(v: number): string {
  return String(Number(v.toPrecision(3)));
}

// ---------------------------------------------------------------- histogram

/**
 * Equal-width bins over [min active, max active]; bin i is [edge i, edge i+1), the last bin also
 * holds its right edge. When every active value is the same, the range is widened around it
 * (±5%, or ±0.5 around 0) so the bins have a width.
 */
function histogram(rows: ArrayLike<number>[], lengths: number[], threshold: number, bins: number): { edges: Float32Array; counts: Int32Array } {
  let lo = Infinity;
  let hi = -Infinity;
  rows.forEach((row, t) => {
    for (let p = 0; p < lengths[t]; p++) {
      const v = row[p];
      if (v > threshold) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  });
  if (lo > hi) return { edges: new Float32Array(0), counts: new Int32Array(0) };
  if (lo === hi) {
    const pad = Math.abs(lo) * 0.05 || 0.5;
    lo -= pad;
    hi += pad;
  }
  const width = (hi - lo) / bins;
  const edges = Float32Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + i * width));
  const counts = new Int32Array(bins);
  rows.forEach((row, t) => {
    for (let p = 0; p < lengths[t]; p++) {
      const v = row[p];
      if (v > threshold) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
    }
  });
  return { edges, counts };
}

// ---------------------------------------------------------------- logit effect

type LogitFields = Pick<FeatureDashboardData, "boostedTokens" | "boostedIds" | "boostedLogits" | "suppressedTokens" | "suppressedIds" | "suppressedLogits">;

function logitEffect(options: FeatureDashboardDataOptions, k: number): LogitFields {
  const empty: LogitFields = {
    boostedTokens: [], boostedIds: new Int32Array(0), boostedLogits: new Float32Array(0),
    suppressedTokens: [], suppressedIds: new Int32Array(0), suppressedLogits: new Float32Array(0),
  };
  if (options.direction === undefined) {
    if (options.unembed !== undefined) throw new Error(`${CALLER}: \`unembed\` is used with a \`direction\`; give the output direction [d_model] too.`);
    return empty;
  }
  const unembed = options.unembed ?? options.model?.W_U;
  if (unembed === undefined) throw new Error(`${CALLER}: a \`direction\` needs W_U: give \`model\` (a HookedTransformer) or \`unembed\` [d_model, d_vocab].`);
  const [dModel, dVocab] = unembed instanceof tf.Tensor ? unembed.shape : [unembed.length, unembed[0]?.length ?? 0];
  if ((unembed instanceof tf.Tensor && unembed.rank !== 2) || dModel === undefined || dVocab === undefined) {
    throw new Error(`${CALLER}: unembed must be W_U [d_model, d_vocab], got shape [${(unembed as tf.Tensor).shape.join(", ")}].`);
  }
  const dirLength = options.direction instanceof tf.Tensor ? options.direction.size : options.direction.length;
  if ((options.direction instanceof tf.Tensor && options.direction.rank !== 1) || dirLength !== dModel) {
    const shape = options.direction instanceof tf.Tensor ? `[${options.direction.shape.join(", ")}]` : `${dirLength} numbers`;
    throw new Error(`${CALLER}: direction must be [d_model] = [${dModel}] (W_U is [${dModel}, ${dVocab}]), got ${shape}.`);
  }
  if (options.vocab !== undefined && options.vocab.length < dVocab) {
    throw new Error(`${CALLER}: \`vocab\` has ${options.vocab.length} strings but W_U has ${dVocab} columns.`);
  }
  // [1, dModel] @ [dModel, dVocab] → [dVocab]; every intermediate is freed by tidy, the result read then disposed.
  const effect = tf.tidy(() => {
    const dir = options.direction instanceof tf.Tensor ? options.direction.toFloat() : tf.tensor1d(Array.from(options.direction as ArrayLike<number>), "float32");
    const w = unembed instanceof tf.Tensor ? unembed : tf.tensor2d(unembed);
    return tf.matMul(dir.reshape([1, dModel]), w).reshape([dVocab]);
  });
  const values = effect.dataSync() as Float32Array;
  effect.dispose();

  const n = Math.min(k, dVocab);
  const order = (sign: 1 | -1): number[] => {
    const best = new TopK(n);
    for (let i = 0; i < dVocab; i++) best.offer(sign * values[i], i, i);
    return best.sorted().map((c) => c.text);
  };
  const boosted = order(1);
  const suppressed = order(-1);
  const name = (id: number): string => vocabString(options, id);
  return {
    boostedTokens: boosted.map(name), boostedIds: Int32Array.from(boosted), boostedLogits: Float32Array.from(boosted, (i) => values[i]),
    suppressedTokens: suppressed.map(name), suppressedIds: Int32Array.from(suppressed), suppressedLogits: Float32Array.from(suppressed, (i) => values[i]),
  };
}

function vocabString(options: FeatureDashboardDataOptions, id: number): string {
  if (options.vocab !== undefined) return options.vocab[id];
  if (options.model !== undefined) {
    try {
      return options.model.toStrTokens([id])[0] ?? `#${id}`;
    } catch {
      // An id past the tokenizer's vocabulary (dVocab may be larger): shown by number.
    }
  }
  return `#${id}`;
}
