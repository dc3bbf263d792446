/**
 * The session's input history, answering history_request (tail, range, search).
 *
 * Only the current session is kept (in memory). Entries are [session, line, input] or, with
 * output requested, [session, line, [input, output]] where output is the execute_result's
 * text/plain (or null).
 */

/** The number the current session is reported as; requests may also say 0 for "current". */
export const CURRENT_SESSION = 1;

export type HistoryEntry = [number, number, string | [string, string | null]];

interface Item {
  line: number;
  input: string;
  output: string | null;
}

export interface HistoryQuery {
  hist_access_type?: string;
  output?: boolean;
  raw?: boolean;
  session?: number;
  start?: number;
  stop?: number | null;
  n?: number | null;
  pattern?: string;
  unique?: boolean;
}

export class History {
  private readonly items: Item[] = [];

  /** Records an input under its execution count (replacing an earlier one with the same count). */
  add(line: number, input: string): void {
    const existing = this.items.findIndex((item) => item.line === line);
    if (existing >= 0) this.items.splice(existing, 1);
    this.items.push({ line, input, output: null });
  }

  /** Stores the text/plain result of a line. */
  setOutput(line: number, output: string): void {
    const item = this.items.find((candidate) => candidate.line === line);
    if (item) item.output = output;
  }

  query(request: HistoryQuery): HistoryEntry[] {
    const output = request.output === true;
    let items: Item[];
    switch (request.hist_access_type) {
      case "tail":
        items = lastN(this.items, request.n);
        break;
      case "range":
        items = this.range(request.session ?? 0, request.start ?? 0, request.stop ?? null);
        break;
      case "search": {
        const matcher = globToRegExp(request.pattern ?? "*");
        items = this.items.filter((item) => matcher.test(item.input));
        if (request.unique) items = uniqueByInput(items);
        items = lastN(items, request.n);
        break;
      }
      default:
        items = [];
    }
    return items.map((item) => [CURRENT_SESSION, item.line, output ? [item.input, item.output] : item.input]);
  }

  /** Lines start <= line < stop (stop null: to the end); only the current session exists here. */
  private range(session: number, start: number, stop: number | null): Item[] {
    if (session !== 0 && session !== CURRENT_SESSION) return [];
    return this.items.filter((item) => item.line >= start && (stop === null || item.line < stop));
  }
}

function lastN(items: Item[], n: number | null | undefined): Item[] {
  if (n === null || n === undefined || n <= 0) return n === 0 ? [] : items.slice();
  return items.slice(-n);
}

/** Keeps the last occurrence of each input, in history order. */
function uniqueByInput(items: Item[]): Item[] {
  const seen = new Set<string>();
  const kept: Item[] = [];
  for (let i = items.length - 1; i >= 0; i--) {
    if (seen.has(items[i].input)) continue;
    seen.add(items[i].input);
    kept.push(items[i]);
  }
  return kept.reverse();
}

/** A glob over the whole input: `*` any run of characters (newlines too), `?` exactly one. */
export function globToRegExp(pattern: string): RegExp {
  let source = "";
  for (const char of pattern) {
    if (char === "*") source += "[\\s\\S]*";
    else if (char === "?") source += "[\\s\\S]";
    else source += char.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}
