// MechlabWidget and the static text/html path, without a browser.
import { readFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { MechlabWidget, MECHLAB_WIDGET_MODULE, staticWidgetHtml } from "../../src";
import { encodeStaticState } from "../../src/widgets/staticHtml";

const version = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")).version as string;

describe("MechlabWidget", () => {
  it("names the mechlab-widgets module, MechlabModel and its view", () => {
    const widget = new MechlabWidget("DebugView", { value: "hi" } as never);
    const state = widget.getState() as unknown as Record<string, unknown>;
    expect(state).toMatchObject({
      _model_module: MECHLAB_WIDGET_MODULE,
      _model_module_version: version,
      _model_name: "MechlabModel",
      _view_module: "mechlab-widgets",
      _view_module_version: version,
      _view_name: "DebugView",
      _dom_classes: [],
      value: "hi",
    });
    expect(widget.viewName).toBe("DebugView");
  });

  it("displays offline as self-contained html with the bundle guarded once per page", () => {
    const widget = new MechlabWidget("DebugView", { value: "hi", data: new Float32Array([1, 2, 3.5]) } as never);
    const bundle = widget.mimeBundle();
    expect(bundle["application/vnd.jupyter.widget-view+json"]).toBeUndefined(); // no kernel here
    const html = String(bundle["text/html"]);
    expect(html).toContain('if (!(window.mechlabWidgets && window.mechlabWidgets.getView("DebugView")))');
    expect(html).toContain("renderStatic(");
    expect(html).toContain(readFileSync(join(__dirname, "..", "..", "dist", "widgets", "mechlab-widgets.static.js"), "utf8").slice(0, 200));
    expect(html).not.toMatch(/<script[^>]*\bsrc=/);
    // No URL at all, except XML namespace names (the SVG namespace is an identifier, never fetched).
    expect(html.replace(/http:\/\/www\.w3\.org\/(2000\/svg|1999\/xhtml|1999\/xlink|2000\/xmlns\/)/g, "")).not.toMatch(/https?:\/\//);
  });
});

describe("static state encoding", () => {
  it("moves binary values out as base64 with their array kind and path", () => {
    const { state, buffers } = encodeStaticState({ a: 1, data: new Float32Array([1, 2]), list: [new Int32Array([7]), "x"] });
    expect(state).toEqual({ a: 1, list: [null, "x"] });
    expect(buffers).toEqual([
      { path: ["data"], kind: "Float32Array", data: Buffer.from(new Float32Array([1, 2]).buffer).toString("base64") },
      { path: ["list", 0], kind: "Int32Array", data: Buffer.from(new Int32Array([7]).buffer).toString("base64") },
    ]);
  });

  it("keeps </script> in state and bundle from closing the script element", () => {
    const html = staticWidgetHtml("DebugView", { value: "</script><b>x</b>" }, { bundle: 'var s = "</script>";' });
    expect(html.match(/<\/script>/g)).toHaveLength(2);
  });
});
