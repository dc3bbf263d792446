/**
 * Llama-family (LlamaForCausalLM: Llama 2, TinyLlama, SmolLM, ...) Hugging Face checkpoint →
 * mechlab config and TransformerLens-layout state dict.
 *
 * nn.Linear weights are stored [out, in]; q_proj rows are nHeads blocks of dHead, k_proj/v_proj
 * rows nKeyValueHeads blocks (grouped-query attention). RMS norms, rotary embeddings over the
 * whole head dim (rotate-half convention, which is how HF stores Llama weights), and a gated MLP:
 * down(silu(gate(x)) * up(x)) with W_gate = gate_proj and W_in = up_proj. Biases, which Llama
 * does not have, become zeros. The unembedding is `lm_head`, or the embedding when tied.
 */
import { tf } from "../../backend";
import type { ConfigInput } from "../../model/config";
import {
  buildStateDict,
  ConvertedModel,
  HfConfig,
  HfConfigReader,
  HfWeights,
  linearColsToHeads,
  linearRowsToHeads,
  mapActivation,
  ropeParameters,
} from "./common";

const FAMILY = "Llama";

/** mechlab config for an HF Llama config.json. */
export function llamaConfig(hfConfig: HfConfig): ConfigInput {
  const c = new HfConfigReader(hfConfig, FAMILY);
  const dModel = c.int("hidden_size");
  const nHeads = c.int("num_attention_heads");
  if (!c.has("head_dim") && dModel % nHeads !== 0) {
    throw new Error(`${FAMILY} config.json: hidden_size (${dModel}) must be a multiple of num_attention_heads (${nHeads}), or head_dim must be set.`);
  }
  const dHead = c.int("head_dim", dModel / nHeads);
  const nKeyValueHeads = c.int("num_key_value_heads", nHeads);
  if (nHeads % nKeyValueHeads !== 0) {
    throw new Error(`${FAMILY} config.json: num_key_value_heads (${nKeyValueHeads}) must divide num_attention_heads (${nHeads}).`);
  }
  const rope = ropeParameters(c, FAMILY);
  if (c.bool("mlp_bias", false)) {
    throw new Error(`${FAMILY} config.json sets mlp_bias; mechlab's gated MLP has no gate bias, so such checkpoints are not supported.`);
  }
  return {
    nLayers: c.int("num_hidden_layers"),
    dModel,
    nHeads,
    dHead,
    nKeyValueHeads,
    nCtx: c.int("max_position_embeddings"),
    dVocab: c.int("vocab_size"),
    dMlp: c.int("intermediate_size"),
    actFn: mapActivation(c.string("hidden_act", "silu"), FAMILY),
    gatedMlp: true,
    normalizationType: "RMS",
    eps: c.num("rms_norm_eps", 1e-6),
    positionalEmbeddingType: "rotary",
    rotaryDim: dHead,
    rotaryBase: c.num("rope_theta", rope.rope_theta ?? 10000),
    defaultPrependBos: true,
    originalArchitecture: "LlamaForCausalLM",
  };
}

/**
 * Converts an HF Llama checkpoint. Tensor names may carry the "model." prefix or not.
 * The input tensors are not disposed; the caller owns the returned state dict (fresh tensors,
 * none shared with the input).
 */
export function convertLlama(hfConfig: object, hfWeights: Record<string, tf.Tensor>): ConvertedModel {
  const config = llamaConfig(hfConfig as HfConfig);
  const c = new HfConfigReader(hfConfig as HfConfig, FAMILY);
  const w = new HfWeights(hfWeights, "model.", FAMILY);
  const { nLayers, dModel, dVocab, dHead } = config;
  const nHeads = config.nHeads!;
  const nKV = config.nKeyValueHeads!;
  const dMlp = config.dMlp!;
  const tied = c.bool("tie_word_embeddings", false);
  const attnBias = c.bool("attention_bias", false);

  const stateDict = buildStateDict((sd) => {
    const embed = w.body("embed_tokens.weight", [dVocab, dModel]);
    sd["embed.W_E"] = tf.clone(embed);
    for (let l = 0; l < nLayers; l++) {
      const h = `layers.${l}`;
      const b = `blocks.${l}`;
      sd[`${b}.ln1.w`] = tf.clone(w.body(`${h}.input_layernorm.weight`, [dModel]));
      const proj = (name: string, heads: number) => linearRowsToHeads(w.body(`${h}.self_attn.${name}.weight`, [heads * dHead, dModel]), heads, dHead);
      const bias = (name: string, heads: number) =>
        attnBias ? tf.reshape(w.body(`${h}.self_attn.${name}.bias`, [heads * dHead]), [heads, dHead]) : tf.zeros([heads, dHead]);
      sd[`${b}.attn.W_Q`] = proj("q_proj", nHeads);
      sd[`${b}.attn.W_K`] = proj("k_proj", nKV);
      sd[`${b}.attn.W_V`] = proj("v_proj", nKV);
      sd[`${b}.attn.b_Q`] = bias("q_proj", nHeads);
      sd[`${b}.attn.b_K`] = bias("k_proj", nKV);
      sd[`${b}.attn.b_V`] = bias("v_proj", nKV);
      sd[`${b}.attn.W_O`] = linearColsToHeads(w.body(`${h}.self_attn.o_proj.weight`, [dModel, nHeads * dHead]), nHeads, dHead);
      sd[`${b}.attn.b_O`] = attnBias ? tf.clone(w.body(`${h}.self_attn.o_proj.bias`, [dModel])) : tf.zeros([dModel]);

      sd[`${b}.ln2.w`] = tf.clone(w.body(`${h}.post_attention_layernorm.weight`, [dModel]));
      sd[`${b}.mlp.W_gate`] = tf.transpose(w.body(`${h}.mlp.gate_proj.weight`, [dMlp, dModel]));
      sd[`${b}.mlp.W_in`] = tf.transpose(w.body(`${h}.mlp.up_proj.weight`, [dMlp, dModel]));
      sd[`${b}.mlp.b_in`] = tf.zeros([dMlp]);
      sd[`${b}.mlp.W_out`] = tf.transpose(w.body(`${h}.mlp.down_proj.weight`, [dModel, dMlp]));
      sd[`${b}.mlp.b_out`] = tf.zeros([dModel]);
    }
    sd["ln_final.w"] = tf.clone(w.body("norm.weight", [dModel]));
    // Tied checkpoints usually omit lm_head.weight; HF uses the embedding either way.
    const head = tied ? embed : w.top("lm_head.weight", [dVocab, dModel]);
    sd["unembed.W_U"] = tf.transpose(head);
    sd["unembed.b_U"] = tf.zeros([dVocab]);
  });
  return { config, stateDict };
}
