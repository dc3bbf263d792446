/**
 * toMimeBundle: how values show in notebooks (tensors numpy-style, arquero-like tables, objects
 * with their own bundle, plain values as Node's REPL prints them), and display() outside a kernel.
 */
import { beforeAll, describe, expect, it, vi } from "vitest";
import { display, ready, tf, toMimeBundle } from "../src/index";

beforeAll(async () => {
  await ready();
});

const text = (value: unknown) => toMimeBundle(value)["text/plain"];

describe("tensors", () => {
  it("small tensors of each dtype", () => {
    expect(text(tf.scalar(1.5))).toBe("Tensor float32 []\n1.5");
    expect(text(tf.tensor1d([1, 2, 3], "int32"))).toBe("Tensor int32 [3]\n[1, 2, 3]");
    expect(text(tf.tensor1d([true, false], "bool"))).toBe("Tensor bool [2]\n[ true, false]");
    expect(text(tf.tensor2d([[0.5, -1], [2, 0.125]]))).toBe("Tensor float32 [2, 2]\n[[ 0.500, -1.000],\n [ 2.000,  0.125]]");
    // A wide range of magnitudes switches to scientific notation, as numpy does.
    expect(text(tf.tensor1d([2, 1e-3]))).toBe("Tensor float32 [2]\n[2.0000e+0, 1.0000e-3]");
    expect(text(tf.tensor1d([1, NaN, Infinity]))).toBe("Tensor float32 [3]\n[ 1., nan, inf]");
    expect(text(tf.tensor1d([1e-6, 1]))).toBe("Tensor float32 [2]\n[1.0000e-6, 1.0000e+0]");
  });

  it("rank 3 separates blocks with a blank line", () => {
    expect(text(tf.range(0, 8, 1, "int32").reshape([2, 2, 2]))).toBe("Tensor int32 [2, 2, 2]\n[[[0, 1],\n  [2, 3]],\n\n [[4, 5],\n  [6, 7]]]");
  });

  it("big tensors show their edges, and min / max / mean", () => {
    const big = tf.range(0, 2 * 600 * 3, 1, "int32").reshape([2, 600, 3]);
    const shown = text(big) as string;
    expect(shown.split("\n")[0]).toBe("Tensor int32 [2, 600, 3]  min 0  max 3599  mean 1799.5000");
    expect(shown).toContain("[[[   0,    1,    2],\n  [   3,    4,    5],\n  [   6,    7,    8],\n  ...,\n");
    expect(shown).toContain("  [3597, 3598, 3599]]]");
    expect(shown.split("\n").length).toBeLessThan(20);
  });

  it("a long vector wraps at 75 columns", () => {
    const shown = (text(tf.range(0, 40, 1, "int32")) as string).split("\n");
    expect(shown.length).toBeGreaterThan(2);
    for (const line of shown) expect(line.length).toBeLessThanOrEqual(75);
  });

  it("a disposed tensor says so; HTML is a table for matrices", () => {
    const t = tf.ones([2, 2]);
    expect(toMimeBundle(t)["text/html"]).toMatch(/<table.*<td[^>]*>1\.<\/td>/);
    t.dispose();
    expect(text(t)).toBe("Tensor float32 [2, 2] (disposed)");
  });

  it("formatting leaks no tensors", () => {
    const big = tf.randomNormal([50, 50]);
    const before = tf.memory().numTensors;
    toMimeBundle(big);
    expect(tf.memory().numTensors).toBe(before);
    big.dispose();
  });
});

describe("other values", () => {
  it("plain values as the REPL prints them", () => {
    expect(toMimeBundle("hi")).toEqual({ "text/plain": "'hi'" });
    expect(text(42)).toBe("42");
    expect(text(null)).toBe("null");
    expect(text([1, "a", { b: 2 }])).toBe("[ 1, 'a', { b: 2 } ]");
    expect(text(new Map([["k", 1]]))).toBe("Map(1) { 'k' => 1 }");
  });

  it("objects with Symbol.for('Jupyter.display') give their bundle (text/plain added when missing)", () => {
    const own = { [Symbol.for("Jupyter.display")]: () => ({ "text/html": "<b>x</b>" }) };
    const bundle = toMimeBundle(own);
    expect(bundle["text/html"]).toBe("<b>x</b>");
    expect(typeof bundle["text/plain"]).toBe("string");
  });

  it("arquero-like tables show as HTML and an aligned text table", () => {
    const rows = [
      { layer: 0, head: "L0H1", score: 0.5 },
      { layer: 1, head: "L1H3", score: 0.25 },
    ];
    const table = {
      numRows: () => rows.length,
      numCols: () => 3,
      columnNames: () => ["layer", "head", "score"],
      objects: ({ limit = Infinity } = {}) => rows.slice(0, limit),
      toHTML: () => "<table><tr><td>0</td></tr></table>",
    };
    const bundle = toMimeBundle(table);
    expect(bundle["text/html"]).toBe("<table><tr><td>0</td></tr></table>");
    expect(bundle["text/plain"]).toBe(["Table 2 rows × 3 columns", "layer  head  score", "-----  ----  -----", "    0  L0H1    0.5", "    1  L1H3   0.25"].join("\n"));
  });
});

describe("display outside a kernel", () => {
  it("prints the value's text", () => {
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      const handle = display({ a: 1 });
      handle.update("next");
      display.html("<b>x</b>");
      expect(write.mock.calls.map((call) => call[0])).toEqual(["{ a: 1 }\n", "'next'\n", "<HTML>\n"]);
      expect(typeof handle.displayId).toBe("string");
    } finally {
      write.mockRestore();
    }
  });
});
