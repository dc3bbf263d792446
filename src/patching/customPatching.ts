/**
 * Patching beyond the standard grids:
 *
 *   patchActivationAt(model, { clean, corrupted, metric, hook, indices })
 *       any hook point and any list of indices into its activation (batch axis left out; null =
 *       the whole axis, a shorter index leaves the remaining axes whole), one value per index:
 *         { hook: "blocks.1.mlp.hook_post", indices: [[4, 17], [4, 18]] }  // neurons 17, 18 at position 4
 *         { hook: "blocks.0.attn.hook_pattern", indices: [[2, null, 0]] }   // head 2, every query, key 0
 *   activationPatchingEvery(model, options, "block" | "heads" | "headsByPosition")
 *       TransformerLens's summaries: resid_pre, attn_out and mlp_out by layer × position; or
 *       z, q, k, v and pattern by layer × head (or × position as well).
 *
 * Patched runs are batched and start at the hook's layer from the corrupted run's cached
 * residual stream, as in activationPatching. Values are normalised the same way (0 = corrupted,
 * 1 = clean) unless normalize is false; the caller owns the returned tensors.
 */
import { tf } from "../backend";
import type { HookedTransformer } from "../model/hookedTransformer";
import { interruptSignal } from "../notebook/interrupt";
import { activationPatching, type ActivationPatchingOptions, type PatchedActivation, type PatchingResult } from "./activationPatching";

export type ActivationIndex = (number | null)[];

export interface PatchAtOptions extends Omit<ActivationPatchingOptions, "activation" | "perPosition"> {
  /** Any hook point name. */
  hook: string;
  /** Indices into the activation without its batch axis; one patched run (per prompt) each. */
  indices: ActivationIndex[];
}

/** 0/1 mask [1, ...shape] that is 1 on the block `index` picks. */
function indexMask(shape: number[], index: ActivationIndex): tf.Tensor {
  return tf.tidy(() => {
    let mask: tf.Tensor = tf.ones([1, ...shape]);
    index.forEach((i, axis) => {
      if (i === null) return;
      const size = shape[axis];
      if (!Number.isInteger(i) || i < -size || i >= size) throw new Error(`patchActivationAt: index ${i} is outside axis ${axis + 1} of size ${size}.`);
      const oneHot = tf.oneHot(tf.tensor1d([i < 0 ? size + i : i], "int32"), size).reshape(shape.map((_, a) => (a === axis ? size : 1)));
      mask = tf.mul(mask, oneHot.expandDims(0));
    });
    return mask;
  });
}

function metricOf(model: HookedTransformer, tokens: tf.Tensor2D, options: PatchAtOptions, positions: number[], hooks = {}): number {
  return tf.tidy(() => {
    const logits = model.runWithHooks(tokens, hooks) as tf.Tensor3D;
    const read = tf.gather(logits, tf.tensor1d(positions, "int32"), 1) as tf.Tensor3D;
    return options.metric.compute(read, Array.from({ length: tokens.shape[0] }, (_, p) => p)).mean().dataSync()[0];
  });
}

export async function patchActivationAt(model: HookedTransformer, options: PatchAtOptions): Promise<PatchingResult> {
  const { clean, corrupted, hook, indices } = options;
  if (!(clean instanceof tf.Tensor) || !(corrupted instanceof tf.Tensor) || clean.rank !== 2 || clean.shape.join() !== corrupted.shape.join()) {
    throw new Error(`patchActivationAt: clean and corrupted must be int32 token ids [prompts, pos] of the same shape.`);
  }
  if (!Array.isArray(indices) || indices.length === 0) throw new Error(`patchActivationAt: give at least one index (an array over the activation's axes after batch; null for a whole axis).`);
  const [prompts, length] = clean.shape;
  const positions = (options.metric.positions ?? [-1]).map((p) => (p < 0 ? length + p : p));
  const layerMatch = /^blocks\.(\d+)\./.exec(hook);
  // ln_final and the embeddings have no block: start from the tokens (layer 0), run to the end.
  const layer = layerMatch ? Number(layerMatch[1]) : 0;
  const { output: cleanOut, cache: cleanCache } = model.runWithCache(clean, { namesFilter: [hook], returnType: "none" });
  cleanOut?.dispose?.();
  const cleanActivation = cleanCache.get(hook);
  const shape = cleanActivation.shape.slice(1);
  for (const index of indices) {
    if (!Array.isArray(index) || index.length > shape.length) throw new Error(`patchActivationAt: each index has at most ${shape.length} entries (the axes of ${hook} after batch: [${shape.join(", ")}]); got ${JSON.stringify(index)}.`);
  }
  const masks = indices.map((index) => indexMask(shape, index));
  const { output: corruptedOut, cache: corruptedCache } = model.runWithCache(corrupted, { namesFilter: layer > 0 ? [`blocks.${layer}.hook_resid_pre`] : () => false, returnType: "none" });
  corruptedOut?.dispose?.();
  const cleanMetric = metricOf(model, clean, options, positions);
  const corruptedMetric = metricOf(model, corrupted, options, positions);
  const batchSize = options.batchSize ?? 32;
  const raw = new Float32Array(indices.length).fill(NaN);
  let stopped = false;
  let forwardPasses = 4;
  const interrupted = interruptSignal();
  try {
    for (let start = 0; start < indices.length; start += batchSize) {
      if (options.signal?.aborted || interrupted.aborted) {
        stopped = true;
        break;
      }
      const group = masks.slice(start, start + batchSize);
      const copies = group.length;
      const values = tf.tidy(() => {
        const tile = (t: tf.Tensor) => tf.tile(t, [copies, ...new Array(t.rank - 1).fill(1)]);
        // Row r = patch ⌊r / prompts⌋ of the group, prompt r mod prompts.
        const mask = tf.concat(group.map((m) => tf.tile(m, [prompts, ...new Array(m.rank - 1).fill(1)])), 0);
        const cleanRows = tile(cleanActivation);
        const input = layer === 0 ? tile(corrupted) : tile(corruptedCache.get(`blocks.${layer}.hook_resid_pre`));
        const logits = model.runWithHooks(input as tf.Tensor3D, {
          startAtLayer: layer,
          fwdHooks: [[hook, (act: tf.Tensor) => tf.add(act, tf.mul(mask, tf.sub(cleanRows, act)))]],
        }) as tf.Tensor3D;
        const read = tf.gather(logits, tf.tensor1d(positions, "int32"), 1) as tf.Tensor3D;
        const promptOfRow = Array.from({ length: copies * prompts }, (_, r) => r % prompts);
        return Array.from(options.metric.compute(read, promptOfRow).reshape([copies, prompts]).mean(1).dataSync());
      });
      forwardPasses++;
      values.forEach((v, i) => (raw[start + i] = v));
      options.onProgress?.({ done: start + copies, total: indices.length, cells: values.map((v, i) => ({ index: [start + i], value: v })) });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    tf.dispose(masks);
    cleanCache.dispose();
    corruptedCache.dispose();
  }
  const normalize = options.normalize ?? true;
  const scaled = Array.from(raw, (v) => (normalize ? (v - corruptedMetric) / (cleanMetric - corruptedMetric) : v));
  return { values: tf.tensor1d(scaled), raw: tf.tensor1d(raw), axes: ["index"], cleanMetric, corruptedMetric, stopped, forwardPasses };
}

export type PatchingSummary = "block" | "heads" | "headsByPosition";

const SUMMARIES: Record<PatchingSummary, { activations: PatchedActivation[]; perPosition: boolean }> = {
  block: { activations: ["resid_pre", "attn_out", "mlp_out"], perPosition: true },
  heads: { activations: ["z", "q", "k", "v", "pattern"], perPosition: false },
  headsByPosition: { activations: ["z", "q", "k", "v", "pattern"], perPosition: true },
};

/** Several grids at once (TransformerLens's get_act_patch_block_every / attn_head_*_every), by activation name. */
export async function activationPatchingEvery(
  model: HookedTransformer,
  options: Omit<ActivationPatchingOptions, "activation" | "perPosition">,
  summary: PatchingSummary,
): Promise<Partial<Record<PatchedActivation, PatchingResult>>> {
  const plan = SUMMARIES[summary];
  if (!plan) throw new Error(`activationPatchingEvery: summary must be "block", "heads" or "headsByPosition"; got "${String(summary)}".`);
  const out: Partial<Record<PatchedActivation, PatchingResult>> = {};
  for (const activation of plan.activations) {
    if (activation === "mlp_out" && model.cfg.attnOnly) continue;
    if (options.signal?.aborted) break;
    out[activation] = await activationPatching(model, { ...options, activation, perPosition: plan.perPosition });
  }
  return out;
}
