/**
 * Activation-patching benchmark: the resid_pre sweep (every layer × every position) of a
 * GPT-2-small-shaped model (12 layers, dModel 768, 12 heads, dMlp 3072, vocab 50257, random
 * weights) on a 15-token prompt with a logit-difference metric at the last position. Prints the
 * wall time of mechlab's `activationPatching` (batched, layers below the patch reused, unembedding
 * only where the metric reads), of the naive one-forward-per-cell loop on the same backend, their
 * ratio, and the largest difference between the two grids. Prints figures only; asserts nothing.
 *
 *   npm run bench:patching
 *   BENCH_TOKENS=20 BENCH_BATCH=16 npm run bench:patching   # another prompt length / batch size
 */
import { backendInfo, ready, tf } from "../src/backend";
import { HookedTransformer } from "../src/model/hookedTransformer";
import { activationPatching } from "../src/patching/activationPatching";
import { naiveActivationPatching } from "../src/patching/naiveActivationPatching";
import { logitDiffMetric } from "../src/patching/patchingMetric";
import { SeededRandom } from "../src/train/seededRandom";

const TOKENS = Number(process.env.BENCH_TOKENS ?? 15);
const BATCH = process.env.BENCH_BATCH ? Number(process.env.BENCH_BATCH) : undefined;

async function main(): Promise<void> {
  await ready();
  const info = backendInfo();
  console.log(`backend ${info.name}; GPT-2-small-shaped random model, ${TOKENS} tokens, resid_pre × every layer and position`);
  const model = await HookedTransformer.create({ nLayers: 12, dModel: 768, nHeads: 12, dHead: 64, dMlp: 3072, dVocab: 50257, nCtx: 1024, actFn: "gelu_new", normalizationType: "LN", seed: 0 });
  const random = new SeededRandom(1);
  const prompt = Array.from({ length: TOKENS }, () => random.int(50257));
  const corruptedPrompt = prompt.map((t, i) => (i === 3 ? (t + 1) % 50257 : t));
  const clean = tf.tensor2d([prompt], [1, TOKENS], "int32");
  const corrupted = tf.tensor2d([corruptedPrompt], [1, TOKENS], "int32");
  const metric = logitDiffMetric({ correct: 100, incorrect: 200 });

  let started = performance.now();
  const fast = await activationPatching(model, { clean, corrupted, metric, activation: "resid_pre", batchSize: BATCH });
  const fastSeconds = (performance.now() - started) / 1000;
  console.log(`mechlab activationPatching: ${fastSeconds.toFixed(2)} s (${fast.forwardPasses} forward passes, batch ${BATCH ?? "default"})`);

  started = performance.now();
  const naive = await naiveActivationPatching(model, { clean, corrupted, metric, activation: "resid_pre" });
  const naiveSeconds = (performance.now() - started) / 1000;
  console.log(`naive loop (one full forward per cell): ${naiveSeconds.toFixed(2)} s (${naive.forwardPasses} forward passes)`);
  console.log(`speed-up: ${(naiveSeconds / fastSeconds).toFixed(2)}×`);
  const a = fast.raw.dataSync();
  const b = naive.raw.dataSync();
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  console.log(`largest difference between the grids (raw metric): ${worst.toExponential(2)}`);
  tf.dispose([fast.values, fast.raw, naive.values, naive.raw, clean, corrupted]);
  model.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
