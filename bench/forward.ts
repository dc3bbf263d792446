/**
 * Forward-pass benchmark: a GPT-2-small-shaped model (12 layers, dModel 768, 12 heads, dMlp 3072,
 * vocab 50257, random weights) on 64 tokens. Prints forward, forward with a full activation
 * cache, and the backend's own matMul throughput measured in the same run, so the ratio of model
 * time to pure-matmul time is visible. Prints figures only; asserts nothing.
 *
 *   npm run bench                      # default backend
 *   MECHLAB_BACKEND=cpu npm run bench  # another backend
 *   BENCH_TOKENS=128 BENCH_REPEATS=5 npm run bench
 */
import { HookedTransformer, backendInfo, ready, tf } from "../src/index";

const TOKENS = Number(process.env.BENCH_TOKENS ?? 64);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median wall time of `fn` in seconds, after one warm-up call; `fn` must finish its own work (read back data). */
async function time(fn: () => Promise<void> | void, repeats = REPEATS): Promise<number> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn();
    samples.push((performance.now() - start) / 1000);
  }
  return median(samples);
}

async function matmulGflops(m: number, k: number, n: number): Promise<number> {
  const a = tf.randomNormal([m, k]);
  const b = tf.randomNormal([k, n]);
  const seconds = await time(async () => {
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
  });
  tf.dispose([a, b]);
  return (2 * m * k * n) / seconds / 1e9;
}

async function main(): Promise<void> {
  await ready();
  const info = backendInfo();
  console.log(`mechlab forward benchmark — ${info.summary}`);
  console.log(`node ${process.version}, ${TOKENS} tokens, median of ${REPEATS} runs after a warm-up\n`);

  const cfg = { nLayers: 12, dModel: 768, nHeads: 12, dHead: 64, dMlp: 3072, dVocab: 50257, nCtx: 1024, actFn: "gelu_new" as const, seed: 0, modelName: "gpt2-small-shaped (random)" };
  const buildStart = performance.now();
  const model = await HookedTransformer.create(cfg);
  console.log(`build model (${(model.numParams / 1e6).toFixed(1)}M parameters): ${((performance.now() - buildStart) / 1000).toFixed(2)} s`);

  const tokens = [Array.from({ length: TOKENS }, (_, i) => (i * 7919) % cfg.dVocab)];

  const forward = await time(async () => {
    const logits = model.forward(tokens);
    await logits.data();
    logits.dispose();
  });
  let cacheBytes = 0;
  let cacheEntries = 0;
  const forwardWithCache = await time(async () => {
    const { output, cache } = model.runWithCache(tokens);
    await output.data();
    cacheBytes = cache.memoryBytes();
    cacheEntries = cache.size;
    output.dispose();
    cache.dispose();
  });
  const lossOnly = await time(async () => {
    const loss = model.forward(tokens, { returnType: "loss" });
    await loss.data();
    loss.dispose();
  });

  // FLOPs of one forward: every matMul counted as 2·m·k·n.
  const { nLayers, dModel, dMlp, dVocab, nHeads, dHead } = cfg;
  const perLayer = 2 * TOKENS * dModel * (3 * nHeads * dHead) + 2 * nHeads * TOKENS * TOKENS * dHead * 2 + 2 * TOKENS * nHeads * dHead * dModel + 2 * TOKENS * dModel * dMlp * 2;
  const modelFlops = nLayers * perLayer + 2 * TOKENS * dModel * dVocab;
  const gflops = await matmulGflops(512, 768, 3072);
  const matmulSeconds = modelFlops / (gflops * 1e9);

  const rows: [string, string][] = [
    ["forward (logits)", `${forward.toFixed(3)} s  (${(modelFlops / forward / 1e9).toFixed(1)} GFLOP/s effective)`],
    ["forward with full cache", `${forwardWithCache.toFixed(3)} s  (${cacheEntries} activations, ${(cacheBytes / 2 ** 20).toFixed(1)} MiB)`],
    ["forward to loss", `${lossOnly.toFixed(3)} s`],
    ["backend matMul 512×768·768×3072", `${gflops.toFixed(1)} GFLOP/s`],
    ["model FLOPs per forward", `${(modelFlops / 1e9).toFixed(2)} GFLOP → ${matmulSeconds.toFixed(3)} s at pure-matMul speed`],
    ["forward / pure-matMul time", `${(forward / matmulSeconds).toFixed(2)}×`],
    ["forward with cache / pure-matMul time", `${(forwardWithCache / matmulSeconds).toFixed(2)}×`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
  console.log(`\nreference: TransformerLens-style PyTorch eager on this 2-core machine ≈ 0.14 s for the forward with full cache.`);
  model.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
