/**
 * The KernelRuntime the library finds (display, clearOutput, input, comms), bound to the cell in
 * whose async context it is called — so `display` in a setTimeout or an event handler a cell set
 * up still shows under that cell — or to the latest cell outside any.
 */
import type { Comm, CommRegistry, KernelRuntime } from "../../src/notebook/kernelRuntime";
import type { CellOutput } from "./cellOutput";

/** Stand-in when the kernel runs without comms (e.g. the engine driven on its own). */
export function unavailableComms(): CommRegistry {
  const unavailable = (): never => {
    throw new Error("comms are not available: this kernel runs without a comm registry");
  };
  return {
    registerTarget: () => () => undefined,
    open: unavailable as (targetName: string) => Comm,
    list: () => [],
  };
}

export function createCellRuntime(currentCell: () => CellOutput | undefined, comms: CommRegistry): KernelRuntime {
  const cell = (what: string): CellOutput => {
    const found = currentCell();
    if (!found) throw new Error(`${what} needs a running cell: no cell has run in this kernel yet`);
    return found;
  };
  return {
    comms,
    display: (bundle, options) => cell("display()").displayData(bundle, options),
    clearOutput: (wait) => cell("clearOutput()").clearOutput(wait ?? false),
    requestInput: async (prompt, password) => cell(password ? "password()" : "input()").requestInput(prompt, password),
    interruptSignal: () => currentCell()?.interruption.signal ?? new AbortController().signal,
  };
}
