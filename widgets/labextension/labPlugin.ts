/**
 * The JupyterLab 4 / Notebook 7 plugin: registers the widget module `mechlab-widgets` with the
 * widget manager of jupyterlab_widgets (the `IJupyterWidgetRegistry` service), exporting the same
 * model class and view adapters as the AMD module, so the manager finds a view by `_view_name`.
 *
 * scripts/build-labextension.cjs bundles this file (with esbuild, @jupyter-widgets/base left
 * external) and hands it to @jupyterlab/builder, which makes the prebuilt (federated) extension in
 * dist/labextension/. @jupyter-widgets/base is shared, not bundled: the running JupyterLab's copy
 * is the one whose registry token this plugin asks for.
 */
import { IJupyterWidgetRegistry, type ExportMap } from "@jupyter-widgets/base";
import { MODULE_NAME, MODULE_VERSION, moduleExports } from "../entries/amdEntry";

/** The shape of a JupyterLab plugin (a Lumino `IPlugin`), as far as this one uses it. */
export interface MechlabLabPlugin {
  id: string;
  description: string;
  requires: unknown[];
  autoStart: boolean;
  activate(app: unknown, registry: IJupyterWidgetRegistry): void;
}

export const PLUGIN_ID = "mechlab-widgets:plugin";

const plugin: MechlabLabPlugin = {
  id: PLUGIN_ID,
  description: "Registers mechlab's widget views (attention patterns, token colours, …) with the widget manager.",
  requires: [IJupyterWidgetRegistry],
  autoStart: true,
  activate(_app, registry) {
    registry.registerWidget({ name: MODULE_NAME, version: MODULE_VERSION, exports: moduleExports() as ExportMap });
  },
};

export default plugin;
