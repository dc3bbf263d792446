/**
 * `mechlab kernel -f CONNECTION_FILE`: the kernel process itself, as the kernelspec starts it.
 */
import { UsageError } from "./cliError";
import { parseCommandLine, stringOption } from "./commandLine";

export const KERNEL_USAGE = `Usage: mechlab kernel -f CONNECTION_FILE

Runs the mechlab Jupyter kernel on the sockets a Jupyter connection file names. Jupyter starts
it (see \`mechlab install\`); there is seldom a reason to run it by hand.`;

export async function kernelCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandLine("kernel", argv, { "connection-file": { type: "string", short: "f" } });
  if (parsed.help) {
    console.log(KERNEL_USAGE);
    return 0;
  }
  const file = stringOption(parsed, "connection-file") ?? (parsed.positionals.length === 1 ? parsed.positionals[0] : undefined);
  if (!file) throw new UsageError("mechlab kernel: give the connection file with -f CONNECTION_FILE.");
  // Loaded here, not at the top: the other commands should not pay for the kernel's dependencies.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runKernel } = require("../main") as typeof import("../main");
  return runKernel(file); // serves until shutdown, then exits the process
}
