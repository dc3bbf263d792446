/**
 * GPT-2 (GPT2LMHeadModel: gpt2, gpt2-medium, distilgpt2, ...) Hugging Face checkpoint → mechlab
 * config and TransformerLens-layout state dict.
 *
 * HF GPT-2 uses Conv1D layers whose weights are stored [in, out] (not nn.Linear's [out, in]).
 * `c_attn` maps dModel → 3·dModel with output columns laid out q | k | v, each nHeads blocks of
 * dHead. The unembedding is tied to the token embedding unless `tie_word_embeddings` is false.
 */
import { tf } from "../../backend";
import type { ConfigInput } from "../../model/config";
import { buildStateDict, ConvertedModel, HfConfig, HfConfigReader, HfWeights, mapActivation } from "./common";

const FAMILY = "GPT-2";

/** mechlab config for an HF GPT-2 config.json. */
export function gpt2Config(hfConfig: HfConfig): ConfigInput {
  const c = new HfConfigReader(hfConfig, FAMILY);
  const dModel = c.int("n_embd");
  const nHeads = c.int("n_head");
  if (dModel % nHeads !== 0) throw new Error(`${FAMILY} config.json: n_embd (${dModel}) must be a multiple of n_head (${nHeads}).`);
  if (c.bool("scale_attn_by_inverse_layer_idx", false)) {
    throw new Error(`${FAMILY} config.json sets scale_attn_by_inverse_layer_idx, which mechlab does not implement.`);
  }
  if (c.bool("add_cross_attention", false)) {
    throw new Error(`${FAMILY} config.json sets add_cross_attention; only decoder-only GPT-2 models are supported.`);
  }
  return {
    nLayers: c.int("n_layer"),
    dModel,
    nHeads,
    dHead: dModel / nHeads,
    nCtx: c.int(["n_positions", "n_ctx"]),
    dVocab: c.int("vocab_size"),
    dMlp: c.int("n_inner", 4 * dModel),
    actFn: mapActivation(c.string("activation_function", "gelu_new"), FAMILY),
    normalizationType: "LN",
    eps: c.num("layer_norm_epsilon", 1e-5),
    positionalEmbeddingType: "standard",
    useAttnScale: c.bool("scale_attn_weights", true),
    defaultPrependBos: true,
    tokenizerName: "gpt2",
    originalArchitecture: "GPT2LMHeadModel",
  };
}

/**
 * Converts an HF GPT-2 checkpoint. Tensor names may carry the "transformer." prefix or not.
 * The input tensors are not disposed; the caller owns the returned state dict (fresh tensors,
 * none shared with the input).
 */
export function convertGpt2(hfConfig: object, hfWeights: Record<string, tf.Tensor>): ConvertedModel {
  const config = gpt2Config(hfConfig as HfConfig);
  const c = new HfConfigReader(hfConfig as HfConfig, FAMILY);
  const w = new HfWeights(hfWeights, "transformer.", FAMILY);
  const { nLayers, dModel, nCtx, dVocab } = config;
  const nHeads = config.nHeads!;
  const dHead = config.dHead;
  const dMlp = config.dMlp!;
  const tied = c.bool("tie_word_embeddings", true);

  const stateDict = buildStateDict((sd) => {
    const wte = w.body("wte.weight", [dVocab, dModel]);
    sd["embed.W_E"] = tf.clone(wte);
    sd["pos_embed.W_pos"] = tf.clone(w.body("wpe.weight", [nCtx, dModel]));
    for (let l = 0; l < nLayers; l++) {
      const h = `h.${l}`;
      const b = `blocks.${l}`;
      sd[`${b}.ln1.w`] = tf.clone(w.body(`${h}.ln_1.weight`, [dModel]));
      sd[`${b}.ln1.b`] = tf.clone(w.body(`${h}.ln_1.bias`, [dModel]));

      // c_attn: [dModel, 3·dModel] → [dModel, 3, nHeads, dHead] → [3, nHeads, dModel, dHead].
      const cAttnW = w.body(`${h}.attn.c_attn.weight`, [dModel, 3 * dModel]);
      const qkvW = tf.transpose(tf.reshape(cAttnW, [dModel, 3, nHeads, dHead]), [1, 2, 0, 3]);
      const [wq, wk, wv] = tf.unstack(qkvW, 0);
      sd[`${b}.attn.W_Q`] = wq;
      sd[`${b}.attn.W_K`] = wk;
      sd[`${b}.attn.W_V`] = wv;
      const cAttnB = w.body(`${h}.attn.c_attn.bias`, [3 * dModel]);
      const [bq, bk, bv] = tf.unstack(tf.reshape(cAttnB, [3, nHeads, dHead]), 0);
      sd[`${b}.attn.b_Q`] = bq;
      sd[`${b}.attn.b_K`] = bk;
      sd[`${b}.attn.b_V`] = bv;
      // c_proj: [dModel (= nHeads·dHead in), dModel out] → [nHeads, dHead, dModel].
      sd[`${b}.attn.W_O`] = tf.reshape(w.body(`${h}.attn.c_proj.weight`, [dModel, dModel]), [nHeads, dHead, dModel]);
      sd[`${b}.attn.b_O`] = tf.clone(w.body(`${h}.attn.c_proj.bias`, [dModel]));

      sd[`${b}.ln2.w`] = tf.clone(w.body(`${h}.ln_2.weight`, [dModel]));
      sd[`${b}.ln2.b`] = tf.clone(w.body(`${h}.ln_2.bias`, [dModel]));
      sd[`${b}.mlp.W_in`] = tf.clone(w.body(`${h}.mlp.c_fc.weight`, [dModel, dMlp]));
      sd[`${b}.mlp.b_in`] = tf.clone(w.body(`${h}.mlp.c_fc.bias`, [dMlp]));
      sd[`${b}.mlp.W_out`] = tf.clone(w.body(`${h}.mlp.c_proj.weight`, [dMlp, dModel]));
      sd[`${b}.mlp.b_out`] = tf.clone(w.body(`${h}.mlp.c_proj.bias`, [dModel]));
    }
    sd["ln_final.w"] = tf.clone(w.body("ln_f.weight", [dModel]));
    sd["ln_final.b"] = tf.clone(w.body("ln_f.bias", [dModel]));
    // Tied: logits = x · wteᵀ. HF files of tied models usually omit lm_head.weight.
    const head = tied ? wte : w.top("lm_head.weight", [dVocab, dModel]);
    sd["unembed.W_U"] = tf.transpose(head);
    sd["unembed.b_U"] = tf.zeros([dVocab]);
  });
  return { config, stateDict };
}
