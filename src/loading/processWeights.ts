/**
 * TransformerLens's weight processing: rewrites of a (config, state dict) pair that leave the
 * model's log-probs unchanged but make the weights easier to read.
 *
 *   foldLayerNorm         LN/RMS scales (and LN biases) folded into the weights that read the
 *                         normalized stream; LN → LNPre, RMS → RMSPre.
 *   centerWritingWeights  everything that writes to the residual stream made zero-mean over dModel
 *                         (LN / LNPre models only: the next LayerNorm removes the mean anyway).
 *   centerUnembed         W_U and b_U made zero-mean over the vocab (shifts each position's logits
 *                         by a constant, so log-probs are unchanged).
 *   foldValueBiases       b_V moved into b_O (attention patterns sum to 1, so a value bias adds
 *                         the same vector b_V·W_O at every position).
 *
 * Ownership: every function consumes its input state dict unless `keepInputs` is true. Consuming
 * means each replaced or removed tensor is disposed (as soon as its replacement exists, which keeps
 * peak memory near one model's worth) and untouched tensors move into the returned dict; do not use
 * the input dict afterwards. With `keepInputs: true` the inputs stay valid and the returned dict
 * holds its own handles (untouched tensors are cheap tf.clone's sharing data). Either way the caller
 * owns the returned state dict. Inputs are checked before anything is disposed.
 *
 * Only ops the wasm backend implements are used (reshape, transpose, mul, sum, mean, sub, gather).
 */
import { tf } from "../backend";
import { Config, ConfigInput, resolveConfig } from "../model/config";
import { expectedParamShapes, StateDict } from "../model/stateDict";

export interface ProcessWeightsOptions {
  foldLn?: boolean;
  centerWritingWeights?: boolean;
  centerUnembed?: boolean;
  foldValueBiases?: boolean;
}

export interface ProcessStepOptions {
  /** Leave the input tensors valid (default false: the input dict is consumed). */
  keepInputs?: boolean;
}

export interface ProcessedWeights {
  config: Config;
  stateDict: StateDict;
  /** Steps that were asked for but skipped or had nothing to do, and why. */
  notes: string[];
}

/** Every step on: what loaders apply by default (as TransformerLens's from_pretrained does). */
export const DEFAULT_PROCESSING: Required<ProcessWeightsOptions> = {
  foldLn: true,
  centerWritingWeights: true,
  centerUnembed: true,
  foldValueBiases: true,
};

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Throws naming the first missing or misshapen parameter. */
function checkStateDict(cfg: Config, sd: StateDict, step: string): void {
  for (const [name, shape] of expectedParamShapes(cfg)) {
    const t = sd[name];
    if (t === undefined) throw new Error(`${step}: the state dict has no "${name}" (expected shape ${shapeText(shape)}).`);
    if (t.isDisposed) throw new Error(`${step}: "${name}" has been disposed (was the state dict already consumed?).`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${step}: "${name}" has shape ${shapeText(t.shape)}; expected ${shapeText(shape)}.`);
    }
  }
}

/** Tracks one step's replacements and settles ownership at the end. */
class StepEditor {
  private readonly replaced: StateDict = {};
  private readonly removed = new Set<string>();

  constructor(
    private readonly input: StateDict,
    private readonly keepInputs: boolean,
  ) {}

  /** The current tensor for `name` (a replacement made in this step, else the input). */
  get(name: string): tf.Tensor {
    const t = this.replaced[name] ?? this.input[name];
    if (t === undefined || this.removed.has(name)) throw new Error(`Weight processing: no parameter "${name}".`);
    return t;
  }

  set(name: string, tensor: tf.Tensor): void {
    const old = this.input[name];
    // Setting the input tensor itself changes nothing; finish() passes it through (or clones it).
    if (tensor === old && this.replaced[name] === undefined) return;
    const previous = this.replaced[name];
    if (previous !== undefined && previous !== tensor) previous.dispose();
    this.replaced[name] = tensor;
    if (!this.keepInputs && old !== undefined && old !== tensor) old.dispose();
  }

  remove(name: string): void {
    this.removed.add(name);
    const previous = this.replaced[name];
    if (previous !== undefined) previous.dispose();
    delete this.replaced[name];
    const old = this.input[name];
    if (!this.keepInputs && old !== undefined) old.dispose();
  }

  /** The output dict, in the input's key order (new keys last). */
  finish(): StateDict {
    const out: StateDict = {};
    for (const [name, t] of Object.entries(this.input)) {
      if (this.removed.has(name)) continue;
      if (this.replaced[name] !== undefined) out[name] = this.replaced[name];
      else out[name] = this.keepInputs ? tf.clone(t) : t;
    }
    for (const [name, t] of Object.entries(this.replaced)) if (!(name in out)) out[name] = t;
    return out;
  }
}

function begin(cfgIn: ConfigInput | Config, sd: StateDict, step: string, options?: ProcessStepOptions) {
  const cfg = resolveConfig(cfgIn);
  checkStateDict(cfg, sd, step);
  return { cfg, edit: new StepEditor(sd, options?.keepInputs ?? false) };
}

function withApplied(cfg: Config, changes: Partial<Config["normalizationApplied"]>, rest: Partial<Config> = {}): Config {
  return resolveConfig({ ...cfg, ...rest, normalizationApplied: { ...cfg.normalizationApplied, ...changes } });
}

/**
 * Folds a norm's scale w [d] (and, for LN, bias b [d]) into a weight W that reads the normalized
 * vector along axis `axis` (length d), with bias B:  (x̂·w + b)·W + B = x̂·(w∘W) + (B + b·W).
 * With `center`, the folded weight is also made zero-mean along that axis, which is exact when
 * the input x̂ is zero-mean (LNPre output).
 */
function foldInto(
  W: tf.Tensor,
  axis: number,
  w: tf.Tensor,
  b: tf.Tensor | undefined,
  B: tf.Tensor | undefined,
  center: boolean,
): { W: tf.Tensor; B: tf.Tensor | undefined } {
  return tf.tidy(() => {
    // Broadcast [d] along `axis` of W.
    const along = W.shape.map((n, i) => (i === axis ? n : 1));
    // Only a norm bias changes B; otherwise B is left alone (undefined here).
    const newB = b !== undefined && B !== undefined ? tf.add(B, tf.sum(tf.mul(W, tf.reshape(b, along)), axis)) : undefined;
    let newW = tf.mul(W, tf.reshape(w, along));
    if (center) newW = tf.sub(newW, tf.mean(newW, axis, true));
    return newB === undefined ? { W: newW } : { W: newW, B: newB };
  }) as { W: tf.Tensor; B: tf.Tensor | undefined };
}

function maxAbs(t: tf.Tensor): number {
  const m = tf.tidy(() => tf.max(tf.abs(t)));
  const value = m.dataSync()[0];
  m.dispose();
  return value;
}

/**
 * Folds each LayerNorm / RMSNorm into the weights that read its output.
 *
 * LN: ln1 into W_Q/W_K/W_V and b_Q/b_K/b_V, ln2 into W_in/b_in (and W_gate), ln_final into
 * W_U/b_U; the folded reading weights are centred over dModel; normalizationType becomes LNPre and
 * the ln*.w / ln*.b parameters are removed. RMS: only the scales are folded (no bias, no centring);
 * RMS → RMSPre. Other normalization types are returned unchanged with a note.
 */
export function foldLayerNorm(cfgIn: ConfigInput | Config, sd: StateDict, options?: ProcessStepOptions): ProcessedWeights {
  const { cfg, edit } = begin(cfgIn, sd, "foldLayerNorm", options);
  const notes: string[] = [];
  const norm = cfg.normalizationType;
  if (norm !== "LN" && norm !== "RMS") {
    notes.push(
      norm === "LNPre" || norm === "RMSPre"
        ? `foldLn: normalizationType is already ${norm}; nothing to fold.`
        : `foldLn: the model has no normalization (${norm}); nothing to fold.`,
    );
    return { config: cfg, stateDict: edit.finish(), notes };
  }
  const isLN = norm === "LN";
  if (isLN && cfg.gatedMlp && !cfg.attnOnly) {
    // W_gate has no bias to absorb ln2.b·W_gate, so folding is exact only when ln2.b is zero.
    for (let l = 0; l < cfg.nLayers; l++) {
      if (maxAbs(sd[`blocks.${l}.ln2.b`]) !== 0) {
        throw new Error(
          `foldLayerNorm: blocks.${l}.ln2.b is non-zero in a gated-MLP LayerNorm model; W_gate has no bias to fold it into. ` +
            `Load with foldLn: false.`,
        );
      }
    }
  }

  // Folds norm `ln` into weight `wName` (bias `bName`) read along `axis`.
  const fold = (ln: string, wName: string, bName: string | undefined, axis: number) => {
    const lnW = edit.get(`${ln}.w`);
    const lnB = isLN ? edit.get(`${ln}.b`) : undefined;
    const B = bName === undefined ? undefined : edit.get(bName);
    const folded = foldInto(edit.get(wName), axis, lnW, lnB, B, isLN);
    edit.set(wName, folded.W);
    if (bName !== undefined && folded.B !== undefined) edit.set(bName, folded.B);
  };
  const dropNorm = (ln: string) => {
    edit.remove(`${ln}.w`);
    if (isLN) edit.remove(`${ln}.b`);
  };

  for (let l = 0; l < cfg.nLayers; l++) {
    const b = `blocks.${l}`;
    // W_Q/W_K/W_V: [heads, dModel, dHead], read along axis 1.
    for (const x of ["Q", "K", "V"]) fold(`${b}.ln1`, `${b}.attn.W_${x}`, `${b}.attn.b_${x}`, 1);
    dropNorm(`${b}.ln1`);
    if (!cfg.attnOnly) {
      // W_in / W_gate: [dModel, dMlp], read along axis 0.
      fold(`${b}.ln2`, `${b}.mlp.W_in`, `${b}.mlp.b_in`, 0);
      if (cfg.gatedMlp) fold(`${b}.ln2`, `${b}.mlp.W_gate`, undefined, 0);
      dropNorm(`${b}.ln2`);
    }
  }
  fold("ln_final", "unembed.W_U", "unembed.b_U", 0);
  dropNorm("ln_final");

  const config = withApplied(cfg, { foldLn: true }, { normalizationType: isLN ? "LNPre" : "RMSPre" });
  return { config, stateDict: edit.finish(), notes };
}

/**
 * Makes W_E, W_pos, W_O, b_O, W_out and b_out zero-mean over dModel. Exact only when every reader
 * of the residual stream first removes its mean, i.e. for LN / LNPre models; others are returned
 * unchanged with a note.
 */
export function centerWritingWeights(cfgIn: ConfigInput | Config, sd: StateDict, options?: ProcessStepOptions): ProcessedWeights {
  const { cfg, edit } = begin(cfgIn, sd, "centerWritingWeights", options);
  const notes: string[] = [];
  if (cfg.normalizationType !== "LN" && cfg.normalizationType !== "LNPre") {
    notes.push(
      `centerWritingWeights: skipped for normalizationType ${cfg.normalizationType}; ` +
        `only LayerNorm removes the residual mean, so centring would change the model.`,
    );
    return { config: cfg, stateDict: edit.finish(), notes };
  }
  // Every writing weight has dModel as its last axis.
  const center = (name: string) => {
    const t = edit.get(name);
    edit.set(name, tf.tidy(() => tf.sub(t, tf.mean(t, -1, true))));
  };
  center("embed.W_E");
  if (cfg.positionalEmbeddingType !== "rotary") center("pos_embed.W_pos");
  for (let l = 0; l < cfg.nLayers; l++) {
    const b = `blocks.${l}`;
    center(`${b}.attn.W_O`);
    center(`${b}.attn.b_O`);
    if (!cfg.attnOnly) {
      center(`${b}.mlp.W_out`);
      center(`${b}.mlp.b_out`);
    }
  }
  return { config: withApplied(cfg, { centerWritingWeights: true }), stateDict: edit.finish(), notes };
}

/** Makes W_U [dModel, dVocabOut] and b_U zero-mean over the vocab axis. */
export function centerUnembed(cfgIn: ConfigInput | Config, sd: StateDict, options?: ProcessStepOptions): ProcessedWeights {
  const { cfg, edit } = begin(cfgIn, sd, "centerUnembed", options);
  for (const name of ["unembed.W_U", "unembed.b_U"]) {
    const t = edit.get(name);
    edit.set(name, tf.tidy(() => tf.sub(t, tf.mean(t, -1, true))));
  }
  return { config: withApplied(cfg, { centerUnembed: true }), stateDict: edit.finish(), notes: [] };
}

/**
 * Moves the value biases into the output bias: b_O += Σ_h b_V[kv(h)]·W_O[h], then b_V = 0.
 * With grouped-query attention, query head h reads key/value head floor(h / (nHeads / nKeyValueHeads)).
 */
export function foldValueBiases(cfgIn: ConfigInput | Config, sd: StateDict, options?: ProcessStepOptions): ProcessedWeights {
  const { cfg, edit } = begin(cfgIn, sd, "foldValueBiases", options);
  const { nHeads, nKeyValueHeads, dHead } = cfg;
  const group = nHeads / nKeyValueHeads;
  const kvOfHead = Array.from({ length: nHeads }, (_, h) => Math.floor(h / group));
  for (let l = 0; l < cfg.nLayers; l++) {
    const b = `blocks.${l}`;
    const bV = edit.get(`${b}.attn.b_V`); // [nKV, dHead]
    const WO = edit.get(`${b}.attn.W_O`); // [nHeads, dHead, dModel]
    const bO = edit.get(`${b}.attn.b_O`); // [dModel]
    const [newBO, zeroBV] = tf.tidy(() => {
      const perHead = tf.gather(bV, tf.tensor1d(kvOfHead, "int32")); // [nHeads, dHead]
      const added = tf.sum(tf.mul(WO, tf.reshape(perHead, [nHeads, dHead, 1])), [0, 1]); // [dModel]
      return [tf.add(bO, added), tf.zerosLike(bV)];
    });
    edit.set(`${b}.attn.b_O`, newBO);
    edit.set(`${b}.attn.b_V`, zeroBV);
  }
  return { config: withApplied(cfg, { foldValueBiases: true }), stateDict: edit.finish(), notes: [] };
}

/**
 * Applies the chosen steps in TransformerLens's order (foldLn, centerWritingWeights,
 * centerUnembed, foldValueBiases). Options left out are off; pass DEFAULT_PROCESSING for all.
 * Consumes `sd` unless `keepInputs` is true (see the file comment); the caller owns the result.
 */
export function processWeights(
  cfgIn: ConfigInput | Config,
  sd: StateDict,
  options: ProcessWeightsOptions & ProcessStepOptions = {},
): ProcessedWeights {
  const steps: Array<[keyof ProcessWeightsOptions, typeof foldLayerNorm]> = [
    ["foldLn", foldLayerNorm],
    ["centerWritingWeights", centerWritingWeights],
    ["centerUnembed", centerUnembed],
    ["foldValueBiases", foldValueBiases],
  ];
  let config = resolveConfig(cfgIn);
  let stateDict = sd;
  let keepInputs = options.keepInputs ?? false;
  const notes: string[] = [];
  let ran = false;
  for (const [key, step] of steps) {
    if (!options[key]) continue;
    const result = step(config, stateDict, { keepInputs });
    ({ config, stateDict } = result);
    notes.push(...result.notes);
    // Later steps consume the intermediate dicts, which this function owns.
    keepInputs = false;
    ran = true;
  }
  if (!ran) {
    checkStateDict(config, stateDict, "processWeights");
    if (options.keepInputs) stateDict = Object.fromEntries(Object.entries(stateDict).map(([k, t]) => [k, tf.clone(t)]));
  }
  return { config, stateDict, notes };
}
