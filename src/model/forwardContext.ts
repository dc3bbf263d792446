/**
 * What a component needs from the model during one forward pass: its parameters and the hook
 * points. Components call `ctx.hook(name, x)` at every TransformerLens hook point; the model
 * decides whether anything is attached there (user hooks, caching, gradient probes).
 */
import type { tf } from "../backend";
import type { Config } from "./config";
import type { ParamStore } from "./params";

export interface ForwardContext {
  cfg: Config;
  params: ParamStore;
  /** Runs the hooks at `name` (if any) and returns the activation that flows on. */
  hook(name: string, activation: tf.Tensor): tf.Tensor;
}
