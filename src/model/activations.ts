/** MLP activation functions, elementwise, from ops the wasm backend has (Erf, Tanh, Sigmoid, Relu). */
import { tf } from "../backend";
import type { ActFn } from "./config";

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Exact GELU: 0.5·x·(1 + erf(x/√2)). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

/** GPT-2's tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function geluNew(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(SQRT_2_OVER_PI, tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
}

/** 0.5·x·(1 + tanh(0.7978845608·x·(1 + 0.044715·x²))). */
export function geluFast(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.mul(x, 0.7978845608), tf.add(1, tf.mul(0.044715, tf.square(x))));
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
}

export function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/** SoLU: x · softmax(x) over the neuron axis (the LayerNorm after it is applied by the MLP). */
export function solu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.softmax(x, -1));
}

/** The activation for `actFn`, except solu_ln whose LayerNorm and hooks the MLP handles. */
export function activation(actFn: ActFn, x: tf.Tensor): tf.Tensor {
  switch (actFn) {
    case "relu":
      return tf.relu(x);
    case "gelu":
      return gelu(x);
    case "gelu_new":
      return geluNew(x);
    case "gelu_fast":
      return geluFast(x);
    case "silu":
      return silu(x);
    case "solu_ln":
      return solu(x);
  }
}
