/**
 * A kernel for the widget end-to-end tests: the real server, comm manager, widget targets and a
 * KernelRuntime, with the stub engine plus test hooks (never product behaviour):
 *   widget new     opens a widget (value, doubled, data: Float32 buffer) and displays it; a change of
 *                  `value` sets `doubled`, and custom messages are answered with their buffers reversed
 *   widget show    prints the widget's state as JSON (data as a list of floats)
 *
 *   node --import tsx tests/kernel/widgetKernel.ts -f <connection_file>
 */
import { CommManager } from "../../kernel/comms";
import type { ExecutionEngine, KernelServices } from "../../kernel/handlers";
import { parseConnectionFileArg, startKernel } from "../../kernel/main";
import { setKernelRuntime } from "../../src/notebook/kernelRuntime";
import { DOM_WIDGET_DEFAULTS, WidgetModel, registerWidgetControl, type DOMWidgetState } from "../../src/widgets/runtime";
import { createStubEngine } from "./stubEngine";

interface TestWidgetState extends DOMWidgetState {
  value: number;
  doubled: number;
  data: Float32Array | DataView;
}

function floats(data: Float32Array | DataView): number[] {
  if (data instanceof Float32Array) return [...data];
  return Array.from({ length: data.byteLength / 4 }, (_, i) => data.getFloat32(i * 4, true));
}

let manager: CommManager | undefined;
function commsOf(services: KernelServices): CommManager {
  if (!manager) {
    manager = CommManager.fromServices(services);
    registerWidgetControl(manager);
    setKernelRuntime({
      comms: manager,
      display: (bundle, options) => services.currentCell()?.displayData(bundle, options),
      clearOutput: (wait) => services.currentCell()?.clearOutput(wait ?? false),
      requestInput: (prompt, password) =>
        services.currentCell()?.requestInput(prompt, password) ?? Promise.reject(new Error("no cell is running")),
    });
  }
  return manager;
}

function widgetEngine(services: KernelServices): ExecutionEngine {
  commsOf(services);
  const stub = createStubEngine();
  let widget: WidgetModel<TestWidgetState> | undefined;
  return {
    ...stub,
    async execute(code, ctx) {
      const command = code.trim();
      if (command === "widget new") {
        widget = new WidgetModel<TestWidgetState>({
          _model_module: "mechlab-test",
          _model_module_version: "0.1.0",
          _model_name: "TestModel",
          _view_module: "mechlab-test",
          _view_module_version: "0.1.0",
          _view_name: "TestView",
          ...DOM_WIDGET_DEFAULTS,
          value: 1,
          doubled: 2,
          data: new Float32Array([0.5, 1.5]),
        });
        const model = widget;
        model.on("change:value", ({ value }) => model.set("doubled", value * 2));
        model.onCustom((content, buffers) => model.sendCustom({ echo: content }, buffers.slice().reverse()));
        ctx.io.displayData(model.mimeBundle());
        return { status: "ok" };
      }
      if (command === "widget show") {
        if (!widget) return { status: "error", ename: "NoWidget", evalue: "run `widget new` first", traceback: [] };
        const state = widget.getState();
        ctx.io.stream("stdout", JSON.stringify({ value: state.value, doubled: state.doubled, data: floats(state.data) }) + "\n");
        return { status: "ok" };
      }
      return stub.execute(code, ctx);
    },
  };
}

async function main(): Promise<void> {
  const file = parseConnectionFileArg(process.argv.slice(2));
  if (!file) throw new Error("usage: widgetKernel.ts -f <connection_file>");
  const server = await startKernel(file, {
    engine: (services) => widgetEngine(services),
    comms: (services) => commsOf(services).handler,
  });
  await server.closed;
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`widget kernel: ${error?.stack ?? error}\n`);
  process.exit(1);
});
