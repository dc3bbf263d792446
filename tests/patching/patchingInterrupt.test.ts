/**
 * In a notebook, interrupting the cell stops a running sweep after the batch in progress: the
 * kernel runtime's interrupt signal is checked between forward passes by activationPatching,
 * patchActivationAt and pathPatchingSweep (cells not computed stay NaN, `stopped` is true).
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { setKernelRuntime, type CommRegistry } from "../../src/notebook/kernelRuntime";
import { activationPatching } from "../../src/patching/activationPatching";
import { patchActivationAt } from "../../src/patching/customPatching";
import { pathPatchingSweep } from "../../src/patching/pathPatching";
import { logitDiffMetric } from "../../src/patching/patchingMetric";

beforeAll(async () => {
  await ready();
});
afterEach(() => setKernelRuntime(undefined));

/** A kernel runtime whose only live part is the interrupt signal. */
function kernelWithInterrupt(): AbortController {
  const interrupt = new AbortController();
  setKernelRuntime({
    comms: {} as CommRegistry,
    display: () => undefined,
    clearOutput: () => undefined,
    requestInput: () => Promise.reject(new Error("no stdin")),
    interruptSignal: () => interrupt.signal,
  });
  return interrupt;
}

describe("interrupting a patching sweep", () => {
  it("stops activation, custom and path patching after the current batch", async () => {
    const model = await HookedTransformer.create({ nLayers: 2, dModel: 16, nHeads: 2, dHead: 4, dMlp: 16, dVocab: 13, nCtx: 8, seed: 4 });
    const clean = tf.tensor2d([[1, 2, 3, 4, 5]], undefined, "int32");
    const corrupted = tf.tensor2d([[6, 2, 3, 4, 5]], undefined, "int32");
    const metric = logitDiffMetric({ correct: 7, incorrect: 8 });

    let interrupt = kernelWithInterrupt();
    const grid = await activationPatching(model, { clean, corrupted, metric, activation: "resid_pre", batchSize: 3, onProgress: () => interrupt.abort() });
    expect(grid.stopped).toBe(true);
    expect(Array.from(grid.values.dataSync()).filter(Number.isFinite)).toHaveLength(3);

    interrupt = kernelWithInterrupt();
    const custom = await patchActivationAt(model, { clean, corrupted, metric, hook: "blocks.0.hook_resid_pre", indices: [[0], [1], [2], [3]], batchSize: 2, onProgress: () => interrupt.abort() });
    expect(custom.stopped).toBe(true);
    expect(Array.from(custom.values.dataSync()).filter(Number.isFinite)).toHaveLength(2);

    interrupt = kernelWithInterrupt();
    const path = await pathPatchingSweep(model, { clean, corrupted, metric, receivers: "logits", onProgress: () => interrupt.abort() });
    expect(path.stopped).toBe(true);
    expect(Array.from(path.values.dataSync()).filter(Number.isFinite)).toHaveLength(1);

    tf.dispose([grid.values, grid.raw, custom.values, custom.raw, path.values, path.raw, clean, corrupted]);
    model.dispose();
  });
});
