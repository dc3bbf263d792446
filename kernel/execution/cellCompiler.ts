/**
 * tslab's cell converter (declarations carried across cells, top-level await, completion and
 * inspection), loaded with an instrumented view of its TypeScript compiler so that a conversion
 * also yields:
 *   - a source map from the JavaScript a cell runs as back to the cell (the converter emits ES
 *     modules with an inline map, then re-transpiles them to CommonJS; both maps are composed),
 *   - the compiler's own diagnostics (with their message chains, which tslab flattens),
 * and so that `<dir>/node_modules/mechlab/…` resolves to this package from any notebook folder.
 *
 * The converter module is loaded privately (its own module instance), so nothing else in the
 * process that uses tslab or its compiler is affected.
 */
import * as fs from "fs";
import Module from "module";
import * as path from "path";
import type * as TS from "@tslab/typescript-for-tslab";
import type { CompletionInfo, Converter, ConvertResult, Diagnostic, IsCompleteResult } from "tslab/dist/converter";
import { forwardingSys } from "./mechlabResolution";
import { composeMaps, decodeSourceMap, type PositionMap } from "./sourceMap";

export type { Diagnostic };

export interface CompiledCell extends ConvertResult {
  /** Maps positions in `output` to the cell (0-based; output line 0 is the first line of output). */
  sourceMap?: PositionMap;
  /** The compiler's diagnostics behind `diagnostics` (unflattened), when it had errors. */
  rawDiagnostics?: readonly TS.Diagnostic[];
}

export interface CellCompiler {
  /** The compiler tslab uses. */
  readonly ts: typeof TS;
  /** Folder cells are compiled in (relative imports and node_modules resolve from here). */
  readonly cwd: string;
  convert(prevDecl: string, src: string): CompiledCell;
  /** Source map of a side output (a .ts file next to the notebook, compiled for a cell), by its JavaScript. */
  sourceMapOf(output: string): PositionMap | undefined;
  complete(prevDecl: string, src: string, position: number): CompletionInfo;
  inspect(prevDecl: string, src: string, position: number): TS.QuickInfo | undefined;
  addModule(name: string, content: string): Diagnostic[];
  isCompleteCode(content: string): IsCompleteResult;
  close(): void;
}

const INLINE_MAP = /\n?\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;
const TRAILING_MAP_COMMENT = /\n?\/\/# sourceMappingURL=\S*\s*$/;

function tslabDir(): string {
  return path.dirname(require.resolve("tslab/package.json"));
}

/** The compiler tslab depends on (resolved from tslab, wherever npm put it). */
export function loadTslabTypescript(): typeof TS {
  return require(require.resolve("@tslab/typescript-for-tslab", { paths: [tslabDir()] })) as typeof TS;
}

/** Loads a private instance of `tslab/dist/<name>` whose require of the compiler returns `ts`. */
function loadTslabModule<T>(name: string, ts: object): T {
  const filename = require.resolve(`tslab/dist/${name}`);
  const mod = new Module(filename, module) as Module & { _compile(code: string, filename: string): void };
  mod.filename = filename;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(filename));
  const parentRequire = mod.require;
  mod.require = Object.assign(
    function (this: Module, id: string) {
      return id === "@tslab/typescript-for-tslab" ? ts : parentRequire.call(this, id);
    },
    { resolve: require.resolve, cache: require.cache, main: require.main, extensions: require.extensions },
  ) as NodeJS.Require;
  mod._compile(fs.readFileSync(filename, "utf8"), filename);
  return mod.exports as T;
}

export interface CellCompilerOptions {
  cwd: string;
  mechlabRoot: string;
  /** Whether a name is a top-level name of an earlier cell (see previousNamesInShorthands). */
  isEarlierCellName?: (name: string) => boolean;
}

/**
 * tslab rewrites references to earlier cells' names as `exports.name`, except in shorthand
 * properties (`{ x }`), which then fail at run time. This transformer (run on the cell's
 * JavaScript before the CommonJS transform, so the source map stays exact) writes them out as
 * `{ x: exports.x }` when the name is not declared anywhere in the cell.
 */
function previousNamesInShorthands(ts: typeof TS, isEarlierCellName: (name: string) => boolean): TS.TransformerFactory<TS.SourceFile> {
  return (context) => (file) => {
    const declared = new Set<string>();
    const collect = (node: TS.Node): void => {
      const name = (node as { name?: TS.Node }).name;
      if (
        name &&
        ts.isIdentifier(name) &&
        (ts.isVariableDeclaration(node) || ts.isParameter(node) || ts.isBindingElement(node) || ts.isFunctionDeclaration(node) ||
          ts.isFunctionExpression(node) || ts.isClassDeclaration(node) || ts.isClassExpression(node) || ts.isImportSpecifier(node) ||
          ts.isImportClause(node) || ts.isNamespaceImport(node) || ts.isEnumDeclaration(node) || ts.isImportEqualsDeclaration(node))
      ) {
        declared.add(name.text);
      }
      ts.forEachChild(node, collect);
    };
    collect(file);
    const visit = (node: TS.Node): TS.Node => {
      if (ts.isShorthandPropertyAssignment(node) && !node.objectAssignmentInitializer) {
        const name = node.name.text;
        if (!declared.has(name) && isEarlierCellName(name)) {
          const replacement = ts.factory.createPropertyAssignment(
            ts.factory.createIdentifier(name),
            ts.factory.createPropertyAccessExpression(ts.factory.createIdentifier("exports"), name),
          );
          return ts.setTextRange(replacement, node);
        }
      }
      return ts.visitEachChild(node, visit, context);
    };
    return ts.visitNode(file, visit) as TS.SourceFile;
  };
}

export function createCellCompiler(options: CellCompilerOptions): CellCompiler {
  const ts = loadTslabTypescript();
  // As tslab sets it process-wide when its converter loads (file watching relies on it).
  ts.sys.useCaseSensitiveFileNames = true;
  const sys = forwardingSys(ts.sys, options.mechlabRoot, options.cwd);

  let lastDiagnostics: readonly TS.Diagnostic[] = [];
  // CommonJS output → composed map, for the outputs of the conversion in progress.
  const mapsByOutput = new Map<string, PositionMap>();

  const overrides: Record<string, unknown> = {
    sys,
    createWatchCompilerHost(rootFiles: string[], compilerOptions: TS.CompilerOptions, ...rest: unknown[]) {
      const create = ts.createWatchCompilerHost as unknown as (...args: unknown[]) => unknown;
      return create(rootFiles, { ...compilerOptions, inlineSourceMap: true, sourceMap: false }, ...rest);
    },
    transpileModule(input: string, transpileOptions: TS.TranspileOptions): TS.TranspileOutput {
      const inline = INLINE_MAP.exec(input);
      const source = inline ? input.slice(0, inline.index) : input;
      const inputMap = inline ? Buffer.from(inline[1], "base64").toString("utf8") : undefined;
      // The cell itself (not a .ts file next to the notebook it imports).
      const isCell = inputMap !== undefined && (JSON.parse(inputMap) as { sources: string[] }).sources.some((s) => s.endsWith("__tslab__.ts"));
      const result = ts.transpileModule(source, {
        ...transpileOptions,
        compilerOptions: { ...transpileOptions.compilerOptions, sourceMap: true, inlineSourceMap: false },
        transformers: isCell && options.isEarlierCellName ? { before: [previousNamesInShorthands(ts, options.isEarlierCellName)] } : undefined,
      });
      const outputText = result.outputText.replace(TRAILING_MAP_COMMENT, "\n");
      if (inputMap !== undefined && result.sourceMapText) {
        const first = decodeSourceMap(inputMap);
        mapsByOutput.set(outputText, composeMaps(first, decodeSourceMap(result.sourceMapText)));
      }
      return { ...result, outputText };
    },
    getPreEmitDiagnosticsOfFiles(...args: unknown[]) {
      const run = (ts as unknown as { getPreEmitDiagnosticsOfFiles: (...a: unknown[]) => readonly TS.Diagnostic[] }).getPreEmitDiagnosticsOfFiles;
      lastDiagnostics = run(...args);
      return lastDiagnostics;
    },
  };
  // The compiler's exports are non-configurable getters: build a look-alike with own properties.
  const instrumented: Record<string, unknown> = {};
  for (const key of Object.keys(ts)) {
    if (key in overrides) continue;
    Object.defineProperty(instrumented, key, { enumerable: true, get: () => (ts as unknown as Record<string, unknown>)[key] });
  }
  for (const [key, value] of Object.entries(overrides)) Object.defineProperty(instrumented, key, { enumerable: true, writable: true, value });

  const converterModule = loadTslabModule<typeof import("tslab/dist/converter")>("converter", instrumented);
  const converter: Converter = converterModule.createConverter();
  // The converter resolves relative to the directory `sys` reported when it was created.

  return {
    ts,
    cwd: options.cwd,
    convert(prevDecl, src) {
      mapsByOutput.clear();
      lastDiagnostics = [];
      const result: CompiledCell = converter.convert(prevDecl, src);
      if (result.diagnostics.length > 0) result.rawDiagnostics = lastDiagnostics;
      if (result.output !== undefined) result.sourceMap = mapsByOutput.get(result.output);
      return result;
    },
    sourceMapOf: (output) => mapsByOutput.get(output),
    complete: (prevDecl, src, position) => converter.complete(prevDecl, src, position),
    inspect: (prevDecl, src, position) => converter.inspect(prevDecl, src, position) as TS.QuickInfo | undefined,
    addModule: (name, content) => converter.addModule(name, content),
    isCompleteCode: (content) => converterModule.isCompleteCode(content),
    close: () => converter.close(),
  };
}
