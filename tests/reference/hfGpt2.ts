/**
 * Reference forward pass of Hugging Face's GPT2LMHeadModel, from its own parameter names and
 * layout (Conv1D weights [in, out], fused c_attn = q | k | v). Eval mode: no dropout.
 */
import { causalAttention, configBoolean, configNumber, configString, conv1d, hasWeight, hfActivation, hfLayerNorm, type HfConfig } from "./hfCommon";
import { fromNested, getWeight, to1d, to2d, type Vec } from "./tensors";
import type { RefTensor, RefWeights } from "./types";

export interface Gpt2Dims {
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nPositions: number;
  vocabSize: number;
  nInner: number;
  eps: number;
  activation: string;
}

export function gpt2Dims(config: HfConfig): Gpt2Dims {
  const nEmbd = configNumber(config, "n_embd");
  return {
    nEmbd,
    nLayer: configNumber(config, "n_layer"),
    nHead: configNumber(config, "n_head"),
    nPositions: configNumber(config, "n_positions"),
    vocabSize: configNumber(config, "vocab_size"),
    nInner: configNumber(config, "n_inner", 4 * nEmbd), // null → 4 · n_embd
    eps: configNumber(config, "layer_norm_epsilon", 1e-5),
    activation: configString(config, "activation_function", "gelu_new"),
  };
}

/** HF parameter names (with the `transformer.` prefix) and shapes; lm_head is tied to wte. */
export function gpt2ParamShapes(config: HfConfig): Map<string, number[]> {
  const { nEmbd: E, nLayer, nPositions, vocabSize, nInner } = gpt2Dims(config);
  const out = new Map<string, number[]>();
  out.set("transformer.wte.weight", [vocabSize, E]);
  out.set("transformer.wpe.weight", [nPositions, E]);
  for (let i = 0; i < nLayer; i++) {
    const h = `transformer.h.${i}`;
    out.set(`${h}.ln_1.weight`, [E]);
    out.set(`${h}.ln_1.bias`, [E]);
    out.set(`${h}.attn.c_attn.weight`, [E, 3 * E]);
    out.set(`${h}.attn.c_attn.bias`, [3 * E]);
    out.set(`${h}.attn.c_proj.weight`, [E, E]);
    out.set(`${h}.attn.c_proj.bias`, [E]);
    out.set(`${h}.ln_2.weight`, [E]);
    out.set(`${h}.ln_2.bias`, [E]);
    out.set(`${h}.mlp.c_fc.weight`, [E, nInner]);
    out.set(`${h}.mlp.c_fc.bias`, [nInner]);
    out.set(`${h}.mlp.c_proj.weight`, [nInner, E]);
    out.set(`${h}.mlp.c_proj.bias`, [E]);
  }
  out.set("transformer.ln_f.weight", [E]);
  out.set("transformer.ln_f.bias", [E]);
  return out;
}

/** GPT2LMHeadModel logits, [batch, pos, vocab]. Names may carry the `transformer.` prefix or not. */
export function hfGpt2Forward(config: HfConfig, weights: RefWeights, tokens: number[][]): RefTensor {
  const dims = gpt2Dims(config);
  const { nEmbd: E, nLayer, nHead, nPositions, vocabSize, eps } = dims;
  if (E % nHead !== 0) throw new Error(`GPT-2: n_embd ${E} is not divisible by n_head ${nHead}.`);
  const headDim = E / nHead;
  const act = hfActivation(dims.activation);
  // GPT2Attention divides by √head_dim (scale_attn_weights) and optionally by layer_idx + 1.
  const scaleByDim = configBoolean(config, "scale_attn_weights", true);
  const scaleByLayer = configBoolean(config, "scale_attn_by_inverse_layer_idx", false);

  const shapes = gpt2ParamShapes(config);
  const get = (name: string) => {
    const full = `transformer.${name}`;
    const key = hasWeight(weights, full) ? full : name;
    return getWeight(weights, key, shapes.get(full)!);
  };
  const vec = (name: string) => to1d(get(name));
  const mat = (name: string) => to2d(get(name));

  const wte = mat("wte.weight"); // [vocab][E]
  const wpe = mat("wpe.weight"); // [n_positions][E]
  const lmHead = hasWeight(weights, "lm_head.weight") ? to2d(getWeight(weights, "lm_head.weight", [vocabSize, E])) : wte;
  const layers = Array.from({ length: nLayer }, (_, i) => ({
    ln1: [vec(`h.${i}.ln_1.weight`), vec(`h.${i}.ln_1.bias`)] as const,
    cAttnW: mat(`h.${i}.attn.c_attn.weight`), // [E][3E]
    cAttnB: vec(`h.${i}.attn.c_attn.bias`),
    cProjW: mat(`h.${i}.attn.c_proj.weight`), // [E][E]
    cProjB: vec(`h.${i}.attn.c_proj.bias`),
    ln2: [vec(`h.${i}.ln_2.weight`), vec(`h.${i}.ln_2.bias`)] as const,
    fcW: mat(`h.${i}.mlp.c_fc.weight`), // [E][n_inner]
    fcB: vec(`h.${i}.mlp.c_fc.bias`),
    projW: mat(`h.${i}.mlp.c_proj.weight`), // [n_inner][E]
    projB: vec(`h.${i}.mlp.c_proj.bias`),
  }));
  const lnF = [vec("ln_f.weight"), vec("ln_f.bias")] as const;

  const logits = tokens.map((row) => {
    if (row.length > nPositions) throw new Error(`GPT-2: ${row.length} tokens exceed n_positions ${nPositions}.`);
    // hidden[t] = wte[token] + wpe[t]
    let hidden: Vec[] = row.map((tok, t) => wte[tok].map((v, i) => v + wpe[t][i]));
    layers.forEach((layer, li) => {
      const a = hidden.map((x) => hfLayerNorm(x, layer.ln1[0], layer.ln1[1], eps));
      const qkv = a.map((x) => conv1d(x, layer.cAttnW, layer.cAttnB)); // [T][3E] = q | k | v
      // split_heads: head h owns dims h·headDim … (h+1)·headDim − 1 of each of q, k, v
      const heads = (offset: number) => qkv.map((y) => Array.from({ length: nHead }, (_, h) => y.slice(offset + h * headDim, offset + (h + 1) * headDim)));
      let scale = scaleByDim ? 1 / Math.sqrt(headDim) : 1;
      if (scaleByLayer) scale /= li + 1;
      const context = causalAttention(heads(0), heads(E), heads(2 * E), scale);
      const merged = context.map((hs) => hs.flat()); // merge_heads: [T][E]
      const attnOut = merged.map((x) => conv1d(x, layer.cProjW, layer.cProjB));
      hidden = hidden.map((x, t) => x.map((v, i) => v + attnOut[t][i]));
      const m = hidden.map((x) => hfLayerNorm(x, layer.ln2[0], layer.ln2[1], eps));
      const mlpOut = m.map((x) => conv1d(conv1d(x, layer.fcW, layer.fcB).map(act), layer.projW, layer.projB));
      hidden = hidden.map((x, t) => x.map((v, i) => v + mlpOut[t][i]));
    });
    const final = hidden.map((x) => hfLayerNorm(x, lnF[0], lnF[1], eps));
    // lm_head (no bias): logits[t][v] = final[t] · lm_head[v]
    return final.map((x) => lmHead.map((w) => w.reduce((s, wi, i) => s + wi * x[i], 0)));
  });
  return fromNested(logits);
}
