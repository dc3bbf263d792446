/**
 * Errors that escape user code — a throw in a timer or handler, a rejected promise nobody awaits —
 * must never stop the kernel. They are reported as an `error` output of the cell whose async
 * context they come from (Node runs these process handlers in that context), or of the latest
 * cell when there is none.
 */
export type EscapedKind = "uncaughtException" | "unhandledRejection";

/** Installs the handlers; returns a function that removes them. */
export function handleEscapedErrors(report: (kind: EscapedKind, error: unknown) => void, log: (line: string) => void): () => void {
  const handler = (kind: EscapedKind) => (error: unknown) => {
    try {
      report(kind, error);
    } catch (failure) {
      log(`${kind} (could not be reported to its cell: ${(failure as Error)?.message ?? failure}): ${(error as Error)?.stack ?? error}`);
    }
  };
  const onException = handler("uncaughtException");
  const onRejection = handler("unhandledRejection");
  process.on("uncaughtException", onException);
  process.on("unhandledRejection", onRejection);
  return () => {
    process.off("uncaughtException", onException);
    process.off("unhandledRejection", onRejection);
  };
}
