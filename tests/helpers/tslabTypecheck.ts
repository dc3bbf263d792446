/**
 * Type-checks a TypeScript source the way the notebook kernel compiles a cell: with the compiler
 * tslab ships (5.0), CommonJS output and node10 module resolution, from inside the checkout so
 * "mechlab" resolves through node_modules/mechlab to the built declarations in dist/.
 */
import * as fs from "fs";
import * as path from "path";

// eslint-disable-next-line @typescript-eslint/no-var-requires
export const tslabTs = require("@tslab/typescript-for-tslab") as typeof import("typescript");
export const ROOT = path.resolve(__dirname, "../..");

/** Diagnostics of the source itself and of mechlab's own declarations (third-party ones are skipped, as with skipLibCheck). */
export function tslabDiagnostics(source: string): string[] {
  const ts = tslabTs;
  const dir = fs.mkdtempSync(path.join(ROOT, "build-typecheck-"));
  const file = path.join(dir, "cell.ts");
  fs.writeFileSync(file, source);
  try {
    const program = ts.createProgram([file], {
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.NodeJs,
      target: ts.ScriptTarget.ES2020,
      strict: true,
      esModuleInterop: true,
      noEmit: true,
      types: ["node"],
      typeRoots: [path.join(ROOT, "node_modules/@types")],
    });
    const ours = (d: import("typescript").Diagnostic) =>
      !d.file || d.file.fileName === file || d.file.fileName.startsWith(path.join(ROOT, "dist")) || d.file.fileName.includes("/node_modules/mechlab/");
    return ts
      .getPreEmitDiagnostics(program)
      .filter(ours)
      .map((d) => `${d.file ? path.relative(ROOT, d.file.fileName) + ": " : ""}${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
