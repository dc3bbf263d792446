/**
 * An error the CLI reports as one message (no stack trace) with an exit status: 2 for a command
 * line it cannot understand, 1 for everything else.
 */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** A malformed command line; the message should say what to type instead. */
export class UsageError extends CliError {
  override name = "UsageError";
  constructor(message: string) {
    super(message, 2);
  }
}
