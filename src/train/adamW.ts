/**
 * AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, step for step as torch.optim.AdamW.
 * For each parameter p with gradient g at step t (counting from 1), learning rate lr:
 *   p ← p · (1 − lr · weightDecay)                      (only parameters that decay)
 *   m ← β1 m + (1 − β1) g          v ← β2 v + (1 − β2) g²
 *   p ← p − lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + eps)
 *
 * Ownership: the optimiser updates the given variables in place (it never disposes them) and owns
 * its moment estimates; `dispose()` frees those.
 */
import { tf } from "../backend";

export interface AdamWOptions {
  /** Default 1e-3 (a schedule passes its own rate to `step`). */
  lr?: number;
  /** Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay; default 0.01 (torch's default). */
  weightDecay?: number;
  /** Which parameters decay (default all, as torch with one parameter group). */
  decays?: (name: string, parameter: tf.Variable) => boolean;
}

export class AdamW {
  readonly lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  /** Steps taken (t of the bias corrections). */
  stepCount = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly decaying = new Set<string>();

  constructor(
    private readonly params: Record<string, tf.Variable>,
    options: AdamWOptions = {},
  ) {
    this.lr = options.lr ?? 1e-3;
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    const [b1, b2] = this.betas;
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new Error(`AdamW: betas must be in [0, 1), got [${this.betas.join(", ")}].`);
    if (!(this.eps > 0)) throw new Error(`AdamW: eps must be positive, got ${this.eps}.`);
    if (!(this.weightDecay >= 0)) throw new Error(`AdamW: weightDecay must be ≥ 0, got ${this.weightDecay}.`);
    if (!(this.lr > 0)) throw new Error(`AdamW: lr must be positive, got ${this.lr}.`);
    for (const [name, p] of Object.entries(params)) {
      if (!(p instanceof tf.Variable)) throw new Error(`AdamW: parameter "${name}" is not a tf.Variable; optimisers update variables in place.`);
      this.m.set(name, zeroVariable(p));
      this.v.set(name, zeroVariable(p));
      if (options.decays?.(name, p) ?? true) this.decaying.add(name);
    }
  }

  /** The names of the parameters this optimiser updates. */
  get names(): string[] {
    return [...this.m.keys()];
  }

  /**
   * One update from `grads` (by parameter name; the caller keeps ownership of them). A parameter
   * with no gradient is left alone, as torch does for a parameter whose grad is None.
   */
  step(grads: Record<string, tf.Tensor>, lr: number = this.lr): void {
    for (const name of Object.keys(grads)) {
      if (!this.m.has(name)) throw new Error(`AdamW.step: a gradient for "${name}", which is not one of this optimiser's parameters.`);
      const p = this.params[name];
      if (!sameShape(grads[name].shape, p.shape)) throw new Error(`AdamW.step: gradient "${name}" has shape [${grads[name].shape.join(", ")}], the parameter [${p.shape.join(", ")}].`);
    }
    this.stepCount += 1;
    const [b1, b2] = this.betas;
    const bias1 = 1 - b1 ** this.stepCount;
    const bias2 = 1 - b2 ** this.stepCount;
    tf.tidy(() => {
      for (const [name, g] of Object.entries(grads)) {
        const p = this.params[name];
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        m.assign(m.mul(b1).add(g.mul(1 - b1)));
        v.assign(v.mul(b2).add(g.square().mul(1 - b2)));
        const decayed = this.decaying.has(name) && this.weightDecay > 0 ? p.mul(1 - lr * this.weightDecay) : p;
        const update = m.div(bias1).div(v.div(bias2).sqrt().add(this.eps)).mul(lr);
        p.assign(decayed.sub(update));
      }
    });
  }

  /** The moment estimates as "m.<name>" / "v.<name>" (the optimiser's own tensors: do not dispose). */
  stateTensors(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const [name, m] of this.m) out[`m.${name}`] = m;
    for (const [name, v] of this.v) out[`v.${name}`] = v;
    return out;
  }

  /** Restores moments (as from `stateTensors`) and the step count; copies the values. */
  loadState(tensors: Record<string, tf.Tensor>, stepCount: number): void {
    for (const [kind, moments] of [["m", this.m], ["v", this.v]] as const) {
      for (const [name, variable] of moments) {
        const value = tensors[`${kind}.${name}`];
        if (!value) throw new Error(`AdamW.loadState: the saved state has no "${kind}.${name}".`);
        if (!sameShape(value.shape, variable.shape)) throw new Error(`AdamW.loadState: "${kind}.${name}" has shape [${value.shape.join(", ")}], the parameter [${variable.shape.join(", ")}].`);
        variable.assign(value);
      }
    }
    this.stepCount = stepCount;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}

/** A non-trainable variable of zeros shaped like `like` (the initial tensor freed at once). */
function zeroVariable(like: tf.Tensor): tf.Variable {
  const zeros = tf.zerosLike(like);
  const variable = tf.variable(zeros, false);
  zeros.dispose();
  return variable;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
