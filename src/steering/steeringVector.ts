/**
 * Steering vectors (Turner et al., "Activation Addition"; Rimsky et al., contrastive activation
 * addition): a direction in the residual stream, added with a coefficient at a hook point while
 * the model runs or generates.
 *
 *   const v = steeringVectorFromPairs(model, "blocks.4.hook_resid_pre", [["Love", "Hate"]]);      // ActAdd
 *   const w = steeringVectorFromMeans(model, "blocks.4.hook_resid_pre", positives, negatives);    // difference of means
 *   const logits = await withSteering(model, v, { coefficient: 5 }, () => model.forward(prompt));
 *   const text = await withSteering(model, v, { coefficient: 5 }, () => model.generate("I think", { maxNewTokens: 20 }));
 *   v.dispose();
 *
 * From pairs (ActAdd): the activation difference of two prompts, position by position, added to
 * the first positions of the steered prompt (positions beyond the pair's length get nothing).
 * From means: mean activation over positive prompts minus mean over negative ones (averaged over
 * positions, or at the last position), added at every position.
 *
 * Ownership: a SteeringVector owns its tensor (dispose()); `withSteering` removes its hook on exit
 * (also on error) and returns what the callback returns.
 */
import { tf } from "../backend";
import type { FwdHook, HookedTransformer } from "../model/hookedTransformer";
import type { ModelInput } from "../model/tokenInput";

export interface SteeringVector {
  hook: string;
  /** [dModel] (added at every position) or [pos, dModel] (added at the first pos positions). */
  vector: tf.Tensor;
  dispose(): void;
}

export interface SteeringOptions {
  /** Scale of the added vector (default 1). */
  coefficient?: number;
  /** Add only at these positions (negative from the end); default every position (or the pair's). */
  positions?: number[];
}

function cached(model: HookedTransformer, input: ModelInput, hook: string): tf.Tensor3D {
  const { output, cache } = model.runWithCache(input, { namesFilter: [hook] });
  output.dispose();
  const activation = cache.get(hook).clone() as tf.Tensor3D; // [batch, pos, dModel]
  cache.dispose();
  if (activation.rank !== 3) {
    activation.dispose();
    throw new Error(`steering: ${hook} is not a residual-stream-shaped activation [batch, pos, d]; steer at hook_resid_pre / hook_resid_post / hook_attn_out / hook_mlp_out.`);
  }
  return activation;
}

/** ActAdd: activations of `positive` minus those of `negative` ([pos, dModel], summed over pairs); prompts of a pair must have the same length. */
export function steeringVectorFromPairs(model: HookedTransformer, hook: string, pairs: [string, string][]): SteeringVector {
  if (pairs.length === 0) throw new Error("steeringVectorFromPairs: give at least one [positive, negative] pair of prompts.");
  let total: tf.Tensor | undefined;
  for (const [positive, negative] of pairs) {
    const a = cached(model, positive, hook);
    const b = cached(model, negative, hook);
    if (a.shape[1] !== b.shape[1]) {
      tf.dispose([a, b, total as tf.Tensor]);
      throw new Error(`steeringVectorFromPairs: "${positive}" and "${negative}" have ${a.shape[1]} and ${b.shape[1]} tokens; pad the shorter (e.g. with spaces) so they line up.`);
    }
    const diff = tf.tidy(() => a.sub(b).squeeze([0]));
    tf.dispose([a, b]);
    if (total && total.shape[0] !== diff.shape[0]) {
      tf.dispose([diff, total]);
      throw new Error("steeringVectorFromPairs: all pairs must have the same number of tokens.");
    }
    const next = total ? tf.add(total, diff) : diff;
    if (total) tf.dispose([total, diff]);
    total = next;
  }
  return vectorOf(hook, total!);
}

/** Difference of means: mean activation over `positives` minus over `negatives`, [dModel]. */
export function steeringVectorFromMeans(model: HookedTransformer, hook: string, positives: ModelInput[], negatives: ModelInput[], options: { at?: "mean" | "last" } = {}): SteeringVector {
  if (positives.length === 0 || negatives.length === 0) throw new Error("steeringVectorFromMeans: give at least one positive and one negative prompt.");
  const meanOf = (inputs: ModelInput[]) =>
    tf.tidy(() => {
      const vectors = inputs.map((input) => {
        const act = cached(model, input, hook);
        const v = options.at === "last" ? act.slice([0, act.shape[1] - 1, 0], [-1, 1, -1]).mean([0, 1]) : act.mean([0, 1]);
        act.dispose();
        return v;
      });
      return tf.stack(vectors).mean(0);
    });
  const pos = meanOf(positives);
  const neg = meanOf(negatives);
  const vector = tf.sub(pos, neg);
  tf.dispose([pos, neg]);
  return vectorOf(hook, vector);
}

/** A steering vector from any direction [dModel] (a probe direction, an SAE decoder row, ...); the tensor is cloned. */
export function steeringVector(hook: string, direction: tf.Tensor): SteeringVector {
  return vectorOf(hook, direction.clone());
}

function vectorOf(hook: string, vector: tf.Tensor): SteeringVector {
  return { hook, vector, dispose: () => vector.dispose() };
}

/** The hook function that adds `coefficient · vector` to an activation [batch, pos, dModel]. */
export function steeringHook(steering: SteeringVector, options: SteeringOptions = {}): (activation: tf.Tensor) => tf.Tensor {
  const coefficient = options.coefficient ?? 1;
  return (activation) => {
    const [batch, pos, d] = activation.shape;
    const v = steering.vector;
    if (v.shape[v.rank - 1] !== d) throw new Error(`steering: the vector has size ${v.shape[v.rank - 1]} but ${steering.hook} has ${d}.`);
    // added [pos, d]: the vector at every position, or the pair's positions then zeros.
    let added: tf.Tensor = v.rank === 1 ? tf.broadcastTo(v, [pos, d]) : v.shape[0]! >= pos ? v.slice([0, 0], [pos, d]) : tf.concat([v, tf.zeros([pos - v.shape[0]!, d])], 0);
    if (options.positions) {
      const keep = new Float32Array(pos);
      for (const p of options.positions) keep[p < 0 ? pos + p : p] = 1;
      added = tf.mul(added, tf.tensor2d(keep, [pos, 1]));
    }
    return tf.add(activation, tf.mul(added.reshape([1, pos, d]), coefficient)).reshape([batch, pos, d]);
  };
}

/** Runs `fn` (sync or async, e.g. generate) with the steering hook(s) added; they are removed afterwards, also on error. */
export async function withSteering<T>(model: HookedTransformer, steering: SteeringVector | SteeringVector[], options: SteeringOptions, fn: () => T | Promise<T>): Promise<T> {
  const list = Array.isArray(steering) ? steering : [steering];
  return model.withHooks(list.map((s) => [s.hook, steeringHook(s, options)] as FwdHook), () => fn());
}
