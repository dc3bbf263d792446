/**
 * Data preparation of the logit-lens widget (kernel side, no DOM): one or two logit-lens results
 * (accumulated and/or decomposed, same prompt) as flat buffers for the view.
 *
 * Buffer layout: the rows of every mode end to end — mode m's rows are rows rowStarts[m] ..
 * rowStarts[m] + rowNames[m].length − 1 — then:
 *   targetProb / targetLogit / targetRank  [row, pos]       (empty when targetKind is "top")
 *   topIds / topProbs / topLogits          [row, pos, k]    (k = topK)
 *   topTokens                              string[row·pos·k]
 * Index of (row, pos): row·nPos + pos; of (row, pos, k): (row·nPos + pos)·topK + k.
 */
import type { LogitLensMode, LogitLensResult } from "../analysis/logitLens";

export interface LogitLensData {
  /** The modes computed, in row order. */
  modes: LogitLensMode[];
  /** First row of each mode. */
  rowStarts: number[];
  /** Readable row names per mode ("embed", "L1 in", "final" / "L0 attn", ...). */
  rowNames: string[][];
  /** The cache's row labels per mode ("0_pre", "final_post", "0_attn_out", ...). */
  rowLabels: string[][];
  /** Column headers: the prompt's token strings (or "0", "1", ... when unknown). */
  tokens: string[];
  nPos: number;
  topK: number;
  dVocab: number;
  /** "next", "token" (fixed ids) or "top" (no target). */
  targetKind: "next" | "token" | "top";
  /** The target id of each position [pos], −1 where none (empty for "top"). */
  targetIds: Int32Array;
  /** The target's string per position ("" where none; [] for "top"). */
  targetTokens: string[];
  targetProb: Float32Array;
  targetLogit: Float32Array;
  targetRank: Int32Array;
  topIds: Int32Array;
  topProbs: Float32Array;
  topLogits: Float32Array;
  topTokens: string[];
}

/** Flattens logit-lens results of one prompt (one per mode) into the widget's buffers. */
export function prepareLogitLens(results: LogitLensResult | LogitLensResult[]): LogitLensData {
  const list = Array.isArray(results) ? results : [results];
  if (list.length === 0) throw new Error("logitLensWidget: no logit-lens results given.");
  const first = list[0];
  const seen = new Set<string>();
  for (const r of list) {
    if (seen.has(r.mode)) throw new Error(`logitLensWidget: two results of mode "${r.mode}"; give at most one per mode.`);
    seen.add(r.mode);
    const same = r.nPos === first.nPos && r.topK === first.topK && r.dVocab === first.dVocab && r.batchIndex === first.batchIndex && r.targetKind === first.targetKind;
    if (!same || !sameIds(r.targetIds, first.targetIds) || !sameIds(r.promptIds, first.promptIds)) {
      throw new Error("logitLensWidget: the results must come from the same prompt with the same target and topK (they differ in positions, batchIndex, topK, prompt tokens or target).");
    }
  }
  const { nPos, topK } = first;
  const rowStarts: number[] = [];
  let nRows = 0;
  for (const r of list) {
    rowStarts.push(nRows);
    nRows += r.nRows;
  }
  const hasTarget = first.targetKind !== "top";
  const cells = hasTarget ? nRows * nPos : 0;
  const data: LogitLensData = {
    modes: list.map((r) => r.mode),
    rowStarts,
    rowNames: list.map((r) => [...r.rowNames]),
    rowLabels: list.map((r) => [...r.labels]),
    tokens: first.promptTokens ? [...first.promptTokens] : Array.from({ length: nPos }, (_, p) => String(p)),
    nPos, topK, dVocab: first.dVocab,
    targetKind: first.targetKind,
    targetIds: first.targetIds ? Int32Array.from(first.targetIds) : new Int32Array(0),
    targetTokens: first.targetTokens ? [...first.targetTokens] : [],
    targetProb: new Float32Array(cells),
    targetLogit: new Float32Array(cells),
    targetRank: new Int32Array(cells),
    topIds: new Int32Array(nRows * nPos * topK),
    topProbs: new Float32Array(nRows * nPos * topK),
    topLogits: new Float32Array(nRows * nPos * topK),
    topTokens: [],
  };
  list.forEach((r, m) => {
    const at = rowStarts[m] * nPos;
    if (hasTarget) {
      data.targetProb.set(r.targetProb!, at);
      data.targetLogit.set(r.targetLogit!, at);
      data.targetRank.set(r.targetRank!, at);
    }
    data.topIds.set(r.topIds, at * topK);
    data.topProbs.set(r.topProbs, at * topK);
    data.topLogits.set(r.topLogits, at * topK);
    data.topTokens.push(...r.topTokens);
  });
  return data;
}

function sameIds(a: Int32Array | null, b: Int32Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** One entry of a cell's top-k list. */
export interface LensTopEntry {
  token: string;
  id: number;
  prob: number;
  logit: number;
}

/** The top-k list of (mode, row within the mode, pos). */
export function cellTopK(data: LogitLensData, mode: LogitLensMode, row: number, pos: number): LensTopEntry[] {
  const m = data.modes.indexOf(mode);
  if (m < 0) throw new Error(`logitLens: mode "${mode}" was not computed (${data.modes.join(", ")}).`);
  const nRows = data.rowNames[m].length;
  if (!Number.isInteger(row) || row < 0 || row >= nRows) throw new Error(`logitLens: row must be an integer in [0, ${nRows}) for mode "${mode}"; got ${row}.`);
  if (!Number.isInteger(pos) || pos < 0 || pos >= data.nPos) throw new Error(`logitLens: position must be an integer in [0, ${data.nPos}); got ${pos}.`);
  const base = ((data.rowStarts[m] + row) * data.nPos + pos) * data.topK;
  return Array.from({ length: data.topK }, (_, k) => ({
    token: data.topTokens[base + k],
    id: data.topIds[base + k],
    prob: data.topProbs[base + k],
    logit: data.topLogits[base + k],
  }));
}
