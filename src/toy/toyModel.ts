/**
 * Toy models of superposition (Elhage et al. 2022): n sparse features compressed into d < n
 * hidden dimensions and read back out,
 *   h = W x            x' = ReLU(Wᵀ h + b)
 * with W [d, n] and b [n]. Many instances (different feature probabilities, or importances)
 * train together as one batched model: W [instance, d, n], b [instance, n].
 *
 * Data: feature i of instance k is present with probability p_k, and then uniform in [0, 1];
 * loss = Σ_instances mean_batch,features( importance_i · (x_i − x'_i)² ).
 *
 * Ownership: the model owns W and b (tf.Variables); `dispose()` frees them. Methods return new
 * tensors the caller disposes.
 */
import { tf } from "../backend";
import type { SeededRandom } from "../train/seededRandom";

export interface ToyModelConfig {
  nFeatures: number;
  dHidden: number;
  /** One feature probability (1 − sparsity) per instance; the number of instances is its length. */
  featureProbability: number[];
  /** Importance of each feature, the same for every instance (default 0.9^i), or one row per instance. */
  importance?: number[] | number[][];
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

export interface ResolvedToyConfig {
  nFeatures: number;
  dHidden: number;
  nInstances: number;
  featureProbability: number[];
  /** [instance][feature] */
  importance: number[][];
  seed: number;
}

export function resolveToyConfig(config: ToyModelConfig): ResolvedToyConfig {
  const { nFeatures, dHidden, featureProbability } = config;
  if (!Number.isInteger(nFeatures) || nFeatures < 1) throw new Error(`toy model: nFeatures must be a positive whole number, got ${nFeatures}.`);
  if (!Number.isInteger(dHidden) || dHidden < 1) throw new Error(`toy model: dHidden must be a positive whole number, got ${dHidden}.`);
  if (!Array.isArray(featureProbability) || featureProbability.length === 0 || featureProbability.some((p) => !(p > 0 && p <= 1))) {
    throw new Error(`toy model: featureProbability must be a non-empty list of probabilities in (0, 1], one per instance; got ${JSON.stringify(featureProbability)}.`);
  }
  const nInstances = featureProbability.length;
  const given = config.importance ?? Array.from({ length: nFeatures }, (_, i) => 0.9 ** i);
  const rows = Array.isArray(given[0]) ? (given as number[][]) : Array.from({ length: nInstances }, () => given as number[]);
  if (rows.length !== nInstances || rows.some((row) => row.length !== nFeatures || row.some((v) => !(v >= 0)))) {
    throw new Error(`toy model: importance must be ${nFeatures} non-negative numbers, or ${nInstances} rows of them (one per instance).`);
  }
  return { nFeatures, dHidden, nInstances, featureProbability: [...featureProbability], importance: rows.map((r) => [...r]), seed: config.seed ?? 0 };
}

export class ToySuperpositionModel {
  readonly config: ResolvedToyConfig;
  /** [instance, d, n] */
  readonly W: tf.Variable;
  /** [instance, n] */
  readonly b: tf.Variable;
  private readonly importance: tf.Tensor;
  private readonly probability: tf.Tensor;

  constructor(config: ToyModelConfig, weights?: { W: tf.Tensor; b: tf.Tensor }) {
    this.config = resolveToyConfig(config);
    const { nInstances: k, dHidden: d, nFeatures: n, seed } = this.config;
    if (weights) {
      const expectW = [k, d, n];
      const expectB = [k, n];
      if (weights.W.shape.join() !== expectW.join() || weights.b.shape.join() !== expectB.join()) {
        throw new Error(`toy model: weights W [${weights.W.shape.join(", ")}] and b [${weights.b.shape.join(", ")}] do not fit the config (W [${expectW.join(", ")}], b [${expectB.join(", ")}]).`);
      }
    }
    // Xavier-normal initial W, zero b.
    const W0 = weights?.W ?? tf.randomNormal([k, d, n], 0, Math.sqrt(2 / (n + d)), "float32", seed);
    const b0 = weights?.b ?? tf.zeros([k, n]);
    this.W = tf.variable(W0, true, `toy/W/${uniqueSuffix()}`);
    this.b = tf.variable(b0, true, `toy/b/${uniqueSuffix()}`);
    if (!weights) tf.dispose([W0, b0]);
    this.importance = tf.tensor3d(this.config.importance.flat(), [k, 1, n]);
    this.probability = tf.tensor3d(this.config.featureProbability, [k, 1, 1]);
  }

  /** The trainable parameters by name (the model's own variables). */
  parameters(): { W: tf.Variable; b: tf.Variable } {
    return { W: this.W, b: this.b };
  }

  /** x [instance, batch, n] → x' [instance, batch, n]. */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const h = tf.matMul(x, this.W, false, true); // [instance, batch, d]
      return tf.relu(tf.matMul(h, this.W).add(this.b.expandDims(1))) as tf.Tensor3D;
    });
  }

  /** The hidden activations h = W x: [instance, batch, d]. */
  hidden(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => tf.matMul(x, this.W, false, true) as tf.Tensor3D);
  }

  /** A batch [instance, batch, n]: each feature present with its instance's probability, then uniform in [0, 1]. */
  generateBatch(batchSize: number, random: SeededRandom): tf.Tensor3D {
    const { nInstances: k, nFeatures: n } = this.config;
    return tf.tidy(() => {
      const values = tf.randomUniform([k, batchSize, n], 0, 1, "float32", random.uint32());
      const present = tf.randomUniform([k, batchSize, n], 0, 1, "float32", random.uint32()).less(this.probability);
      return values.mul(present.cast("float32")) as tf.Tensor3D;
    });
  }

  /** Importance-weighted squared error: mean over batch and features, summed over instances. */
  loss(x: tf.Tensor3D): tf.Scalar {
    return tf.tidy(() => {
      const error = this.forward(x).sub(x).square().mul(this.importance);
      return error.mean([1, 2]).sum() as tf.Scalar;
    });
  }

  /** The same loss per instance, as numbers (for reporting). */
  lossPerInstance(x: tf.Tensor3D): number[] {
    return tf.tidy(() => Array.from(this.forward(x).sub(x).square().mul(this.importance).mean([1, 2]).dataSync()));
  }

  dispose(): void {
    tf.dispose([this.W, this.b, this.importance, this.probability]);
  }
}

let counter = 0;
function uniqueSuffix(): string {
  counter += 1;
  return `${Date.now().toString(36)}${counter}`;
}
