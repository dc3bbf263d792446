/**
 * Completion, inspection (tooltips / pager) and is_complete, from tslab's converter: the
 * compiler's completions and quick info at the cursor, with the previous cells' declarations in
 * scope. Cursor positions are JavaScript string indices (the server converts at the wire).
 */
import type * as TS from "@tslab/typescript-for-tslab";
import type { CompleteResult, InspectResult, IsCompleteResult } from "../handlers";
import type { CellCompiler } from "./cellCompiler";

/** Jupyter's completion item types (JupyterLab shows an icon for each). */
function jupyterType(kind: string): string {
  switch (kind) {
    case "method":
    case "function":
    case "local function":
    case "construct":
      return "function";
    case "class":
    case "local class":
    case "interface":
    case "type":
    case "enum":
      return "class";
    case "module":
    case "external module name":
      return "module";
    case "keyword":
      return "keyword";
    case "property":
    case "getter":
    case "setter":
    case "enum member":
      return "property";
    case "parameter":
      return "param";
    case "directory":
    case "script":
      return "path";
    default:
      return "instance";
  }
}

export function complete(compiler: CellCompiler, prevDecl: string, code: string, cursorPos: number): CompleteResult {
  const info = compiler.complete(prevDecl, code, cursorPos);
  const kinds = new Map<string, string>();
  for (const entry of info.original?.entries ?? []) if (!kinds.has(entry.name)) kinds.set(entry.name, entry.kind);
  return {
    matches: info.candidates,
    cursor_start: info.start,
    cursor_end: info.end,
    metadata: {
      _jupyter_types_experimental: info.candidates.map((text) => ({ start: info.start, end: info.end, text, type: jupyterType(kinds.get(text) ?? "") })),
    },
  };
}

function partsText(parts: readonly TS.SymbolDisplayPart[] | undefined): string {
  return (parts ?? []).map((part) => part.text).join("");
}

/** Documentation and JSDoc tags (`@param x …`, `@returns …`) as lines. */
function docLines(info: TS.QuickInfo): string[] {
  const lines: string[] = [];
  const doc = partsText(info.documentation);
  if (doc) lines.push(doc);
  for (const tag of info.tags ?? []) {
    const text = partsText(tag.text);
    lines.push(`@${tag.name}${text ? " " + text : ""}`);
  }
  return lines;
}

export function inspect(compiler: CellCompiler, prevDecl: string, code: string, cursorPos: number): InspectResult {
  // Frontends send the cursor just after the name; the compiler wants a position inside it.
  const info = compiler.inspect(prevDecl, code, cursorPos) ?? (cursorPos > 0 ? compiler.inspect(prevDecl, code, cursorPos - 1) : undefined);
  const signature = info ? partsText(info.displayParts) : "";
  if (!info || !signature) return { found: false, data: {}, metadata: {} };
  const docs = docLines(info);
  return {
    found: true,
    data: {
      "text/plain": [signature, ...(docs.length ? ["", ...docs] : [])].join("\n"),
      "text/markdown": ["```typescript", signature, "```", ...(docs.length ? ["", ...docs] : [])].join("\n"),
    },
    metadata: {},
  };
}

/** `expr?` (or `expr??`) on one line: show the inspection of expr in the pager, as IPython does. */
export function pagerRequest(code: string): { expression: string; detailLevel: number } | undefined {
  if (code.trim().includes("\n")) return undefined;
  const match = /^\s*([^\n]*?[^\s?])\s*(\?\??)\s*$/.exec(code);
  return match ? { expression: match[1], detailLevel: match[2].length - 1 } : undefined;
}

/**
 * tslab's rule (an unfinished construct at the very end: incomplete, with the indent for the next
 * line; two blank lines end input anyway), plus: a syntax error elsewhere is "invalid".
 */
export function isComplete(compiler: CellCompiler, code: string): IsCompleteResult {
  if (pagerRequest(code)) return { status: "complete" };
  const ts = compiler.ts;
  const parsed = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const errors = (parsed as unknown as { parseDiagnostics?: TS.DiagnosticWithLocation[] }).parseDiagnostics ?? [];
  const result = compiler.isCompleteCode(code);
  if (!result.completed) return { status: "incomplete", indent: result.indent ?? "" };
  // A template literal may span lines.
  if (errors.some((e) => e.start === code.length && e.code === 1160)) return { status: "incomplete", indent: "" };
  return errors.length > 0 ? { status: "invalid" } : { status: "complete" };
}
