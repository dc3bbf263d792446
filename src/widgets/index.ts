/** mechlab widgets: the base model, its static HTML path and the built frontend assets. */
export { MechlabWidget, MECHLAB_MODEL_NAME, mechlabWidgetKeys, type MechlabWidgetState, type MechlabWidgetInit } from "./mechlabWidget";
export { staticWidgetHtml, encodeStaticState, type StaticBuffer, type StaticHtmlOptions } from "./staticHtml";
export { MECHLAB_WIDGET_MODULE, widgetModuleVersion, widgetAssetsDir, readWidgetAsset, STATIC_BUNDLE_FILE, AMD_BUNDLE_FILE } from "./widgetAssets";
