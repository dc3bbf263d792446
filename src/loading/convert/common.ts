/**
 * Shared pieces of the Hugging Face → mechlab converters: reading fields of an HF config.json,
 * finding HF tensors by name (with or without the model-body prefix) with shape checks, and the
 * result type.
 */
import { tf } from "../../backend";
import type { ActFn, ConfigInput } from "../../model/config";
import type { StateDict } from "../../model/stateDict";

/** What a converter returns. The caller owns every tensor in `stateDict`. */
export interface ConvertedModel {
  config: ConfigInput;
  stateDict: StateDict;
}

/** An HF config.json as parsed JSON. */
export type HfConfig = Record<string, unknown>;

/** Reads fields of an HF config with errors that name the field and the model family. */
export class HfConfigReader {
  constructor(
    private readonly raw: HfConfig,
    private readonly family: string,
  ) {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      throw new Error(`The ${family} config must be a JSON object (the parsed config.json); got ${JSON.stringify(raw)}.`);
    }
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  get(key: string): unknown {
    return this.raw[key];
  }

  /** The first of `keys` that is set, as a positive integer; `fallback` when none is set. */
  int(keys: string | string[], fallback?: number): number {
    const list = Array.isArray(keys) ? keys : [keys];
    for (const key of list) {
      if (!this.has(key)) continue;
      const value = this.raw[key];
      if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
        throw new Error(`${this.family} config.json: "${key}" must be a positive integer; got ${JSON.stringify(value)}.`);
      }
      return value;
    }
    if (fallback !== undefined) return fallback;
    throw new Error(`${this.family} config.json is missing "${list[0]}"${list.length > 1 ? ` (or ${list.slice(1).map((k) => `"${k}"`).join(", ")})` : ""}.`);
  }

  /** The first of `keys` that is set, as a finite number; `fallback` when none is set. */
  num(keys: string | string[], fallback: number): number {
    const list = Array.isArray(keys) ? keys : [keys];
    for (const key of list) {
      if (!this.has(key)) continue;
      const value = this.raw[key];
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw new Error(`${this.family} config.json: "${key}" must be a number; got ${JSON.stringify(value)}.`);
      }
      return value;
    }
    return fallback;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const value = this.raw[key];
    if (typeof value !== "boolean") throw new Error(`${this.family} config.json: "${key}" must be true or false; got ${JSON.stringify(value)}.`);
    return value;
  }

  string(key: string, fallback: string): string {
    if (!this.has(key)) return fallback;
    const value = this.raw[key];
    if (typeof value !== "string") throw new Error(`${this.family} config.json: "${key}" must be a string; got ${JSON.stringify(value)}.`);
    return value;
  }
}

/** Rotary settings that newer configs nest in `rope_parameters`. */
export interface RopeParameters {
  rope_theta?: number;
  partial_rotary_factor?: number;
}

/**
 * Reads `rope_scaling` / `rope_parameters`: plain rotary ("default" type, or none given) is
 * accepted and its nested settings returned; any scaled variant (linear, dynamic, yarn, llama3,
 * ...) is an error, since mechlab implements only plain rotary.
 */
export function ropeParameters(c: HfConfigReader, family: string): RopeParameters {
  const out: RopeParameters = {};
  for (const key of ["rope_scaling", "rope_parameters"]) {
    const value = c.get(key);
    if (value === undefined || value === null) continue;
    if (typeof value !== "object" || Array.isArray(value)) {
      throw new Error(`${family} config.json: "${key}" must be an object; got ${JSON.stringify(value)}.`);
    }
    const v = value as Record<string, unknown>;
    const kind = v.rope_type ?? v.type ?? "default";
    if (kind !== "default") {
      throw new Error(`${family} config.json sets ${key} ${JSON.stringify(value)}; mechlab implements only plain rotary embeddings (rope_type "default").`);
    }
    if (typeof v.rope_theta === "number") out.rope_theta = v.rope_theta;
    if (typeof v.partial_rotary_factor === "number") out.partial_rotary_factor = v.partial_rotary_factor;
  }
  return out;
}

/** HF activation names (`activation_function` / `hidden_act`) → mechlab's actFn. */
export function mapActivation(name: string, family: string): ActFn {
  switch (name) {
    case "gelu":
      return "gelu";
    // The tanh approximation under its several HF names.
    case "gelu_new":
    case "gelu_pytorch_tanh":
      return "gelu_new";
    case "gelu_fast":
      return "gelu_fast";
    case "relu":
      return "relu";
    case "silu":
    case "swish":
      return "silu";
    default:
      throw new Error(
        `${family} config.json asks for activation "${name}", which mechlab does not implement ` +
          `(supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu, swish).`,
      );
  }
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Looks up HF tensors by their name inside the model body ("h.0.attn.c_attn.weight"), accepting
 * it with or without the body prefix ("transformer."), and checks shapes. Heads outside the body
 * ("lm_head.weight") are looked up with `top`.
 */
export class HfWeights {
  constructor(
    private readonly weights: Record<string, tf.Tensor>,
    private readonly prefix: string,
    private readonly family: string,
  ) {
    if (weights === null || typeof weights !== "object") {
      throw new Error(`${family} weights must be an object of tensors by HF name; got ${String(weights)}.`);
    }
  }

  private find(candidates: string[]): tf.Tensor | undefined {
    for (const name of candidates) {
      if (Object.prototype.hasOwnProperty.call(this.weights, name)) return this.weights[name];
    }
    return undefined;
  }

  private check(name: string, tensor: tf.Tensor | undefined, shape: readonly number[], tried: string[]): tf.Tensor {
    if (tensor === undefined) {
      const also = tried.length > 1 ? ` (also looked for ${tried.slice(1).map((n) => `"${n}"`).join(", ")})` : "";
      throw new Error(`${this.family} checkpoint is missing tensor "${name}"${also}; expected shape ${shapeText(shape)}.`);
    }
    if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
      throw new Error(
        `${this.family} tensor "${name}" has the wrong shape: expected ${shapeText(shape)}, got ${shapeText(tensor.shape)}.`,
      );
    }
    if (tensor.dtype !== "float32") {
      throw new Error(`${this.family} tensor "${name}" has dtype ${tensor.dtype}; expected float32 weights.`);
    }
    return tensor;
  }

  private bodyNames(name: string): string[] {
    return [name, this.prefix + name];
  }

  /** Whether a body tensor is present (under either name). */
  hasBody(name: string): boolean {
    return this.find(this.bodyNames(name)) !== undefined;
  }

  /** Whether a tensor outside the body is present. */
  hasTop(name: string): boolean {
    return this.find([name]) !== undefined;
  }

  /** A body tensor, checked to have `shape`. */
  body(name: string, shape: readonly number[]): tf.Tensor {
    const tried = this.bodyNames(name);
    return this.check(name, this.find(tried), shape, tried);
  }

  /** A tensor outside the body (e.g. "lm_head.weight"), checked to have `shape`. */
  top(name: string, shape: readonly number[]): tf.Tensor {
    return this.check(name, this.find([name]), shape, [name]);
  }
}

/**
 * Runs `build` in a tidy scope and keeps every tensor it puts into the state dict. If building
 * fails, nothing it made survives.
 */
export function buildStateDict(build: (out: StateDict) => void): StateDict {
  const out: StateDict = {};
  // tidy frees every intermediate (and, if build throws, everything it made); returning the
  // state dict's tensors keeps them alive past the scope.
  tf.tidy(() => {
    build(out);
    return Object.values(out);
  });
  return out;
}

/**
 * A [out, in] nn.Linear weight whose output rows are nHeads blocks of dHead, as
 * [nHeads, in, dHead] (the TransformerLens W_Q/W_K/W_V layout).
 */
export function linearRowsToHeads(weight: tf.Tensor, nHeads: number, dHead: number): tf.Tensor {
  const dIn = weight.shape[1] as number;
  return tf.transpose(tf.reshape(weight, [nHeads, dHead, dIn]), [0, 2, 1]);
}

/** A [out, in] nn.Linear weight whose input columns are nHeads blocks of dHead, as [nHeads, dHead, out] (W_O). */
export function linearColsToHeads(weight: tf.Tensor, nHeads: number, dHead: number): tf.Tensor {
  const dOut = weight.shape[0] as number;
  return tf.reshape(tf.transpose(weight), [nHeads, dHead, dOut]);
}
