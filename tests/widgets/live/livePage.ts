/**
 * The browser side of the live widget test: a @jupyterlab/services KernelConnection to a real
 * Jupyter server and an @jupyter-widgets/html-manager HTMLManager that takes widget comms from the
 * kernel and loads `mechlab-widgets` from the built AMD bundle (no network beyond the server).
 * Bundled for the page by esbuild in the test; exposes `window.mechlabLive`.
 */
import { HTMLManager } from "@jupyter-widgets/html-manager";
import * as base from "@jupyter-widgets/base";
import { KernelManager, ServerConnection, type Kernel, type KernelMessage } from "@jupyterlab/services";

type Exports = Record<string, unknown>;

/** Evaluates the AMD module text with a define() that hands it @jupyter-widgets/base. */
function loadAmd(source: string): Exports {
  let exports: Exports | undefined;
  const define = (deps: string[], factory: (...args: unknown[]) => Exports): void => {
    exports = factory(...deps.map((dep) => (dep === "@jupyter-widgets/base" ? base : undefined)));
  };
  new Function("define", source)(define);
  if (!exports) throw new Error("mechlab-widgets: the AMD bundle did not define a module");
  return exports;
}

class LiveManager extends HTMLManager {
  constructor(
    private readonly kernel: Kernel.IKernelConnection,
    private readonly mechlab: Exports,
  ) {
    super();
    kernel.registerCommTarget("jupyter.widget", async (comm, msg) => {
      await this.handle_comm_open(new base.shims.services.Comm(comm), msg);
    });
  }

  protected override async loadClass(className: string, moduleName: string, moduleVersion: string): Promise<typeof base.WidgetModel | typeof base.WidgetView> {
    if (moduleName === "mechlab-widgets") {
      const found = this.mechlab[className];
      if (!found) throw new Error(`mechlab-widgets has no class ${className}`);
      return found as typeof base.WidgetModel;
    }
    return super.loadClass(className, moduleName, moduleVersion);
  }

  override async _create_comm(target: string, modelId?: string, data?: unknown, metadata?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): Promise<base.IClassicComm> {
    const comm = this.kernel.createComm(target, modelId);
    if (data || metadata) comm.open(data as never, metadata as never, buffers);
    return new base.shims.services.Comm(comm);
  }

  override async _get_comm_info(): Promise<Record<string, unknown>> {
    const reply = await this.kernel.requestCommInfo({ target_name: "jupyter.widget" });
    return reply.content.status === "ok" ? (reply.content.comms as Record<string, unknown>) : {};
  }
}

let kernel: Kernel.IKernelConnection | undefined;
let manager: LiveManager | undefined;

/** Starts a kernel of `kernelName` on the server this page came from. */
async function start(token: string, kernelName: string, amdSource: string): Promise<string> {
  const serverSettings = ServerConnection.makeSettings({ baseUrl: location.origin + "/", wsUrl: location.origin.replace(/^http/, "ws") + "/", token });
  const kernels = new KernelManager({ serverSettings });
  kernel = await kernels.startNew({ name: kernelName });
  manager = new LiveManager(kernel, loadAmd(amdSource));
  await kernel.info;
  return kernel.id;
}

/** Runs `code`; widget views it displays render into `el`. Returns the text/plain results. */
async function execute(code: string, el: HTMLElement): Promise<string[]> {
  const texts: string[] = [];
  const future = kernel!.requestExecute({ code, stop_on_error: true });
  const views: Promise<void>[] = [];
  future.onIOPub = (msg: KernelMessage.IIOPubMessage) => {
    const type = msg.header.msg_type;
    if (type === "display_data" || type === "execute_result") {
      const data = (msg.content as { data: Record<string, unknown> }).data;
      const view = data["application/vnd.jupyter.widget-view+json"] as { model_id: string } | undefined;
      if (view) {
        views.push(
          (async () => {
            const model = await manager!.get_model(view.model_id);
            const created = await manager!.create_view(model);
            await manager!.display_view(created, el);
          })(),
        );
      } else if (typeof data["text/plain"] === "string") texts.push(data["text/plain"]);
    } else if (type === "error") {
      const content = msg.content as { ename: string; evalue: string };
      texts.push(`ERROR ${content.ename}: ${content.evalue}`);
    }
  };
  await future.done;
  await Promise.all(views);
  return texts;
}

async function stop(): Promise<void> {
  await kernel?.shutdown();
}

(window as unknown as { mechlabLive: unknown }).mechlabLive = { start, execute, stop };
