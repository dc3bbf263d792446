/**
 * A HookPoint is a named place in the forward pass where an activation can be read or replaced.
 * Hooks are plain synchronous functions `(activation, context) => replacement | void`.
 *
 * Ownership: the activation passed to a hook belongs to the forward pass and is freed when the
 * pass ends. To keep it, `tf.keep(activation.clone())`. A returned replacement is adopted by the
 * forward pass (it is freed with the other intermediates unless cached).
 */
import { tf } from "../backend";
import { layerOf } from "./hookNames";

export interface HookContext {
  /** Full hook name, e.g. "blocks.1.attn.hook_pattern". */
  name: string;
  /** Layer index for block hooks; undefined for hook_embed, hook_pos_embed, ln_final.*. */
  layer: number | undefined;
  hook: HookPoint;
}

export type HookFn = (activation: tf.Tensor, context: HookContext) => tf.Tensor | void | undefined;

/** A hook name, or a predicate over names (TransformerLens's name filters). */
export type HookSelector = string | ((name: string) => boolean);

export interface RegisteredHook {
  fn: HookFn;
  /** Temporary hooks are removed by runWithHooks / withHooks; permanent ones by resetHooks({ includingPermanent: true }). */
  permanent: boolean;
}

export class HookPoint {
  readonly name: string;
  readonly layer: number | undefined;
  private hooks: RegisteredHook[] = [];

  constructor(name: string) {
    this.name = name;
    this.layer = layerOf(name);
  }

  addHook(fn: HookFn, options: { permanent?: boolean; prepend?: boolean } = {}): () => void {
    const entry: RegisteredHook = { fn, permanent: options.permanent ?? false };
    if (options.prepend) this.hooks.unshift(entry);
    else this.hooks.push(entry);
    return () => this.removeHook(entry);
  }

  private removeHook(entry: RegisteredHook): void {
    const index = this.hooks.indexOf(entry);
    if (index >= 0) this.hooks.splice(index, 1);
  }

  removeHooks(includingPermanent = false): void {
    this.hooks = includingPermanent ? [] : this.hooks.filter((h) => h.permanent);
  }

  get hookCount(): number {
    return this.hooks.length;
  }

  /** Runs the hooks in order; each sees the previous one's replacement. */
  run(activation: tf.Tensor): tf.Tensor {
    let current = activation;
    for (const { fn } of this.hooks) {
      const replacement = fn(current, { name: this.name, layer: this.layer, hook: this });
      if (replacement === undefined || replacement === null) continue;
      checkReplacement(this.name, current, replacement);
      current = replacement;
    }
    return current;
  }
}

function checkReplacement(name: string, original: tf.Tensor, replacement: unknown): asserts replacement is tf.Tensor {
  if (!(replacement instanceof tf.Tensor)) {
    throw new Error(`The hook on "${name}" returned ${typeof replacement}; a hook returns a tf.Tensor (a replacement) or nothing.`);
  }
  const same = replacement.rank === original.rank && replacement.shape.every((d: number, i: number) => d === original.shape[i]);
  if (!same) {
    throw new Error(
      `The hook on "${name}" returned a tensor of shape [${replacement.shape.join(", ")}]; ` +
        `the activation there has shape [${original.shape.join(", ")}] and a replacement must match it.`,
    );
  }
  if (replacement.dtype !== original.dtype) {
    throw new Error(`The hook on "${name}" returned dtype ${replacement.dtype}; the activation there is ${original.dtype}.`);
  }
}
