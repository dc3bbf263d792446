/**
 * The parameter layout of a HookedTransformer: TransformerLens's state-dict names and shapes.
 * Loaders and converters produce exactly these keys; `model.save` writes them; the plain-loop
 * reference in tests reads them.
 *
 *   embed.W_E                [dVocab, dModel]
 *   pos_embed.W_pos          [nCtx, dModel]                (standard and shortformer only)
 *   blocks.L.ln1.w / .b      [dModel]                      (w: LN and RMS; b: LN only)
 *   blocks.L.attn.W_Q        [nHeads, dModel, dHead]       b_Q [nHeads, dHead]
 *   blocks.L.attn.W_K / W_V  [nKeyValueHeads, dModel, dHead]   b_K / b_V [nKeyValueHeads, dHead]
 *   blocks.L.attn.W_O        [nHeads, dHead, dModel]       b_O [dModel]
 *   blocks.L.ln2.w / .b      [dModel]                      (not in attnOnly models)
 *   blocks.L.mlp.W_in        [dModel, dMlp]                b_in [dMlp]
 *   blocks.L.mlp.W_gate      [dModel, dMlp]                (gatedMlp only)
 *   blocks.L.mlp.ln.w / .b   [dMlp]                        (actFn solu_ln only)
 *   blocks.L.mlp.W_out       [dMlp, dModel]                b_out [dModel]
 *   ln_final.w / .b          [dModel]
 *   unembed.W_U              [dModel, dVocabOut]           b_U [dVocabOut]
 */
import type { tf } from "../backend";
import type { Config } from "./config";

/** Parameters by TransformerLens name. The model owns the tensors it holds. */
export type StateDict = Record<string, tf.Tensor>;

function normParams(prefix: string, cfg: Config, d: number, out: Map<string, number[]>): void {
  if (cfg.normalizationType === "LN") {
    out.set(`${prefix}.w`, [d]);
    out.set(`${prefix}.b`, [d]);
  } else if (cfg.normalizationType === "RMS") {
    out.set(`${prefix}.w`, [d]);
  }
}

/** Every parameter name the config implies, with its shape, in a stable order. */
export function expectedParamShapes(cfg: Config): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const { dModel, dVocab, dVocabOut, nCtx, nHeads, dHead, dMlp, nKeyValueHeads } = cfg;
  out.set("embed.W_E", [dVocab, dModel]);
  if (cfg.positionalEmbeddingType !== "rotary") out.set("pos_embed.W_pos", [nCtx, dModel]);
  for (let l = 0; l < cfg.nLayers; l++) {
    const b = `blocks.${l}`;
    normParams(`${b}.ln1`, cfg, dModel, out);
    out.set(`${b}.attn.W_Q`, [nHeads, dModel, dHead]);
    out.set(`${b}.attn.W_K`, [nKeyValueHeads, dModel, dHead]);
    out.set(`${b}.attn.W_V`, [nKeyValueHeads, dModel, dHead]);
    out.set(`${b}.attn.W_O`, [nHeads, dHead, dModel]);
    out.set(`${b}.attn.b_Q`, [nHeads, dHead]);
    out.set(`${b}.attn.b_K`, [nKeyValueHeads, dHead]);
    out.set(`${b}.attn.b_V`, [nKeyValueHeads, dHead]);
    out.set(`${b}.attn.b_O`, [dModel]);
    if (!cfg.attnOnly) {
      normParams(`${b}.ln2`, cfg, dModel, out);
      out.set(`${b}.mlp.W_in`, [dModel, dMlp]);
      out.set(`${b}.mlp.b_in`, [dMlp]);
      if (cfg.gatedMlp) out.set(`${b}.mlp.W_gate`, [dModel, dMlp]);
      if (cfg.actFn === "solu_ln") {
        out.set(`${b}.mlp.ln.w`, [dMlp]);
        out.set(`${b}.mlp.ln.b`, [dMlp]);
      }
      out.set(`${b}.mlp.W_out`, [dMlp, dModel]);
      out.set(`${b}.mlp.b_out`, [dModel]);
    }
  }
  normParams("ln_final", cfg, dModel, out);
  out.set("unembed.W_U", [dModel, dVocabOut]);
  out.set("unembed.b_U", [dVocabOut]);
  return out;
}
