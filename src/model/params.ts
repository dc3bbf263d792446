/**
 * The parameters a model holds, by TransformerLens name (see stateDict.ts), as tf.Variables so
 * optimisers can train them. The store owns them; `dispose` frees them all.
 */
import { tf } from "../backend";

export class ParamStore {
  private readonly variables = new Map<string, tf.Variable>();

  has(name: string): boolean {
    return this.variables.has(name);
  }

  get(name: string): tf.Variable {
    const variable = this.variables.get(name);
    if (!variable) throw new Error(`The model has no parameter "${name}". It has: ${[...this.variables.keys()].slice(0, 12).join(", ")}${this.variables.size > 12 ? ", ..." : ""}.`);
    return variable;
  }

  /** Sets a parameter. Copies `value` (the caller keeps ownership of it). */
  set(name: string, value: tf.Tensor): void {
    const existing = this.variables.get(name);
    if (existing) {
      if (!existing.shape.every((d, i) => d === value.shape[i]) || existing.rank !== value.rank) {
        throw new Error(`Parameter "${name}" has shape [${existing.shape.join(", ")}]; cannot assign a value of shape [${value.shape.join(", ")}].`);
      }
      existing.assign(value.dtype === "float32" ? value : tf.tidy(() => value.toFloat()));
    } else {
      // tf.variable shares the value's data (reference-counted) rather than copying it, so the
      // caller may dispose `value` and the variable keeps the numbers.
      const source = value.dtype === "float32" ? value : tf.tidy(() => value.toFloat());
      this.variables.set(name, tf.variable(source, true, `mechlab/${name}/${uniqueSuffix()}`));
      if (source !== value) source.dispose();
    }
  }

  names(): string[] {
    return [...this.variables.keys()];
  }

  entries(): [string, tf.Variable][] {
    return [...this.variables.entries()];
  }

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
    this.variables.clear();
  }
}

let counter = 0;
/** tf.variable names must be unique across the process; several models may coexist. */
function uniqueSuffix(): string {
  counter += 1;
  return String(counter);
}
