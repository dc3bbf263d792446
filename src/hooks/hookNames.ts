/**
 * TransformerLens's hook point names, exactly, as a TypeScript union: a misspelled name fails to
 * compile and editors autocomplete them. At run time (computed names, plain JS) `resolveHookName`
 * checks a name against a model's hook points and suggests the closest valid ones.
 */

/** Hook points inside `blocks.L.` */
export type BlockHookSuffix =
  | "hook_resid_pre"
  | "hook_resid_mid"
  | "hook_resid_post"
  | "hook_attn_out"
  | "hook_mlp_out"
  | "ln1.hook_scale"
  | "ln1.hook_normalized"
  | "ln2.hook_scale"
  | "ln2.hook_normalized"
  | "attn.hook_q"
  | "attn.hook_k"
  | "attn.hook_v"
  | "attn.hook_rot_q"
  | "attn.hook_rot_k"
  | "attn.hook_attn_scores"
  | "attn.hook_pattern"
  | "attn.hook_z"
  | "attn.hook_result"
  | "mlp.hook_pre"
  | "mlp.hook_pre_linear"
  | "mlp.hook_mid"
  | "mlp.hook_post"
  | "mlp.ln.hook_scale"
  | "mlp.ln.hook_normalized";

export type BlockHookName = `blocks.${number}.${BlockHookSuffix}`;

export type HookName =
  | "hook_embed"
  | "hook_pos_embed"
  | BlockHookName
  | "ln_final.hook_scale"
  | "ln_final.hook_normalized";

/**
 * Short activation names, as TransformerLens's `get_act_name` accepts them:
 * `cache.get("pattern", 1)` is `blocks.1.attn.hook_pattern`.
 */
export type ShortActName =
  | "embed" | "pos_embed"
  | "resid_pre" | "resid_mid" | "resid_post" | "attn_out" | "mlp_out"
  | "q" | "k" | "v" | "rot_q" | "rot_k" | "attn_scores" | "pattern" | "z" | "result"
  | "pre" | "pre_linear" | "mid" | "post"
  | "scale" | "normalized"
  // TransformerLens aliases
  | "attn" | "attn_logits" | "query" | "key" | "value" | "mlp_pre" | "mlp_mid" | "mlp_post";

const SHORT_TO_SUFFIX: Record<string, string> = {
  resid_pre: "hook_resid_pre",
  resid_mid: "hook_resid_mid",
  resid_post: "hook_resid_post",
  attn_out: "hook_attn_out",
  mlp_out: "hook_mlp_out",
  q: "attn.hook_q", query: "attn.hook_q",
  k: "attn.hook_k", key: "attn.hook_k",
  v: "attn.hook_v", value: "attn.hook_v",
  rot_q: "attn.hook_rot_q",
  rot_k: "attn.hook_rot_k",
  attn_scores: "attn.hook_attn_scores", attn_logits: "attn.hook_attn_scores",
  pattern: "attn.hook_pattern", attn: "attn.hook_pattern",
  z: "attn.hook_z",
  result: "attn.hook_result",
  pre: "mlp.hook_pre", mlp_pre: "mlp.hook_pre",
  pre_linear: "mlp.hook_pre_linear",
  mid: "mlp.hook_mid", mlp_mid: "mlp.hook_mid",
  post: "mlp.hook_post", mlp_post: "mlp.hook_post",
};

/**
 * TransformerLens's `get_act_name`: a full hook name from a short name and a layer.
 * `layerType` picks the norm for "scale" / "normalized": "ln1", "ln2" or "ln_final" (no layer).
 */
export function actName(name: ShortActName | string, layer?: number, layerType?: "ln1" | "ln2" | "ln_final"): string {
  if (name === "embed" || name === "pos_embed") return `hook_${name}`;
  if (name === "scale" || name === "normalized") {
    if (layerType === "ln_final" || (layer === undefined && layerType === undefined)) return `ln_final.hook_${name}`;
    if (layer === undefined) throw new Error(`actName("${name}", layer, "${layerType}") needs a layer for ${layerType}.`);
    return `blocks.${layer}.${layerType ?? "ln1"}.hook_${name}`;
  }
  const suffix = SHORT_TO_SUFFIX[name];
  if (suffix === undefined) {
    // Already a full name: pass it through for the model to check.
    if (name.includes("hook_")) return name;
    const known = ["embed", "pos_embed", "scale", "normalized", ...Object.keys(SHORT_TO_SUFFIX)];
    throw new Error(`"${name}" is not a short activation name. Known short names: ${known.join(", ")}.`);
  }
  if (layer === undefined || !Number.isInteger(layer) || layer < 0) {
    throw new Error(`The short name "${name}" needs a layer index (a non-negative integer); got ${JSON.stringify(layer)}.`);
  }
  return `blocks.${layer}.${suffix}`;
}

/** Edit distance, for "did you mean" suggestions. */
function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0];
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j];
      previous[j] = Math.min(previous[j] + 1, previous[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length];
}

/** The `count` valid names closest to `name`. */
export function closestNames(name: string, valid: Iterable<string>, count = 3): string[] {
  return [...valid]
    .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
    .sort((x, y) => x.distance - y.distance || x.candidate.localeCompare(y.candidate))
    .slice(0, count)
    .map((entry) => entry.candidate);
}

/** The error for a name that is not one of a model's hook points. */
export function unknownHookError(name: string, valid: Iterable<string>, context = "this model"): Error {
  const suggestions = closestNames(name, valid);
  return new Error(`"${name}" is not a hook point of ${context}. Closest valid names: ${suggestions.map((s) => `"${s}"`).join(", ")}.`);
}

/** The layer index in a block hook name, or undefined (embed, ln_final). */
export function layerOf(name: string): number | undefined {
  const match = /^blocks\.(\d+)\./.exec(name);
  return match ? Number(match[1]) : undefined;
}
