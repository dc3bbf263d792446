/**
 * Ablations: knock out a component and see what breaks. Components are attention heads (their
 * z, [batch, pos, head, dHead]), MLP neurons (mlp.hook_post, [batch, pos, dMlp]) and whole
 * attention or MLP layers (hook_attn_out / hook_mlp_out, [batch, pos, dModel]), optionally at
 * some positions only. Methods:
 *
 *   zero      the activation becomes 0
 *   mean      its mean over a reference dataset (per position when the reference prompts have
 *             the input's length, else over all positions): removes what varies, keeps the bias
 *   resample  its value on a random reference prompt (seeded; same length needed): keeps the
 *             activation's distribution, breaks its link to this input (causal scrubbing style)
 *
 *   const logits = runWithAblations(model, tokens, [{ component: { kind: "head", layer: 0, head: 1 } }]);
 *   const { hooks, dispose } = ablationHooks(model, ablations, { method: "mean", reference });
 *
 * Ownership: `ablationHooks` computes reference statistics once and holds them until `dispose()`;
 * `runWithAblations` returns the forward output (caller owns) and frees its own.
 */
import { tf } from "../backend";
import type { FwdHook, HookedTransformer, RunWithHooksOptions } from "../model/hookedTransformer";
import { SeededRandom } from "../train/seededRandom";

export type AblationMethod = "zero" | "mean" | "resample";

export type AblatedComponent =
  | { kind: "head"; layer: number; head: number }
  | { kind: "neuron"; layer: number; neuron: number }
  | { kind: "attn"; layer: number }
  | { kind: "mlp"; layer: number };

export interface Ablation {
  component: AblatedComponent;
  /** Positions to ablate (default all). */
  positions?: number[];
}

export interface AblationOptions {
  /** Default "zero". */
  method?: AblationMethod;
  /** Reference prompts, int32 [n, pos] (mean and resample). */
  reference?: tf.Tensor2D;
  /** Seed of the resample choice (default 0). */
  seed?: number;
}

/** The hook an ablation acts on, and the index along its unit axis (head axis 2, neuron axis 2), if any. */
export function ablationHook(component: AblatedComponent): { hook: string; unit?: number } {
  const b = `blocks.${component.layer}`;
  switch (component.kind) {
    case "head":
      return { hook: `${b}.attn.hook_z`, unit: component.head };
    case "neuron":
      return { hook: `${b}.mlp.hook_post`, unit: component.neuron };
    case "attn":
      return { hook: `${b}.hook_attn_out` };
    case "mlp":
      return { hook: `${b}.hook_mlp_out` };
  }
}

function checkComponent(model: HookedTransformer, c: AblatedComponent): void {
  const { nLayers, nHeads, dMlp, attnOnly } = model.cfg;
  if (!c || !["head", "neuron", "attn", "mlp"].includes(c.kind)) throw new Error(`ablation: a component is { kind: "head" | "neuron" | "attn" | "mlp", layer, ... }; got ${JSON.stringify(c)}.`);
  if (!Number.isInteger(c.layer) || c.layer < 0 || c.layer >= nLayers) throw new Error(`ablation: layer must be a whole number in [0, ${nLayers}); got ${c.layer}.`);
  if (c.kind === "head" && !(Number.isInteger(c.head) && c.head >= 0 && c.head < nHeads)) throw new Error(`ablation: head must be a whole number in [0, ${nHeads}); got ${c.head}.`);
  if ((c.kind === "neuron" || c.kind === "mlp") && attnOnly) throw new Error(`ablation: this attention-only model has no MLP.`);
  if (c.kind === "neuron" && !(Number.isInteger(c.neuron) && c.neuron >= 0 && c.neuron < dMlp)) throw new Error(`ablation: neuron must be a whole number in [0, ${dMlp}); got ${c.neuron}.`);
}

/**
 * Hooks that apply `ablations` to any forward pass; mean and resample statistics are computed
 * from `options.reference` here, once. Call `dispose()` when done.
 */
export function ablationHooks(model: HookedTransformer, ablations: Ablation[], options: AblationOptions = {}): { hooks: FwdHook[]; dispose(): void } {
  const method = options.method ?? "zero";
  if (!["zero", "mean", "resample"].includes(method)) throw new Error(`ablation: method must be "zero", "mean" or "resample"; got "${String(method)}".`);
  for (const a of ablations) checkComponent(model, a.component);
  const byHook = new Map<string, { unit?: number; positions?: number[] }[]>();
  for (const a of ablations) {
    const { hook, unit } = ablationHook(a.component);
    byHook.set(hook, [...(byHook.get(hook) ?? []), { unit, positions: a.positions }]);
  }
  let referenceActivations = new Map<string, tf.Tensor>();
  if (method !== "zero") {
    const reference = options.reference;
    if (!(reference instanceof tf.Tensor) || reference.rank !== 2 || reference.dtype !== "int32") throw new Error(`ablation: method "${method}" needs reference prompts, int32 [n, pos].`);
    const { output, cache } = model.runWithCache(reference, { namesFilter: (name: string) => byHook.has(name), returnType: "none" });
    output?.dispose?.();
    referenceActivations = new Map([...byHook.keys()].map((hook) => [hook, cache.get(hook).clone()]));
    cache.dispose();
  }
  const random = new SeededRandom(options.seed ?? 0);

  const hooks: FwdHook[] = [...byHook.entries()].map(([hook, parts]) => [
    hook,
    (act: tf.Tensor) => {
      const [batch, pos] = act.shape as number[];
      // Mask [batch?, pos, units?] of what is ablated, 1 = replace.
      const units = act.rank === 4 ? act.shape[2]! : act.shape[act.rank - 1]!;
      const unitAxis = ablations.length > 0 && parts.some((p) => p.unit !== undefined);
      const marks = new Float32Array(pos * (unitAxis ? units : 1));
      for (const part of parts) {
        for (let p = 0; p < pos; p++) {
          if (part.positions && !part.positions.includes(p) && !part.positions.includes(p - pos)) continue;
          if (!unitAxis) marks[p] = 1;
          else if (part.unit === undefined) for (let u = 0; u < units; u++) marks[p * units + u] = 1;
          else marks[p * units + part.unit] = 1;
        }
      }
      const maskShape = act.rank === 4 ? [1, pos, unitAxis ? units : 1, 1] : [1, pos, unitAxis ? units : 1];
      const mask = tf.tensor(marks, maskShape);
      let replacement: tf.Tensor;
      if (method === "zero") replacement = tf.zerosLike(act);
      else {
        const ref = referenceActivations.get(hook)!;
        const sameLength = ref.shape[1] === pos;
        if (method === "mean") replacement = sameLength ? ref.mean(0, true) : ref.mean([0, 1], true);
        else {
          if (!sameLength) throw new Error(`ablation: resample needs reference prompts of the input's length (${pos}); they have ${ref.shape[1]}.`);
          const rows = Array.from({ length: batch }, () => random.int(ref.shape[0]!));
          replacement = tf.gather(ref, tf.tensor1d(rows, "int32"));
        }
      }
      return tf.add(act, tf.mul(mask, tf.sub(replacement, act)));
    },
  ]);
  return {
    hooks,
    dispose: () => {
      for (const t of referenceActivations.values()) t.dispose();
      referenceActivations = new Map();
    },
  };
}

/** One forward pass with the ablations applied (same options and return as runWithHooks). */
export function runWithAblations(model: HookedTransformer, tokens: tf.Tensor2D, ablations: Ablation[], options: AblationOptions & Omit<RunWithHooksOptions, "fwdHooks"> = {}): tf.Tensor3D {
  const { method, reference, seed, ...forward } = options;
  const { hooks, dispose } = ablationHooks(model, ablations, { method, reference, seed });
  try {
    return model.runWithHooks(tokens, { ...forward, fwdHooks: hooks }) as tf.Tensor3D;
  } finally {
    dispose();
  }
}
