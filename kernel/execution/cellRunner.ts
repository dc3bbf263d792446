/**
 * Runs the CommonJS code the converter makes of a cell, in this process's global context:
 *
 *   (async function (exports, require) {
 *   <cell code>
 *   })(<scope>.exports, <scope>.require)
 *
 * `exports` holds every top-level name cells declared (later cells read them as `exports.x`),
 * `require` resolves from the notebook folder and loads .ts files next to it as compiled for the
 * cell. The code runs with `breakOnSigint`, so SIGINT stops a synchronous loop.
 */
import Module from "module";
import * as path from "path";
import * as vm from "vm";

/** Lines the wrapper puts before the cell's code. */
export const WRAPPER_LINES = 1;

const SCOPE = "__mechlab_cell_scope__";

interface Scope {
  exports: Record<string, unknown>;
  require: NodeJS.Require;
}

// Set through code compiled like the cells', so the cells see the same global object.
const setScope = vm.runInThisContext(`(scope) => { globalThis.${SCOPE} = scope; }`) as (scope: Scope) => void;

/** A JavaScript file compiled from a .ts file next to the notebook. */
export interface SideOutput {
  path: string;
  data: string;
}

type LoaderModule = Module & { _compile(code: string, filename: string): void };
const nodeModulePaths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths;

export class CellRunner {
  /** Top-level names declared by cells, by name. */
  readonly locals: Record<string, unknown> = {};
  private readonly scope: Scope;
  private readonly sideOutputs = new Map<string, string>();
  private readonly sideModules = new Map<string, LoaderModule>();

  constructor(readonly cwd: string) {
    const locals = this.locals;
    const exportsProxy = new Proxy(locals, {
      // Named imports compile to getters on exports; store their values instead, so a later cell
      // can declare the same name again.
      defineProperty(target, name, descriptor) {
        if (name === "__esModule") return true;
        (target as Record<string | symbol, unknown>)[name] = descriptor.get ? descriptor.get() : descriptor.value;
        return true;
      },
    });
    this.scope = { exports: exportsProxy, require: this.wrapRequire(Module.createRequire(path.join(cwd, "[cell].js")), cwd) };
  }

  /** Registers new or changed compiled .ts files (their modules load again on next require). */
  addSideOutputs(outputs: readonly SideOutput[]): void {
    for (const output of outputs) {
      this.sideModules.delete(output.path);
      this.sideOutputs.set(output.path, output.data);
    }
  }

  /**
   * Runs a cell's code under `filename` (what stack frames show). Returns undefined, or for a
   * cell with top-level await its promise. Throws what the code throws synchronously.
   */
  run(code: string, filename: string, isAsync: boolean): Promise<void> | undefined {
    const wrapped = `(${isAsync ? "async " : ""}function (exports, require) {\n${code}\n})(${SCOPE}.exports, ${SCOPE}.require)`;
    setScope(this.scope);
    const result = vm.runInThisContext(wrapped, { filename, breakOnSigint: true, displayErrors: false }) as Promise<void> | undefined;
    return isAsync ? result : undefined;
  }

  /** Reads and forgets a top-level value (the converter's variable for a cell's last expression). */
  take(name: string): unknown {
    const value = this.locals[name];
    delete this.locals[name];
    return value;
  }

  private wrapRequire(base: NodeJS.Require, dir: string): NodeJS.Require {
    const requireInCell = (id: string): unknown => {
      const side = this.loadSideModule(id, dir);
      return side ? side.exports : base(id);
    };
    return Object.assign(requireInCell, { resolve: base.resolve, cache: base.cache, main: base.main, extensions: base.extensions }) as NodeJS.Require;
  }

  /** A compiled .ts file for a relative import, loaded once (until it changes). */
  private loadSideModule(id: string, dir: string): LoaderModule | undefined {
    if (!id.startsWith("./") && !id.startsWith("../")) return undefined;
    let filename = path.join(dir, id).replace(/\\/g, "/");
    if (path.extname(filename) === "") filename += ".js";
    const loaded = this.sideModules.get(filename);
    if (loaded) return loaded;
    const code = this.sideOutputs.get(filename);
    if (code === undefined) return undefined;
    const mod = new Module(filename, module) as LoaderModule;
    mod.filename = filename;
    mod.paths = nodeModulePaths(path.dirname(filename));
    mod.require = this.wrapRequire(Module.createRequire(filename), path.dirname(filename));
    // Cached before it runs, so circular imports see the partial exports as in Node.
    this.sideModules.set(filename, mod);
    try {
      mod._compile(code, filename);
    } catch (error) {
      this.sideModules.delete(filename);
      throw error;
    }
    mod.loaded = true;
    return mod;
  }
}
