/**
 * Plain minibatch training of the ConvNet on a labelled image array, shared by
 * the expert stage (SGD, no momentum) and the evaluation protocol (momentum
 * 0.9, weight decay, one learning-rate drop).
 *
 * The update follows PyTorch's `torch.optim.SGD` exactly: g ← ∇ + wd·θ;
 * b ← μ·b + g (b = g on the first step); θ ← θ − lr·b.
 *
 * @module
 */
import {
  type Tensor1D,
  type Tensor2D,
  type Tensor4D,
  tf,
} from "../backend/tf.ts";
import type { ParamLayout } from "../model/layout.ts";
import { lossAndGrad, predict } from "../model/convnet.ts";
import type { Rng } from "../util/rng.ts";
import { explainBackendFailure } from "../util/errors.ts";

/** Images and labels held in JavaScript memory, NHWC float32. */
export interface LabelledImages {
  /** `count × H × W × C` values, already normalised or whitened. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
}

/** Copy the rows `indices` of a labelled array into tensors. */
export function batchTensors(
  data: LabelledImages,
  indices: ArrayLike<number>,
): { x: Tensor4D; y: Tensor2D } {
  const { height, width, channels, numClasses } = data;
  const stride = height * width * channels;
  const buf = new Float32Array(indices.length * stride);
  const lab = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]!;
    buf.set(data.images.subarray(r * stride, (r + 1) * stride), i * stride);
    lab[i] = data.labels[r]!;
  }
  return tf.tidy(() => ({
    x: tf.tensor4d(buf, [indices.length, height, width, channels]),
    y: tf.oneHot(tf.tensor1d(lab, "int32"), numClasses).toFloat() as Tensor2D,
  }));
}

/** Options of {@link trainSgd}. */
export interface SgdOptions {
  /** Number of passes over the data. */
  epochs: number;
  /** Learning rate, or a function of the 0-based epoch. */
  lr: number | ((epoch: number) => number);
  /** @default 0 */
  momentum?: number;
  /** @default 0 */
  weightDecay?: number;
  /** @default 256 */
  batchSize?: number;
  /**
   * Epochs before which the momentum buffer is cleared (the reference creates
   * a new optimiser at its learning-rate drop).
   */
  resetMomentumAt?: number[];
  /** Augmentation applied to each whole minibatch before it is chunked. */
  augment?: (x: Tensor4D) => Tensor4D;
  /**
   * Most images in one forward/backward pass. Instance norm is per sample, so
   * summing chunk gradients weighted by chunk size gives the batch gradient
   * exactly; chunking only bounds memory (the wasm heap is capped at 4 GiB).
   * @default 128
   */
  chunk?: number;
  /** Shuffles the order of every epoch. */
  rng: Rng;
  /** Called after every epoch with the current parameters (a copy). */
  onEpoch?: (
    epoch: number,
    theta: Float32Array,
    stats: { loss: number; seconds: number },
  ) => void | Promise<void>;
}

/**
 * Train from `theta0` and return the final parameters.
 *
 * Each epoch draws a fresh permutation from `rng`; the last batch may be
 * smaller (no drop_last, as the reference).
 */
export async function trainSgd(
  layout: ParamLayout,
  theta0: Float32Array,
  data: LabelledImages,
  options: SgdOptions,
): Promise<Float32Array> {
  const batchSize = options.batchSize ?? 256;
  const chunk = options.chunk ?? 128;
  const momentum = options.momentum ?? 0;
  const wd = options.weightDecay ?? 0;
  const lrAt = typeof options.lr === "number"
    ? () => options.lr as number
    : options.lr;
  let theta = tf.tensor1d(theta0) as Tensor1D;
  let buf: Tensor1D | undefined;

  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const started = performance.now();
    if (options.resetMomentumAt?.includes(epoch)) {
      buf?.dispose();
      buf = undefined;
    }
    const lr = lrAt(epoch);
    const order = options.rng.permutation(data.count);
    let lossSum = 0;
    for (let b0 = 0; b0 < data.count; b0 += batchSize) {
      const idx = order.subarray(b0, Math.min(b0 + batchSize, data.count));
      const { x, y } = batchTensors(data, idx);
      const step = () =>
        tf.tidy(() => {
          const xa = options.augment ? options.augment(x) : x;
          let grad = tf.zerosLike(theta) as Tensor1D;
          let lossT = tf.scalar(0);
          for (let c0 = 0; c0 < idx.length; c0 += chunk) {
            const n = Math.min(chunk, idx.length - c0);
            const w = n / idx.length;
            const xc = n === idx.length ? xa : tf.slice(xa, [c0], [n]);
            const yc = n === idx.length ? y : tf.slice(y, [c0], [n]);
            const r = lossAndGrad(
              layout,
              theta,
              xc as Tensor4D,
              yc as Tensor2D,
            );
            grad = tf.add(grad, tf.mul(r.grad, w));
            lossT = tf.add(lossT, tf.mul(r.loss, w));
          }
          if (wd !== 0) grad = tf.add(grad, tf.mul(theta, wd));
          let update: Tensor1D = grad;
          let newBuf: Tensor1D | undefined;
          if (momentum !== 0) {
            newBuf = buf ? tf.add(tf.mul(buf, momentum), grad) : grad;
            update = newBuf;
          }
          return [tf.sub(theta, tf.mul(update, lr)), newBuf, lossT] as const;
        });
      let out: ReturnType<typeof step>;
      try {
        out = step();
      } catch (err) {
        throw explainBackendFailure(
          err,
          `training step (batch of ${idx.length})`,
        );
      }
      const [next, nextBuf, loss] = out;
      x.dispose();
      y.dispose();
      theta.dispose();
      theta = next as Tensor1D;
      if (nextBuf) {
        buf?.dispose();
        buf = nextBuf as Tensor1D;
      }
      lossSum += loss.dataSync()[0]! * idx.length;
      loss.dispose();
    }
    if (options.onEpoch) {
      await options.onEpoch(epoch, theta.dataSync().slice() as Float32Array, {
        loss: lossSum / data.count,
        seconds: (performance.now() - started) / 1000,
      });
    }
  }
  const out = theta.dataSync().slice() as Float32Array;
  theta.dispose();
  buf?.dispose();
  return out;
}

/** Top-1 accuracy of parameters `theta` on a labelled array. */
export function accuracy(
  layout: ParamLayout,
  theta: Float32Array,
  data: LabelledImages,
  batchSize = 500,
): number {
  const th = tf.tensor1d(theta) as Tensor1D;
  let correct = 0;
  for (let b0 = 0; b0 < data.count; b0 += batchSize) {
    const idx = Int32Array.from(
      { length: Math.min(batchSize, data.count - b0) },
      (_, i) => b0 + i,
    );
    const { x, y } = batchTensors(data, idx);
    const hits = tf.tidy(() =>
      tf.sum(tf.cast(
        tf.equal(tf.argMax(predict(layout, th, x), 1), tf.argMax(y, 1)),
        "int32",
      ))
    );
    correct += hits.dataSync()[0]!;
    hits.dispose();
    x.dispose();
    y.dispose();
  }
  th.dispose();
  return correct / data.count;
}
