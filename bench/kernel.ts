/**
 * Kernel benchmark: for the mechlab kernel and for plain tslab (the kernel mechlab builds on), in
 * the same run,
 *   - start to first idle: from spawning the kernel process until a client sees the reply to a
 *     kernel_info_request and its idle status (jupyter_client's "ready"; for mechlab this includes
 *     starting the tensor backend, which its kernel_info banner names);
 *   - the round trip of a trivial execute_request (`1 + 1`): from sending it until both its
 *     execute_reply and its idle have arrived, median of N after a few warm-up runs.
 * Prints figures only; asserts nothing.
 *
 *   npm run build && npm run bench:kernel
 *   BENCH_STARTS=5 BENCH_EXECUTES=100 npm run bench:kernel
 */
import { existsSync } from "fs";
import { join, resolve } from "path";
import { KernelClient } from "../tests/kernel/protocolClient";

const ROOT = resolve(__dirname, "..");
const STARTS = Number(process.env.BENCH_STARTS ?? 3);
const EXECUTES = Number(process.env.BENCH_EXECUTES ?? 30);
const WARMUP = 3;

interface Contender {
  name: string;
  /** kernelspec-style argv ("{connection_file}" is replaced). */
  argv: string[];
}

const CONTENDERS: Contender[] = [
  { name: "mechlab", argv: [process.execPath, join(ROOT, "bin", "mechlab.js"), "kernel", "-f", "{connection_file}"] },
  { name: "tslab", argv: [process.execPath, join(ROOT, "node_modules", "tslab", "bin", "tslab"), "kernel", "--config-path", "{connection_file}"] },
];

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function executeOnce(kernel: KernelClient, code: string): Promise<number> {
  const start = performance.now();
  const { reply } = await kernel.request("shell", "execute_request", {
    code,
    silent: false,
    store_history: true,
    user_expressions: {},
    allow_stdin: false,
    stop_on_error: true,
  });
  const elapsed = performance.now() - start;
  if (reply.content.status !== "ok") throw new Error(`${code} answered ${JSON.stringify(reply.content)}`);
  return elapsed;
}

async function measure(contender: Contender): Promise<{ starts: number[]; executes: number[] }> {
  const starts: number[] = [];
  let executes: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const begin = performance.now();
    const kernel = await KernelClient.launch(contender.argv, { readyTimeoutMs: 120_000 });
    starts.push(performance.now() - begin);
    try {
      if (i === 0) {
        for (let w = 0; w < WARMUP; w++) await executeOnce(kernel, "1 + 1");
        executes = [];
        for (let n = 0; n < EXECUTES; n++) executes.push(await executeOnce(kernel, "1 + 1"));
      }
    } finally {
      await kernel.stop();
    }
  }
  return { starts, executes };
}

const ms = (value: number) => `${value.toFixed(0).padStart(6)} ms`;
const msFine = (value: number) => `${value.toFixed(1).padStart(7)} ms`;

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, "dist", "kernel", "cli.js"))) {
    console.error("bench:kernel runs the built kernel: run `npm run build` first.");
    process.exitCode = 1;
    return;
  }
  console.log(`Node ${process.version}, ${STARTS} starts per kernel, ${EXECUTES} executes of \`1 + 1\` after ${WARMUP} warm-up runs\n`);
  console.log("kernel    start → first idle (median, min…max)    execute round trip (median, p10…p90)");
  for (const contender of CONTENDERS) {
    try {
      const { starts, executes } = await measure(contender);
      console.log(
        `${contender.name.padEnd(8)}  ${ms(quantile(starts, 0.5))} (${ms(Math.min(...starts)).trim()} … ${ms(Math.max(...starts)).trim()})`.padEnd(50) +
          `${msFine(quantile(executes, 0.5))} (${msFine(quantile(executes, 0.1)).trim()} … ${msFine(quantile(executes, 0.9)).trim()})`,
      );
    } catch (error) {
      console.log(`${contender.name.padEnd(8)}  failed: ${(error as Error).message.trim().split("\n").slice(0, 4).join(" | ")}`);
    }
  }
}

void main();
