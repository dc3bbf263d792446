/**
 * Activation patching (causal tracing): run the model on corrupted prompts, put back one
 * activation from the clean run, and see how much of the clean behaviour (the metric) returns.
 * TransformerLens's patching grids, in one function:
 *
 *   activation                 grid (perPosition false)   grid (perPosition true)
 *   resid_pre / resid_mid /    [layer]                    [layer, pos]   (default)
 *   resid_post / attn_out / mlp_out
 *   z / q / k / v / result     [layer, head] (default)    [layer, pos, head]
 *   pattern                    [layer, head] (default)    [layer, pos, head]  (pos = query position)
 *
 *   const result = await activationPatching(model, {
 *     clean, corrupted,                       // int32 token ids [prompts, pos], same shape
 *     metric: logitDiffMetric({ correct: io, incorrect: s }),
 *     activation: "resid_pre",
 *   });
 *   result.values   // [nLayers, pos]: 0 = the corrupted run's metric, 1 = the clean run's
 *
 * Done with less work than one forward pass per patch, with results equal to that naive loop
 * (tests compare them):
 *   - many patched runs go through one forward pass (`batchSize` patches × prompts rows);
 *   - a patch in layer L starts from the corrupted run's cached resid_pre of layer L: layers
 *     below it are never recomputed;
 *   - a patch at position p leaves positions before p as in the corrupted run (causal attention):
 *     batches are formed in position order and start at their first patched position, with the
 *     corrupted run's keys and values for the positions before it (pastKeyValues);
 *   - the final norm and unembedding run only at the positions the metric reads.
 *
 * Async: awaits the event loop between forward passes, reports progress (`onProgress`) and
 * stops on `signal` or, in a notebook, when the cell is interrupted (the values not computed stay
 * NaN and `stopped` is true).
 * Ownership: the caller owns `values` and `raw` in the result; inputs are not disposed.
 */
import { tf } from "../backend";
import type { PastKeyValues } from "../model/forwardPass";
import type { HookedTransformer } from "../model/hookedTransformer";
import { interruptSignal } from "../notebook/interrupt";
import type { PatchingMetric } from "./patchingMetric";

export type PatchedActivation = "resid_pre" | "resid_mid" | "resid_post" | "attn_out" | "mlp_out" | "z" | "q" | "k" | "v" | "result" | "pattern";

const RESIDUAL_KINDS: PatchedActivation[] = ["resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out"];
const HEAD_KINDS: PatchedActivation[] = ["z", "q", "k", "v", "result", "pattern"];

export interface ActivationPatchingOptions {
  /** Clean prompts, int32 [prompts, pos]. */
  clean: tf.Tensor2D;
  /** Corrupted prompts, same shape (the run that is patched). */
  corrupted: tf.Tensor2D;
  metric: PatchingMetric;
  activation: PatchedActivation;
  /** One patch per position too (default: true for residual-stream activations, false for heads). */
  perPosition?: boolean;
  /** Report (metric − corrupted) / (clean − corrupted) (default true), or the raw metric. */
  normalize?: boolean;
  /** Patched runs per forward pass (default: a quarter of a layer's cells per position, else 32); each is `prompts` rows. */
  batchSize?: number;
  signal?: AbortSignal;
  /** Called after every forward pass with the cells done so far. */
  onProgress?: (progress: PatchingProgress) => void;
}

export interface PatchingProgress {
  done: number;
  total: number;
  /** The cells finished in this forward pass: grid index and (normalised, if asked) value. */
  cells: { index: number[]; value: number }[];
}

export interface PatchingResult {
  /** The grid [axes...]: normalised values (or raw with normalize: false). */
  values: tf.Tensor;
  /** The metric of each patched run, unnormalised, same shape. */
  raw: tf.Tensor;
  /** Axis names of the grid, e.g. ["layer", "pos"]. */
  axes: string[];
  /** Metric of the clean and of the corrupted run (averaged over prompts). */
  cleanMetric: number;
  corruptedMetric: number;
  /** True when a stop ended the sweep before every cell was computed (those are NaN). */
  stopped: boolean;
  /** Forward passes run (the naive way runs one per cell). */
  forwardPasses: number;
}

/** One cell of the grid: which activation, and which part of it is replaced. */
export interface PatchCell {
  /** Index in the grid. */
  index: number[];
  layer: number;
  hook: string;
  /** Position patched (query position for patterns); undefined: all positions. */
  pos?: number;
  /** Head patched; undefined: the whole activation at that position. */
  head?: number;
}

/** The hook name of an activation at a layer. */
export function patchHookName(activation: PatchedActivation, layer: number): string {
  switch (activation) {
    case "resid_pre":
    case "resid_mid":
    case "resid_post":
    case "attn_out":
    case "mlp_out":
      return `blocks.${layer}.hook_${activation}`;
    default:
      return `blocks.${layer}.attn.hook_${activation}`;
  }
}

/** The cells of a patching grid and its axes (heads counted from the cached activation, so k/v of grouped-query models have nKeyValueHeads). */
export function patchingGrid(model: HookedTransformer, activation: PatchedActivation, positions: number, perPosition: boolean): { cells: PatchCell[]; axes: string[]; shape: number[] } {
  const { nLayers } = model.cfg;
  const isHead = HEAD_KINDS.includes(activation);
  const heads = !isHead ? 0 : activation === "k" || activation === "v" ? model.cfg.nKeyValueHeads : model.cfg.nHeads;
  const cells: PatchCell[] = [];
  for (let layer = 0; layer < nLayers; layer++) {
    const hook = patchHookName(activation, layer);
    if (!isHead) {
      if (perPosition) for (let pos = 0; pos < positions; pos++) cells.push({ index: [layer, pos], layer, hook, pos });
      else cells.push({ index: [layer], layer, hook });
    } else if (perPosition) {
      for (let pos = 0; pos < positions; pos++) for (let head = 0; head < heads; head++) cells.push({ index: [layer, pos, head], layer, hook, pos, head });
    } else for (let head = 0; head < heads; head++) cells.push({ index: [layer, head], layer, hook, head });
  }
  const axes = isHead ? (perPosition ? ["layer", "pos", "head"] : ["layer", "head"]) : perPosition ? ["layer", "pos"] : ["layer"];
  const shape = isHead ? (perPosition ? [nLayers, positions, heads] : [nLayers, heads]) : perPosition ? [nLayers, positions] : [nLayers];
  return { cells, axes, shape };
}

/**
 * A 0/1 mask [rows, ...] (broadcastable to the activation at `cell.hook`) that is 1 on the part of
 * row r's activation that `cellsOfRow[r]` patches. Activation layouts: residual-stream [b, pos, d],
 * q/k/v/z [b, pos, head, dHead], result [b, pos, head, dModel], pattern [b, head, query, key].
 */
export function patchMask(activation: PatchedActivation, shape: number[], cellsOfRow: PatchCell[]): tf.Tensor {
  const rows = cellsOfRow.length;
  const positions = activation === "pattern" ? shape[2] : shape[1];
  const heads = activation === "pattern" ? shape[1] : shape[2];
  if (!HEAD_KINDS.includes(activation)) {
    const mask = new Float32Array(rows * positions);
    cellsOfRow.forEach((cell, r) => {
      for (let p = 0; p < positions; p++) if (cell.pos === undefined || cell.pos === p) mask[r * positions + p] = 1;
    });
    return tf.tensor3d(mask, [rows, positions, 1]);
  }
  // [rows, pos, head] marks, then laid out as the activation needs.
  const mask = new Float32Array(rows * positions * heads);
  cellsOfRow.forEach((cell, r) => {
    for (let p = 0; p < positions; p++) {
      if (cell.pos !== undefined && cell.pos !== p) continue;
      for (let h = 0; h < heads; h++) if (cell.head === undefined || cell.head === h) mask[(r * positions + p) * heads + h] = 1;
    }
  });
  return tf.tidy(() => {
    const marks = tf.tensor3d(mask, [rows, positions, heads]);
    if (activation === "pattern") return marks.transpose([0, 2, 1]).expandDims(3); // [rows, head, query, 1]
    return marks.expandDims(3); // [rows, pos, head, 1]
  });
}

function resolvePositions(positions: number[], length: number): number[] {
  return positions.map((p) => {
    const resolved = p < 0 ? length + p : p;
    if (!Number.isInteger(resolved) || resolved < 0 || resolved >= length) throw new Error(`patching metric: position ${p} is outside the prompt (${length} positions).`);
    return resolved;
  });
}

/** The metric of the model's logits on `tokens` (no patch), averaged over prompts. */
function plainMetric(model: HookedTransformer, tokens: tf.Tensor2D, metric: PatchingMetric, positions: number[]): number {
  return tf.tidy(() => {
    const logits = model.forward(tokens, { returnType: "logits" }) as tf.Tensor3D;
    const read = tf.gather(logits, tf.tensor1d(positions, "int32"), 1) as tf.Tensor3D;
    const prompts = tokens.shape[0];
    return metric.compute(read, Array.from({ length: prompts }, (_, p) => p)).mean().dataSync()[0];
  });
}

function checkInputs(model: HookedTransformer, options: ActivationPatchingOptions): void {
  const { clean, corrupted } = options;
  for (const [name, t] of [["clean", clean], ["corrupted", corrupted]] as const) {
    if (!(t instanceof tf.Tensor) || t.rank !== 2 || t.dtype !== "int32") {
      throw new Error(`activationPatching: ${name} must be int32 token ids [prompts, pos]; got ${t instanceof tf.Tensor ? `${t.dtype} [${t.shape}]` : typeof t}.`);
    }
  }
  if (clean.shape[0] !== corrupted.shape[0] || clean.shape[1] !== corrupted.shape[1]) {
    throw new Error(`activationPatching: clean [${clean.shape}] and corrupted [${corrupted.shape}] must have the same shape (pad or choose prompts of equal length).`);
  }
  if (![...RESIDUAL_KINDS, ...HEAD_KINDS].includes(options.activation)) {
    throw new Error(`activationPatching: unknown activation "${String(options.activation)}"; expected one of ${[...RESIDUAL_KINDS, ...HEAD_KINDS].join(", ")}.`);
  }
  if (options.activation === "resid_mid" && (model.cfg.attnOnly || model.cfg.parallelAttnMlp)) throw new Error(`activationPatching: this model has no resid_mid (attention-only or parallel attention and MLP).`);
  if (options.activation === "mlp_out" && model.cfg.attnOnly) throw new Error(`activationPatching: this attention-only model has no mlp_out.`);
  if (options.activation === "result" && !model.cfg.useAttnResult) throw new Error(`activationPatching: "result" needs a model with useAttnResult: true (per-head outputs are not computed otherwise); patch "z" instead.`);
  if (options.batchSize !== undefined && !(Number.isInteger(options.batchSize) && options.batchSize >= 1)) throw new Error(`activationPatching: batchSize must be a whole number ≥ 1, got ${options.batchSize}.`);
}

export async function activationPatching(model: HookedTransformer, options: ActivationPatchingOptions): Promise<PatchingResult> {
  checkInputs(model, options);
  const { clean, corrupted, metric, activation, signal } = options;
  const [prompts, length] = clean.shape;
  const positions = resolvePositions(metric.positions ?? [-1], length);
  const perPosition = options.perPosition ?? !HEAD_KINDS.includes(activation);
  const normalize = options.normalize ?? true;
  const { cells, axes, shape } = patchingGrid(model, activation, length, perPosition);
  // Per position, a layer's cells go in about four batches: each starts later in the sequence, so
  // the prefix it skips outweighs the extra forward passes (measured in bench/patching.ts).
  const batchSize = options.batchSize ?? (perPosition ? Math.max(1, Math.ceil(cells.length / model.cfg.nLayers / 4)) : 32);

  const cleanMetric = plainMetric(model, clean, metric, positions);
  const corruptedMetric = plainMetric(model, corrupted, metric, positions);
  const denominator = cleanMetric - corruptedMetric;
  const scale = (value: number): number => (normalize ? (value - corruptedMetric) / denominator : value);

  const hooks = new Set(cells.map((c) => c.hook));
  const { output: cleanOut, cache: cleanCache } = model.runWithCache(clean, { namesFilter: (name: string) => hooks.has(name), returnType: "none" });
  cleanOut?.dispose?.();
  // The corrupted run's residual stream (where each layer's patched runs start) and, for patches
  // at a position, its keys and values (the positions before the patch are not recomputed).
  const keyHook = model.cfg.positionalEmbeddingType === "rotary" ? "hook_rot_k" : "hook_k";
  const corruptedNames = (name: string) => /^blocks\.[1-9]\d*\.hook_resid_pre$/.test(name) || (perPosition && (name.endsWith(`.attn.${keyHook}`) || name.endsWith(".attn.hook_v")));
  const { output: corruptedOut, cache: corruptedCache } = model.runWithCache(corrupted, { namesFilter: corruptedNames, returnType: "none" });
  corruptedOut?.dispose?.();

  // Stops on the caller's signal, and in a notebook on interrupting the cell that started it.
  const interrupted = interruptSignal();
  const raw = new Float32Array(cells.length).fill(NaN);
  const flatIndex = (index: number[]): number => index.reduce((acc, i, axis) => acc * shape[axis] + i, 0);
  let done = 0;
  let forwardPasses = 2;
  let stopped = false;
  try {
    // Cells of one layer share a starting point (that layer's corrupted resid_pre) and a hook.
    for (let layer = 0; layer < model.cfg.nLayers && !stopped; layer++) {
      // In position order, so each batch shares a long prefix of unpatched positions.
      const layerCells = cells.filter((c) => c.layer === layer).sort((a, b) => (a.pos ?? 0) - (b.pos ?? 0));
      for (let start = 0; start < layerCells.length; start += batchSize) {
        if (signal?.aborted || interrupted.aborted) {
          stopped = true;
          break;
        }
        const group = layerCells.slice(start, start + batchSize);
        // Positions before every patch of the batch (and before what the metric reads) are the corrupted run's.
        const prefix = perPosition ? Math.min(...group.map((c) => c.pos ?? 0), ...positions) : 0;
        const values = runPatchedGroup(model, { group, activation, layer, prompts, positions, metric, cleanCache, corruptedCache, corruptedTokens: corrupted, prefix, keyHook });
        forwardPasses++;
        const finished = group.map((cell, i) => {
          raw[flatIndex(cell.index)] = values[i];
          return { index: cell.index, value: scale(values[i]) };
        });
        done += group.length;
        options.onProgress?.({ done, total: cells.length, cells: finished });
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    cleanCache.dispose();
    corruptedCache.dispose();
  }
  return {
    values: tf.tensor(raw.map(scale), shape),
    raw: tf.tensor(raw, shape),
    axes,
    cleanMetric,
    corruptedMetric,
    stopped,
    forwardPasses,
  };
}

interface GroupInputs {
  group: PatchCell[];
  activation: PatchedActivation;
  layer: number;
  prompts: number;
  positions: number[];
  metric: PatchingMetric;
  cleanCache: { get(name: string): tf.Tensor };
  corruptedCache: { get(name: string): tf.Tensor };
  corruptedTokens: tf.Tensor2D;
  /** Positions [0, prefix) are taken from the corrupted run (keys and values), not recomputed. */
  prefix: number;
  keyHook: string;
}

/**
 * One forward pass for a group of cells of one layer: rows = cells × prompts, positions from
 * `prefix` on (earlier keys and values from the corrupted run). Returns each cell's metric (mean
 * over prompts).
 */
function runPatchedGroup(model: HookedTransformer, inputs: GroupInputs): number[] {
  const { group, activation, layer, prompts, metric, prefix } = inputs;
  const copies = group.length;
  const hook = group[0].hook;
  const cellsOfRow = group.flatMap((cell) => new Array<PatchCell>(prompts).fill(cell.pos === undefined ? cell : { ...cell, pos: cell.pos - prefix }));
  const promptOfRow = cellsOfRow.map((_, r) => r % prompts);
  return tf.tidy(() => {
    const tile = (t: tf.Tensor) => tf.tile(t, [copies, ...new Array(t.rank - 1).fill(1)]);
    // From position `prefix` on, along the position axis (the query axis of a pattern).
    const suffix = (t: tf.Tensor, axis = 1) => (prefix === 0 ? t : t.slice(t.shape.map((_, a) => (a === axis ? prefix : 0)), t.shape.map((_, a) => (a === axis ? -1 : -1))));
    const prefixOf = (t: tf.Tensor) => t.slice([0, 0, 0, 0], [-1, prefix, -1, -1]) as tf.Tensor4D;
    const cleanActivation = suffix(inputs.cleanCache.get(hook), activation === "pattern" ? 2 : 1); // [prompts, ...]
    const cleanRows = tile(cleanActivation);
    const mask = patchMask(activation, cleanActivation.shape, cellsOfRow);
    // Layer 0 starts from the tokens (the embedding is cheap and forward's residual input needs startAtLayer > 0).
    const start = layer === 0 ? (tile(suffix(inputs.corruptedTokens)) as tf.Tensor2D) : (tile(suffix(inputs.corruptedCache.get(`blocks.${layer}.hook_resid_pre`))) as tf.Tensor3D);
    const layers = Array.from({ length: model.cfg.nLayers }, (_, l) => l);
    const past: PastKeyValues | undefined =
      prefix === 0
        ? undefined
        : {
            length: prefix,
            keys: layers.map((l) => (l < layer ? undefined : (tile(prefixOf(inputs.corruptedCache.get(`blocks.${l}.attn.${inputs.keyHook}`))) as tf.Tensor4D))),
            values: layers.map((l) => (l < layer ? undefined : (tile(prefixOf(inputs.corruptedCache.get(`blocks.${l}.attn.hook_v`))) as tf.Tensor4D))),
          };
    // Replace the masked part of each row's activation by the clean run's: act + mask · (clean − act).
    const residual = model.runWithHooks(start, {
      startAtLayer: layer,
      stopAtLayer: model.cfg.nLayers,
      pastKeyValues: past,
      fwdHooks: [[hook, (act: tf.Tensor) => tf.add(act, tf.mul(mask, tf.sub(cleanRows, act)))]],
    }) as tf.Tensor3D;
    // Final norm and unembedding at the metric's positions only.
    const read = tf.gather(residual, tf.tensor1d(inputs.positions.map((p) => p - prefix), "int32"), 1) as tf.Tensor3D;
    const logits = model.forward(read, { startAtLayer: model.cfg.nLayers, returnType: "logits" }) as tf.Tensor3D;
    const values = metric.compute(logits, promptOfRow).reshape([copies, prompts]).mean(1);
    return Array.from(values.dataSync());
  });
}

/**
 * A patching grid as tidy rows, one per cell: its axes ({layer, pos, head} as the grid has them),
 * `value` (normalised) and `raw`; ready for `aq.from(rows)` (arquero) or the plots.
 */
export function patchingRows(result: Pick<PatchingResult, "values" | "raw" | "axes">): Record<string, number>[] {
  const shape = result.values.shape;
  const values = result.values.dataSync();
  const raw = result.raw.dataSync();
  const rows: Record<string, number>[] = [];
  for (let i = 0; i < values.length; i++) {
    const row: Record<string, number> = {};
    let rest = i;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      row[result.axes[axis]] = rest % shape[axis];
      rest = Math.floor(rest / shape[axis]);
    }
    rows.push({ ...Object.fromEntries(result.axes.map((a) => [a, row[a]])), value: values[i], raw: raw[i] });
  }
  return rows;
}
