/**
 * Reference forward pass of Hugging Face's LlamaForCausalLM, from its own parameter names and
 * layout: nn.Linear weights [out, in] (no biases unless attention_bias / mlp_bias), RMSNorm,
 * rotary over the whole head dim, grouped-query attention, SwiGLU MLP.
 */
import {
  causalAttention, configBoolean, configNumber, configString, hasWeight, hfActivation, hfApplyRope, hfRmsNorm, linear, type HfConfig,
} from "./hfCommon";
import { fromNested, getWeight, to1d, to2d, type Vec } from "./tensors";
import type { RefTensor, RefWeights } from "./types";

export interface LlamaDims {
  hidden: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  intermediate: number;
  maxPositions: number;
  vocabSize: number;
  eps: number;
  ropeTheta: number;
  activation: string;
  attentionBias: boolean;
  mlpBias: boolean;
  tied: boolean;
}

export function llamaDims(config: HfConfig): LlamaDims {
  const hidden = configNumber(config, "hidden_size");
  const nHeads = configNumber(config, "num_attention_heads");
  const nKvHeads = configNumber(config, "num_key_value_heads", nHeads);
  if (nHeads % nKvHeads !== 0) throw new Error(`Llama: num_key_value_heads ${nKvHeads} does not divide num_attention_heads ${nHeads}.`);
  const scaling = config.rope_scaling as { rope_type?: string; type?: string } | null | undefined;
  if (scaling && (scaling.rope_type ?? scaling.type ?? "default") !== "default") {
    throw new Error(`Llama reference: rope_scaling ${JSON.stringify(scaling)} is not supported.`);
  }
  return {
    hidden,
    nLayers: configNumber(config, "num_hidden_layers"),
    nHeads,
    nKvHeads,
    headDim: configNumber(config, "head_dim", hidden / nHeads),
    intermediate: configNumber(config, "intermediate_size"),
    maxPositions: configNumber(config, "max_position_embeddings"),
    vocabSize: configNumber(config, "vocab_size"),
    eps: configNumber(config, "rms_norm_eps", 1e-6),
    ropeTheta: configNumber(config, "rope_theta", 10000),
    activation: configString(config, "hidden_act", "silu"),
    attentionBias: configBoolean(config, "attention_bias", false),
    mlpBias: configBoolean(config, "mlp_bias", false),
    tied: configBoolean(config, "tie_word_embeddings", false),
  };
}

/** HF parameter names and shapes (lm_head omitted when tie_word_embeddings). */
export function llamaParamShapes(config: HfConfig): Map<string, number[]> {
  const d = llamaDims(config);
  const qDim = d.nHeads * d.headDim;
  const kvDim = d.nKvHeads * d.headDim;
  const out = new Map<string, number[]>();
  out.set("model.embed_tokens.weight", [d.vocabSize, d.hidden]);
  for (let i = 0; i < d.nLayers; i++) {
    const l = `model.layers.${i}`;
    out.set(`${l}.input_layernorm.weight`, [d.hidden]);
    out.set(`${l}.self_attn.q_proj.weight`, [qDim, d.hidden]);
    out.set(`${l}.self_attn.k_proj.weight`, [kvDim, d.hidden]);
    out.set(`${l}.self_attn.v_proj.weight`, [kvDim, d.hidden]);
    out.set(`${l}.self_attn.o_proj.weight`, [d.hidden, qDim]);
    if (d.attentionBias) {
      out.set(`${l}.self_attn.q_proj.bias`, [qDim]);
      out.set(`${l}.self_attn.k_proj.bias`, [kvDim]);
      out.set(`${l}.self_attn.v_proj.bias`, [kvDim]);
      out.set(`${l}.self_attn.o_proj.bias`, [d.hidden]);
    }
    out.set(`${l}.post_attention_layernorm.weight`, [d.hidden]);
    out.set(`${l}.mlp.gate_proj.weight`, [d.intermediate, d.hidden]);
    out.set(`${l}.mlp.up_proj.weight`, [d.intermediate, d.hidden]);
    out.set(`${l}.mlp.down_proj.weight`, [d.hidden, d.intermediate]);
    if (d.mlpBias) {
      out.set(`${l}.mlp.gate_proj.bias`, [d.intermediate]);
      out.set(`${l}.mlp.up_proj.bias`, [d.intermediate]);
      out.set(`${l}.mlp.down_proj.bias`, [d.hidden]);
    }
  }
  out.set("model.norm.weight", [d.hidden]);
  if (!d.tied) out.set("lm_head.weight", [d.vocabSize, d.hidden]);
  return out;
}

/** LlamaForCausalLM logits, [batch, pos, vocab]. */
export function hfLlamaForward(config: HfConfig, weights: RefWeights, tokens: number[][]): RefTensor {
  const d = llamaDims(config);
  const shapes = llamaParamShapes(config);
  const get = (name: string) => getWeight(weights, name, shapes.get(name)!);
  const mat = (name: string) => to2d(get(name));
  const optVec = (name: string) => (shapes.has(name) ? to1d(get(name)) : undefined);
  const act = hfActivation(d.activation);

  const embed = mat("model.embed_tokens.weight"); // [vocab][hidden]
  // Tied: lm_head is embed_tokens. (A tied checkpoint may still list lm_head.weight; prefer it.)
  const lmHead = !d.tied ? mat("lm_head.weight") : hasWeight(weights, "lm_head.weight") ? to2d(getWeight(weights, "lm_head.weight", [d.vocabSize, d.hidden])) : embed;
  const layers = Array.from({ length: d.nLayers }, (_, i) => {
    const l = `model.layers.${i}`;
    return {
      ln1: to1d(get(`${l}.input_layernorm.weight`)),
      ln2: to1d(get(`${l}.post_attention_layernorm.weight`)),
      qW: mat(`${l}.self_attn.q_proj.weight`), // [nHeads·headDim][hidden]
      kW: mat(`${l}.self_attn.k_proj.weight`), // [nKv·headDim][hidden]
      vW: mat(`${l}.self_attn.v_proj.weight`),
      oW: mat(`${l}.self_attn.o_proj.weight`), // [hidden][nHeads·headDim]
      qB: optVec(`${l}.self_attn.q_proj.bias`),
      kB: optVec(`${l}.self_attn.k_proj.bias`),
      vB: optVec(`${l}.self_attn.v_proj.bias`),
      oB: optVec(`${l}.self_attn.o_proj.bias`),
      gateW: mat(`${l}.mlp.gate_proj.weight`), // [intermediate][hidden]
      upW: mat(`${l}.mlp.up_proj.weight`),
      downW: mat(`${l}.mlp.down_proj.weight`), // [hidden][intermediate]
      gateB: optVec(`${l}.mlp.gate_proj.bias`),
      upB: optVec(`${l}.mlp.up_proj.bias`),
      downB: optVec(`${l}.mlp.down_proj.bias`),
    };
  });
  const normF = to1d(get("model.norm.weight"));
  const hd = d.headDim;
  // view(T, n, head_dim): head h owns dims h·head_dim … (h+1)·head_dim − 1
  const splitHeads = (y: Vec, n: number): Vec[] => Array.from({ length: n }, (_, h) => y.slice(h * hd, (h + 1) * hd));

  const logits = tokens.map((row) => {
    if (row.length > d.maxPositions) throw new Error(`Llama: ${row.length} tokens exceed max_position_embeddings ${d.maxPositions}.`);
    let hidden: Vec[] = row.map((tok) => embed[tok].slice());
    for (const layer of layers) {
      const a = hidden.map((x) => hfRmsNorm(x, layer.ln1, d.eps));
      const q = a.map((x, t) => splitHeads(linear(x, layer.qW, layer.qB), d.nHeads).map((h) => hfApplyRope(h, t, hd, d.ropeTheta)));
      const k = a.map((x, t) => splitHeads(linear(x, layer.kW, layer.kB), d.nKvHeads).map((h) => hfApplyRope(h, t, hd, d.ropeTheta)));
      const v = a.map((x) => splitHeads(linear(x, layer.vW, layer.vB), d.nKvHeads));
      const context = causalAttention(q, k, v, 1 / Math.sqrt(hd)); // scaling = head_dim^−0.5
      hidden = hidden.map((x, t) => {
        const o = linear(context[t].flat(), layer.oW, layer.oB);
        return x.map((val, i) => val + o[i]);
      });
      hidden = hidden.map((x) => {
        const m = hfRmsNorm(x, layer.ln2, d.eps);
        // down(act(gate(x)) * up(x))
        const gate = linear(m, layer.gateW, layer.gateB).map(act);
        const up = linear(m, layer.upW, layer.upB);
        const out = linear(gate.map((g, j) => g * up[j]), layer.downW, layer.downB);
        return x.map((val, i) => val + out[i]);
      });
    }
    const final = hidden.map((x) => hfRmsNorm(x, normF, d.eps));
    return final.map((x) => linear(x, lmHead));
  });
  return fromNested(logits);
}
