/** Deterministic random weights for every TransformerLens parameter a config implies. */
import type { Config } from "../../src/model/config";
import { expectedParamShapes } from "../../src/model/stateDict";
import { randomValues } from "./random";
import type { RefWeights } from "./types";

/** Norm parameters: ln1/ln2/ln_final/mlp.ln weights and biases. */
const NORM_WEIGHT = /(^|\.)(ln1|ln2|ln_final|ln)\.w$/;
const NORM_BIAS = /(^|\.)(ln1|ln2|ln_final|ln)\.b$/;

/**
 * Float32 values (so tfjs can be fed exactly the same numbers): norm weights 1 + 0.2·N(0,1),
 * norm biases 0.2·N(0,1), everything else `std`·N(0,1) (default 0.5).
 */
export function randomWeights(cfg: Config, seed: number, std = 0.5): RefWeights {
  const out: RefWeights = {};
  for (const [name, shape] of expectedParamShapes(cfg)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const [mean, sd] = NORM_WEIGHT.test(name) ? [1, 0.2] : NORM_BIAS.test(name) ? [0, 0.2] : [0, std];
    out[name] = { shape: shape.slice(), data: randomValues(size, seed, name, mean, sd) };
  }
  return out;
}
