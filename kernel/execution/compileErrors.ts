/**
 * TypeScript errors of a cell, written the way the compiler writes them:
 *
 *   cell:3:7 - error TS2322: Type 'string' is not assignable to type 'number'.
 *
 *   3 const n: number = "x";
 *           ~
 *
 * Lines and columns are the cell's own (1-based). Files next to the notebook that a cell imports
 * are named by their path relative to the notebook folder.
 */
import type * as TS from "@tslab/typescript-for-tslab";
import type { CompiledCell, Diagnostic } from "./cellCompiler";

export interface ErrorReport {
  ename: string;
  evalue: string;
  traceback: string[];
}

interface Entry {
  fileName?: string;
  line: number;
  character: number;
  length: number;
  category: string;
  code: number;
  message: string;
  /** The text of the file the diagnostic is in (for the code frame). */
  text?: string;
}

function chainSize(chain: TS.DiagnosticMessageChain): number {
  return 1 + (chain.next ?? []).reduce((sum, next) => sum + chainSize(next), 0);
}

function topMessage(diagnostic: TS.Diagnostic): string {
  return typeof diagnostic.messageText === "string" ? diagnostic.messageText : diagnostic.messageText.messageText;
}

function categoryName(ts: typeof TS, category: number): string {
  return (ts.DiagnosticCategory[category] ?? "error").toLowerCase();
}

/**
 * Pairs tslab's flattened diagnostics (positions already relative to the cell; some compiler
 * diagnostics dropped, e.g. top-level awaits it allows) with the compiler's own, to get each
 * message with its chain. Falls back to the flattened list if they do not line up.
 */
function entries(ts: typeof TS, compiled: CompiledCell, source: string): Entry[] {
  const flat = compiled.diagnostics;
  const raw = compiled.rawDiagnostics ?? [];
  const out: Entry[] = [];
  let index = 0;
  for (const diagnostic of raw) {
    if (index >= flat.length) break;
    if (!diagnostic.file) continue;
    const candidate = flat[index];
    if (candidate.code !== diagnostic.code || candidate.messageText !== topMessage(diagnostic)) continue;
    out.push({
      fileName: candidate.fileName,
      line: candidate.start.line,
      character: candidate.start.character,
      length: Math.max(1, candidate.end.offset - candidate.start.offset),
      category: categoryName(ts, diagnostic.category),
      code: diagnostic.code,
      message: ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"),
      text: candidate.fileName === undefined ? source : diagnostic.file.text,
    });
    index += typeof diagnostic.messageText === "string" ? 1 : chainSize(diagnostic.messageText);
  }
  if (index === flat.length && out.length > 0) return out;
  return flat.map((d: Diagnostic) => ({
    fileName: d.fileName,
    line: d.start.line,
    character: d.start.character,
    length: Math.max(1, d.end.offset - d.start.offset),
    category: categoryName(ts, d.category),
    code: d.code,
    message: d.messageText,
    text: d.fileName === undefined ? source : undefined,
  }));
}

/** The source line with a `~~~` underline, as the compiler's pretty output shows it. */
function codeFrame(entry: Entry, lineText: string): string[] {
  const gutter = String(entry.line + 1);
  const start = Math.min(entry.character, lineText.length);
  const width = Math.max(1, Math.min(entry.length, lineText.length - start));
  return [`${gutter} ${lineText}`, `${" ".repeat(gutter.length + 1 + start)}${"~".repeat(width)}`];
}

export function compileErrorReport(ts: typeof TS, compiled: CompiledCell, source: string): ErrorReport {
  const headers: string[] = [];
  const traceback: string[] = [];
  const list = entries(ts, compiled, source);
  for (const entry of list) {
    const header = `${entry.fileName ?? "cell"}:${entry.line + 1}:${entry.character + 1} - ${entry.category} TS${entry.code}: ${entry.message}`;
    headers.push(header.split("\n")[0]);
    traceback.push(...header.split("\n"));
    // For a file other than the cell, `line` is relative to that file (tslab adjusts it).
    const lineText = entry.text?.split(/\r?\n/)[entry.line];
    if (lineText !== undefined) traceback.push("", ...codeFrame(entry, lineText.replace(/\t/g, " ")), "");
  }
  const errors = list.filter((e) => e.category === "error").length;
  if (list.length > 1) traceback.push(`Found ${errors} error${errors === 1 ? "" : "s"}.`);
  return { ename: "CompileError", evalue: headers.join("\n"), traceback };
}
