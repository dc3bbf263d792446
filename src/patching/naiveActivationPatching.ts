/**
 * Activation patching the plain way: one full forward pass of the corrupted prompts per cell,
 * with a hook that splices the clean activation into the patched slice (by slicing and
 * concatenating, not by masks). Slow, obviously right: the reference `activationPatching` is
 * tested against, and the baseline of the patching benchmark. Same options and result.
 */
import { tf } from "../backend";
import type { HookedTransformer } from "../model/hookedTransformer";
import { patchingGrid, type ActivationPatchingOptions, type PatchCell, type PatchingResult } from "./activationPatching";

/** `act` with the sub-block picked by `picks` (axis, index) replaced by the same block of `clean`. */
function splice(act: tf.Tensor, clean: tf.Tensor, picks: { axis: number; index: number }[]): tf.Tensor {
  if (picks.length === 0) return clean;
  const [{ axis, index }, ...rest] = picks;
  const size = act.shape[axis]!;
  const part = (t: tf.Tensor, from: number, to: number) => {
    const begin = new Array(t.rank).fill(0);
    begin[axis] = from;
    const sizes = t.shape.slice();
    sizes[axis] = to - from;
    return tf.slice(t, begin, sizes);
  };
  const pieces = [part(act, 0, index), splice(part(act, index, index + 1), part(clean, index, index + 1), rest), part(act, index + 1, size)];
  return tf.concat(pieces.filter((p) => p.shape[axis] !== 0), axis);
}

/** Which (axis, index) blocks a cell patches in its activation's layout. */
function picksOf(options: ActivationPatchingOptions, cell: PatchCell): { axis: number; index: number }[] {
  const picks: { axis: number; index: number }[] = [];
  if (options.activation === "pattern") {
    if (cell.head !== undefined) picks.push({ axis: 1, index: cell.head });
    if (cell.pos !== undefined) picks.push({ axis: 2, index: cell.pos });
  } else {
    if (cell.pos !== undefined) picks.push({ axis: 1, index: cell.pos });
    if (cell.head !== undefined) picks.push({ axis: 2, index: cell.head });
  }
  return picks;
}

export async function naiveActivationPatching(model: HookedTransformer, options: ActivationPatchingOptions): Promise<PatchingResult> {
  const { clean, corrupted, metric, activation } = options;
  const [prompts, length] = clean.shape;
  const positions = (metric.positions ?? [-1]).map((p) => (p < 0 ? length + p : p));
  const perPosition = options.perPosition ?? !["z", "q", "k", "v", "result", "pattern"].includes(activation);
  const { cells, axes, shape } = patchingGrid(model, activation, length, perPosition);
  const promptOfRow = Array.from({ length: prompts }, (_, p) => p);
  const metricOf = (logits: tf.Tensor3D): number => tf.tidy(() => metric.compute(tf.gather(logits, tf.tensor1d(positions, "int32"), 1) as tf.Tensor3D, promptOfRow).mean().dataSync()[0]);

  const cleanLogits = model.forward(clean, { returnType: "logits" }) as tf.Tensor3D;
  const corruptedLogits = model.forward(corrupted, { returnType: "logits" }) as tf.Tensor3D;
  const cleanMetric = metricOf(cleanLogits);
  const corruptedMetric = metricOf(corruptedLogits);
  tf.dispose([cleanLogits, corruptedLogits]);
  const { output, cache } = model.runWithCache(clean, { returnType: "none" });
  output?.dispose?.();
  const raw: number[] = [];
  try {
    for (const cell of cells) {
      if (options.signal?.aborted) break;
      const cleanActivation = cache.get(cell.hook);
      const logits = model.runWithHooks(corrupted, { fwdHooks: [[cell.hook, (act: tf.Tensor) => splice(act, cleanActivation, picksOf(options, cell))]] }) as tf.Tensor3D;
      raw.push(metricOf(logits));
      logits.dispose();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    cache.dispose();
  }
  const stopped = raw.length < cells.length;
  while (raw.length < cells.length) raw.push(NaN);
  const normalize = options.normalize ?? true;
  const scaled = raw.map((v) => (normalize ? (v - corruptedMetric) / (cleanMetric - corruptedMetric) : v));
  return { values: tf.tensor(scaled, shape), raw: tf.tensor(raw, shape), axes, cleanMetric, corruptedMetric, stopped, forwardPasses: cells.length + 2 };
}
