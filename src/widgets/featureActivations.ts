/**
 * A feature's or neuron's activations over a dataset, for the feature dashboard: the model runs
 * over the token ids in batches, caching only the one hook; each batch's hook activations
 * [batch, pos, d] become [batch, pos] — one neuron (`index` on the last axis) or any function of
 * them (`encode`, e.g. an SAE encoder's feature f). Async: it yields to the event loop between
 * batches, reports progress, and stops on its AbortSignal or a kernel interrupt.
 *
 *   const acts = await featureActivations(model, ids, { hook: "blocks.0.mlp.hook_post", index: 3 });
 *   featureDashboard(acts, { model, tokenIds: ids, direction })
 *
 * Ownership: `tokenIds` is not disposed; tensors `encode` returns are disposed here; the result
 * is plain Float32Arrays (one per text), so no tensor stays alive.
 */
import { tf } from "../backend";
import type { HookName } from "../hooks/hookNames";
import type { HookedTransformer } from "../model/hookedTransformer";
import { interruptSignal } from "../notebook/interrupt";

export interface FeatureActivationsOptions {
  /** The hook to read, e.g. "blocks.0.mlp.hook_post" or "blocks.1.hook_resid_post". */
  hook: HookName | string;
  /** A neuron: the index on the hook's last axis. */
  index?: number;
  /** Or: a function from the hook's activations [batch, pos, d] to the feature's [batch, pos] (its tensors are disposed here). */
  encode?: (activations: tf.Tensor) => tf.Tensor;
  /** Texts per model run (default 8). */
  batchSize?: number;
  signal?: AbortSignal;
  /** Called after each batch with the texts done and the total. */
  onProgress?: (done: number, total: number) => void;
}

const CALLER = "featureActivations";

/** [nTexts][pos] activations (see the file comment). Rows of `tokenIds` must have one length. */
export async function featureActivations(model: HookedTransformer, tokenIds: number[][] | tf.Tensor, options: FeatureActivationsOptions): Promise<Float32Array[]> {
  const rows = tokenIds instanceof tf.Tensor ? idRows(tokenIds) : tokenIds;
  if (!Array.isArray(rows) || rows.length === 0 || !rows.every((r) => Array.isArray(r))) {
    throw new Error(`${CALLER}: tokenIds must be [nTexts, pos] (a 2-D tensor or number[][]) with at least one text.`);
  }
  const length = rows[0].length;
  const ragged = rows.findIndex((r) => r.length !== length);
  if (ragged >= 0) throw new Error(`${CALLER}: text ${ragged} has ${rows[ragged].length} token ids but text 0 has ${length}; pad the texts to one length (model.toTokens does).`);
  if ((options.index === undefined) === (options.encode === undefined)) {
    throw new Error(`${CALLER}: give either \`index\` (a neuron on the hook's last axis) or \`encode\` (a function to the feature's [batch, pos]), not both or neither.`);
  }
  const batchSize = options.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`${CALLER}: batchSize must be a positive integer, got ${batchSize}.`);
  model.hookPoint(options.hook); // an unknown name fails here, listing the closest valid ones
  // Blocks after the hook's layer are not needed.
  const layer = /^blocks\.(\d+)\./.exec(options.hook);
  const stopAtLayer = layer ? Number(layer[1]) + 1 : undefined;

  const interrupt = interruptSignal();
  const out: Float32Array[] = [];
  for (let first = 0; first < rows.length; first += batchSize) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (options.signal?.aborted) throw namedError(`${CALLER}: stopped by its AbortSignal.`, "AbortError");
    if (interrupt.aborted) throw namedError(`${CALLER}: the cell that started it was interrupted.`, "Interrupted");
    const batch = rows.slice(first, first + batchSize);
    const feature = runBatch(model, batch, options, stopAtLayer); // [batch, pos]
    const data = (await feature.data()) as Float32Array;
    feature.dispose();
    for (let b = 0; b < batch.length; b++) out.push(data.slice(b * length, (b + 1) * length));
    options.onProgress?.(Math.min(rows.length, first + batchSize), rows.length);
  }
  return out;
}

/** The feature's [batch, pos] for one batch; every other tensor made is disposed. */
function runBatch(model: HookedTransformer, batch: number[][], options: FeatureActivationsOptions, stopAtLayer: number | undefined): tf.Tensor {
  const ids = tf.tensor2d(batch, [batch.length, batch[0].length], "int32");
  try {
    const { output, cache } = model.runWithCache(ids as tf.Tensor2D, { namesFilter: options.hook, ...(stopAtLayer === undefined ? {} : { stopAtLayer }) });
    output.dispose();
    try {
      const acts = cache.get(options.hook); // [batch, pos, d]
      return tf.tidy(() => {
        let feature: tf.Tensor;
        if (options.encode) feature = options.encode(acts);
        else {
          const d = acts.shape[acts.rank - 1];
          if (!Number.isInteger(options.index) || options.index! < 0 || options.index! >= d) {
            throw new Error(`${CALLER}: index ${options.index} is out of range for ${options.hook}, whose last axis has ${d} entries.`);
          }
          feature = acts.gather([options.index!], acts.rank - 1).squeeze([acts.rank - 1]);
        }
        const expected = [batch.length, batch[0].length];
        if (feature.rank !== 2 || feature.shape[0] !== expected[0] || feature.shape[1] !== expected[1]) {
          throw new Error(`${CALLER}: the feature of ${options.hook} must be [batch, pos] = [${expected.join(", ")}], got [${feature.shape.join(", ")}]${options.encode ? " from `encode`" : ""}.`);
        }
        return feature.toFloat();
      });
    } finally {
      cache.dispose();
    }
  } finally {
    ids.dispose();
  }
}

function idRows(ids: tf.Tensor): number[][] {
  if (ids.rank !== 2) throw new Error(`${CALLER}: tokenIds must be [nTexts, pos], got a tensor of shape [${ids.shape.join(", ")}].`);
  return ids.arraySync() as number[][];
}

function namedError(message: string, name: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}
