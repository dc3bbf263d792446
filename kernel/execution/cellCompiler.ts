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

export function createCellCompiler(options: { cwd: string; mechlabRoot: string }): CellCompiler {
  const ts = loadTslabTypescript();
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
      const result = ts.transpileModule(source, {
        ...transpileOptions,
        compilerOptions: { ...transpileOptions.compilerOptions, sourceMap: true, inlineSourceMap: false },
      });
      const outputText = result.outputText.replace(TRAILING_MAP_COMMENT, "\n");
      if (inline && result.sourceMapText) {
        const first = decodeSourceMap(Buffer.from(inline[1], "base64").toString("utf8"));
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
