/**
 * The attention-patterns widget: the kernel-side model and `attentionPatterns(...)`.
 *
 *   const { cache } = model.runWithCache(text);
 *   const w = attentionPatterns(cache, { model, input: text });
 *   w  // displays; later: w.get("selectedHead"), w.hovered
 */
import type { tf } from "../backend";
import type { ActivationCache } from "../cache/activationCache";
import { prepareAttention, type AttentionData, type AttentionDataOptions } from "./attentionData";
import { MechlabWidget, type MechlabWidgetState } from "./mechlabWidget";

export const ATTENTION_VIEW = "AttentionView";

/** The prepared data (see attentionData.ts; the batch indices stay kernel-side) plus what the browser selects. */
export interface AttentionState extends MechlabWidgetState, Omit<AttentionData, "prompts"> {
  /** The prompt shown (an index into `tokens`). */
  selectedPrompt: number;
  /** The model layer shown; null: every layer's heads in the thumbnail grid. */
  selectedLayer: number | null;
  /** The model head focused; null: the grid of head thumbnails. */
  selectedHead: number | null;
  /** The token position hovered in the browser (of the selected prompt), or null. */
  hoveredToken: number | null;
  /** Whether key positions after the query (k > q) are drawn blank. */
  maskUpperTriangle: boolean;
}

export interface AttentionPatternsOptions extends AttentionDataOptions {
  /** Blank the upper triangle (k > q). Default true. */
  maskUpperTriangle?: boolean;
  /** Start focused on this head (a head number); default the grid. */
  selectedHead?: number | null;
}

export class AttentionPatternsWidget extends MechlabWidget<AttentionState> {
  constructor(input: ActivationCache | tf.Tensor, options: AttentionPatternsOptions = {}) {
    const data = prepareAttention(input, options);
    const selectedHead = options.selectedHead ?? null;
    if (selectedHead !== null && !data.heads.includes(selectedHead)) {
      throw new Error(`attentionPatterns: selectedHead ${selectedHead} is not among the heads shown (${data.heads.join(", ")}).`);
    }
    super(
      ATTENTION_VIEW,
      {
        ...withoutPrompts(data),
        selectedPrompt: 0,
        selectedLayer: data.nLayers === 1 || selectedHead !== null ? data.layers[0] : null,
        selectedHead,
        hoveredToken: null,
        maskUpperTriangle: options.maskUpperTriangle ?? true,
      },
      // Hover changes at mouse rate: no echo back to the browser.
      { noEcho: ["hoveredToken"] },
    );
  }

  /** The hovered token of the selected prompt (position and string), or null. */
  get hovered(): { prompt: number; position: number; token: string } | null {
    const position = this.get("hoveredToken");
    if (position === null) return null;
    const prompt = this.get("selectedPrompt");
    return { prompt, position, token: this.get("tokens")[prompt]?.[position] ?? "" };
  }

  /** The pattern [q][k] of one layer and head (model numbers) of a prompt, as nested arrays. */
  pattern(layer: number, head: number, prompt = 0): number[][] {
    const l = this.get("layers").indexOf(layer);
    const h = this.get("heads").indexOf(head);
    if (l < 0 || h < 0) throw new Error(`pattern: layer ${layer} head ${head} is not in this widget.`);
    const { nLayers, nHeads, nPos } = this.getState();
    const start = ((prompt * nLayers + l) * nHeads + h) * nPos * nPos;
    const values = this.get("patterns");
    return Array.from({ length: nPos }, (_, q) => Array.from(values.subarray(start + q * nPos, start + (q + 1) * nPos)));
  }

  protected override textFallback(): string {
    const { nPrompts, nLayers, nHeads, nPos } = this.getState();
    return `AttentionPatterns(${nPrompts} prompt(s), ${nLayers} layer(s) × ${nHeads} head(s), ${nPos} tokens)`;
  }
}

/**
 * Attention patterns as a widget: from a cache (every cached layer's hook_pattern) or a pattern
 * tensor [head, q, k], [batch, head, q, k] or [layer, head, q, k]; labelled with `tokens`, or
 * with the token strings of `model` for `input`.
 */
export function attentionPatterns(input: ActivationCache | tf.Tensor, options: AttentionPatternsOptions = {}): AttentionPatternsWidget {
  return new AttentionPatternsWidget(input, options);
}

function withoutPrompts(data: AttentionData): Omit<AttentionData, "prompts"> {
  const { prompts: _prompts, ...rest } = data;
  void _prompts;
  return rest;
}
