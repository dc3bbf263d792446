/** Deterministic random weights keyed by Hugging Face names, with the HF shapes. */
import type { HfConfig } from "./hfCommon";
import { gpt2ParamShapes } from "./hfGpt2";
import { llamaParamShapes } from "./hfLlama";
import { neoxParamShapes } from "./hfNeox";
import { randomValues } from "./random";
import type { RefWeights } from "./types";

export type HfKind = "gpt2" | "neox" | "llama";

export function hfParamShapes(kind: HfKind, config: HfConfig): Map<string, number[]> {
  switch (kind) {
    case "gpt2":
      return gpt2ParamShapes(config);
    case "neox":
      return neoxParamShapes(config);
    case "llama":
      return llamaParamShapes(config);
  }
}

/** ln_1, ln_2, ln_f, *_layernorm, final_layer_norm, model.norm. */
const NORM = /(ln_\d+|ln_f|layernorm|layer_norm|(^|\.)norm)\.(weight|bias)$/;

/**
 * Float32 values: norm weights 1 + 0.2·N(0,1), norm biases 0.2·N(0,1), everything else
 * `std`·N(0,1) (default 0.5). GPT-2 names carry the `transformer.` prefix; tied heads are absent.
 */
export function randomHfWeights(kind: HfKind, config: HfConfig, seed: number, std = 0.5): RefWeights {
  const out: RefWeights = {};
  for (const [name, shape] of hfParamShapes(kind, config)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const norm = NORM.exec(name);
    const [mean, sd] = norm ? (norm[3] === "weight" ? [1, 0.2] : [0, 0.2]) : [0, std];
    out[name] = { shape: shape.slice(), data: randomValues(size, seed, `${kind}:${name}`, mean, sd) };
  }
  return out;
}
