/**
 * Path patching (Wang et al., "Interpretability in the Wild"; Goldowsky-Dill et al.): the effect
 * of sender heads on the metric through one route only. Senders take their clean output; every
 * other head is frozen at its corrupted value, so the change reaches the receivers only directly
 * from the senders; then only the receivers' inputs are changed in a corrupted run:
 *
 *   receivers "logits"          the direct path sender → residual stream → unembedding (MLPs are
 *                               frozen too: nothing but the senders' outputs moves the final residual)
 *   receivers heads + "q"/"k"/"v"  sender → that input of each receiver head (e.g. S-inhibition
 *                               heads' outputs into the name movers' queries); MLPs in between are
 *                               recomputed unless freezeMlps
 *
 * Values are normalised like activation patching: 0 = the corrupted run, 1 = the clean run.
 *
 *   const grid = await pathPatchingSweep(model, { clean, corrupted, metric, receivers: { heads: [[9, 9], [9, 6]], input: "q" } });
 *   grid.values   // [nLayers, nHeads]: each head as the only sender
 *
 * Costs two forward passes per sender set (after one clean and one corrupted run).
 * Ownership: the caller owns the returned tensors.
 */
import { tf } from "../backend";
import type { ActivationCache } from "../cache/activationCache";
import type { FwdHook, HookedTransformer } from "../model/hookedTransformer";
import { interruptSignal } from "../notebook/interrupt";
import type { PatchingMetric } from "./patchingMetric";

export type Head = [layer: number, head: number];

export type PathReceivers = "logits" | { heads: Head[]; input: "q" | "k" | "v" };

export interface PathPatchingOptions {
  clean: tf.Tensor2D;
  corrupted: tf.Tensor2D;
  metric: PatchingMetric;
  receivers: PathReceivers;
  /** Freeze MLP outputs at their corrupted values too (always so for receivers "logits"). */
  freezeMlps?: boolean;
  /** Default true: (metric − corrupted) / (clean − corrupted). */
  normalize?: boolean;
}

export interface PathPatchingRun {
  /** Normalised (or raw) metric with the senders' effect along the path. */
  value: number;
  raw: number;
}

interface Runs {
  cleanCache: ActivationCache;
  corruptedCache: ActivationCache;
  cleanMetric: number;
  corruptedMetric: number;
  positions: number[];
}

function metricOfLogits(metric: PatchingMetric, logits: tf.Tensor3D, positions: number[]): number {
  return tf.tidy(() => {
    const prompts = logits.shape[0];
    const read = tf.gather(logits, tf.tensor1d(positions, "int32"), 1) as tf.Tensor3D;
    return metric.compute(read, Array.from({ length: prompts }, (_, p) => p)).mean().dataSync()[0];
  });
}

function checkHeads(model: HookedTransformer, heads: Head[], what: string): void {
  for (const h of heads) {
    if (!Array.isArray(h) || h.length !== 2 || !Number.isInteger(h[0]) || !Number.isInteger(h[1]) || h[0] < 0 || h[0] >= model.cfg.nLayers || h[1] < 0 || h[1] >= model.cfg.nHeads) {
      throw new Error(`pathPatching: ${what} must be [layer, head] pairs with layer in [0, ${model.cfg.nLayers}) and head in [0, ${model.cfg.nHeads}); got ${JSON.stringify(h)}.`);
    }
  }
}

/** Replaces the heads of `heads` (a set of head indices for this layer) in z [batch, pos, head, dHead] by `source`'s. */
function replaceHeads(act: tf.Tensor, source: tf.Tensor, heads: Set<number>, nHeads: number): tf.Tensor {
  const mask = tf.tensor(Array.from({ length: nHeads }, (_, h) => (heads.has(h) ? 1 : 0)), [1, 1, nHeads, 1]);
  return tf.add(act, tf.mul(mask, tf.sub(source, act)));
}

async function prepare(model: HookedTransformer, options: PathPatchingOptions): Promise<Runs> {
  const { clean, corrupted, metric } = options;
  if (!(clean instanceof tf.Tensor) || !(corrupted instanceof tf.Tensor) || clean.rank !== 2 || clean.shape.join() !== corrupted.shape.join()) {
    throw new Error(`pathPatching: clean and corrupted must be int32 token ids [prompts, pos] of the same shape.`);
  }
  if (options.receivers !== "logits") {
    if (!options.receivers || !["q", "k", "v"].includes(options.receivers.input)) throw new Error(`pathPatching: receivers are "logits" or { heads: [[layer, head], ...], input: "q" | "k" | "v" }.`);
    checkHeads(model, options.receivers.heads, "receiver heads");
    if (model.cfg.nKeyValueHeads !== model.cfg.nHeads && options.receivers.input !== "q") throw new Error(`pathPatching: k / v receivers of a grouped-query model are shared by several heads; patch "q" receivers, or use activation patching.`);
  }
  const length = clean.shape[1];
  const positions = (metric.positions ?? [-1]).map((p) => (p < 0 ? length + p : p));
  const keep = (name: string) => /\.attn\.hook_z$/.test(name) || /\.hook_mlp_out$/.test(name);
  const cleanRun = model.runWithCache(clean, { namesFilter: keep });
  const corruptedRun = model.runWithCache(corrupted, { namesFilter: keep });
  const cleanMetric = metricOfLogits(metric, cleanRun.output, positions);
  const corruptedMetric = metricOfLogits(metric, corruptedRun.output, positions);
  tf.dispose([cleanRun.output, corruptedRun.output]);
  return { cleanCache: cleanRun.cache, corruptedCache: corruptedRun.cache, cleanMetric, corruptedMetric, positions };
}

/** The path-patched metric for one sender set, given the prepared runs. */
function runPath(model: HookedTransformer, options: PathPatchingOptions, runs: Runs, senders: Head[]): PathPatchingRun {
  const { nLayers, nHeads, attnOnly } = model.cfg;
  const { receivers } = options;
  const freezeMlps = receivers === "logits" || (options.freezeMlps ?? false);
  const sendersByLayer = new Map<number, Set<number>>();
  for (const [l, h] of senders) sendersByLayer.set(l, new Set([...(sendersByLayer.get(l) ?? []), h]));

  // Pass 1: corrupted input; senders' z from the clean run, every other head frozen at its corrupted z
  // (and MLPs if asked), so the senders' outputs are the only change; read the receivers' inputs.
  const freezeHooks: FwdHook[] = [];
  for (let layer = 0; layer < nLayers; layer++) {
    const z = `blocks.${layer}.attn.hook_z`;
    const sendersHere = sendersByLayer.get(layer) ?? new Set<number>();
    freezeHooks.push([z, () => {
      const frozen = tf.clone(runs.corruptedCache.get(z));
      return sendersHere.size ? replaceHeads(frozen, runs.cleanCache.get(z), sendersHere, nHeads) : frozen;
    }]);
    if (freezeMlps && !attnOnly) freezeHooks.push([`blocks.${layer}.hook_mlp_out`, () => tf.clone(runs.corruptedCache.get(`blocks.${layer}.hook_mlp_out`))]);
  }
  if (receivers === "logits") {
    const raw = tf.tidy(() => metricOfLogits(options.metric, model.runWithHooks(options.corrupted, { fwdHooks: freezeHooks }) as tf.Tensor3D, runs.positions));
    return scaled(options, runs, raw);
  }
  const inputHook = (layer: number) => `blocks.${layer}.attn.hook_${receivers.input}`;
  const receiverLayers = [...new Set(receivers.heads.map(([l]) => l))];
  const { output, cache: pathCache } = model.runWithCache(options.corrupted, { fwdHooks: freezeHooks, namesFilter: receiverLayers.map(inputHook) });
  output.dispose();
  try {
    // Pass 2: corrupted input; only the receivers' inputs take pass 1's values.
    const receiverHooks: FwdHook[] = receiverLayers.map((layer) => {
      const heads = new Set(receivers.heads.filter(([l]) => l === layer).map(([, h]) => h));
      return [inputHook(layer), (act: tf.Tensor) => replaceHeads(act, pathCache.get(inputHook(layer)), heads, nHeads)];
    });
    const raw = tf.tidy(() => metricOfLogits(options.metric, model.runWithHooks(options.corrupted, { fwdHooks: receiverHooks }) as tf.Tensor3D, runs.positions));
    return scaled(options, runs, raw);
  } finally {
    pathCache.dispose();
  }
}

function scaled(options: PathPatchingOptions, runs: Runs, raw: number): PathPatchingRun {
  const normalize = options.normalize ?? true;
  return { raw, value: normalize ? (raw - runs.corruptedMetric) / (runs.cleanMetric - runs.corruptedMetric) : raw };
}

/** Path patching for one set of sender heads (all together). */
export async function pathPatching(model: HookedTransformer, options: PathPatchingOptions & { senders: Head[] }): Promise<PathPatchingRun & { cleanMetric: number; corruptedMetric: number }> {
  checkHeads(model, options.senders, "senders");
  const runs = await prepare(model, options);
  try {
    return { ...runPath(model, options, runs, options.senders), cleanMetric: runs.cleanMetric, corruptedMetric: runs.corruptedMetric };
  } finally {
    runs.cleanCache.dispose();
    runs.corruptedCache.dispose();
  }
}

/** Every head as the only sender: values [nLayers, nHeads] (raw metric in `raw`). Async between senders; stops on `signal` or a notebook interrupt (the rest NaN). */
export async function pathPatchingSweep(
  model: HookedTransformer,
  options: PathPatchingOptions & { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
): Promise<{ values: tf.Tensor2D; raw: tf.Tensor2D; cleanMetric: number; corruptedMetric: number; stopped: boolean }> {
  const { nLayers, nHeads } = model.cfg;
  const runs = await prepare(model, options);
  const values = new Float32Array(nLayers * nHeads).fill(NaN);
  const raw = new Float32Array(nLayers * nHeads).fill(NaN);
  let stopped = false;
  const interrupted = interruptSignal();
  try {
    for (let i = 0; i < nLayers * nHeads; i++) {
      if (options.signal?.aborted || interrupted.aborted) {
        stopped = true;
        break;
      }
      const run = runPath(model, options, runs, [[Math.floor(i / nHeads), i % nHeads]]);
      values[i] = run.value;
      raw[i] = run.raw;
      options.onProgress?.(i + 1, nLayers * nHeads);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    runs.cleanCache.dispose();
    runs.corruptedCache.dispose();
  }
  return { values: tf.tensor2d(values, [nLayers, nHeads]), raw: tf.tensor2d(raw, [nLayers, nHeads]), cleanMetric: runs.cleanMetric, corruptedMetric: runs.corruptedMetric, stopped };
}
