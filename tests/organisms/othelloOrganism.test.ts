/**
 * The shipped othello organism, measured live from its weights: its top-1 next move is legal on
 * held-out games (≥ 95%), and a linear probe at the middle layer decodes each square as
 * empty/mine/theirs far above the majority baseline; the recorded metrics are what the weights
 * show. The batch and probe-data helpers are checked against the simulator, and the training
 * plumbing runs for a few steps into a temporary folder.
 */
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ready, tf } from "../../src/backend";
import { listOrganismCheckpoints, loadOrganism, organismTrainingRecord } from "../../src/organisms/loadOrganism";
import { gameTokens, traceGame } from "../../src/organisms/othello/othelloGames";
import { squareName } from "../../src/organisms/othello/othelloBoard";
import {
  gamesToTokens,
  heldOutGames,
  legalityRate,
  legalMoveTargets,
  createOthelloModel,
  OTHELLO_PROBE_HOOK,
  othelloOrganism,
  othelloProbeData,
} from "../../src/organisms/othello/othelloOrganism";
import { trainOrganism } from "../../src/organisms/trainOrganism";

let scratch: string;
beforeAll(async () => {
  await ready();
  scratch = mkdtempSync(join(tmpdir(), "mechlab-othello-test-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("othello, shipped", () => {
  it("predicts legal moves on held-out games; a middle-layer probe decodes mine/theirs/empty far above the baseline", async () => {
    const before = tf.memory().numTensors;
    const model = await loadOrganism("othello");
    const metrics = await othelloOrganism.evaluate(model);
    expect(metrics.legality).toBeGreaterThanOrEqual(0.95);
    expect(metrics.probeAccuracyMineTheirs).toBeGreaterThan(metrics.majorityBaselineMineTheirs + 0.25);
    expect(metrics.probeAccuracyMineTheirs).toBeGreaterThan(0.85);
    // As in Othello-GPT: the board is represented relative to the player to move, not in colours.
    expect(metrics.probeAccuracyMineTheirs).toBeGreaterThan(metrics.probeAccuracyBlackWhite + 0.05);
    // What training recorded is what the shipped weights show now.
    expect(metrics).toEqual(organismTrainingRecord("othello").metrics);
    // Legality on 300 other held-out games too (about 9,600 positions); moves read back as square names.
    expect(legalityRate(model, heldOutGames(300, 777))).toBeGreaterThanOrEqual(0.95);
    const game = heldOutGames(1, 778)[0];
    expect(model.toStrTokens(gameTokens(game.slice(0, 3), 6))).toEqual(["<s>", ...game.slice(0, 3).map((s) => squareName(s, 6))]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("ships a checkpoint halfway; the untrained model (same config and seed) does not know the rules", async () => {
    const record = organismTrainingRecord("othello");
    expect(record.command).toMatch(/^mechlab train othello/);
    expect(listOrganismCheckpoints("othello")).toEqual([Math.round(record.steps / 2)]);
    const games = heldOutGames(30, 779);
    const untrained = await createOthelloModel(record.seed);
    const halfway = await loadOrganism("othello", { checkpoint: Math.round(record.steps / 2) });
    const untrainedLegality = legalityRate(untrained, games);
    expect(untrainedLegality).toBeLessThan(0.5);
    expect(legalityRate(halfway, games)).toBeGreaterThan(untrainedLegality + 0.3);
    untrained.dispose();
    halfway.dispose();
  });
});

describe("othello data", () => {
  it("targets are uniform over the simulator's legal moves; probe rows pair each position with its board", async () => {
    const games = heldOutGames(3, 780);
    const { targets, mask } = legalMoveTargets(games);
    const t = targets.arraySync() as number[][][];
    const m = mask.arraySync() as number[][];
    games.forEach((game, b) => {
      const trace = traceGame(game, 6);
      trace.legalTokens.forEach((legal, pos) => {
        expect(m[b][pos]).toBe(legal.length > 0 ? 1 : 0);
        const support = t[b][pos].flatMap((p, id) => (p > 0 ? [id] : []));
        expect(support).toEqual([...legal].sort((x, y) => x - y));
        if (legal.length) expect(t[b][pos][legal[0]]).toBeCloseTo(1 / legal.length, 6);
      });
    });
    tf.dispose([targets, mask]);

    const model = await loadOrganism("othello");
    const before = tf.memory().numTensors;
    const data = othelloProbeData(model, games);
    const rows = games.reduce((n, g) => n + traceGame(g, 6).legalTokens.filter((l) => l.length > 0).length, 0);
    expect(data.activations.shape).toEqual([rows, model.cfg.dModel]);
    const { game, position } = data.rows[5];
    expect(data.relative[5]).toEqual(traceGame(games[game], 6).relative[position]);
    // The row is the hook's activation at that game and position.
    const tokens = gamesToTokens(games);
    const { output, cache } = model.runWithCache(tokens, { namesFilter: [OTHELLO_PROBE_HOOK] });
    const direct = tf.tidy(() => (cache.get(OTHELLO_PROBE_HOOK) as tf.Tensor).slice([game, position, 0], [1, 1, -1]).reshape([-1]).arraySync() as number[]);
    const row = tf.tidy(() => data.activations.slice([5, 0], [1, -1]).reshape([-1]).arraySync() as number[]);
    row.forEach((v, i) => expect(v).toBeCloseTo(direct[i], 4));
    tf.dispose([tokens, output, data.activations]);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe("training othello", () => {
  it("runs a few steps into the shipped layout, and the result loads with its tokenizer", async () => {
    const out = join(scratch, "othello");
    const record = await trainOrganism("othello", { outDir: out, steps: 3, progress: false });
    expect(record.steps).toBe(3);
    expect(record.checkpoints).toEqual([2]);
    expect(Object.keys(record.metrics).sort()).toEqual(["legality", "majorityBaselineBlackWhite", "majorityBaselineMineTheirs", "probeAccuracyBlackWhite", "probeAccuracyMineTheirs"]);
    const model = await loadOrganism("othello", { modelsDir: scratch });
    expect(model.cfg.nLayers).toBe(4);
    expect(model.toStrTokens("C2 B3")).toEqual(["<s>", "C2", "B3"]);
    model.dispose();
  });
});
