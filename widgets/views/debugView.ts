/**
 * DebugView: a tiny built-in view for tests of the frontend plumbing. Shows `value` (any JSON),
 * `count` and the length and sum of the binary `data` (Float32); its button adds 1 to `count` and
 * saves, so a browser-side change reaches the kernel.
 */
import { asFloat32 } from "./arrays";
import type { RenderView } from "./viewContract";

export const renderDebugView: RenderView = ({ model, el }) => {
  const root = document.createElement("div");
  root.className = "mechlab-debug-view";
  root.style.cssText = "font: 13px monospace; padding: 6px; border: 1px solid #888; display: inline-block";
  const value = document.createElement("div");
  value.dataset.testid = "value";
  const count = document.createElement("div");
  count.dataset.testid = "count";
  const data = document.createElement("div");
  data.dataset.testid = "data";
  const button = document.createElement("button");
  button.textContent = "count + 1";
  button.dataset.testid = "increment";
  root.append(value, count, data, button);
  el.append(root);

  const update = (): void => {
    value.textContent = `value: ${JSON.stringify(model.get("value") ?? null)}`;
    count.textContent = `count: ${String(model.get("count") ?? 0)}`;
    const raw = model.get("data");
    if (raw === undefined || raw === null) data.textContent = "data: none";
    else {
      const array = asFloat32(raw, "data");
      let sum = 0;
      for (const x of array) sum += x;
      data.textContent = `data: ${array.length} floats, sum ${sum}`;
    }
  };
  const onClick = (): void => {
    model.set("count", Number(model.get("count") ?? 0) + 1);
    model.save_changes();
  };
  button.addEventListener("click", onClick);
  model.on("change", update);
  update();
  return () => {
    model.off("change", update);
    button.removeEventListener("click", onClick);
    root.remove();
  };
};
