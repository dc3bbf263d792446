/**
 * The Hydra effect (McGrath et al., 2023): ablate a component and later components change their
 * output to compensate, so the metric drops by less than the component's own direct effect
 * suggested. This measures it for a logit difference at one position:
 *
 *   directEffect    the ablated component's direct logit attribution in the clean run (through
 *                   the final norm's scale of that run): what it adds straight to the metric
 *   totalEffect     metric(clean) − metric(ablated): what removing it actually costs
 *   compensation    (directEffect − what the component still adds directly after ablation) −
 *                   totalEffect: > 0 means other components made up for it
 *   components      every head, attention layer and MLP layer with its direct effect in the clean
 *                   and in the ablated run, and the change: compensating (backup) heads stand out
 *
 * Direct effects use each run's own final-norm scale (TransformerLens's DLA), averaged over prompts.
 * All numbers are plain; no tensors are kept.
 */
import { tf } from "../backend";
import type { ActivationCache } from "../cache/activationCache";
import type { HookedTransformer } from "../model/hookedTransformer";
import { ablationHooks, type Ablation, type AblationOptions } from "./ablation";

export interface HydraEffectOptions extends AblationOptions {
  /** Prompts, int32 [prompts, pos]. */
  tokens: tf.Tensor2D;
  /** The component to ablate (a head, or a whole attention / MLP layer). */
  ablate: Ablation;
  /** Token that should win, per prompt (or one for all). */
  correct: number | number[];
  /** Token that should lose, per prompt (or one for all). */
  incorrect: number | number[];
  /** Position of the prediction (default −1). */
  position?: number;
}

export interface ComponentEffect {
  /** "L1H3" for a head, "ATTN1" for a whole attention layer (its heads plus b_O), "MLP2" for an MLP layer. */
  component: string;
  kind: "head" | "attn" | "mlp";
  layer: number;
  head?: number;
  directClean: number;
  directAblated: number;
  /** directAblated − directClean. */
  change: number;
}

export interface HydraEffectResult {
  metricClean: number;
  metricAblated: number;
  totalEffect: number;
  directEffect: number;
  compensation: number;
  /** Every head, attention layer and MLP layer, in order of layer (heads sum, with b_O, to their layer). */
  components: ComponentEffect[];
}

/** Logit difference per prompt at `position`, averaged. */
function meanLogitDiff(logits: tf.Tensor3D, position: number, correct: number[], incorrect: number[]): number {
  return tf.tidy(() => {
    const [prompts, pos, vocab] = logits.shape;
    const at = position < 0 ? pos + position : position;
    const row = logits.slice([0, at, 0], [prompts, 1, vocab]).reshape([-1]);
    const pick = (ids: number[]) => tf.gather(row, tf.tensor1d(ids.map((id, p) => p * vocab + id), "int32"));
    return tf.sub(pick(correct), pick(incorrect)).mean().dataSync()[0];
  });
}

interface DirectEffect {
  label: string;
  kind: ComponentEffect["kind"];
  layer: number;
  head?: number;
  value: number;
}

/** Direct effect of every head, attention layer and MLP layer on the logit difference, averaged over prompts. */
function directEffects(model: HookedTransformer, cache: ActivationCache, position: number, correct: number[], incorrect: number[]): DirectEffect[] {
  const { nLayers, nHeads, attnOnly } = model.cfg;
  // Through the run's final-norm scale (none to apply in a model without a final norm).
  const applyLn = model.cfg.normalizationType !== "none";
  const attrsOf = (stack: tf.Tensor): number[] => tf.tidy(() => Array.from(cache.logitAttrs(stack, correct, { incorrectTokens: incorrect }).mean(1).dataSync()));
  const heads = cache.stackHeadResults(undefined, { applyLn, posSlice: position }); // [nLayers·nHeads, prompts, dModel]
  const headAttrs = attrsOf(heads.stack);
  heads.stack.dispose();
  const layerAttrs = (mode: "attn" | "mlp"): number[] => {
    const stack = cache.decomposeResid(undefined, { mode, inclEmbeds: false, applyLn, posSlice: position }); // [nLayers, prompts, dModel]
    const attrs = attrsOf(stack.stack);
    stack.stack.dispose();
    return attrs;
  };
  const attnAttrs = layerAttrs("attn");
  const mlpAttrs = attnOnly ? undefined : layerAttrs("mlp");
  const out: DirectEffect[] = [];
  for (let layer = 0; layer < nLayers; layer++) {
    for (let head = 0; head < nHeads; head++) out.push({ label: `L${layer}H${head}`, kind: "head", layer, head, value: headAttrs[layer * nHeads + head] });
    out.push({ label: `ATTN${layer}`, kind: "attn", layer, value: attnAttrs[layer] });
    if (mlpAttrs) out.push({ label: `MLP${layer}`, kind: "mlp", layer, value: mlpAttrs[layer] });
  }
  return out;
}

export function hydraEffect(model: HookedTransformer, options: HydraEffectOptions): HydraEffectResult {
  const { tokens, ablate } = options;
  const prompts = tokens.shape[0];
  const perPrompt = (ids: number | number[], what: string): number[] => {
    const list = typeof ids === "number" ? new Array<number>(prompts).fill(ids) : ids;
    if (list.length !== prompts) throw new Error(`hydraEffect: ${what} needs one token id or one per prompt (${prompts}); got ${list.length}.`);
    return list;
  };
  const correct = perPrompt(options.correct, "correct");
  const incorrect = perPrompt(options.incorrect, "incorrect");
  const position = options.position ?? -1;
  if (ablate.component.kind === "neuron") throw new Error(`hydraEffect: ablate a head or a whole attention / MLP layer (a neuron has no direct effect of its own in this table).`);

  const clean = model.runWithCache(tokens);
  const { hooks, dispose } = ablationHooks(model, [ablate], options);
  let ablated: ReturnType<HookedTransformer["runWithCache"]> | undefined;
  try {
    ablated = model.runWithCache(tokens, { fwdHooks: hooks });
    const metricClean = meanLogitDiff(clean.output, position, correct, incorrect);
    const metricAblated = meanLogitDiff(ablated.output, position, correct, incorrect);
    const before = directEffects(model, clean.cache, position, correct, incorrect);
    const after = directEffects(model, ablated.cache, position, correct, incorrect);
    const c = ablate.component;
    const target = c.kind === "head" ? `L${c.layer}H${c.head}` : c.kind === "mlp" ? `MLP${c.layer}` : `ATTN${c.layer}`;
    const directEffect = before.find((e) => e.label === target)!.value;
    // What the ablated component still adds directly (0 after a zero ablation; the replacement's effect otherwise).
    const directLeft = after.find((e) => e.label === target)!.value;
    const totalEffect = metricClean - metricAblated;
    return {
      metricClean,
      metricAblated,
      totalEffect,
      directEffect,
      compensation: directEffect - directLeft - totalEffect,
      components: before.map((e, i) => ({ component: e.label, kind: e.kind, layer: e.layer, head: e.head, directClean: e.value, directAblated: after[i].value, change: after[i].value - e.value })),
    };
  } finally {
    dispose();
    clean.output.dispose();
    clean.cache.dispose();
    if (ablated) {
      ablated.output.dispose();
      ablated.cache.dispose();
    }
  }
}
