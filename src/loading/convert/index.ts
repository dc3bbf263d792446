/**
 * Picks the converter for an HF checkpoint from its config.json (`architectures[0]`, else
 * `model_type`) and runs it.
 */
import type { tf } from "../../backend";
import type { ConvertedModel, HfConfig } from "./common";
import { convertGpt2 } from "./gpt2";
import { convertLlama } from "./llama";
import { convertNeox } from "./neox";

export type { ConvertedModel, HfConfig } from "./common";
export { convertGpt2, gpt2Config } from "./gpt2";
export { convertNeox, neoxConfig } from "./neox";
export { convertLlama, llamaConfig } from "./llama";

export type Converter = (hfConfig: object, hfWeights: Record<string, tf.Tensor>) => ConvertedModel;

interface Family {
  architecture: string;
  modelType: string;
  convert: Converter;
}

const FAMILIES: Family[] = [
  { architecture: "GPT2LMHeadModel", modelType: "gpt2", convert: convertGpt2 },
  { architecture: "GPTNeoXForCausalLM", modelType: "gpt_neox", convert: convertNeox },
  { architecture: "LlamaForCausalLM", modelType: "llama", convert: convertLlama },
];

/** HF architectures mechlab can load. */
export const SUPPORTED_ARCHITECTURES: readonly string[] = FAMILIES.map((f) => f.architecture);

/** The supported architecture an HF config.json describes; throws listing the supported ones otherwise. */
export function detectArchitecture(hfConfig: object): string {
  const raw = hfConfig as HfConfig;
  const supported = `Supported architectures: ${SUPPORTED_ARCHITECTURES.join(", ")}.`;
  const architectures = raw.architectures;
  if (Array.isArray(architectures) && architectures.length > 0) {
    const name = architectures[0];
    const family = FAMILIES.find((f) => f.architecture === name);
    if (!family) throw new Error(`mechlab cannot load architecture "${String(name)}" (config.json "architectures"). ${supported}`);
    return family.architecture;
  }
  const modelType = raw.model_type;
  if (typeof modelType === "string") {
    const family = FAMILIES.find((f) => f.modelType === modelType);
    if (!family) throw new Error(`mechlab cannot load model_type "${modelType}" (config.json has no "architectures"). ${supported}`);
    return family.architecture;
  }
  throw new Error(`config.json names neither "architectures" nor "model_type", so the model family is unknown. ${supported}`);
}

/**
 * Converts an HF checkpoint (parsed config.json and tensors by HF name) to a mechlab config and
 * TransformerLens-layout state dict. The input tensors are not disposed; the caller owns the
 * returned state dict.
 */
export function convertHfCheckpoint(hfConfig: object, hfWeights: Record<string, tf.Tensor>): ConvertedModel {
  const architecture = detectArchitecture(hfConfig);
  return FAMILIES.find((f) => f.architecture === architecture)!.convert(hfConfig, hfWeights);
}
