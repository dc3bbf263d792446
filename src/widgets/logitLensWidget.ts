/**
 * The logit-lens widget: the kernel-side model, `logitLensWidget(...)` and `logitLensFromPrompt(...)`.
 *
 *   const { cache } = model.runWithCache(text);
 *   const w = logitLensWidget(cache, { model, input: text });
 *   w  // displays; click a cell, then: w.get("selectedCell"), w.selectedTopK()
 *
 *   const w2 = await logitLensFromPrompt(model, text);   // runs the model itself
 *
 * Both modes (accumulated and decomposed) are computed by default: each is one matrix product per
 * row with W_U, cheap next to the forward pass, and the view switches between them.
 */
import type { ActivationCache } from "../cache/activationCache";
import { logitLens, logitLensSync, type LensTokenizer, type LogitLensMode, type LogitLensOptions, type LogitLensResult } from "../analysis/logitLens";
import type { HookedTransformer } from "../model/hookedTransformer";
import { cellTopK, prepareLogitLens, type LensTopEntry, type LogitLensData } from "./logitLensData";
import { MechlabWidget, type MechlabWidgetState } from "./mechlabWidget";

export const LOGIT_LENS_VIEW = "LogitLensView";

export type LensColorBy = "probability" | "logit" | "rank";
/** Colour and label by the target token of each position, or by each cell's own top token. */
export type LensShow = "target" | "top";

/** The prepared data (see logitLensData.ts) plus what the browser selects. */
export interface LogitLensState extends MechlabWidgetState, LogitLensData {
  /** The mode shown (one of `modes`). */
  mode: LogitLensMode;
  colorBy: LensColorBy;
  show: LensShow;
  /** The clicked cell [row within the shown mode, position], or null. */
  selectedCell: [number, number] | null;
  /** The hovered cell [row, position], or null. */
  hoveredCell: [number, number] | null;
}

export interface LogitLensWidgetOptions extends Omit<LogitLensOptions, "mode" | "model"> {
  /** The mode shown first; default "accumulated" (or the only one computed). */
  mode?: LogitLensMode;
  /** The modes computed; default both. */
  modes?: LogitLensMode[];
  /** Default "probability". */
  colorBy?: LensColorBy;
  /** Default "target" when there is a target, else "top". */
  show?: LensShow;
  /** Token strings and ids (and text input): default the cache's model. */
  model?: LensTokenizer;
  selectedCell?: [number, number] | null;
}

const ALL_MODES: LogitLensMode[] = ["accumulated", "decomposed"];

export class LogitLensWidget extends MechlabWidget<LogitLensState> {
  /** `results`: logit-lens results of one prompt, at most one per mode. */
  constructor(results: LogitLensResult | LogitLensResult[], options: Pick<LogitLensWidgetOptions, "mode" | "colorBy" | "show" | "selectedCell"> = {}) {
    const data = prepareLogitLens(results);
    const mode = options.mode ?? (data.modes.includes("accumulated") ? "accumulated" : data.modes[0]);
    if (!data.modes.includes(mode)) throw new Error(`logitLensWidget: mode "${mode}" was not computed (${data.modes.join(", ")}).`);
    const colorBy = options.colorBy ?? "probability";
    if (!["probability", "logit", "rank"].includes(colorBy)) throw new Error(`logitLensWidget: colorBy must be "probability", "logit" or "rank"; got ${JSON.stringify(colorBy)}.`);
    const show = options.show ?? (data.targetKind === "top" ? "top" : "target");
    if (show !== "target" && show !== "top") throw new Error(`logitLensWidget: show must be "target" or "top"; got ${JSON.stringify(show)}.`);
    if (show === "target" && data.targetKind === "top") throw new Error(`logitLensWidget: show "target" needs a target token (target "next", a token or ids); this lens has none.`);
    const selectedCell = options.selectedCell ?? null;
    if (selectedCell) cellTopK(data, mode, selectedCell[0], selectedCell[1]); // validates
    super(LOGIT_LENS_VIEW, { ...data, mode, colorBy, show, selectedCell, hoveredCell: null }, { noEcho: ["hoveredCell"] });
  }

  /** The top-k list (token, id, prob, logit) of a cell of the shown mode; default the selected cell (null when none). */
  selectedTopK(cell: [number, number] | null = this.get("selectedCell")): LensTopEntry[] | null {
    if (cell === null) return null;
    return cellTopK(this.getState(), this.get("mode"), cell[0], cell[1]);
  }

  /** The selected cell with its row name, token and top-k, or null. */
  get selected(): { mode: LogitLensMode; row: number; rowName: string; position: number; token: string; topK: LensTopEntry[] } | null {
    const cell = this.get("selectedCell");
    if (cell === null) return null;
    const mode = this.get("mode");
    const m = this.get("modes").indexOf(mode);
    return { mode, row: cell[0], rowName: this.get("rowNames")[m]?.[cell[0]] ?? "", position: cell[1], token: this.get("tokens")[cell[1]] ?? "", topK: this.selectedTopK(cell)! };
  }

  protected override textFallback(): string {
    const { modes, rowNames, nPos, topK } = this.getState();
    return `LogitLens(${modes.map((m, i) => `${m}: ${rowNames[i].length} rows`).join(", ")} × ${nPos} positions, top ${topK})`;
  }
}

function lensOptions(options: LogitLensWidgetOptions, mode: LogitLensMode): LogitLensOptions {
  const { modes: _modes, colorBy: _c, show: _s, selectedCell: _sc, mode: _m, ...rest } = options;
  void [_modes, _c, _s, _sc, _m];
  const out: LogitLensOptions = { ...rest, mode };
  if (mode === "decomposed") delete out.lnScale;
  return out;
}

function modesOf(options: LogitLensWidgetOptions): LogitLensMode[] {
  const modes = options.modes ?? ALL_MODES;
  if (modes.length === 0 || !modes.every((m) => ALL_MODES.includes(m))) throw new Error(`logitLensWidget: modes must list "accumulated" and/or "decomposed"; got ${JSON.stringify(modes)}.`);
  return modes;
}

/**
 * The logit lens of one prompt of `cache` as a widget (rows: layers or terms; columns: the
 * prompt's tokens). Computes synchronously; nothing of it stays on the tensor side.
 */
export function logitLensWidget(cache: ActivationCache, options: LogitLensWidgetOptions = {}): LogitLensWidget {
  const results = modesOf(options).map((mode) => logitLensSync(cache, lensOptions(options, mode)));
  return new LogitLensWidget(results, options);
}

/**
 * Runs `model` on `prompt` (text or token ids of one sequence), computes the logit lens (async:
 * yields between rows, stops on `signal` or an interrupt) and returns the widget. The run's cache
 * is disposed before returning.
 */
export async function logitLensFromPrompt(model: HookedTransformer, prompt: string | number[], options: LogitLensWidgetOptions = {}): Promise<LogitLensWidget> {
  const wanted = /(hook_resid_pre|hook_resid_post|hook_embed|hook_pos_embed|hook_attn_out|hook_mlp_out|ln_final\.hook_scale)$/;
  const runOptions = options.prependBos === undefined ? {} : { prependBos: options.prependBos };
  const { output, cache } = model.runWithCache(typeof prompt === "string" ? prompt : [prompt], { ...runOptions, namesFilter: (name: string) => wanted.test(name) });
  output.dispose();
  try {
    const input = options.input ?? prompt;
    const results: LogitLensResult[] = [];
    for (const mode of modesOf(options)) results.push(await logitLens(cache, { ...lensOptions(options, mode), input, model: options.model ?? model }));
    return new LogitLensWidget(results, options);
  } finally {
    cache.dispose();
  }
}
