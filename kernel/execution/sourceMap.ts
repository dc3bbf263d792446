/**
 * Just enough of source maps (v3) to map a position in the code a cell runs as back to the cell:
 * decoding `mappings` and looking a generated position up. Positions here are 0-based.
 */

/** One mapping segment: generated column → original line/column (in source 0). */
interface Segment {
  column: number;
  sourceLine: number;
  sourceColumn: number;
}

export interface Position {
  line: number;
  column: number;
}

/** Maps generated positions to original ones; `lookup` returns undefined where nothing maps. */
export interface PositionMap {
  lookup(position: Position): Position | undefined;
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_VALUE = new Map([...BASE64].map((char, index) => [char, index]));

/** Decodes one line's base64 VLQ fields. */
function decodeVlqs(text: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of text) {
    const digit = BASE64_VALUE.get(char);
    if (digit === undefined) throw new Error(`invalid source map character ${JSON.stringify(char)}`);
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    values.push(value & 1 ? -Math.floor(value / 2) : Math.floor(value / 2));
    value = 0;
    shift = 0;
  }
  return values;
}

/** Decodes a v3 source map (JSON text or object) into per-line segment lists. */
export function decodeSourceMap(map: string | { mappings: string }): PositionMap {
  const { mappings } = typeof map === "string" ? (JSON.parse(map) as { mappings: string }) : map;
  const lines: Segment[][] = [];
  // Source index, line and column are relative to the previous segment across lines.
  let sourceIndex = 0;
  let sourceLine = 0;
  let sourceColumn = 0;
  for (const lineText of mappings.split(";")) {
    const segments: Segment[] = [];
    let column = 0;
    for (const segmentText of lineText.split(",")) {
      if (!segmentText) continue;
      const fields = decodeVlqs(segmentText);
      column += fields[0];
      if (fields.length < 4) continue;
      sourceIndex += fields[1];
      sourceLine += fields[2];
      sourceColumn += fields[3];
      // Cell code has one source; anything else (none today) is not ours to map.
      if (sourceIndex === 0) segments.push({ column, sourceLine, sourceColumn });
    }
    segments.sort((a, b) => a.column - b.column);
    lines.push(segments);
  }
  return { lookup: (position) => lookupSegment(lines, position) };
}

function lookupSegment(lines: Segment[][], { line, column }: Position): Position | undefined {
  const segments = lines[line];
  if (!segments || segments.length === 0) return undefined;
  // The last segment starting at or before the column; a column before the first segment
  // (indentation) belongs to the first one.
  let found = segments[0];
  for (const segment of segments) {
    if (segment.column > column) break;
    found = segment;
  }
  return { line: found.sourceLine, column: found.sourceColumn };
}

/** The map of applying `first` and then `second` (a position in second's output → first's input). */
export function composeMaps(first: PositionMap, second: PositionMap): PositionMap {
  return {
    lookup(position) {
      const middle = second.lookup(position);
      return middle && first.lookup(middle);
    },
  };
}

/** Shifts generated lines (code put after a wrapper's lines) and original lines (a prefix the compiler saw). */
export function offsetMap(map: PositionMap, generatedLineOffset: number, originalLineOffset: number): PositionMap {
  return {
    lookup({ line, column }) {
      const found = map.lookup({ line: line - generatedLineOffset, column });
      if (!found) return undefined;
      const originalLine = found.line - originalLineOffset;
      return originalLine < 0 ? undefined : { line: originalLine, column: found.column };
    },
  };
}
