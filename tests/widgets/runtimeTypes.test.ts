/**
 * The widget runtime as notebooks meet it: a WidgetModel subclass with typed state and change
 * events compiles from "mechlab" with the TypeScript the kernel bundles (tslab's 5.0, node10
 * resolution), and a misspelled state key does not. Needs `npm run build` first.
 */
import { describe, expect, it } from "vitest";
import { tslabDiagnostics } from "../helpers/tslabTypecheck";

const PRELUDE = `
  import { WidgetModel, DOM_WIDGET_DEFAULTS, type DOMWidgetState } from "mechlab";
  interface CounterState extends DOMWidgetState { count: number; weights: Float32Array | DataView | null }
  class Counter extends WidgetModel<CounterState> {
    constructor() {
      super({
        _model_module: "mechlab-widgets", _model_module_version: "^0.1.0", _model_name: "CounterModel",
        _view_module: "mechlab-widgets", _view_module_version: "^0.1.0", _view_name: "CounterView",
        ...DOM_WIDGET_DEFAULTS, count: 0, weights: null,
      });
    }
    protected override htmlFallback(): string { return "<b>" + this.get("count") + "</b>"; }
  }
  const counter = new Counter();
`;

describe("widget runtime types", () => {
  // One program (compiling mechlab's declarations is the slow part): the valid uses must give no
  // error, and exactly the three bad lines must.
  it("a typed subclass, set/get and change events compile; misspelled keys and wrong types do not", () => {
    const errors = tslabDiagnostics(`${PRELUDE}
      counter.set("count", 3);
      counter.set({ count: 4, weights: new Float32Array([1]) });
      const n: number = counter.get("count");
      counter.on("change:count", (event) => { const v: number = event.value; const o: number = event.old; console.log(v, o, n); });
      counter.onCustom((content, buffers) => console.log(content, buffers.length));
      console.log(counter.mimeBundle()["text/plain"], counter.modelId, counter.live);
      counter.set("cout", 3);
      counter.set("count", "three");
      counter.on("change:cuont", () => {});
    `);
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/"cout"/);
    expect(errors[1]).toMatch(/"three"|string/);
    expect(errors[2]).toMatch(/"change:cuont"/);
  });
});
