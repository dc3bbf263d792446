/**
 * Initialisation for a fresh model, as TransformerLens's init_weights: weights ~ N(0, initRange²),
 * biases 0, norm weights 1; deterministic for a given seed. With cfg.initWeights false, weights
 * are zeros (norm weights still 1), for callers that will load values themselves.
 */
import { tf } from "../backend";
import type { Config } from "./config";
import { expectedParamShapes, type StateDict } from "./stateDict";

function isBias(name: string): boolean {
  return /\.b(_[A-Za-z]+)?$/.test(name);
}

function isNormWeight(name: string): boolean {
  return /(ln1|ln2|ln_final|mlp\.ln)\.w$/.test(name);
}

/** A fresh state dict; the caller owns the tensors. */
export function initialStateDict(cfg: Config): StateDict {
  const seed = cfg.seed ?? Math.floor(Math.random() * 2 ** 31);
  const out: StateDict = {};
  let index = 0;
  for (const [name, shape] of expectedParamShapes(cfg)) {
    index += 1;
    if (isNormWeight(name)) out[name] = tf.ones(shape);
    else if (isBias(name)) out[name] = tf.zeros(shape);
    else if (!cfg.initWeights) out[name] = tf.zeros(shape);
    else out[name] = tf.randomNormal(shape, 0, cfg.initRange, "float32", seed + 7919 * index);
  }
  return out;
}
