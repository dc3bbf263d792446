/**
 * `mechlab install` and `mechlab uninstall`: register / remove the kernelspec and the widget
 * frontends (JupyterLab 4 / Notebook 7 extension, classic Notebook nbextension).
 */
import { dirname } from "path";
import { UsageError } from "./cliError";
import { exclusive, parseCommandLine, stringOption } from "./commandLine";
import { Env } from "./jupyterTools";
import { WIDGETS_EXTENSION_NAME, installFrontendExtensions, uninstallFrontendExtensions } from "./frontendExtensions";
import { DISPLAY_NAME, KERNEL_NAME, KernelspecLocation, installKernelSpec, uninstallKernelSpec, visibleKernelSpecs } from "./kernelspec";

const LOCATION_OPTIONS = {
  user: { type: "boolean" },
  prefix: { type: "string" },
  "sys-prefix": { type: "boolean" },
} as const;

const WHERE = `Where (one of; default --user):
  --user          the per-user Jupyter data folder (e.g. ~/.local/share/jupyter/kernels/${KERNEL_NAME})
  --prefix DIR    DIR/share/jupyter/kernels/${KERNEL_NAME} (Jupyter finds it when it is installed in DIR,
                  or with JUPYTER_PATH=DIR/share/jupyter)
  --sys-prefix    the prefix of the Python Jupyter runs on (a virtualenv or conda env)`;

export const INSTALL_USAGE = `Usage: mechlab install [--user | --prefix DIR | --sys-prefix]

Registers the Jupyter kernel "${DISPLAY_NAME}" (kernelspec "${KERNEL_NAME}", with its logo), running
this copy of mechlab with this Node.js. Uses \`jupyter kernelspec install\` when Jupyter is
installed, else writes the kernelspec where Jupyter will look for it. Running it again refreshes it.

Also installs the widget frontends, so widgets render live (in the same location's data folder):
  labextensions/${WIDGETS_EXTENSION_NAME}/    JupyterLab 4 and Notebook 7 (prebuilt extension)
  nbextensions/${WIDGETS_EXTENSION_NAME}/     classic Notebook (with ipywidgets 8's widgetsnbextension),
                                    enabled in nbconfig/notebook.d/${WIDGETS_EXTENSION_NAME}.json of the config folder

${WHERE}`;

export const UNINSTALL_USAGE = `Usage: mechlab uninstall [--user | --prefix DIR | --sys-prefix]

Removes the "${KERNEL_NAME}" kernelspec and the widget frontends from the location \`mechlab install\`
put them in.

${WHERE}`;

function location(command: string, argv: string[]): KernelspecLocation | "help" {
  const parsed = parseCommandLine(command, argv, LOCATION_OPTIONS);
  if (parsed.help) return "help";
  if (parsed.positionals.length > 0) throw new UsageError(`mechlab ${command}: unexpected argument ${JSON.stringify(parsed.positionals[0])}. See \`mechlab ${command} --help\`.`);
  const chosen = exclusive(command, parsed, ["user", "prefix", "sys-prefix"]);
  if (chosen === "prefix") {
    const dir = stringOption(parsed, "prefix");
    if (!dir) throw new UsageError(`mechlab ${command}: --prefix needs a folder.`);
    return { kind: "prefix", dir };
  }
  return chosen === "sys-prefix" ? { kind: "sys-prefix" } : { kind: "user" };
}

export function installCommand(argv: string[], env: Env = process.env): number {
  const where = location("install", argv);
  if (where === "help") {
    console.log(INSTALL_USAGE);
    return 0;
  }
  const installed = installKernelSpec(where, env);
  console.log(`Installed the Jupyter kernel "${DISPLAY_NAME}" (kernelspec ${KERNEL_NAME}) in ${installed.path} (${installed.via}).`);
  const frontends = installFrontendExtensions(where, env);
  console.log(`Installed the widget extension for JupyterLab 4 / Notebook 7 in ${frontends.labextension},`);
  console.log(`and for the classic Notebook in ${frontends.nbextension} (enabled by ${frontends.nbconfig}).`);
  if (where.kind === "prefix") {
    const data = installed.path.replace(/[\\/]kernels[\\/][^\\/]+$/, "");
    console.log(`Jupyter finds them when it runs from that prefix, or with JUPYTER_PATH=${data}`);
    console.log(`(and JUPYTER_CONFIG_PATH=${dirname(dirname(dirname(frontends.nbconfig)))} for the classic Notebook's nbextension).`);
  }
  return 0;
}

export function uninstallCommand(argv: string[], env: Env = process.env): number {
  const where = location("uninstall", argv);
  if (where === "help") {
    console.log(UNINSTALL_USAGE);
    return 0;
  }
  const removed = uninstallKernelSpec(where, env);
  if (removed) {
    console.log(`Removed the ${KERNEL_NAME} kernelspec from ${removed}.`);
  } else {
    console.log(`No ${KERNEL_NAME} kernelspec to remove there (${where.kind === "prefix" ? `--prefix ${where.dir}` : `--${where.kind}`}).`);
  }
  const frontends = uninstallFrontendExtensions(where, env);
  if (frontends.length > 0) console.log(`Removed the widget extensions: ${frontends.join(", ")}.`);
  const remaining = visibleKernelSpecs(env);
  if (remaining.length > 0) {
    console.log(`Jupyter still sees a ${KERNEL_NAME} kernelspec in ${remaining.join(", ")}; remove it with the matching option (--user, --prefix DIR or --sys-prefix).`);
  }
  return 0;
}
