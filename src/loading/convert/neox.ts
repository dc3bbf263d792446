/**
 * GPT-NeoX (GPTNeoXForCausalLM: the Pythia suite, ...) Hugging Face checkpoint → mechlab config
 * and TransformerLens-layout state dict.
 *
 * nn.Linear weights are stored [out, in]. `query_key_value` maps dModel → 3·dModel with output
 * rows laid out per head: [head][q | k | v][dHead]. Rotary embeddings cover the first
 * dHead·rotary_pct dims of each head (rotate-half convention). The unembedding (`embed_out`) is
 * not tied to the embedding unless `tie_word_embeddings` says so.
 */
import { tf } from "../../backend";
import type { ConfigInput } from "../../model/config";
import { buildStateDict, ConvertedModel, HfConfig, HfConfigReader, HfWeights, linearColsToHeads, mapActivation, ropeParameters } from "./common";

const FAMILY = "GPT-NeoX";

/** mechlab config for an HF GPT-NeoX config.json. */
export function neoxConfig(hfConfig: HfConfig): ConfigInput {
  const c = new HfConfigReader(hfConfig, FAMILY);
  const dModel = c.int("hidden_size");
  const nHeads = c.int("num_attention_heads");
  if (dModel % nHeads !== 0) {
    throw new Error(`${FAMILY} config.json: hidden_size (${dModel}) must be a multiple of num_attention_heads (${nHeads}).`);
  }
  const dHead = dModel / nHeads;
  // Newer configs spell these partial_rotary_factor / rope_theta, or nest them in rope_parameters.
  const rope = ropeParameters(c, FAMILY);
  const rotaryPct = c.num(["rotary_pct", "partial_rotary_factor"], rope.partial_rotary_factor ?? 0.25);
  const rotaryDim = Math.floor(dHead * rotaryPct);
  if (rotaryDim <= 0 || rotaryDim % 2 !== 0) {
    throw new Error(`${FAMILY} config.json: rotary_pct ${rotaryPct} gives ${rotaryDim} rotary dims per head; mechlab needs a positive even number.`);
  }
  return {
    nLayers: c.int("num_hidden_layers"),
    dModel,
    nHeads,
    dHead,
    nCtx: c.int("max_position_embeddings"),
    dVocab: c.int("vocab_size"),
    dMlp: c.int("intermediate_size", 4 * dModel),
    actFn: mapActivation(c.string("hidden_act", "gelu"), FAMILY),
    normalizationType: "LN",
    eps: c.num("layer_norm_eps", 1e-5),
    positionalEmbeddingType: "rotary",
    rotaryDim,
    rotaryBase: c.num(["rotary_emb_base", "rope_theta"], rope.rope_theta ?? 10000),
    parallelAttnMlp: c.bool("use_parallel_residual", true),
    defaultPrependBos: true,
    originalArchitecture: "GPTNeoXForCausalLM",
  };
}

/**
 * Converts an HF GPT-NeoX checkpoint. Tensor names may carry the "gpt_neox." prefix or not.
 * The input tensors are not disposed; the caller owns the returned state dict (fresh tensors,
 * none shared with the input).
 */
export function convertNeox(hfConfig: object, hfWeights: Record<string, tf.Tensor>): ConvertedModel {
  const config = neoxConfig(hfConfig as HfConfig);
  const c = new HfConfigReader(hfConfig as HfConfig, FAMILY);
  const w = new HfWeights(hfWeights, "gpt_neox.", FAMILY);
  const { nLayers, dModel, dVocab } = config;
  const nHeads = config.nHeads!;
  const dHead = config.dHead;
  const dMlp = config.dMlp!;
  const tied = c.bool("tie_word_embeddings", false);
  // Older configs have no attention_bias key: their checkpoints always have the biases.
  const attnBias = c.bool("attention_bias", true);

  const stateDict = buildStateDict((sd) => {
    const embedIn = w.body("embed_in.weight", [dVocab, dModel]);
    sd["embed.W_E"] = tf.clone(embedIn);
    for (let l = 0; l < nLayers; l++) {
      const h = `layers.${l}`;
      const b = `blocks.${l}`;
      sd[`${b}.ln1.w`] = tf.clone(w.body(`${h}.input_layernorm.weight`, [dModel]));
      sd[`${b}.ln1.b`] = tf.clone(w.body(`${h}.input_layernorm.bias`, [dModel]));

      // query_key_value rows: [nHeads, 3, dHead] × dModel columns → [3, nHeads, dModel, dHead].
      const qkvW = w.body(`${h}.attention.query_key_value.weight`, [3 * dModel, dModel]);
      const [wq, wk, wv] = tf.unstack(tf.transpose(tf.reshape(qkvW, [nHeads, 3, dHead, dModel]), [1, 0, 3, 2]), 0);
      sd[`${b}.attn.W_Q`] = wq;
      sd[`${b}.attn.W_K`] = wk;
      sd[`${b}.attn.W_V`] = wv;
      if (attnBias) {
        const qkvB = w.body(`${h}.attention.query_key_value.bias`, [3 * dModel]);
        const [bq, bk, bv] = tf.unstack(tf.transpose(tf.reshape(qkvB, [nHeads, 3, dHead]), [1, 0, 2]), 0);
        sd[`${b}.attn.b_Q`] = bq;
        sd[`${b}.attn.b_K`] = bk;
        sd[`${b}.attn.b_V`] = bv;
      } else {
        for (const k of ["b_Q", "b_K", "b_V"]) sd[`${b}.attn.${k}`] = tf.zeros([nHeads, dHead]);
      }
      sd[`${b}.attn.W_O`] = linearColsToHeads(w.body(`${h}.attention.dense.weight`, [dModel, dModel]), nHeads, dHead);
      sd[`${b}.attn.b_O`] = attnBias ? tf.clone(w.body(`${h}.attention.dense.bias`, [dModel])) : tf.zeros([dModel]);

      sd[`${b}.ln2.w`] = tf.clone(w.body(`${h}.post_attention_layernorm.weight`, [dModel]));
      sd[`${b}.ln2.b`] = tf.clone(w.body(`${h}.post_attention_layernorm.bias`, [dModel]));
      sd[`${b}.mlp.W_in`] = tf.transpose(w.body(`${h}.mlp.dense_h_to_4h.weight`, [dMlp, dModel]));
      sd[`${b}.mlp.b_in`] = tf.clone(w.body(`${h}.mlp.dense_h_to_4h.bias`, [dMlp]));
      sd[`${b}.mlp.W_out`] = tf.transpose(w.body(`${h}.mlp.dense_4h_to_h.weight`, [dModel, dMlp]));
      sd[`${b}.mlp.b_out`] = tf.clone(w.body(`${h}.mlp.dense_4h_to_h.bias`, [dModel]));
    }
    sd["ln_final.w"] = tf.clone(w.body("final_layer_norm.weight", [dModel]));
    sd["ln_final.b"] = tf.clone(w.body("final_layer_norm.bias", [dModel]));
    const head = tied ? embedIn : w.top("embed_out.weight", [dVocab, dModel]);
    sd["unembed.W_U"] = tf.transpose(head);
    sd["unembed.b_U"] = tf.zeros([dVocab]);
  });
  return { config, stateDict };
}
