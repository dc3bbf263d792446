/**
 * The feature dashboard widget: the kernel-side model and `featureDashboard(...)`.
 *
 *   const cache = await model.runWithCache(ids);
 *   const post = cache.get("blocks.0.mlp.hook_post");                          // [batch, pos, dMlp]
 *   const acts = post.slice([0, 0, 3], [-1, -1, 1]).reshape(post.shape.slice(0, 2)); // neuron 3: [batch, pos]
 *   const direction = model.W_out.slice([0, 3, 0], [1, 1, -1]).reshape([-1]);      // W_out[0][3]: [dModel]
 *   featureDashboard(acts, { model, tokenIds: ids, direction, title: "neuron 0.3" })
 *
 * Ownership: nothing given is disposed (see featureDashboardData.ts); the widget holds no tensors.
 */
import { contextOf, prepareFeatureDashboard, type FeatureActivations, type FeatureContext, type FeatureDashboardData, type FeatureDashboardDataOptions } from "./featureDashboardData";
import { MechlabWidget, type MechlabWidgetState } from "./mechlabWidget";

export const FEATURE_DASHBOARD_VIEW = "FeatureDashboardView";

/** The prepared data (see featureDashboardData.ts) plus what the browser selects. */
export interface FeatureDashboardState extends MechlabWidgetState, FeatureDashboardData {
  /** The clicked context (an index into the contexts), or null. */
  selectedContext: number | null;
}

export type FeatureDashboardOptions = FeatureDashboardDataOptions;

export class FeatureDashboardWidget extends MechlabWidget<FeatureDashboardState> {
  constructor(activations: FeatureActivations, options: FeatureDashboardOptions = {}) {
    super(FEATURE_DASHBOARD_VIEW, { ...prepareFeatureDashboard(activations, options), selectedContext: null });
  }

  /** Number of contexts shown (top contexts and band samples). */
  get contextCount(): number {
    return this.get("contextTokens").length;
  }

  /** Context `index` (text, position of its highlighted token, window tokens and activations). */
  context(index: number): FeatureContext {
    return contextOf(this.getState(), index);
  }

  /** The context clicked in the browser: {text, position, tokens, activations, …}, or null. */
  get selected(): FeatureContext | null {
    const index = this.get("selectedContext");
    if (index === null || index === undefined || index < 0 || index >= this.contextCount) return null;
    return this.context(index);
  }

  protected override textFallback(): string {
    const s = this.getState();
    const logits = s.boostedTokens.length > 0 ? `, boosts ${s.boostedTokens.slice(0, 3).map((t) => JSON.stringify(t)).join(" ")}` : "";
    return `FeatureDashboard(${s.title}: max ${Number(s.maxActivation.toPrecision(3))}, density ${(100 * s.density).toPrecision(3)}% of ${s.nTokens} tokens, ${this.contextCount} context(s)${logits})`;
  }
}

/**
 * A dashboard of one SAE feature or neuron: `activations` [nTexts, pos] over a dataset, with its
 * `tokens` (string[][]) or a `model` and `tokenIds`; an optional output `direction` [d_model]
 * adds the direct logit effect `direction @ W_U` (W_U from `model` or `unembed`).
 */
export function featureDashboard(activations: FeatureActivations, options: FeatureDashboardOptions = {}): FeatureDashboardWidget {
  return new FeatureDashboardWidget(activations, options);
}
