/**
 * Asking the user for a line of text: `await input("name? ")`, `await password("token: ")`.
 * In the mechlab kernel the frontend asks (Jupyter's stdin channel); in plain Node the terminal
 * does (the password is not echoed).
 */
import * as readline from "readline";
import { Writable } from "stream";
import { getKernelRuntime } from "./kernelRuntime";

function readLine(prompt: string, hidden: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    // A hidden answer goes to an output that drops everything; the prompt is written directly.
    const output = hidden ? new Writable({ write: (_chunk, _encoding, done) => done() }) : process.stdout;
    if (hidden) process.stdout.write(prompt);
    const rl = readline.createInterface({ input: process.stdin, output, terminal: Boolean(process.stdin.isTTY) });
    let answered = false;
    rl.question(hidden ? "" : prompt, (answer) => {
      answered = true;
      rl.close();
      if (hidden) process.stdout.write("\n");
      resolve(answer);
    });
    rl.once("close", () => {
      if (!answered) reject(new Error("input(): stdin ended before a line was read"));
    });
  });
}

/** Reads a line of text from the user. */
export function input(prompt = ""): Promise<string> {
  const runtime = getKernelRuntime();
  return runtime ? runtime.requestInput(prompt, false) : readLine(prompt, false);
}

/** Reads a line of text from the user without showing it. */
export function password(prompt = ""): Promise<string> {
  const runtime = getKernelRuntime();
  return runtime ? runtime.requestInput(prompt, true) : readLine(prompt, true);
}
