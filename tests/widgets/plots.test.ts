/**
 * Plot spec and data building (kernel side) and the browser's columns → rows: each kind's marks and
 * encodings, data columns equal to the input values (checked against the inputs with plain loops),
 * arquero input, clear errors for bad input, binary transport, and no leaked tensors.
 */
import * as aq from "arquero";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plot, ready, tf, type PlotWidget } from "../../src";
import { removeBuffers, putBuffers } from "../../src/widgets/runtime";
import { plotRows } from "../../widgets/views/plotRows";

type Enc = Record<string, Record<string, unknown>>;
const enc = (w: PlotWidget): Enc => w.get("spec").encoding as Enc;
const rowsOf = (w: PlotWidget) => w.spec().data as { values: Record<string, unknown>[] };
/** Table rows with their numbers as float32 (how plot data travels). */
const asFloat32Rows = (rows: object[]): Record<string, unknown>[] =>
  rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "number" ? Math.fround(v) : v])));

/** Runs `f` on `t`, then disposes `t` (the plots read tensors and leave them to the caller). */
function disposing<T>(t: tf.Tensor, f: (t: tf.Tensor) => T): T {
  try {
    return f(t);
  } finally {
    t.dispose();
  }
}

let tensorsAtStart = 0;
beforeAll(async () => {
  await ready();
  tensorsAtStart = tf.memory().numTensors;
});
afterAll(() => {
  // Every plot here, the ones that threw included, left no tensor behind.
  expect(tf.memory().numTensors).toBe(tensorsAtStart);
});

describe("plot.line", () => {
  it("1-D tensor: y over the index, values equal to the input, the tensor kept", () => {
    const input = [0.5, -1.25, 3, 2.75, 1e-3];
    const t = tf.tensor1d(input);
    const before = tf.memory().numTensors;
    const w = plot.line(t, { title: "loss" });
    expect(tf.memory().numTensors).toBe(before);
    expect(t.isDisposed).toBe(false);
    const spec = w.get("spec");
    expect(spec.mark).toMatchObject({ type: "line" });
    expect(spec.title).toBe("loss");
    expect(spec.data).toEqual({ name: "table" });
    expect(enc(w).x).toMatchObject({ field: "x", type: "quantitative", title: "index" });
    expect(enc(w).y).toMatchObject({ field: "y", type: "quantitative" });
    expect(enc(w).color).toBeUndefined();
    const rows = rowsOf(w).values;
    expect(rows).toHaveLength(input.length);
    input.forEach((v, i) => {
      expect(rows[i]!.x).toBe(i);
      expect(rows[i]!.y).toBe(Math.fround(v));
    });
    t.dispose();
  });

  it("2-D number[][]: one coloured line per row with the series labels", () => {
    const input = [
      [1, 2, 3, 4],
      [-1, -2, -3, -4],
      [0.5, 0.25, 0.125, 0],
    ];
    const w = plot.line(input, { seriesLabels: ["a", "b", "c"], x: [10, 20, 30, 40] });
    expect(enc(w).color).toMatchObject({ field: "series", type: "nominal" });
    const rows = rowsOf(w).values;
    const expected: Record<string, unknown>[] = [];
    for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) expected.push({ x: [10, 20, 30, 40][c], y: input[r]![c], series: ["a", "b", "c"][r] });
    expect(rows).toEqual(expected);
  });

  it("arquero table with x, y and colour fields", () => {
    const table = aq.table({ step: [1, 2, 3, 1, 2, 3], loss: [3, 2, 1.5, 4, 3, 2.5], run: ["a", "a", "a", "b", "b", "b"] });
    const w = plot.line(table, { x: "step", y: "loss", color: "run", logY: true, xLabel: "training step", width: 500, height: 200 });
    expect(enc(w).x).toMatchObject({ field: "step", title: "training step" });
    expect(enc(w).y).toMatchObject({ field: "loss", scale: { type: "log" } });
    expect(enc(w).color).toMatchObject({ field: "run", type: "nominal", title: "run" });
    expect(w.get("spec")).toMatchObject({ width: 500, height: 200 });
    expect(rowsOf(w).values).toEqual(asFloat32Rows(table.objects()));
  });

  it("merges `spec` overrides deeply (objects merge, values replace)", () => {
    const w = plot.line([1, 2, 3], { yLabel: "v", spec: { mark: { strokeWidth: 3 }, encoding: { y: { title: "replaced" } }, config: { axis: { grid: false } } } });
    expect(w.get("spec").mark).toMatchObject({ type: "line", strokeWidth: 3 });
    expect(enc(w).y).toMatchObject({ field: "y", title: "replaced" });
    expect(w.get("spec").config).toEqual({ axis: { grid: false } });
  });

  it("bad input: ragged rows, wrong rank, a field for array data, a missing field, a disposed tensor", () => {
    expect(() => plot.line([[1, 2], [3]])).toThrow(/ragged rows: row 1 has 1 values but row 0 has 2/);
    expect(() => disposing(tf.zeros([2, 2, 2]), (t) => plot.line(t))).toThrow(/expected a 1-D \[points\] or 2-D \[rows, cols\] tensor, got shape \[2, 2, 2\]/);
    expect(() => plot.line([1, "a" as unknown as number])).toThrow(/element \[1\] is string/);
    expect(() => plot.line([1, 2], { x: "step" })).toThrow(/options.x names a field, but the data is not a table/);
    expect(() => plot.line([1, 2], { x: [1, 2, 3] })).toThrow(/options.x has 3 values but each line has 2 points/);
    expect(() => plot.line({ step: [1, 2], loss: [1, 2] }, { x: "step", y: "losses" })).toThrow(/no field "losses" in the table; its fields are "step", "loss"/);
    expect(() => plot.line({ step: [1, 2], loss: [1, 2, 3] }, { x: "step", y: "loss" })).toThrow(/column "loss" has 3 rows but "step" has 2/);
    const t = tf.tensor1d([1, 2]);
    t.dispose();
    expect(() => plot.line(t)).toThrow(/the tensor was disposed/);
  });
});

describe("plot.heatmap", () => {
  const matrix = [
    [0.5, -2, 1],
    [3, 0, -0.25],
  ];

  it("cells as rect marks, values equal to the matrix, diverging scale centred on 0", () => {
    const w = disposing(tf.tensor2d(matrix), (t) => plot.heatmap(t, { xLabels: ["a", " b", "a"], yLabels: ["q1", "q2"], valueLabel: "score" }));
    const spec = w.get("spec");
    expect(spec.mark).toMatchObject({ type: "rect" });
    expect(enc(w).x).toMatchObject({ field: "col", type: "ordinal" });
    expect(enc(w).y).toMatchObject({ field: "row", type: "ordinal" });
    // Largest magnitude by a plain loop: 3.
    let reach = 0;
    for (const row of matrix) for (const v of row) reach = Math.max(reach, Math.abs(v));
    expect(enc(w).color).toMatchObject({ field: "value", type: "quantitative", title: "score", scale: { scheme: "redblue", domain: [-reach, reach], domainMid: 0 } });
    const rows = rowsOf(w).values;
    for (let r = 0; r < 2; r++) {
      for (let c = 0; c < 3; c++) {
        const cell = rows.find((row) => row.row === r && row.col === c)!;
        expect(cell.value).toBe(Math.fround(matrix[r]![c]!));
        expect(cell.colLabel).toBe(["a", " b", "a"][c]);
        expect(cell.rowLabel).toBe(["q1", "q2"][r]);
      }
    }
    // The axis labels: the label of each index (repeated labels stay separate columns).
    const labelExpr = (enc(w).x.axis as { labelExpr: string }).labelExpr;
    const label = (i: number): string => new Function("datum", `return ${labelExpr};`)({ value: i });
    expect([0, 1, 2].map(label)).toEqual(["a", "·b", "a"]);
  });

  it("large matrices: every cell, labels thinned out only beyond 40", () => {
    const big = disposing(tf.zeros([50, 60]), (t) => plot.heatmap(t, { xLabels: Array.from({ length: 60 }, (_, i) => `t${i}`) }));
    expect(big.get("rowCount")).toBe(3000);
    expect(enc(big).x.axis).toMatchObject({ labelOverlap: "greedy", labelAngle: -45 });
    expect(enc(big).y.axis).toMatchObject({ labelOverlap: "greedy" });
    expect(enc(plot.heatmap([[1, 2]])).x.axis).toMatchObject({ labelOverlap: false });
  });

  it("one-signed values get a sequential scheme; a table works with x, y and colour fields", () => {
    expect(enc(plot.heatmap([[0, 1], [2, 3]])).color!.scale).toEqual({ scheme: "blues" });
    expect(enc(plot.heatmap([[0, -1], [-2, -3]])).color!.scale).toEqual({ scheme: "reds", reverse: true });
    const table = aq.table({ layer: ["0", "0", "1", "1"], head: ["h0", "h1", "h0", "h1"], effect: [0.1, -0.2, 0.3, 0.05] });
    const w = plot.heatmap(table, { x: "head", y: "layer", color: "effect" });
    expect(enc(w).color).toMatchObject({ field: "effect", title: "effect" });
    expect(rowsOf(w).values).toEqual(asFloat32Rows(table.objects()));
  });

  it("bad input: 1-D data, 3-D tensor, label counts, a table without fields", () => {
    expect(() => plot.heatmap([1, 2, 3])).toThrow(/expected a 2-D \[rows, cols\] matrix, got a 1-D array of 3 values/);
    expect(() => disposing(tf.zeros([1, 2, 3]), (t) => plot.heatmap(t))).toThrow(/got shape \[1, 2, 3\]/);
    expect(() => plot.heatmap(matrix, { xLabels: ["a"] })).toThrow(/1 xLabels for 3 columns/);
    expect(() => plot.heatmap({ a: [1] })).toThrow(/options.x, options.y and options.color must name/);
  });
});

describe("plot.scatter", () => {
  it("an arquero table with a colour field: point marks, rows equal to the table", () => {
    const table = aq.table({ pc1: [0.1, -0.5, 2], pc2: [1, 0, -1], label: ["noun", "verb", "noun"] });
    const w = plot.scatter(table, { x: "pc1", y: "pc2", color: "label", logX: false });
    expect(w.get("spec").mark).toMatchObject({ type: "point" });
    expect(enc(w).x).toMatchObject({ field: "pc1", type: "quantitative" });
    expect(enc(w).color).toMatchObject({ field: "label", type: "nominal" });
    expect(rowsOf(w).values).toEqual(asFloat32Rows(table.objects()));
  });

  it("a [points, 2] tensor with per-point colour values", () => {
    const points = [
      [1, 2],
      [3, 4],
      [-5, 6],
    ];
    const w = disposing(tf.tensor2d(points), (t) => plot.scatter(t, { color: [0.1, 0.2, 0.3] }));
    expect(enc(w).color).toMatchObject({ type: "quantitative" });
    const rows = rowsOf(w).values;
    points.forEach(([x, y], i) => expect(rows[i]).toEqual({ x, y, color: Math.fround([0.1, 0.2, 0.3][i]!) }));
  });

  it("bad input: not [points, 2], missing fields, colour count", () => {
    expect(() => plot.scatter([1, 2, 3])).toThrow(/expected points as a \[points, 2\] matrix/);
    expect(() => plot.scatter([[1, 2, 3]])).toThrow(/got shape \[1, 3\]/);
    expect(() => plot.scatter({ a: [1], b: [2] }, { x: "a" })).toThrow(/options.x and options.y must name/);
    expect(() => plot.scatter([[1, 2]], { color: ["a", "b"] })).toThrow(/one value per point \(1\)/);
    expect(() => plot.scatter(aq.table({ a: [1], b: [2] }), { x: "a", y: "c" })).toThrow(/no field "c" in the table; its fields are "a", "b"/);
  });
});

describe("plot.hist", () => {
  it("bin counts match counting each bin's range directly; NaN and ∞ left out", () => {
    let seed = 7;
    const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const values = Array.from({ length: 1000 }, () => random() * 10 - 3);
    const withBad = [...values, NaN, Infinity, -Infinity];
    const t = tf.tensor2d(withBad.slice(0, 1000), [100, 10]); // any rank is flattened
    const before = tf.memory().numTensors;
    const w = plot.hist(withBad, { bins: 12 });
    const fromTensor = plot.hist(t, { bins: 12 });
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
    expect(w.get("spec").mark).toMatchObject({ type: "bar" });
    expect(enc(w).x).toMatchObject({ field: "binStart", bin: { binned: true } });
    expect(enc(w).x2).toEqual({ field: "binEnd" });
    const rows = rowsOf(w).values as { binStart: number; binEnd: number; count: number }[];
    expect(rows).toHaveLength(12);
    const f32 = values.map(Math.fround);
    rows.forEach((bin, i) => {
      const last = i === rows.length - 1;
      const inside = f32.filter((v) => v >= bin.binStart && (last ? v <= bin.binEnd : v < bin.binEnd)).length;
      expect(bin.count).toBe(inside);
    });
    expect(rows.reduce((a, b) => a + b.count, 0)).toBe(1000);
    expect(rows[0]!.binStart).toBe(Math.fround(Math.min(...f32)));
    expect(rows[11]!.binEnd).toBe(Math.fround(Math.max(...f32)));
    expect(rowsOf(fromTensor).values).toEqual(rows);
  });

  it("a table with colour groups: per-group counts add up to the group sizes", () => {
    const table = aq.table({ act: [0, 1, 2, 3, 4, 5, 6, 7], kind: ["a", "a", "b", "b", "b", "a", "b", "b"] });
    const w = plot.hist(table, { x: "act", color: "kind", bins: 4 });
    expect(enc(w).color).toMatchObject({ field: "group", title: "kind" });
    const rows = rowsOf(w).values as { count: number; group: string }[];
    const total = (g: string): number => rows.filter((r) => r.group === g).reduce((a, r) => a + r.count, 0);
    expect([total("a"), total("b")]).toEqual([3, 5]);
  });

  it("bad input: no finite values, bad bins, a text field", () => {
    expect(() => plot.hist([NaN, Infinity])).toThrow(/no finite values to bin/);
    expect(() => plot.hist([1, 2], { bins: 0 })).toThrow(/bins must be a positive integer, got 0/);
    expect(() => plot.hist({ w: ["a", "b"] }, { x: "w" })).toThrow(/the field "w" is not numeric/);
  });
});

describe("transport", () => {
  it("numbers travel as Float32 buffers, not JSON; the browser's rows equal the inputs", () => {
    const n = 100_000;
    const ys = Float32Array.from({ length: n }, (_, i) => Math.sin(i / 100));
    const w = plot.line(ys);
    const split = removeBuffers(w.getState());
    expect(JSON.stringify(split.state).length).toBeLessThan(3000);
    expect(split.buffers.map((b) => b.constructor.name)).toEqual(["Float32Array", "Float32Array"]);
    expect(split.buffers.reduce((a, b) => a + b.byteLength, 0)).toBe(2 * 4 * n);

    // As a live view receives it: the buffers as DataViews over the raw frames.
    const small = plot.scatter({ a: [1.5, -2, 3], b: [0, 1, 2], tag: ["x", "y", "x"] }, { x: "a", y: "b", color: "tag" });
    const wire = removeBuffers(small.getState());
    const received = putBuffers(structuredClone(wire.state) as unknown as Record<string, unknown>, wire.bufferPaths, wire.buffers.map((b) => {
      const view = b as ArrayBufferView;
      const copy = new Uint8Array(8 + view.byteLength);
      copy.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), 8);
      return new DataView(copy.buffer, 8, view.byteLength);
    }));
    expect(plotRows(received.columns, received.rowCount as number)).toEqual([
      { a: 1.5, b: 0, tag: "x" },
      { a: -2, b: 1, tag: "y" },
      { a: 3, b: 2, tag: "x" },
    ]);
  });

  it("the state spec has no data values; spec() has them all", () => {
    const w = plot.line([3, 1, 2]);
    expect(w.get("spec").data).toEqual({ name: "table" });
    expect(rowsOf(w).values.map((r) => r.y)).toEqual([3, 1, 2]);
    expect(w.get("spec").data).toEqual({ name: "table" }); // spec() did not change the state
    expect(w.mimeBundle()["text/plain"]).toBe("Plot(line, 3 rows: x, y)");
  });
});
