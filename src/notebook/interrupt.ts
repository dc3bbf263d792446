/**
 * Cooperative interruption for long work (training, sweeps, dataset passes). An interrupted cell
 * stops waiting at once, but work it started keeps running unless it checks this signal:
 *
 *   const signal = interruptSignal();
 *   for (const batch of batches) { if (signal.aborted) break; await step(batch); }
 *
 * Inside the kernel the signal aborts when the user interrupts the cell that started the work.
 * Outside a kernel (a script) it never aborts: Ctrl-C ends the process as usual.
 */
import { getKernelRuntime } from "./kernelRuntime";

const neverAborted = new AbortController().signal;

export function interruptSignal(): AbortSignal {
  return getKernelRuntime()?.interruptSignal?.() ?? neverAborted;
}

/** Throws an Error named "Interrupted" if the current work was interrupted. */
export function throwIfInterrupted(): void {
  if (interruptSignal().aborted) {
    const error = new Error("The cell that started this work was interrupted.");
    error.name = "Interrupted";
    throw error;
  }
}
