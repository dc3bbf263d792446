/**
 * The patching-sweep data and runner (kernel side, no DOM): grid descriptions, values landing in
 * the right cells (against a plain loop of the metric), throttled updates to the frontend,
 * cancelling (signal, cancel message, widget.cancel), errors naming the cell, values pushed
 * directly, and no tensor leaks.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ready, tf } from "../../src/backend";
import { HookedTransformer } from "../../src/model/hookedTransformer";
import { setKernelRuntime, type BinaryBuffer, type Comm, type CommRegistry, type CommSendOptions, type MimeBundle } from "../../src/notebook/kernelRuntime";
import { describeSweepGrid, sweepValuesFrom, sweepValuesToRows } from "../../src/widgets/patchingSweepData";
import { patchingSweep, patchingSweepWidget, PatchingSweepWidget } from "../../src/widgets/patchingSweepWidget";

/** A comm registry that records what the kernel sends (buffers copied as they were at send time). */
class RecordingComms implements CommRegistry {
  readonly sent: { data: { method?: string; state?: Record<string, unknown>; buffer_paths?: unknown[] }; buffers: Uint8Array[]; at: number }[] = [];
  private handlers: ((data: unknown, buffers: DataView[]) => void)[] = [];
  registerTarget(): () => void {
    return () => undefined;
  }
  open(targetName: string): Comm {
    const comm: Comm = {
      commId: "comm-1",
      targetName,
      closed: false,
      send: (data: unknown, options?: CommSendOptions) => {
        const buffers = (options?.buffers ?? []).map((b: BinaryBuffer) => {
          const view = ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b as ArrayBuffer);
          return view.slice();
        });
        this.sent.push({ data: data as never, buffers, at: Date.now() });
      },
      close: () => undefined,
      onMsg: (handler) => void this.handlers.push(handler),
      onClose: () => undefined,
    };
    return comm;
  }
  list(): Comm[] {
    return [];
  }
  /** A message from the frontend. */
  deliver(data: unknown): void {
    for (const handler of this.handlers) handler(data, []);
  }
  /** The `values` buffers of the updates sent, as Float32Arrays. */
  valueUpdates(): Float32Array[] {
    return this.sent
      .filter((m) => m.data.method === "update" && (m.data.buffer_paths ?? []).some((p) => JSON.stringify(p) === '["values"]'))
      .map((m) => {
        const index = m.data.buffer_paths!.findIndex((p) => JSON.stringify(p) === '["values"]');
        const bytes = m.buffers[index];
        return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An arbitrary metric with distinct values per cell (no pattern the runner could fake). */
const metricOf = (r: number, c: number): number => Math.sin(3.1 * r + 0.7 * c * c) * (1 + r) - 0.25 * c;

afterEach(() => {
  vi.restoreAllMocks();
  setKernelRuntime(undefined);
});

describe("describeSweepGrid", () => {
  it("fills in axis names and labels from the kind", () => {
    const g = describeSweepGrid({ kind: "layer × head", rows: 2, cols: 3 });
    expect([g.rowAxis, g.colAxis, g.rowLabels, g.colLabels, g.metricName]).toEqual(["layer", "head", ["L0", "L1"], ["H0", "H1", "H2"], "metric"]);
    const p = describeSweepGrid({ kind: "layer × position", rows: 1, cols: 2, colLabels: ["The", " cat"] });
    expect([p.colAxis, p.colLabels]).toEqual(["position", ["The", " cat"]]);
    const custom = describeSweepGrid({ kind: "custom", rows: 1, cols: 1 });
    expect([custom.rowAxis, custom.colAxis]).toEqual(["row", "col"]);
  });

  it("refuses bad grids with what was expected", () => {
    expect(() => describeSweepGrid({ rows: 0, cols: 3 })).toThrow(/`rows` must be a positive integer, got 0/);
    expect(() => describeSweepGrid({ rows: 2, cols: 2.5 })).toThrow(/`cols` must be a positive integer/);
    expect(() => describeSweepGrid({ rows: 2, cols: 3, colLabels: ["a", "b"] })).toThrow(/2 `colLabels` for 3 cols/);
    expect(() => describeSweepGrid({ rows: 2, cols: 3, valueRange: [1, -1] })).toThrow(/valueRange/);
    expect(() => describeSweepGrid({ rows: 1000, cols: 1000 })).toThrow(/more than the/);
  });
});

describe("patchingSweep runner", () => {
  it("puts each metric value in its cell: same as a plain loop of the metric", async () => {
    const rows = 4;
    const cols = 7;
    const calls: [number, number][] = [];
    const sweep = await patchingSweep({ kind: "layer × position", rows, cols, metricName: "m" }, async (r, c) => {
      calls.push([r, c]);
      return metricOf(r, c);
    }, { display: false });
    const expected: number[][] = [];
    for (let r = 0; r < rows; r++) {
      const row: number[] = [];
      for (let c = 0; c < cols; c++) row.push(Math.fround(metricOf(r, c)));
      expected.push(row);
    }
    expect(sweep.status).toBe("done");
    expect(sweep.done).toBe(rows * cols);
    expect(sweep.values).toEqual(expected);
    expect(calls).toHaveLength(rows * cols);
    expect(new Set(calls.map(String)).size).toBe(rows * cols);
    // Tidy rows: one per cell with labels.
    expect(sweep.rows).toHaveLength(rows * cols);
    const cell = sweep.rows.find((x) => x.row === 2 && x.col === 5)!;
    expect(cell).toEqual({ row: 2, col: 5, rowLabel: "L2", colLabel: "5", value: expected[2][5] });
    expect(sweep.widget.status).toBe("done");
    expect(sweep.message).toMatch(/^28 cells in /);
  });

  it("follows a custom order and computes only the cells it names", async () => {
    const w = patchingSweepWidget({ rows: 3, cols: 3 });
    const order: [number, number][] = [[2, 2], [0, 1], [1, 0]];
    const seen: string[] = [];
    const result = await w.run((r, c) => (seen.push(`${r},${c}`), metricOf(r, c)), { order });
    expect(seen).toEqual(["2,2", "0,1", "1,0"]);
    expect(result.done).toBe(3);
    expect(result.total).toBe(3);
    expect(result.status).toBe("done");
    expect(Number.isNaN(result.values[0][0])).toBe(true);
    expect(result.values[0][1]).toBeCloseTo(metricOf(0, 1), 5);
    await expect(w.run(() => 1, { order: [[0, 0], [0, 0]] })).rejects.toThrow(/names cell \(0, 0\) twice/);
    await expect(w.run(() => 1, { order: [[0, 3]] })).rejects.toThrow(/cell \(0, 3\) is outside the 3 × 3 grid/);
  });

  it("valuesTensor gives a [rows, cols] tensor the caller disposes", async () => {
    const w = patchingSweepWidget({ rows: 2, cols: 2 });
    await w.run((r, c) => metricOf(r, c));
    const before = tf.memory().numTensors;
    const t = w.valuesTensor();
    expect(t.shape).toEqual([2, 2]);
    expect(Array.from(t.dataSync())).toEqual([0, 1, 2, 3].map((i) => Math.fround(metricOf(Math.floor(i / 2), i % 2))));
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("sends the values at most every batchUpdateMs, and all of them at the end", async () => {
    const comms = new RecordingComms();
    const w = new PatchingSweepWidget({ rows: 10, cols: 12 }, { comms });
    const started = Date.now();
    await w.run(async (r, c) => {
      await sleep(2);
      return metricOf(r, c);
    }, { batchUpdateMs: 50 });
    const elapsed = Date.now() - started;
    const updates = comms.valueUpdates();
    // 120 cells of ≥ 2 ms each take ≥ 240 ms: a few updates, far fewer than cells.
    expect(elapsed).toBeGreaterThan(200);
    expect(updates.length).toBeGreaterThanOrEqual(3);
    expect(updates.length).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 3);
    // Between consecutive updates that carried new cells at least ~50 ms passed (start and end updates excepted).
    const times = comms.sent.filter((m) => (m.data.buffer_paths ?? []).length > 0).map((m) => m.at);
    const gaps = times.slice(1, -1).map((t, i) => t - times[i]).slice(1);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(45);
    // Filled cells only grow, and the last update holds every value.
    const filled = updates.map((u) => u.filter((v) => !Number.isNaN(v)).length);
    for (let i = 1; i < filled.length; i++) expect(filled[i]).toBeGreaterThanOrEqual(filled[i - 1]);
    const last = updates[updates.length - 1];
    for (let r = 0; r < 10; r++) for (let c = 0; c < 12; c++) expect(last[r * 12 + c]).toBeCloseTo(metricOf(r, c), 5);
    expect(w.updatesSent).toBe(updates.length);
  });

  it("stops on an AbortSignal mid-sweep, keeping the cells computed so far", async () => {
    const controller = new AbortController();
    let calls = 0;
    const sweep = await patchingSweep({ rows: 5, cols: 6 }, async (r, c) => {
      calls++;
      if (calls === 11) controller.abort();
      await sleep(1);
      return metricOf(r, c);
    }, { display: false, signal: controller.signal });
    expect(sweep.status).toBe("cancelled");
    // The cell in progress when the signal fired finishes; nothing after it starts.
    expect(calls).toBe(11);
    expect(sweep.done).toBe(11);
    expect(sweep.message).toMatch(/cancelled \(signal\) after 11 of 30 cells/);
    const flat = sweep.values.flat();
    for (let i = 0; i < 30; i++) {
      if (i < 11) expect(flat[i]).toBeCloseTo(metricOf(Math.floor(i / 6), i % 6), 5);
      else expect(Number.isNaN(flat[i])).toBe(true);
    }
    expect(sweep.rows).toHaveLength(11);
  });

  it("an already aborted signal computes nothing", async () => {
    const sweep = await patchingSweep({ rows: 2, cols: 2 }, () => 1, { display: false, signal: AbortSignal.abort() });
    expect([sweep.status, sweep.done]).toEqual(["cancelled", 0]);
  });

  it("the view's cancel message stops the sweep; a metric stopping on its signal counts as cancelled", async () => {
    const comms = new RecordingComms();
    const w = new PatchingSweepWidget({ rows: 4, cols: 4 }, { comms });
    const running = w.run(async (r, c, signal) => {
      if (r === 1 && c === 2) comms.deliver({ method: "custom", content: { event: "cancel" } });
      await sleep(1);
      if (signal.aborted) throw new Error("stopped early");
      return metricOf(r, c);
    });
    const result = await running;
    expect(result.status).toBe("cancelled");
    expect(result.done).toBe(6); // cells 0..5 done; cell (1, 2) threw after the abort
    expect(result.message).toMatch(/cancel button/);
    expect(w.get("status")).toBe("cancelled");
    // The final state reached the frontend.
    const statuses = comms.sent.map((m) => m.data.state?.status).filter((s) => s !== undefined);
    expect(statuses[statuses.length - 1]).toBe("cancelled");
  });

  it("widget.cancel() stops it too, and a widget runs again afterwards", async () => {
    const w = patchingSweepWidget({ rows: 3, cols: 3 });
    const result = await w.run((r, c) => {
      if (r * 3 + c === 4) w.cancel();
      return metricOf(r, c);
    });
    expect([result.status, result.done]).toEqual(["cancelled", 5]);
    const again = await w.run((r, c) => metricOf(r, c));
    expect([again.status, again.done]).toEqual(["done", 9]);
  });

  it("an error in the metric stops the sweep, names the cell and leaves status error", async () => {
    const w = patchingSweepWidget({ kind: "layer × position", rows: 3, cols: 4, colLabels: ["a", "b", "c", "d"] });
    let calls = 0;
    await expect(
      w.run((r, c) => {
        calls++;
        if (r === 1 && c === 2) throw new Error("shape mismatch");
        return metricOf(r, c);
      }),
    ).rejects.toThrow('patchingSweep: the metric failed at cell (layer L1, position "c") = [row 1, col 2]: shape mismatch');
    expect(calls).toBe(7);
    expect(w.status).toBe("error");
    expect(w.get("message")).toMatch(/row 1, col 2/);
    expect(w.done).toBe(6);
  });

  it("refuses a non-finite metric value or a tensor of many elements, naming the cell", async () => {
    await expect(patchingSweep({ rows: 2, cols: 2 }, (r, c) => (r === 1 && c === 0 ? NaN : 1), { display: false })).rejects.toThrow(/\[row 1, col 0\]: the metric returned NaN; it must return a finite number/);
    const before = tf.memory().numTensors;
    await expect(patchingSweep({ rows: 1, cols: 2 }, () => tf.ones([2]), { display: false })).rejects.toThrow(/tensor of shape \[2\]/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("leaks no tensors when the metric uses tensors and returns a scalar tensor", async () => {
    const a = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const before = tf.memory().numTensors;
    const sweep = await patchingSweep({ rows: 2, cols: 3 }, (r, c) => tf.tidy(() => a.slice([r, c], [1, 1]).mul(2).sum()), { display: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(sweep.values).toEqual([[2, 4, 6], [8, 10, 12]]);
    a.dispose();
  });

  it("an activation-patching metric on a real model: same values as a plain loop, no tensors leaked", async () => {
    await ready();
    const model = await HookedTransformer.create({ nLayers: 2, dModel: 16, nHeads: 4, dHead: 4, dMlp: 24, dVocab: 20, nCtx: 8, actFn: "gelu_new", seed: 5 });
    const clean = tf.tensor2d([[1, 5, 7, 3, 9]], [1, 5], "int32");
    const corrupt = tf.tensor2d([[1, 6, 7, 3, 9]], [1, 5], "int32");
    const { cache } = model.runWithCache(clean);
    // Logit of token 4 minus token 2 at the last position, with resid_pre of (layer, pos) patched from the clean run.
    const metric = (layer: number, pos: number): tf.Scalar =>
      tf.tidy(() => {
        const name = `blocks.${layer}.hook_resid_pre` as const;
        const logits = model.runWithHooks(corrupt, {
          fwdHooks: [[name, (act) => {
            const mask = tf.oneHot([pos], 5).reshape([1, 5, 1]);
            return act.mul(tf.scalar(1).sub(mask)).add(cache.get(name).mul(mask));
          }]],
        });
        const last = logits.slice([0, 4, 0], [1, 1, 20]).reshape([20]);
        return last.gather([4]).sub(last.gather([2])).reshape([]) as tf.Scalar;
      });
    const expected: number[][] = [];
    for (let layer = 0; layer < 2; layer++) {
      const row: number[] = [];
      for (let pos = 0; pos < 5; pos++) {
        const t = metric(layer, pos);
        row.push(t.dataSync()[0]);
        t.dispose();
      }
      expected.push(row);
    }
    const before = tf.memory().numTensors;
    const sweep = await patchingSweep({ kind: "layer × position", rows: 2, cols: 5 }, async (layer, pos) => metric(layer, pos), { display: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(sweep.values).toEqual(expected.map((row) => row.map(Math.fround)));
    // Patching the one differing position in layer 0 restores the clean logits.
    const cleanLogits = model.forward(clean);
    const cleanLast = Array.from(cleanLogits.slice([0, 4, 0], [1, 1, 20]).dataSync());
    cleanLogits.dispose();
    expect(sweep.values[0][1]).toBeCloseTo(cleanLast[4] - cleanLast[2], 4);
    cache.dispose();
    clean.dispose();
    corrupt.dispose();
    model.dispose();
  });

  it("does not throw outside a kernel when displaying: prints one line", async () => {
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const sweep = await patchingSweep({ kind: "layer × head", rows: 2, cols: 2, metricName: "loss" }, () => 0.5);
    expect(sweep.status).toBe("done");
    expect(write).toHaveBeenCalledTimes(1);
    expect(String(write.mock.calls[0][0])).toMatch(/^PatchingSweep\(layer × head, 2 × 2, loss: idle, 0 \/ 4 cells\)/);
  });

  it("in a kernel: the widget is displayed before the first cell is computed, and the interrupt stops it", async () => {
    const comms = new RecordingComms();
    const interrupt = new AbortController();
    const events: string[] = [];
    let finalHtml = "";
    setKernelRuntime({
      comms,
      display: (bundle: MimeBundle, options) => {
        events.push(`${options?.update ? "update" : "display"} ${Object.keys(bundle).sort().join(" ")}`);
        finalHtml = String(bundle["text/html"]);
      },
      clearOutput: () => undefined,
      requestInput: () => Promise.reject(new Error("no stdin")),
      interruptSignal: () => interrupt.signal,
    });
    const sweep = await patchingSweep({ rows: 3, cols: 3 }, async (r, c) => {
      events.push(`cell ${r},${c}`);
      if (r === 1 && c === 0) interrupt.abort();
      return metricOf(r, c);
    });
    const bundleKeys = "application/vnd.jupyter.widget-view+json text/html text/plain";
    // Shown before the first cell; the output updated at the end so its static HTML holds the result.
    expect(events).toEqual([`display ${bundleKeys}`, "cell 0,0", "cell 0,1", "cell 0,2", "cell 1,0", `update ${bundleKeys}`]);
    expect(finalHtml).toContain('"status":"cancelled"');
    expect(sweep.status).toBe("cancelled");
    expect(sweep.done).toBe(4);
    expect(sweep.message).toMatch(/cancelled \(interrupt\) after 4 of 9 cells/);
  });

  it("refuses to run twice at once", async () => {
    const w = patchingSweepWidget({ rows: 1, cols: 2 });
    const first = w.run(async () => (await sleep(5), 1));
    await expect(w.run(() => 1)).rejects.toThrow(/already running/);
    await first;
  });
});

describe("values pushed directly", () => {
  it("setCell fills cells, throttled, and the grid is done once all are set", async () => {
    const comms = new RecordingComms();
    const w = new PatchingSweepWidget({ rows: 2, cols: 2 }, { comms });
    w.setCell(0, 0, 1).setCell(0, 1, -2).setCell(1, 0, 3);
    expect(w.done).toBe(3);
    expect(w.status).toBe("idle");
    w.setCell(1, 1, 0.5);
    expect(w.status).toBe("done");
    expect(w.values).toEqual([[1, -2], [3, 0.5]]);
    await sleep(150); // the throttled update goes out
    const last = comms.valueUpdates().at(-1)!;
    expect([...last]).toEqual([1, -2, 3, 0.5]);
    expect(() => w.setCell(2, 0, 1)).toThrow(/cell \(2, 0\) is outside the 2 × 2 grid/);
    expect(() => w.setCell(0, 0, Infinity)).toThrow(/finite number/);
  });

  it("setValues takes a [rows, cols] tensor (not disposed), nested arrays or a flat array", () => {
    const w = patchingSweepWidget({ rows: 2, cols: 3 });
    const t = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const before = tf.memory().numTensors;
    w.setValues(t);
    expect(tf.memory().numTensors).toBe(before);
    expect(t.isDisposed).toBe(false);
    expect(w.values).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(w.status).toBe("done");
    w.setValues([[0, NaN, 1], [2, 3, 4]]);
    expect(w.done).toBe(5);
    expect(w.status).toBe("idle");
    expect(w.rows.map((x) => x.value)).toEqual([0, 1, 2, 3, 4]);
    expect(() => w.setValues(tf.zeros([3, 2]))).toThrow(/expected a tensor of shape \[2, 3\] \(rows, cols\), got \[3, 2\]/);
    expect(() => w.setValues([1, 2])).toThrow(/rows × cols = 6 values/);
    t.dispose();
    tf.disposeVariables();
  });

  it("tidy rows carry the labels; the selected cell reads back with its value", () => {
    const w = patchingSweepWidget({ kind: "head × position", rows: 2, cols: 2, rowLabels: ["L0H1", "L1H3"], colLabels: ["a", "b"] });
    w.setValues([[0.1, 0.2], [0.3, 0.4]]);
    expect(sweepValuesToRows(w.get("values"), w.getState())[3]).toMatchObject({ rowLabel: "L1H3", colLabel: "b" });
    expect(w.selected).toBeNull();
    w.set("selectedCell", [1, 0]);
    expect(w.selected).toEqual({ row: 1, col: 0, rowLabel: "L1H3", colLabel: "a", value: Math.fround(0.3) });
  });

  it("sweepValuesFrom refuses infinities", () => {
    expect(() => sweepValuesFrom([[1, -Infinity]], 1, 2)).toThrow(/row 0, col 1 is -Infinity/);
  });
});
