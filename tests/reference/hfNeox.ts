/**
 * Reference forward pass of Hugging Face's GPTNeoXForCausalLM (Pythia), from its own parameter
 * names and layout: nn.Linear weights [out, in]; query_key_value's output is laid out per head as
 * [head][q | k | v][head_size]; partial rotary over the first rotary_ndims dims of each head.
 */
import {
  causalAttention, configBoolean, configNumber, configString, hfActivation, hfApplyRope, hfLayerNorm, linear, type HfConfig,
} from "./hfCommon";
import { fromNested, getWeight, to1d, to2d, type Vec } from "./tensors";
import type { RefTensor, RefWeights } from "./types";

export interface NeoxDims {
  hidden: number;
  nLayers: number;
  nHeads: number;
  headSize: number;
  intermediate: number;
  maxPositions: number;
  vocabSize: number;
  rotaryNdims: number;
  rotaryBase: number;
  eps: number;
  parallelResidual: boolean;
  activation: string;
  attentionBias: boolean;
  tied: boolean;
}

export function neoxDims(config: HfConfig): NeoxDims {
  const hidden = configNumber(config, "hidden_size");
  const nHeads = configNumber(config, "num_attention_heads");
  if (hidden % nHeads !== 0) throw new Error(`GPT-NeoX: hidden_size ${hidden} is not divisible by num_attention_heads ${nHeads}.`);
  const headSize = hidden / nHeads;
  return {
    hidden,
    nLayers: configNumber(config, "num_hidden_layers"),
    nHeads,
    headSize,
    intermediate: configNumber(config, "intermediate_size"),
    maxPositions: configNumber(config, "max_position_embeddings"),
    vocabSize: configNumber(config, "vocab_size"),
    // rotary_ndims = int(head_size · rotary_pct)
    rotaryNdims: Math.floor(headSize * configNumber(config, "rotary_pct", 0.25)),
    rotaryBase: configNumber(config, "rotary_emb_base", configNumber(config, "rope_theta", 10000)),
    eps: configNumber(config, "layer_norm_eps", 1e-5),
    parallelResidual: configBoolean(config, "use_parallel_residual", true),
    activation: configString(config, "hidden_act", "gelu"),
    attentionBias: configBoolean(config, "attention_bias", true),
    tied: configBoolean(config, "tie_word_embeddings", false),
  };
}

/** HF parameter names and shapes (embed_out omitted when tie_word_embeddings). */
export function neoxParamShapes(config: HfConfig): Map<string, number[]> {
  const d = neoxDims(config);
  const out = new Map<string, number[]>();
  out.set("gpt_neox.embed_in.weight", [d.vocabSize, d.hidden]);
  for (let i = 0; i < d.nLayers; i++) {
    const l = `gpt_neox.layers.${i}`;
    out.set(`${l}.input_layernorm.weight`, [d.hidden]);
    out.set(`${l}.input_layernorm.bias`, [d.hidden]);
    out.set(`${l}.post_attention_layernorm.weight`, [d.hidden]);
    out.set(`${l}.post_attention_layernorm.bias`, [d.hidden]);
    out.set(`${l}.attention.query_key_value.weight`, [3 * d.hidden, d.hidden]);
    if (d.attentionBias) out.set(`${l}.attention.query_key_value.bias`, [3 * d.hidden]);
    out.set(`${l}.attention.dense.weight`, [d.hidden, d.hidden]);
    if (d.attentionBias) out.set(`${l}.attention.dense.bias`, [d.hidden]);
    out.set(`${l}.mlp.dense_h_to_4h.weight`, [d.intermediate, d.hidden]);
    out.set(`${l}.mlp.dense_h_to_4h.bias`, [d.intermediate]);
    out.set(`${l}.mlp.dense_4h_to_h.weight`, [d.hidden, d.intermediate]);
    out.set(`${l}.mlp.dense_4h_to_h.bias`, [d.hidden]);
  }
  out.set("gpt_neox.final_layer_norm.weight", [d.hidden]);
  out.set("gpt_neox.final_layer_norm.bias", [d.hidden]);
  if (!d.tied) out.set("embed_out.weight", [d.vocabSize, d.hidden]);
  return out;
}

/** GPTNeoXForCausalLM logits, [batch, pos, vocab]. */
export function hfNeoxForward(config: HfConfig, weights: RefWeights, tokens: number[][]): RefTensor {
  const d = neoxDims(config);
  const shapes = neoxParamShapes(config);
  const get = (name: string) => getWeight(weights, name, shapes.get(name)!);
  const vec = (name: string) => to1d(get(name));
  const mat = (name: string) => to2d(get(name));
  const optVec = (name: string) => (shapes.has(name) ? vec(name) : undefined);
  const act = hfActivation(d.activation);

  const embedIn = mat("gpt_neox.embed_in.weight"); // [vocab][hidden]
  const embedOut = d.tied ? embedIn : mat("embed_out.weight"); // [vocab][hidden]
  const layers = Array.from({ length: d.nLayers }, (_, i) => {
    const l = `gpt_neox.layers.${i}`;
    return {
      ln1: [vec(`${l}.input_layernorm.weight`), vec(`${l}.input_layernorm.bias`)] as const,
      ln2: [vec(`${l}.post_attention_layernorm.weight`), vec(`${l}.post_attention_layernorm.bias`)] as const,
      qkvW: mat(`${l}.attention.query_key_value.weight`), // [3·hidden][hidden]
      qkvB: optVec(`${l}.attention.query_key_value.bias`),
      denseW: mat(`${l}.attention.dense.weight`), // [hidden][hidden]
      denseB: optVec(`${l}.attention.dense.bias`),
      upW: mat(`${l}.mlp.dense_h_to_4h.weight`), // [intermediate][hidden]
      upB: vec(`${l}.mlp.dense_h_to_4h.bias`),
      downW: mat(`${l}.mlp.dense_4h_to_h.weight`), // [hidden][intermediate]
      downB: vec(`${l}.mlp.dense_4h_to_h.bias`),
    };
  });
  const lnF = [vec("gpt_neox.final_layer_norm.weight"), vec("gpt_neox.final_layer_norm.bias")] as const;
  const hs = d.headSize;

  const logits = tokens.map((row) => {
    if (row.length > d.maxPositions) throw new Error(`GPT-NeoX: ${row.length} tokens exceed max_position_embeddings ${d.maxPositions}.`);
    let hidden: Vec[] = row.map((tok) => embedIn[tok].slice());
    for (const layer of layers) {
      const a = hidden.map((x) => hfLayerNorm(x, layer.ln1[0], layer.ln1[1], d.eps));
      const qkv = a.map((x) => linear(x, layer.qkvW, layer.qkvB)); // [T][3·hidden]
      // view as [T][nHeads][3·head_size]: per head, q = [0, hs), k = [hs, 2hs), v = [2hs, 3hs)
      const part = (which: number) => qkv.map((y) => Array.from({ length: d.nHeads }, (_, h) => y.slice(h * 3 * hs + which * hs, h * 3 * hs + (which + 1) * hs)));
      const q = part(0).map((heads, t) => heads.map((x) => hfApplyRope(x, t, d.rotaryNdims, d.rotaryBase)));
      const k = part(1).map((heads, t) => heads.map((x) => hfApplyRope(x, t, d.rotaryNdims, d.rotaryBase)));
      const v = part(2);
      const context = causalAttention(q, k, v, 1 / Math.sqrt(hs)); // norm_factor = √head_size
      const attnOut = context.map((heads) => linear(heads.flat(), layer.denseW, layer.denseB));
      const mlp = (x: Vec) => linear(linear(x, layer.upW, layer.upB).map(act), layer.downW, layer.downB);
      if (d.parallelResidual) {
        // x + attn(ln1(x)) + mlp(ln2(x))
        hidden = hidden.map((x, t) => {
          const m = mlp(hfLayerNorm(x, layer.ln2[0], layer.ln2[1], d.eps));
          return x.map((val, i) => val + attnOut[t][i] + m[i]);
        });
      } else {
        // h = x + attn(ln1(x)); h + mlp(ln2(h))
        hidden = hidden.map((x, t) => {
          const h = x.map((val, i) => val + attnOut[t][i]);
          const m = mlp(hfLayerNorm(h, layer.ln2[0], layer.ln2[1], d.eps));
          return h.map((val, i) => val + m[i]);
        });
      }
    }
    const final = hidden.map((x) => hfLayerNorm(x, lnF[0], lnF[1], d.eps));
    return final.map((x) => linear(x, embedOut)); // embed_out has no bias
  });
  return fromNested(logits);
}

