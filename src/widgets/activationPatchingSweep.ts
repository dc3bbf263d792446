/**
 * Activation patching shown live: the patching-sweep widget is displayed first, then
 * `activationPatching` fills it in batch by batch; its cancel button, the kernel's interrupt or
 * `options.signal` stop the sweep (the cells done stay).
 *
 *   const { widget, result } = await activationPatchingSweep(model, { clean, corrupted, metric, activation: "resid_pre" });
 *
 * Grids map onto the widget's rows × columns: [layer, pos] and [layer, head] as they are,
 * [layer] as one column, and [layer, pos, head] as rows "L{layer}H{head}" × positions.
 * Column labels of positions are the clean prompt's tokens (first prompt) when the model has a
 * tokenizer. The caller owns `result`'s tensors.
 */
import type { HookedTransformer } from "../model/hookedTransformer";
import { activationPatching, type ActivationPatchingOptions, type PatchingResult } from "../patching/activationPatching";
import { display as displayValue, type DisplayHandle } from "../notebook/display";
import { getKernelRuntime } from "../notebook/kernelRuntime";
import { PatchingSweepWidget } from "./patchingSweepWidget";
import type { SweepGridSpec } from "./patchingSweepData";

export interface ActivationPatchingSweepOptions extends ActivationPatchingOptions {
  /** Display the widget before computing (default true). */
  display?: boolean;
  /** The metric's name in the widget (default the metric's own name, "normalised"). */
  metricName?: string;
}

/** Where cell [layer, pos?, head?] of a patching grid goes in the widget. */
function placeCell(axes: string[], index: number[], heads: number): [number, number] {
  if (axes.length === 1) return [index[0], 0];
  if (axes.length === 2) return [index[0], index[1]];
  const [layer, pos, head] = index;
  return [layer * heads + head, pos];
}

export async function activationPatchingSweep(
  model: HookedTransformer,
  options: ActivationPatchingSweepOptions,
): Promise<{ widget: PatchingSweepWidget; result: PatchingResult }> {
  const { clean, activation } = options;
  const length = clean.shape[1];
  const isHead = ["z", "q", "k", "v", "result", "pattern"].includes(activation);
  const perPosition = options.perPosition ?? !isHead;
  const heads = activation === "k" || activation === "v" ? model.cfg.nKeyValueHeads : model.cfg.nHeads;
  let tokenLabels: string[] | undefined;
  if (model.tokenizer) {
    const firstPrompt = clean.slice([0, 0], [1, length]);
    const ids = Array.from(firstPrompt.dataSync() as Int32Array);
    firstPrompt.dispose();
    tokenLabels = ids.map((id) => model.tokenizer!.decode([id]));
  }
  const normalized = options.normalize ?? true;
  const metricName = options.metricName ?? `${options.metric.name ?? "metric"}${normalized ? " (0 = corrupted, 1 = clean)" : ""}`;
  const layers = model.cfg.nLayers;
  const axes = axesOf(perPosition, isHead);
  let spec: SweepGridSpec;
  if (!perPosition && !isHead) spec = { rows: layers, cols: 1, kind: "custom", rowAxis: "layer", colAxis: "activation", colLabels: [activation], rowLabels: Array.from({ length: layers }, (_, l) => `L${l}`), metricName };
  else if (!perPosition) spec = { rows: layers, cols: heads, kind: "layer × head", metricName };
  else if (!isHead) spec = { rows: layers, cols: length, kind: "layer × position", colLabels: tokenLabels, metricName };
  else {
    spec = {
      rows: layers * heads,
      cols: length,
      kind: "custom",
      rowAxis: "head",
      colAxis: "position",
      rowLabels: Array.from({ length: layers * heads }, (_, r) => `L${Math.floor(r / heads)}H${r % heads}`),
      colLabels: tokenLabels ?? Array.from({ length }, (_, p) => String(p)),
      metricName,
    };
  }
  const widget = new PatchingSweepWidget(spec);
  let shown: DisplayHandle | undefined;
  if (options.display ?? true) {
    // In a kernel: the live view. In plain Node: one line of text.
    if (getKernelRuntime()) shown = displayValue(widget);
    else displayValue.text(widget.toString());
  }
  let result: PatchingResult | undefined;
  try {
    await widget.runTask(async (signal, report) => {
      result = await activationPatching(model, {
        ...options,
        signal,
        onProgress: (progress) => {
          options.onProgress?.(progress);
          report(progress.cells.filter((c) => Number.isFinite(c.value)).map((c) => [...placeCell(axes, c.index, heads), c.value] as [number, number, number]));
        },
      });
    }, { signal: options.signal });
  } finally {
    // Replace the output's self-contained HTML (made before the sweep) with the final state.
    shown?.update(widget);
  }
  return { widget, result: result! };
}

function axesOf(perPosition: boolean, isHead: boolean): string[] {
  if (isHead) return perPosition ? ["layer", "pos", "head"] : ["layer", "head"];
  return perPosition ? ["layer", "pos"] : ["layer"];
}
