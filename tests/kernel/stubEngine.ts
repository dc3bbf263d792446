/**
 * A tiny ExecutionEngine for the wire-layer tests (never product behaviour). A cell is one
 * command per line:
 *   print <text>         stdout stream        warn <text>     stderr stream
 *   result <text>        execute_result        display <id> <text> / update <id> <text>
 *   fail <name> <msg>    error outcome         throw <msg>     engine throws
 *   input <prompt>       requestInput, prints "got <value>"   password <prompt>
 *   wait                 pending until interrupt()            sleep <ms>
 *   late <ms> <text>     stdout <ms> after the cell finished  abort   aborted outcome
 *   busyloop <ms>        blocks the main thread for <ms>       clear [wait]   clear_output
 */
import type { ExecuteContext, ExecuteOutcome, ExecutionEngine } from "../../kernel/handlers";

export function createStubEngine(): ExecutionEngine & { interrupts: number } {
  let wake: (() => void) | undefined;
  const engine = {
    interrupts: 0,
    async execute(code: string, ctx: ExecuteContext): Promise<ExecuteOutcome> {
      for (const line of code.split("\n")) {
        const [command, ...rest] = line.trim().split(" ");
        const text = rest.join(" ");
        switch (command) {
          case "print":
            ctx.io.stream("stdout", text + "\n");
            break;
          case "warn":
            ctx.io.stream("stderr", text + "\n");
            break;
          case "result":
            ctx.io.executeResult({ "text/plain": text });
            break;
          case "display":
          case "update": {
            const [id, ...words] = rest;
            ctx.io.displayData({ "text/plain": words.join(" ") }, { displayId: id, update: command === "update" });
            break;
          }
          case "fail":
            return { status: "error", ename: rest[0], evalue: rest.slice(1).join(" "), traceback: [`${rest[0]}: ${rest.slice(1).join(" ")}`] };
          case "throw":
            throw new Error(text);
          case "input":
          case "password":
            try {
              const value = await ctx.io.requestInput(text, command === "password");
              ctx.io.stream("stdout", `got ${value}\n`);
            } catch (error) {
              return { status: "error", ename: (error as Error).name, evalue: (error as Error).message, traceback: [] };
            }
            break;
          case "wait":
            await new Promise<void>((resolve) => (wake = resolve));
            return { status: "error", ename: "Interrupted", evalue: "interrupted", traceback: ["Interrupted"] };
          case "sleep":
            await new Promise((resolve) => setTimeout(resolve, Number(rest[0])));
            break;
          case "late": {
            const io = ctx.io;
            setTimeout(() => io.stream("stdout", rest.slice(1).join(" ") + "\n"), Number(rest[0]));
            break;
          }
          case "clear":
            ctx.io.clearOutput(rest[0] === "wait");
            break;
          case "busyloop": {
            const end = Date.now() + Number(rest[0]);
            while (Date.now() < end) {
              /* blocking on purpose */
            }
            break;
          }
          case "abort":
            return { status: "aborted" };
          case "":
            break;
          default:
            return { status: "error", ename: "UnknownCommand", evalue: command, traceback: [`UnknownCommand: ${command}`] };
        }
      }
      return { status: "ok", userExpressions: Object.fromEntries(Object.keys(ctx.userExpressions).map((k) => [k, { status: "ok", data: { "text/plain": k }, metadata: {} }])) };
    },
    complete(code: string, cursorPos: number) {
      const start = code.lastIndexOf(" ", cursorPos - 1) + 1;
      const prefix = code.slice(start, cursorPos);
      return { matches: ["print", "prompt", "result"].filter((m) => m.startsWith(prefix)), cursor_start: start, cursor_end: cursorPos };
    },
    inspect(code: string, cursorPos: number, detailLevel: number) {
      return { found: true, data: { "text/plain": `${code.slice(0, cursorPos)}|${detailLevel}` } };
    },
    isComplete(code: string) {
      return code.endsWith("\\") ? { status: "incomplete" as const, indent: "  " } : { status: "complete" as const };
    },
    interrupt() {
      engine.interrupts++;
      wake?.();
      wake = undefined;
    },
    shutdown() {
      process.stderr.write("stub engine: shutdown\n");
    },
  };
  return engine;
}
