// The built AMD module `mechlab-widgets`, loaded with a stand-in define() and @jupyter-widgets/base.
import { readFileSync } from "fs";
import { join } from "path";
import { runInNewContext } from "vm";
import { describe, expect, it } from "vitest";

const amdPath = join(__dirname, "..", "..", "dist", "widgets", "mechlab-widgets.amd.js");

class FakeModel {
  defaults(): Record<string, unknown> {
    return { _model_name: "DOMWidgetModel" };
  }
}
class FakeView {}

function loadAmd(): { deps: string[]; exports: Record<string, unknown> } {
  let loaded: { deps: string[]; exports: Record<string, unknown> } | undefined;
  const define = (deps: string[], factory: (...args: unknown[]) => Record<string, unknown>): void => {
    loaded = { deps, exports: factory({ DOMWidgetModel: FakeModel, DOMWidgetView: FakeView }) };
  };
  // Globals every page has that the chart libraries read when they load (vega's expression
  // interpreter names the timers, vega-lite keeps structuredClone).
  runInNewContext(readFileSync(amdPath, "utf8"), { define, console, setTimeout, clearTimeout, setInterval, clearInterval, structuredClone });
  if (!loaded) throw new Error("the bundle did not call define()");
  return loaded;
}

describe("AMD bundle mechlab-widgets", () => {
  it("depends on @jupyter-widgets/base only and exports the model and a view class per view name", () => {
    const { deps, exports } = loadAmd();
    expect(deps).toEqual(["@jupyter-widgets/base"]);
    expect(exports.MODULE_NAME).toBe("mechlab-widgets");
    expect(exports.MODULE_VERSION).toBe(JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")).version);
    expect(exports.DebugView).toBe(exports.MechlabView);
    expect(exports.PlotView).toBe(exports.MechlabView);
    expect(exports.TrainingProgressView).toBe(exports.MechlabView);
    const Model = exports.MechlabModel as new () => { defaults(): Record<string, unknown> };
    expect(new Model()).toBeInstanceOf(FakeModel);
    expect(new Model().defaults()).toMatchObject({ _model_name: "MechlabModel", _model_module: "mechlab-widgets", _view_module: "mechlab-widgets" });
  });
});
