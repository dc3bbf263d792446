/**
 * The plain-loop reference forward pass of a HookedTransformer, with TransformerLens's semantics
 * and hook names. It is the test oracle for the tfjs model: explicit loops over batch, position,
 * head and dimension, double precision, no tfjs. Clarity over speed — tiny configs only.
 *
 * Shapes: B = batch, P = positions, H = nHeads, G = nKeyValueHeads, D = dHead, M = dModel.
 */
import type { ActFn, Config } from "../../src/model/config";
import { expectedParamShapes } from "../../src/model/stateDict";
import { dot, gelu, geluFast, geluNew, relu, silu, softmax } from "./math";
import { layerNorm, normalize } from "./norms";
import { applyRotary } from "./rotary";
import { fromNested, getWeight, to1d, to2d, to3d, type Mat, type Nested, type Vec } from "./tensors";
import type { RefTensor, RefWeights } from "./types";

export { referenceLoss } from "./loss";
export { randomWeights } from "./randomWeights";

export interface ReferenceOptions {
  /** [batch][pos]: 1 = real token, 0 = padding. Padding keys are masked with −Infinity. */
  attentionMask?: number[][];
  /**
   * TransformerLens's left-padding positions (used only with attentionMask): position ids become
   * max(cumsum(mask) − 1, 0) along each row, for W_pos and rotary, and the positional embedding
   * of padding tokens is zeroed. Off by default: positions are 0..P−1 whatever the mask.
   */
  shiftPositionsForPadding?: boolean;
  /**
   * Where a gated MLP adds b_in. "afterProduct" (default, TransformerLens's GatedMLP):
   * post = act(x·W_gate) * (x·W_in) + b_in, hook_pre_linear = x·W_in.
   * "inLinear": hook_pre_linear = x·W_in + b_in, post = act(x·W_gate) * pre_linear.
   * The two agree when b_in = 0 (every converted Hugging Face gated model).
   */
  gatedMlpBias?: "afterProduct" | "inLinear";
}

export interface ReferenceResult {
  /** [B, P, dVocabOut] */
  logits: RefTensor;
  /** Every hook point's activation, by TransformerLens name. */
  activations: Map<string, RefTensor>;
}

/** out[j] = Σᵢ x[i] W[i][j] + b[j]  (W: [in][out]). */
function project(x: Vec, W: Mat, b?: Vec): Vec {
  const nOut = W[0].length;
  const out: Vec = [];
  for (let j = 0; j < nOut; j++) {
    let s = b ? b[j] : 0;
    for (let i = 0; i < x.length; i++) s += x[i] * W[i][j];
    out.push(s);
  }
  return out;
}

function scalarActivation(actFn: ActFn): (x: number) => number {
  switch (actFn) {
    case "relu":
      return relu;
    case "gelu":
      return gelu;
    case "gelu_new":
      return geluNew;
    case "gelu_fast":
      return geluFast;
    case "silu":
      return silu;
    case "solu_ln":
      throw new Error("solu_ln is not elementwise; the MLP handles it.");
  }
}

/** SoLU: x * softmax(x) over the whole vector. */
function solu(x: Vec): Vec {
  const p = softmax(x);
  return x.map((v, i) => v * p[i]);
}

function checkTokens(cfg: Config, tokens: number[][]): void {
  if (tokens.length === 0) throw new Error("referenceForward: empty batch.");
  const seq = tokens[0].length;
  if (seq === 0) throw new Error("referenceForward: empty sequence.");
  if (seq > cfg.nCtx) throw new Error(`referenceForward: ${seq} positions exceed nCtx ${cfg.nCtx}.`);
  for (const row of tokens) {
    if (row.length !== seq) throw new Error("referenceForward: all rows of tokens must have the same length.");
    for (const t of row) {
      if (!Number.isInteger(t) || t < 0 || t >= cfg.dVocab) throw new Error(`referenceForward: token ${t} outside [0, ${cfg.dVocab}).`);
    }
  }
}

export function referenceForward(cfg: Config, weights: RefWeights, tokens: number[][], options: ReferenceOptions = {}): ReferenceResult {
  checkTokens(cfg, tokens);
  const B = tokens.length;
  const P = tokens[0].length;
  const { dModel: M, nHeads: H, nKeyValueHeads: G, dHead: D } = cfg;
  const mask = options.attentionMask;
  if (mask && (mask.length !== B || mask.some((row) => row.length !== P))) {
    throw new Error(`referenceForward: attentionMask must be [${B}][${P}].`);
  }
  const gatedBias = options.gatedMlpBias ?? "afterProduct";

  const shapes = expectedParamShapes(cfg);
  const param = (name: string) => {
    const shape = shapes.get(name);
    if (shape === undefined) throw new Error(`referenceForward: "${name}" is not a parameter of this config.`);
    return getWeight(weights, name, shape);
  };
  const optional1d = (name: string): Vec | undefined => (shapes.has(name) ? to1d(param(name)) : undefined);

  const activations = new Map<string, RefTensor>();
  const record = (name: string, value: Nested): void => {
    activations.set(name, fromNested(value));
  };

  // positions[b][p]: the position id used for W_pos and rotary.
  const positions: number[][] = [];
  for (let b = 0; b < B; b++) {
    const row: number[] = [];
    let seen = 0;
    for (let p = 0; p < P; p++) {
      if (mask && options.shiftPositionsForPadding) {
        seen += mask[b][p];
        row.push(Math.max(seen - 1, 0));
      } else row.push(p);
    }
    positions.push(row);
  }
  const isPadding = (b: number, p: number): boolean => mask !== undefined && mask[b][p] === 0;

  // ---- embeddings ----
  const W_E = to2d(param("embed.W_E")); // [dVocab][M]
  const embed: Vec[][] = tokens.map((row) => row.map((t) => W_E[t].slice())); // [B][P][M]
  record("hook_embed", embed);

  let posEmbed: Vec[][] | undefined; // [B][P][M]
  if (cfg.positionalEmbeddingType !== "rotary") {
    const W_pos = to2d(param("pos_embed.W_pos")); // [nCtx][M]
    posEmbed = [];
    for (let b = 0; b < B; b++) {
      const row: Vec[] = [];
      for (let p = 0; p < P; p++) {
        const zeroed = options.shiftPositionsForPadding === true && isPadding(b, p);
        row.push(zeroed ? new Array<number>(M).fill(0) : W_pos[positions[b][p]].slice());
      }
      posEmbed.push(row);
    }
    record("hook_pos_embed", posEmbed);
  }

  let resid: Vec[][] =
    cfg.positionalEmbeddingType === "standard" && posEmbed
      ? embed.map((row, b) => row.map((e, p) => e.map((v, i) => v + posEmbed![b][p][i])))
      : embed.map((row) => row.map((e) => e.slice()));

  // ---- normalisation with hooks ----
  const applyNorm = (prefix: string, x: Vec[][]): Vec[][] => {
    if (cfg.normalizationType === "none") return x.map((row) => row.map((v) => v.slice()));
    const w = optional1d(`${prefix}.w`);
    const bias = optional1d(`${prefix}.b`);
    const scales: number[][][] = [];
    const out: Vec[][] = [];
    for (let b = 0; b < B; b++) {
      scales.push([]);
      out.push([]);
      for (let p = 0; p < P; p++) {
        const r = normalize(cfg.normalizationType, x[b][p], cfg.eps, w, bias);
        scales[b].push([r.scale]);
        out[b].push(r.normalized);
      }
    }
    record(`${prefix}.hook_scale`, scales); // [B, P, 1]
    record(`${prefix}.hook_normalized`, out); // [B, P, M]
    return out;
  };

  // ---- attention ----
  const attention = (l: number, qkInput: Vec[][], vInput: Vec[][]): Vec[][] => {
    const pre = `blocks.${l}.attn`;
    const W_Q = to3d(param(`${pre}.W_Q`)); // [H][M][D]
    const W_K = to3d(param(`${pre}.W_K`)); // [G][M][D]
    const W_V = to3d(param(`${pre}.W_V`)); // [G][M][D]
    const W_O = to3d(param(`${pre}.W_O`)); // [H][D][M]
    const b_Q = to2d(param(`${pre}.b_Q`)); // [H][D]
    const b_K = to2d(param(`${pre}.b_K`)); // [G][D]
    const b_V = to2d(param(`${pre}.b_V`)); // [G][D]
    const b_O = to1d(param(`${pre}.b_O`)); // [M]

    // q [B][P][H][D], k and v [B][P][G][D]
    const q = qkInput.map((row) => row.map((x) => W_Q.map((Wh, h) => project(x, Wh, b_Q[h]))));
    const k = qkInput.map((row) => row.map((x) => W_K.map((Wg, g) => project(x, Wg, b_K[g]))));
    const v = vInput.map((row) => row.map((x) => W_V.map((Wg, g) => project(x, Wg, b_V[g]))));
    record(`${pre}.hook_q`, q);
    record(`${pre}.hook_k`, k);
    record(`${pre}.hook_v`, v);

    let qUsed = q;
    let kUsed = k;
    if (cfg.positionalEmbeddingType === "rotary") {
      qUsed = q.map((row, b) => row.map((heads, p) => heads.map((vec) => applyRotary(vec, positions[b][p], cfg.rotaryDim, cfg.rotaryBase))));
      kUsed = k.map((row, b) => row.map((heads, p) => heads.map((vec) => applyRotary(vec, positions[b][p], cfg.rotaryDim, cfg.rotaryBase))));
      record(`${pre}.hook_rot_q`, qUsed);
      record(`${pre}.hook_rot_k`, kUsed);
    }

    // Grouped-query attention: query head h reads key/value head floor(h / (H / G)).
    const kvHead = (h: number): number => Math.floor(h / (H / G));

    // scores [B][H][P(query)][P(key)], pattern likewise
    const scores: number[][][][] = [];
    const pattern: number[][][][] = [];
    for (let b = 0; b < B; b++) {
      scores.push([]);
      pattern.push([]);
      for (let h = 0; h < H; h++) {
        scores[b].push([]);
        pattern[b].push([]);
        for (let qp = 0; qp < P; qp++) {
          const row: number[] = [];
          for (let kp = 0; kp < P; kp++) {
            const masked = kp > qp || isPadding(b, kp);
            row.push(masked ? -Infinity : dot(qUsed[b][qp][h], kUsed[b][kp][kvHead(h)]) / cfg.attnScale);
          }
          scores[b][h].push(row);
          pattern[b][h].push(softmax(row));
        }
      }
    }
    record(`${pre}.hook_attn_scores`, scores);
    record(`${pre}.hook_pattern`, pattern);

    // z[b][p][h][d] = Σ_k pattern[b][h][p][k] · v[b][k][kvHead(h)][d]
    const z: number[][][][] = [];
    for (let b = 0; b < B; b++) {
      z.push([]);
      for (let p = 0; p < P; p++) {
        z[b].push([]);
        for (let h = 0; h < H; h++) {
          const zh = new Array<number>(D).fill(0);
          for (let kp = 0; kp < P; kp++) {
            const weight = pattern[b][h][p][kp];
            if (weight === 0) continue;
            for (let d = 0; d < D; d++) zh[d] += weight * v[b][kp][kvHead(h)][d];
          }
          z[b][p].push(zh);
        }
      }
    }
    record(`${pre}.hook_z`, z);

    // result[b][p][h] = z[b][p][h] · W_O[h]  → [B][P][H][M]; attn_out = Σ_h result + b_O
    const result = z.map((row) => row.map((heads) => heads.map((zh, h) => project(zh, W_O[h]))));
    if (cfg.useAttnResult) record(`${pre}.hook_result`, result);
    return result.map((row) =>
      row.map((heads) => {
        const out = b_O.slice();
        for (let h = 0; h < H; h++) for (let i = 0; i < M; i++) out[i] += heads[h][i];
        return out;
      }),
    );
  };

  // ---- MLP ----
  const mlp = (l: number, x: Vec[][]): Vec[][] => {
    const pre = `blocks.${l}.mlp`;
    const W_in = to2d(param(`${pre}.W_in`)); // [M][dMlp]
    const b_in = to1d(param(`${pre}.b_in`)); // [dMlp]
    const W_out = to2d(param(`${pre}.W_out`)); // [dMlp][M]
    const b_out = to1d(param(`${pre}.b_out`)); // [M]
    const soluLn = cfg.actFn === "solu_ln";

    const preAct: Vec[][] = cfg.gatedMlp
      ? x.map((row) => row.map((xv) => project(xv, to2d(param(`${pre}.W_gate`)))))
      : x.map((row) => row.map((xv) => project(xv, W_in, b_in)));
    record(`${pre}.hook_pre`, preAct);

    let post: Vec[][];
    if (soluLn) {
      // mid = pre * softmax(pre) over dMlp, then a LayerNorm with mlp.ln.w / mlp.ln.b
      const mid = preAct.map((row) => row.map(solu));
      record(`${pre}.hook_mid`, mid);
      const lnW = to1d(param(`${pre}.ln.w`));
      const lnB = to1d(param(`${pre}.ln.b`));
      const normed = mid.map((row) => row.map((m) => layerNorm(m, cfg.eps, lnW, lnB)));
      record(`${pre}.ln.hook_scale`, normed.map((row) => row.map((r) => [r.scale])));
      post = normed.map((row) => row.map((r) => r.normalized));
      record(`${pre}.ln.hook_normalized`, post);
    } else if (cfg.gatedMlp) {
      const act = scalarActivation(cfg.actFn);
      const inLinear = gatedBias === "inLinear";
      const preLinear = x.map((row) => row.map((xv) => project(xv, W_in, inLinear ? b_in : undefined)));
      record(`${pre}.hook_pre_linear`, preLinear);
      post = preAct.map((row, b) =>
        row.map((g, p) => g.map((gv, m) => act(gv) * preLinear[b][p][m] + (inLinear ? 0 : b_in[m]))),
      );
    } else {
      const act = scalarActivation(cfg.actFn);
      post = preAct.map((row) => row.map((pv) => pv.map(act)));
    }
    record(`${pre}.hook_post`, post);
    return post.map((row) => row.map((pv) => project(pv, W_out, b_out)));
  };

  const add = (a: Vec[][], c: Vec[][]): Vec[][] => a.map((row, b) => row.map((vec, p) => vec.map((v, i) => v + c[b][p][i])));

  // ---- blocks ----
  for (let l = 0; l < cfg.nLayers; l++) {
    const blk = `blocks.${l}`;
    const residPre = resid;
    record(`${blk}.hook_resid_pre`, residPre);

    const ln1 = applyNorm(`${blk}.ln1`, residPre);
    // Shortformer: queries and keys see the positional embedding, values do not.
    const qkInput = cfg.positionalEmbeddingType === "shortformer" && posEmbed ? add(ln1, posEmbed) : ln1;
    const attnOut = attention(l, qkInput, ln1);
    record(`${blk}.hook_attn_out`, attnOut);

    if (cfg.attnOnly) {
      resid = add(residPre, attnOut);
    } else if (cfg.parallelAttnMlp) {
      const mlpOut = mlp(l, applyNorm(`${blk}.ln2`, residPre));
      record(`${blk}.hook_mlp_out`, mlpOut);
      resid = add(add(residPre, attnOut), mlpOut);
    } else {
      const residMid = add(residPre, attnOut);
      record(`${blk}.hook_resid_mid`, residMid);
      const mlpOut = mlp(l, applyNorm(`${blk}.ln2`, residMid));
      record(`${blk}.hook_mlp_out`, mlpOut);
      resid = add(residMid, mlpOut);
    }
    record(`${blk}.hook_resid_post`, resid);
  }

  // ---- unembed ----
  const final = applyNorm("ln_final", resid);
  const W_U = to2d(param("unembed.W_U")); // [M][dVocabOut]
  const b_U = to1d(param("unembed.b_U"));
  const logits = final.map((row) => row.map((x) => project(x, W_U, b_U)));
  return { logits: fromNested(logits), activations };
}
