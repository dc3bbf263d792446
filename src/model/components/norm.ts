/** Applies the model's normalisation type (LN, LNPre, RMS, RMSPre, none) at `prefix`. */
import type { tf } from "../../backend";
import type { NormalizationType } from "../config";
import type { ForwardContext } from "../forwardContext";
import { layerNorm } from "./layerNorm";
import { layerNormPre } from "./layerNormPre";
import { rmsNorm } from "./rmsNorm";

export function applyNorm(ctx: ForwardContext, prefix: string, x: tf.Tensor, type: NormalizationType = ctx.cfg.normalizationType): tf.Tensor {
  switch (type) {
    case "LN":
      return layerNorm(ctx, prefix, x);
    case "LNPre":
      return layerNormPre(ctx, prefix, x);
    case "RMS":
      return rmsNorm(ctx, prefix, x, true);
    case "RMSPre":
      return rmsNorm(ctx, prefix, x, false);
    case "none":
      return x;
  }
}

/** The hook names a norm of this type has at `prefix` (none for "none"). */
export function normHookNames(prefix: string, type: NormalizationType): string[] {
  return type === "none" ? [] : [`${prefix}.hook_scale`, `${prefix}.hook_normalized`];
}
