/**
 * The shipped toy-superposition organism loads offline and shows, measured live, what its
 * training recorded: the dense instance keeps the two most important features orthogonally,
 * the sparsest packs all five into a pentagon. Training plumbing (layout, record, checkpoints)
 * is checked on a few steps into a temporary folder.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { readSafetensorsHeader } from "../../src/loading/safetensors";
import { listOrganismCheckpoints, loadOrganism, organismTrainingRecord } from "../../src/organisms/loadOrganism";
import { trainOrganism } from "../../src/organisms/trainOrganism";
import { toySuperpositionOrganism } from "../../src/organisms/toy/toySuperpositionOrganism";
import { representedFeatures, superpositionGeometry } from "../../src/toy/superpositionAnalysis";

let scratch: string;
beforeAll(async () => {
  await ready();
  scratch = mkdtempSync(join(tmpdir(), "mechlab-organism-test-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("toy-superposition, shipped", () => {
  it("dense: only features 0 and 1, orthogonal; sparsest: all five as a pentagon", async () => {
    const before = tf.memory().numTensors;
    const model = await loadOrganism("toy-superposition");
    const geometry = superpositionGeometry(model);
    const dense = geometry[0];
    const sparse = geometry.at(-1)!;
    expect(dense.featureProbability).toBe(1);
    expect(representedFeatures(dense)).toEqual([0, 1]);
    expect(Math.abs(dense.gram[0][1]) / (dense.featureNorms[0] * dense.featureNorms[1])).toBeLessThan(0.1);
    expect(sparse.featureProbability).toBeCloseTo(0.02, 6);
    expect(representedFeatures(sparse)).toEqual([0, 1, 2, 3, 4]);
    const angles = [0, 1, 2, 3, 4].map((i) => (Math.atan2(sparse.W[1][i], sparse.W[0][i]) * 180) / Math.PI).sort((a, b) => a - b);
    const gaps = angles.map((a, i) => (i < 4 ? angles[i + 1] - a : angles[0] + 360 - a));
    for (const gap of gaps) expect(Math.abs(gap - 72)).toBeLessThan(8);
    // What training recorded is what the shipped weights show now.
    expect(await toySuperpositionOrganism.evaluate(model)).toEqual(organismTrainingRecord("toy-superposition").metrics);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("records how it was made, and ships checkpoints along training that differ from the end", async () => {
    const record = organismTrainingRecord("toy-superposition");
    expect(record.command).toMatch(/^mechlab train toy-superposition/);
    expect(record.steps).toBeGreaterThanOrEqual(1000);
    expect(record.wallSeconds).toBeGreaterThan(0);
    const steps = listOrganismCheckpoints("toy-superposition");
    expect(steps[0]).toBe(0);
    expect(steps.at(-1)).toBe(record.steps);
    const untrained = await loadOrganism("toy-superposition", { checkpoint: 0 });
    const final = await loadOrganism("toy-superposition", { checkpoint: record.steps });
    expect(tf.tidy(() => untrained.W.sub(final.W).abs().max().dataSync()[0])).toBeGreaterThan(0.1);
    untrained.dispose();
    final.dispose();
    await expect(loadOrganism("toy-superposition", { checkpoint: 17 })).rejects.toThrow(/no checkpoint at step 17; it has 0, /);
    await expect(loadOrganism("no-such" as never)).rejects.toThrow(/No organism "no-such"\. The organisms are: [a-z0-9, -]*toy-superposition/);
  });
});

describe("training an organism", () => {
  it("writes the shipped layout with its record, loadable from that folder", async () => {
    const out = join(scratch, "toy-superposition");
    const record = await trainOrganism("toy-superposition", { outDir: out, steps: 20, seed: 3, progress: false });
    expect(record).toMatchObject({ organism: "toy-superposition", seed: 3, steps: 20, stopped: false });
    expect(record.command).toBe(`mechlab train toy-superposition --steps 20 --seed 3 --out ${out}`);
    expect(record.checkpoints).toEqual([0, 4, 8, 12, 16, 20]);
    expect(existsSync(join(out, ".run"))).toBe(false);
    expect(readFileSync(join(out, "README.md"), "utf8")).toContain(record.command);
    const model = await loadOrganism("toy-superposition", { modelsDir: scratch });
    expect(model.config.featureProbability).toHaveLength(8);
    model.dispose();
    expect(listOrganismCheckpoints("toy-superposition", { modelsDir: scratch })).toEqual([0, 4, 8, 12, 16, 20]);
    // Checkpoints along training ship in half precision; the final model stays full precision.
    const checkpointHeader = await readSafetensorsHeader(join(out, "checkpoints", "step-000020", "toy-model.safetensors"));
    expect(checkpointHeader.tensors.W.dtype).toBe("F16");
    expect((await readSafetensorsHeader(join(out, "toy-model.safetensors"))).tensors.W.dtype).toBe("F32");
    const lastCheckpoint = await loadOrganism("toy-superposition", { modelsDir: scratch, checkpoint: 20 });
    const final = await loadOrganism("toy-superposition", { modelsDir: scratch });
    expect(tf.tidy(() => lastCheckpoint.W.sub(final.W).abs().max().dataSync()[0])).toBeLessThan(1e-3);
    lastCheckpoint.dispose();
    final.dispose();
    await expect(trainOrganism("toy-superposition", { outDir: out, steps: 0 })).rejects.toThrow(/steps must be a positive whole number, got 0/);
  });
});
