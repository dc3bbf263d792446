/** The view registry: `_view_name` → render function. widgets/views/index.ts fills it. */
import type { RenderView, ViewName } from "./viewContract";

const views = new Map<ViewName, RenderView>();

/** Registers `render` under `name` (what kernel models put in `_view_name`). Re-registering replaces it. */
export function registerView(name: ViewName, render: RenderView): void {
  views.set(name, render);
}

/** The render function registered under `name`, if any. */
export function getView(name: ViewName): RenderView | undefined {
  return views.get(name);
}

/** Every registered view name. */
export function viewNames(): ViewName[] {
  return [...views.keys()];
}
