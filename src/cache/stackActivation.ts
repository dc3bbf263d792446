/**
 * TransformerLens's stack_activation: one activation of every layer below `layer`, stacked on a new
 * first axis, e.g. "pattern" → [layers, batch, nHeads, queryPos, keyPos].
 */
import { tf } from "../backend";
import type { ShortActName } from "../hooks/hookNames";
import type { ActivationCache } from "./activationCache";
import { requireCached, resolveLayer } from "./cacheAccess";

/** [layer, ...activation shape] for layers [0, layer) (undefined / −1: all). A new tensor the caller owns. */
export function stackActivation(cache: ActivationCache, name: ShortActName | string, layer?: number, layerType?: "ln1" | "ln2"): tf.Tensor {
  const method = "stackActivation";
  if (name.includes("hook_")) throw new Error(`${method} takes a short activation name ("pattern", "resid_pre", ...), not the full hook name "${name}".`);
  const target = resolveLayer(cache, layer, method);
  if (target === 0) throw new Error(`${method}: layer 0 leaves no layers to stack.`);
  const names = Array.from({ length: target }, (_, l) => cache.resolveName(name, l, layerType));
  requireCached(cache, names, method);
  return tf.tidy(() => tf.stack(names.map((n) => cache.get(n))));
}
