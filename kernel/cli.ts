/**
 * The `mechlab` command (bin/mechlab.js): one binary, one subcommand per file in kernel/cli/.
 *
 *   mechlab notebook [DIR]            start Jupyter on the tutorial notebooks (or DIR)
 *   mechlab run NOTEBOOK…             execute notebooks headless, write .ipynb and .html
 *   mechlab install / uninstall       register / remove the Jupyter kernelspec
 *   mechlab train ORGANISM            train a model organism from scratch
 *   mechlab kernel -f FILE            the kernel process (what Jupyter starts)
 */
import { CliError } from "./cli/cliError";
import { installCommand, uninstallCommand } from "./cli/installCommand";
import { kernelCommand } from "./cli/kernelCommand";
import { notebookCommand } from "./cli/notebookCommand";
import { packageInfo } from "./cli/packageInfo";
import { runCommand } from "./cli/runCommand";
import { trainCommand } from "./cli/trainCommand";

interface Command {
  summary: string;
  run(argv: string[]): number | Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  notebook: { summary: "start Jupyter on the tutorial notebooks (or DIR) with the kernel registered", run: notebookCommand },
  run: { summary: "execute notebooks headless; write executed .ipynb and .html", run: runCommand },
  install: { summary: "register the Jupyter kernel \"TypeScript (mechlab)\"", run: installCommand },
  uninstall: { summary: "remove the Jupyter kernel", run: uninstallCommand },
  train: { summary: "train a model organism from scratch (see `mechlab train --help`)", run: trainCommand },
  kernel: { summary: "run the kernel on a connection file (Jupyter does this)", run: kernelCommand },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    "Usage: mechlab <command> [options]",
    "",
    "mechlab: a mechanistic-interpretability lab for TypeScript notebooks.",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    "",
    "Options:",
    "  -h, --help     this help; `mechlab <command> --help` for a command's own",
    "  -v, --version  mechlab's version",
    "",
    "Start with `mechlab notebook`.",
  ].join("\n");
}

/**
 * Runs the command line (without node and the script) and resolves to the exit status, which it
 * also sets as process.exitCode. Errors are reported as messages, never thrown.
 */
export async function main(argv: string[]): Promise<number> {
  let status: number;
  try {
    status = await dispatch(argv);
  } catch (error) {
    if (error instanceof CliError) {
      console.error(error.message);
      status = error.exitCode;
    } else {
      console.error(`mechlab: ${(error as Error)?.stack ?? error}`);
      status = 1;
    }
  }
  process.exitCode = status;
  return status;
}

async function dispatch(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    console.error(usage());
    return 2;
  }
  if (first === "-h" || first === "--help" || first === "help") {
    if (first === "help" && rest[0] && COMMANDS[rest[0]]) return COMMANDS[rest[0]].run(["--help"]);
    console.log(usage());
    return 0;
  }
  if (first === "-v" || first === "--version" || first === "version") {
    console.log(packageInfo().version);
    return 0;
  }
  const command = COMMANDS[first];
  if (!command) {
    const names = Object.keys(COMMANDS).join(", ");
    throw new CliError(`mechlab: unknown command ${JSON.stringify(first)}; the commands are ${names} (see \`mechlab --help\`).`, 2);
  }
  return command.run(rest);
}
