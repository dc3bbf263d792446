/**
 * Parses one subcommand's arguments with Node's own `util.parseArgs` and turns its errors into
 * usage errors that name the subcommand. Every subcommand takes `-h/--help`; arguments after a
 * bare `--` are kept apart (`mechlab notebook` passes them on to Jupyter).
 */
import { parseArgs } from "util";
import { UsageError } from "./cliError";

export interface OptionSpec {
  type: "boolean" | "string";
  short?: string;
}

export interface ParsedCommandLine {
  /** Options given, by long name; a string option given twice keeps the last value. */
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** Whatever followed a bare `--`. */
  passThrough: string[];
  help: boolean;
}

export function parseCommandLine(command: string, argv: string[], options: Record<string, OptionSpec>): ParsedCommandLine {
  const split = argv.indexOf("--");
  const own = split < 0 ? argv : argv.slice(0, split);
  const passThrough = split < 0 ? [] : argv.slice(split + 1);
  try {
    const { values, positionals } = parseArgs({
      args: own,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    const flat: Record<string, string | boolean | undefined> = {};
    for (const [name, value] of Object.entries(values)) flat[name] = Array.isArray(value) ? value[value.length - 1] : value;
    return { values: flat, positionals, passThrough, help: flat.help === true };
  } catch (error) {
    const first = (error as Error).message.split(/\.\s/)[0].replace(/\.$/, "");
    const message = first.charAt(0).toLowerCase() + first.slice(1);
    throw new UsageError(`mechlab ${command}: ${message}. See \`mechlab ${command} --help\`.`);
  }
}

/** A string option's value, or undefined. */
export function stringOption(parsed: ParsedCommandLine, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === "string" ? value : undefined;
}

/** A positive number option (seconds, a port…), or undefined; anything else is a usage error. */
export function numberOption(command: string, parsed: ParsedCommandLine, name: string, integer: boolean): number | undefined {
  const text = stringOption(parsed, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new UsageError(`mechlab ${command}: --${name} takes a positive ${integer ? "integer" : "number"}, got ${JSON.stringify(text)}.`);
  }
  return value;
}

/** At most one of the given boolean/string options; returns the one given. */
export function exclusive(command: string, parsed: ParsedCommandLine, names: string[]): string | undefined {
  const given = names.filter((name) => parsed.values[name] !== undefined && parsed.values[name] !== false);
  if (given.length > 1) throw new UsageError(`mechlab ${command}: ${given.map((n) => `--${n}`).join(" and ")} cannot be combined; pick one.`);
  return given[0];
}
