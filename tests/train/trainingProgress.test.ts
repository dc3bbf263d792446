/**
 * The training progress widget's model: throttled sends carrying only the new points as binary
 * buffers, the Stop button's custom message (stopRequested, signal), the history on request, the
 * finish states, the terminal line, and bad input.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { trainingProgress } from "../../src";
import type { Comm, CommRegistry, CommSendOptions } from "../../src/notebook/kernelRuntime";
import { progressLine } from "../../src/train/progressLine";

interface Sent {
  data: { method: string; state?: Record<string, unknown>; buffer_paths?: (string | number)[][] };
  buffers: ArrayBufferView[];
}

/** A comm registry that records what the model sends and lets the test deliver frontend messages. */
function fakeComms() {
  const sent: Sent[] = [];
  let deliver: (data: unknown, buffers: DataView[]) => void = () => undefined;
  const comms: CommRegistry = {
    registerTarget: () => () => undefined,
    list: () => [],
    open: (targetName: string): Comm => ({
      commId: "c1",
      targetName,
      closed: false,
      send: (data: unknown, options?: CommSendOptions) => void sent.push({ data: data as Sent["data"], buffers: (options?.buffers ?? []) as ArrayBufferView[] }),
      close: () => undefined,
      onMsg: (handler) => void (deliver = handler),
      onClose: () => undefined,
    }),
  };
  return { comms, sent, fromFrontend: (content: unknown) => deliver({ method: "custom", content }, []) };
}

/** The value at `path` of an update message (JSON state with its buffers put back). */
function valueAt(message: Sent, path: (string | number)[]): unknown {
  const i = message.data.buffer_paths!.findIndex((p) => JSON.stringify(p) === JSON.stringify(path));
  if (i >= 0) return message.buffers[i];
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)?.[k], message.data.state);
}

const updates = (sent: Sent[]) => sent.filter((m) => m.data.method === "update");
const flushMicrotasks = () => new Promise<void>((ok) => queueMicrotask(ok));

describe("trainingProgress", () => {
  let t = 0;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    t = 0;
  });
  afterEach(() => vi.useRealTimers());

  it("sends at most once per interval, each update with only the new points as binary buffers", async () => {
    const { comms, sent } = fakeComms();
    const progress = trainingProgress({ total: 100, metrics: ["loss", "accuracy"], log: false, now: () => t, widget: { comms } });
    const losses: number[] = [];
    const accs: number[] = [];
    for (let step = 1; step <= 100; step++) {
      t = step * 10; // 10 ms per step: 1 s in all
      losses.push(1 / step);
      accs.push(step / 100);
      progress.update(step, { loss: losses.at(-1), accuracy: accs.at(-1) });
      await flushMicrotasks();
    }
    vi.advanceTimersByTime(1000);
    await flushMicrotasks();

    const chunks = updates(sent).filter((m) => valueAt(m, ["appended", "from"]) !== undefined);
    // 1 s of steps at one send per 200 ms: the first at once, then one per interval, then the trailing one.
    expect(chunks.length).toBeGreaterThanOrEqual(5);
    expect(chunks.length).toBeLessThanOrEqual(7);
    // Contiguous chunks that together hold every point, exactly.
    const steps: number[] = [];
    const gotLoss: number[] = [];
    const gotAcc: number[] = [];
    for (const chunk of chunks) {
      expect(valueAt(chunk, ["appended", "from"])).toBe(steps.length);
      const s = valueAt(chunk, ["appended", "steps"]);
      expect(s).toBeInstanceOf(Float64Array);
      steps.push(...(s as Float64Array));
      gotLoss.push(...(valueAt(chunk, ["appended", "values", 0]) as Float32Array));
      gotAcc.push(...(valueAt(chunk, ["appended", "values", 1]) as Float32Array));
    }
    expect(steps).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(gotLoss).toEqual(losses.map(Math.fround));
    expect(gotAcc).toEqual(accs.map(Math.fround));
    const last = chunks.at(-1)!;
    expect(valueAt(last, ["step"])).toBe(100);
    expect(valueAt(last, ["latest"])).toEqual({ loss: Math.fround(0.01), accuracy: 1 });
    expect(progress.get("elapsed")).toBeCloseTo(1.0, 6);
  });

  it("Stop from the view: stopRequested, the signal aborts, the state tells the view, finish says stopped", async () => {
    const { comms, sent, fromFrontend } = fakeComms();
    const progress = trainingProgress({ total: 10, metrics: ["loss"], log: false, now: () => t, widget: { comms } });
    progress.update(1, { loss: 2 });
    expect(progress.stopRequested).toBe(false);
    expect(progress.signal.aborted).toBe(false);
    fromFrontend({ event: "stop" });
    expect(progress.stopRequested).toBe(true);
    expect(progress.signal.aborted).toBe(true);
    await flushMicrotasks();
    expect(updates(sent).some((m) => valueAt(m, ["stopRequested"]) === true)).toBe(true);
    progress.finish();
    await flushMicrotasks();
    expect(progress.get("status")).toBe("stopped");
    expect(() => progress.update(2, { loss: 1 })).toThrow(/already stopped/);
  });

  it("a view that missed points asks for the history and gets every point", async () => {
    const { comms, sent, fromFrontend } = fakeComms();
    const progress = trainingProgress({ total: 0, metrics: ["loss"], log: false, now: () => t, widget: { comms } });
    for (let step = 1; step <= 5; step++) progress.update(step, { loss: step * 0.5 });
    await flushMicrotasks();
    sent.length = 0;
    fromFrontend({ event: "history" });
    await flushMicrotasks();
    const history = updates(sent).find((m) => valueAt(m, ["history", "from"]) === 0)!;
    expect(Array.from(valueAt(history, ["history", "steps"]) as Float64Array)).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(valueAt(history, ["history", "values", 0]) as Float32Array)).toEqual([0.5, 1, 1.5, 2, 2.5]);
  });

  it("finish without a stop: done, the pending points sent, no ETA; metrics left out are NaN", async () => {
    const { comms, sent } = fakeComms();
    const progress = trainingProgress({ total: 4, metrics: ["loss", "accuracy"], log: false, now: () => t, widget: { comms } });
    t = 1000;
    progress.update(1, { loss: 1 });
    t = 1100;
    progress.update(2, { accuracy: 0.5 }); // within the interval: pending
    expect(progress.get("eta")).toBe(3); // after step 1 of 4 at 1 s: 3 s left
    progress.finish();
    await flushMicrotasks();
    expect(progress.get("status")).toBe("done");
    expect(progress.get("eta")).toBeNull();
    expect(progress.get("step")).toBe(2);
    expect(progress.get("latest")).toEqual({ loss: 1, accuracy: 0.5 });
    expect(progress.historyOf()).toEqual({ steps: [1, 2], values: { loss: [1, NaN], accuracy: [NaN, 0.5] } });
    expect(updates(sent).some((m) => valueAt(m, ["status"]) === "done")).toBe(true);
    t = 60_000; // later: the finished time stands
    expect(progress.mimeBundle()["text/plain"]).toBe("[##########----------] 2/4  loss 1  accuracy 0.5  done in 1.1s");
  });

  it("prints a throttled text line outside a notebook", () => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WritableStream;
    const progress = trainingProgress({ total: 50, metrics: ["loss"], now: () => t, stream, logIntervalMs: 1000 });
    for (let step = 1; step <= 50; step++) {
      t = step * 100; // 5 s in all: a line every 1 s
      progress.update(step, { loss: 10 / step });
    }
    progress.finish();
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(lines.length).toBeLessThanOrEqual(7);
    expect(lines[0]).toBe(`[${"-".repeat(20)}]  1/50  loss 10  0.1s, eta 4.9s\n`);
    expect(lines.at(-1)).toMatch(/^\[#{20}\] 50\/50  loss 0\.2  done in 5\.0s\n$/);
  });

  it("progressLine: bar, count, metrics and times", () => {
    expect(progressLine({ step: 25, total: 100, latest: { loss: 0.123456, acc: null }, elapsed: 5, eta: 15, status: "running" }, 8)).toBe("[##------]  25/100  loss 0.1235  acc –  5.0s, eta 15.0s");
    expect(progressLine({ step: 7, total: 0, latest: {}, elapsed: 75, eta: null, status: "stopped" })).toBe("step 7  stopped in 1m15s");
  });

  it("bad input: metrics, logScale, unknown metric in update, bad step", () => {
    expect(() => trainingProgress({ metrics: "loss" as never, log: false })).toThrow(/metrics must be an array of metric names/);
    expect(() => trainingProgress({ metrics: ["loss", "loss"], log: false })).toThrow(/metric names repeat/);
    expect(() => trainingProgress({ metrics: ["loss"], logScale: ["acc"], log: false })).toThrow(/logScale names "acc", which is not a metric \(loss\)/);
    expect(() => trainingProgress({ metrics: ["loss"], total: -1, log: false })).toThrow(/total must be a number of steps/);
    const progress = trainingProgress({ metrics: ["loss"], log: false });
    expect(() => progress.update(1, { acc: 1 })).toThrow(/unknown metric "acc"; the metrics are loss/);
    expect(() => progress.update(NaN)).toThrow(/step must be a finite number/);
  });
});
