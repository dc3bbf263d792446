/**
 * The code the kernel has run, by the file name it ran under: each cell (and each .ts file next
 * to the notebook that a cell imported) with its source and the map from the JavaScript that ran
 * back to that source. Stack traces are rewritten through it, including frames of functions a
 * previous cell defined.
 */
import type { PositionMap, Position } from "./sourceMap";

export interface RunCode {
  /** The file name the JavaScript ran under (what stack frames show). */
  filename: string;
  /** What users see instead: `cell[3]`, or a path relative to the notebook folder. */
  label: string;
  /** The TypeScript source. */
  source: string;
  /** JavaScript position (0-based, in the code as run) → source position (0-based). */
  map?: PositionMap;
}

export class CellRegistry {
  private readonly byFilename = new Map<string, RunCode & { lines: string[] }>();
  private readonly usedLabels = new Map<string, number>();

  /** A fresh file name for a cell shown as `cell[count]` (`cell[count].2` if that one ran already, e.g. silently). */
  cellFilename(executionCount: number): string {
    const base = `cell[${executionCount}]`;
    const seen = this.usedLabels.get(base) ?? 0;
    this.usedLabels.set(base, seen + 1);
    return seen === 0 ? base : `${base}.${seen + 1}`;
  }

  add(code: RunCode): void {
    this.byFilename.set(code.filename, { ...code, lines: code.source.split(/\r?\n/) });
  }

  get(filename: string): (RunCode & { lines: string[] }) | undefined {
    return this.byFilename.get(filename);
  }

  /** Where a JavaScript position (1-based line and column, as in stack frames) is in its source, 1-based; undefined if it does not map. */
  resolve(filename: string, line: number, column: number): { code: RunCode & { lines: string[] }; position: Position } | undefined {
    const code = this.byFilename.get(filename);
    if (!code?.map) return undefined;
    const found = code.map.lookup({ line: line - 1, column: column - 1 });
    // Code the converter appended after the cell (its export list) maps past the last line.
    if (!found || (code.source && found.line >= code.lines.length)) return undefined;
    return { code, position: { line: found.line + 1, column: found.column + 1 } };
  }

  has(filename: string): boolean {
    return this.byFilename.has(filename);
  }
}
