/**
 * Activation patching in the sweep widget: every grid shape lands in the widget's rows × columns
 * with the values activationPatching computes; cancelling mid-sweep keeps the cells done.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { logitDiffMetric } from "../../src/patching/patchingMetric";
import { CharTokenizer } from "../../src/tokenizers/charTokenizer";
import { activationPatchingSweep } from "../../src/widgets/activationPatchingSweep";

beforeAll(async () => {
  await ready();
});

async function smallModel(): Promise<HookedTransformer> {
  return HookedTransformer.create({ nLayers: 2, dModel: 16, nHeads: 3, dHead: 4, dMlp: 20, dVocab: 10, nCtx: 8, seed: 3 }, { tokenizer: new CharTokenizer("abcdefghij") });
}

describe("activationPatchingSweep", () => {
  it("puts each grid into the widget as rows × columns, with the computed values", async () => {
    const model = await smallModel();
    const clean = tf.tensor2d([[0, 1, 2, 3, 4]], undefined, "int32");
    const corrupted = tf.tensor2d([[5, 1, 2, 3, 4]], undefined, "int32");
    const metric = logitDiffMetric({ correct: 6, incorrect: 7 });
    const before = tf.memory().numTensors;
    for (const [activation, perPosition, rows, cols] of [["resid_pre", true, 2, 5], ["resid_pre", false, 2, 1], ["z", false, 2, 3], ["z", true, 6, 5]] as const) {
      const { widget, result } = await activationPatchingSweep(model, { clean, corrupted, metric, activation, perPosition, display: false, batchSize: 4 });
      expect(widget.status).toBe("done");
      expect([widget.get("rows"), widget.get("cols")]).toEqual([rows, cols]);
      const grid = result.values.arraySync() as number[] | number[][] | number[][][];
      const values = widget.values;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const expected = activation === "z" && perPosition ? (grid as number[][][])[Math.floor(r / 3)][c][r % 3] : perPosition || activation === "z" ? (grid as number[][])[r][c] : (grid as number[])[r];
          expect(values[r][c]).toBeCloseTo(expected, 5);
        }
      }
      if (activation === "resid_pre" && perPosition) expect(widget.get("colLabels")).toEqual(["a", "b", "c", "d", "e"]);
      if (activation === "z" && perPosition) expect(widget.get("rowLabels").slice(0, 4)).toEqual(["L0H0", "L0H1", "L0H2", "L1H0"]);
      tf.dispose([result.values, result.raw]);
      widget.close();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([clean, corrupted]);
    model.dispose();
  });

  it("stops on cancel with the finished cells kept", async () => {
    const model = await smallModel();
    const clean = tf.tensor2d([[0, 1, 2, 3, 4]], undefined, "int32");
    const corrupted = tf.tensor2d([[5, 1, 2, 3, 4]], undefined, "int32");
    const controller = new AbortController();
    const { widget, result } = await activationPatchingSweep(model, {
      clean, corrupted, metric: logitDiffMetric({ correct: 6, incorrect: 7 }), activation: "resid_pre", display: false, batchSize: 2,
      signal: controller.signal,
      onProgress: ({ done }) => {
        if (done >= 4) controller.abort();
      },
    });
    expect(widget.status).toBe("cancelled");
    expect(widget.done).toBe(4);
    expect(result.stopped).toBe(true);
    expect(widget.get("message")).toMatch(/cancelled \(signal\) after 4 of 10 cells/);
    tf.dispose([result.values, result.raw, clean, corrupted]);
    widget.close();
    model.dispose();
  });
});
