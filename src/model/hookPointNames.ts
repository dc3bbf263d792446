/** Every hook point a model with this config has, in the order the forward pass reaches them. */
import type { Config } from "./config";
import { normHookNames } from "./components/norm";

export function modelHookNames(cfg: Config): string[] {
  const names = ["hook_embed"];
  if (cfg.positionalEmbeddingType !== "rotary") names.push("hook_pos_embed");
  for (let l = 0; l < cfg.nLayers; l++) {
    const b = `blocks.${l}`;
    names.push(`${b}.hook_resid_pre`, ...normHookNames(`${b}.ln1`, cfg.normalizationType));
    names.push(`${b}.attn.hook_q`, `${b}.attn.hook_k`, `${b}.attn.hook_v`);
    if (cfg.positionalEmbeddingType === "rotary") names.push(`${b}.attn.hook_rot_q`, `${b}.attn.hook_rot_k`);
    names.push(`${b}.attn.hook_attn_scores`, `${b}.attn.hook_pattern`, `${b}.attn.hook_z`);
    if (cfg.useAttnResult) names.push(`${b}.attn.hook_result`);
    names.push(`${b}.hook_attn_out`);
    if (cfg.attnOnly) {
      names.push(`${b}.hook_resid_post`);
      continue;
    }
    if (!cfg.parallelAttnMlp) names.push(`${b}.hook_resid_mid`);
    names.push(...normHookNames(`${b}.ln2`, cfg.normalizationType));
    if (cfg.gatedMlp) names.push(`${b}.mlp.hook_pre`, `${b}.mlp.hook_pre_linear`);
    else names.push(`${b}.mlp.hook_pre`);
    if (cfg.actFn === "solu_ln" && !cfg.gatedMlp) names.push(`${b}.mlp.hook_mid`, `${b}.mlp.ln.hook_scale`, `${b}.mlp.ln.hook_normalized`);
    names.push(`${b}.mlp.hook_post`, `${b}.hook_mlp_out`, `${b}.hook_resid_post`);
  }
  names.push(...normHookNames("ln_final", cfg.normalizationType));
  return names;
}
