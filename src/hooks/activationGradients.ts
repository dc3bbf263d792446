/**
 * d(metric)/d(activation) at hook points, for attribution patching and saliency.
 *
 * Each activation gets a zero "probe" tensor added to it as it flows past its hook point; the
 * gradient of the metric with respect to the probe is the gradient with respect to the activation,
 * everything downstream included (what a backward hook would see). Two runs: one to learn the
 * activation shapes, one under tf.grads.
 */
import { tf } from "../backend";

/** Runs after the user's hooks at every hook point; returns the activation that flows on. */
export type Observer = (name: string, activation: tf.Tensor) => tf.Tensor;

/** One forward pass with `observer` attached; returns the logits [batch, pos, dVocabOut] for "logits". */
export type ObservedRun = (observer: Observer, returnType: "logits" | "none") => tf.Tensor3D | undefined;

/** Gradients with the activations' full shapes, by name; the caller owns them. */
export function gradientsAtHookPoints(run: ObservedRun, names: string[], metric: (logits: tf.Tensor3D) => tf.Tensor): Map<string, tf.Tensor> {
  if (names.length === 0) return new Map();
  const wanted = new Set(names);
  const shapes = new Map<string, number[]>();
  run((name, activation) => {
    if (wanted.has(name)) shapes.set(name, activation.shape);
    return activation;
  }, "none");

  const probes = names.map((name) => tf.zeros(shapes.get(name)!));
  const probeByName = new Map(names.map((name, i) => [name, probes[i]]));
  try {
    const grads = tf.grads(() => {
      const logits = run((name, activation) => {
        const probe = probeByName.get(name);
        return probe ? tf.add(activation, probe) : activation;
      }, "logits")!;
      const value = metric(logits);
      if (value.size !== 1) throw new Error(`The metric must return a scalar; it returned shape [${value.shape.join(", ")}].`);
      return value.reshape([]) as tf.Scalar;
    })(probes);
    return new Map(names.map((name, i) => [name, grads[i]]));
  } finally {
    probes.forEach((p) => p.dispose());
  }
}
