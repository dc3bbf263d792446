/** The plain-loop references (test oracle), in one import. */
export type { RefTensor, RefWeight, RefWeights } from "./types";
export { at, fromNested } from "./tensors";
export { erf, gelu, geluFast, geluNew, relu, silu, softmax } from "./math";
export { applyRotary } from "./rotary";
export { layerNorm, rmsNorm, normalize } from "./norms";
export { mulberry32, gaussian } from "./random";
export { referenceForward, type ReferenceOptions, type ReferenceResult } from "./hookedReference";
export { referenceLoss, type ReferenceLoss } from "./loss";
export { randomWeights } from "./randomWeights";
export { hfApplyRope, type HfConfig } from "./hfCommon";
export { hfGpt2Forward, gpt2ParamShapes } from "./hfGpt2";
export { hfNeoxForward, neoxParamShapes } from "./hfNeox";
export { hfLlamaForward, llamaParamShapes } from "./hfLlama";
export { randomHfWeights, hfParamShapes, type HfKind } from "./hfRandom";
export { tinyHfConfigs } from "./hfConfigs";
