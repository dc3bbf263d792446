/**
 * The self-contained text/html of a widget: a container, the inlined static bundle (once per page,
 * guarded on `window.mechlabWidgets` having the view), the state as JSON and binary values as base64, then
 * `mechlabWidgets.renderStatic(el, viewName, state, buffers)`. Nothing is fetched from the network.
 */
import { randomUUID } from "crypto";
import { removeBuffers } from "./runtime/buffers";
import type { BufferPath } from "./runtime/protocol";
import { readWidgetAsset, STATIC_BUNDLE_FILE } from "./widgetAssets";

/** One binary value of the state, as the page receives it. */
export interface StaticBuffer {
  path: BufferPath;
  /** The typed array constructor to rebuild ("Float32Array", …), or "DataView" / "ArrayBuffer". */
  kind: string;
  /** The bytes, base64. */
  data: string;
}

function kindOf(value: unknown): string {
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return "ArrayBuffer";
}

function bytesOf(value: unknown): Buffer {
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return Buffer.from(value as ArrayBuffer);
}

/** Splits the state into JSON and base64 buffers (each with its path and array kind). */
export function encodeStaticState(state: Record<string, unknown>): { state: Record<string, unknown>; buffers: StaticBuffer[] } {
  const split = removeBuffers(state);
  const buffers = split.buffers.map((buffer, i) => ({
    path: split.bufferPaths[i]!,
    kind: kindOf(buffer),
    data: bytesOf(buffer).toString("base64"),
  }));
  return { state: split.state, buffers };
}

/** JSON safe inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** Script text safe inside a <script> element (no early `</script`). */
function scriptText(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1");
}

export interface StaticHtmlOptions {
  /** The bundle's code; by default dist/widgets' static bundle. */
  bundle?: string;
}

/** The self-contained HTML that renders view `viewName` of a widget with `state`. */
export function staticWidgetHtml(viewName: string, state: Record<string, unknown>, options: StaticHtmlOptions = {}): string {
  const bundle = options.bundle ?? readWidgetAsset(STATIC_BUNDLE_FILE);
  const id = `mechlab-widget-${randomUUID()}`;
  const encoded = encodeStaticState(state);
  return [
    `<div class="mechlab-widget" id="${id}" data-mechlab-view="${viewName.replace(/[^\w.-]/g, "")}"></div>`,
    // Skipped when a bundle already on the page has this view (the chart bundle has every view).
    `<script>if (!(window.mechlabWidgets && window.mechlabWidgets.getView(${scriptJson(viewName)}))) {\n${scriptText(bundle)}\n}</script>`,
    "<script>(function () {",
    `  var el = document.getElementById(${scriptJson(id)});`,
    `  window.mechlabWidgets.renderStatic(el, ${scriptJson(viewName)}, ${scriptJson(encoded.state)}, ${scriptJson(encoded.buffers)});`,
    "})();</script>",
  ].join("\n");
}
