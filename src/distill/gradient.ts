/**
 * The two ways of forming the distillation gradient.
 *
 * Both start the student at θ_start, take N SGD steps of size α on minibatches
 * of the synthetic images, and measure
 *   L = ‖θ_N − θ_target‖² / ‖θ_start − θ_target‖².
 *
 * - {@link unrolledGradient} (MTT): backpropagation through all N steps to the
 *   images and to α, second-order terms included. Memory grows with N.
 * - {@link perStepGradient} (MCT, TESLA-style): with D = θ_target − θ_start and
 *   G = Σ gᵢ, θ_N = θ_start − αG, so L = ‖D + αG‖²/P. The student weights are
 *   held constant (no cross-step terms), each step is recomputed once more and
 *   its image gradient 2·∂/∂Xᵢ[(αD + α²G)·gᵢ]/P formed on its own, so memory
 *   does not grow with N. The α gradient 2Gᵀ(D + αG)/P holds G fixed.
 *
 * Either can be paired with either trajectory: the choice is independent.
 *
 * @module
 */
import {
  type Scalar,
  type Tensor,
  type Tensor1D,
  type Tensor2D,
  type Tensor4D,
  tf,
} from "../backend/tf.ts";
import type { ParamLayout } from "../model/layout.ts";
import { lossAndGrad } from "../model/convnet.ts";

/**
 * Augmentation applied to step `step`'s minibatch. It must give the same
 * result when called twice for the same step (the per-step gradient replays
 * each step), and be differentiable with respect to `x`.
 */
export type StepAugment = (x: Tensor4D, step: number) => Tensor4D;

/** One distillation gradient problem: a trajectory segment and a schedule. */
export interface StudentProblem {
  layout: ParamLayout;
  /** θ*_start, flat `[P]`. */
  thetaStart: Tensor1D;
  /** θ*_target, flat `[P]`. */
  thetaTarget: Tensor1D;
  /** Row indices into the synthetic set for each of the N student steps. */
  batches: Int32Array[];
  /** Augmentation per step; identity when absent. */
  augment?: StepAugment;
}

/** Result of one gradient evaluation. */
export interface DistillGradient {
  /** L = ‖θ_N − θ_target‖² / ‖θ_start − θ_target‖². */
  loss: number;
  /** ∂L/∂images, shaped like the synthetic images. */
  gradImages: Tensor4D;
  /** ∂L/∂α. */
  gradAlpha: number;
  /** Cross-entropy of the student on each step's minibatch. */
  stepLosses: number[];
}

/** Options of {@link perStepGradient}. */
export interface PerStepOptions {
  /**
   * Scale applied to the image gradient. 1 gives the analytic gradient of the
   * truncated loss; the reference MCT code passes half of it (a tuple-repeat
   * slip), which 0.5 reproduces.
   * @default 1
   */
  imageGradScale?: number;
}

/**
 * Gather rows of the synthetic set. TensorFlow.js's own gather gradient needs
 * a kernel the wasm backend lacks, so the gradient is a scatter instead.
 */
const gatherRows = tf.customGrad((images, indices, save) => {
  (save as tf.GradSaveFunc)([indices as Tensor]);
  const x = images as Tensor4D;
  return {
    value: tf.gather(x, indices as Tensor1D),
    gradFunc: (dy, saved) => {
      const idx = saved[0]!;
      return [
        tf.scatterND(tf.reshape(idx, [-1, 1]), dy as Tensor, x.shape),
        tf.zerosLike(idx),
      ];
    },
  };
}) as (images: Tensor4D, indices: Tensor1D) => Tensor4D;

function stepBatch(
  images: Tensor4D,
  labels: Tensor2D,
  batch: Int32Array,
  step: number,
  augment: StepAugment | undefined,
): { x: Tensor4D; y: Tensor2D } {
  const all = batch.length === images.shape[0] &&
    batch.every((v, i) => v === i);
  const idx = tf.tensor1d(batch, "int32");
  const x0 = all ? images : gatherRows(images, idx);
  const y = (all ? labels : tf.gather(labels, idx)) as Tensor2D;
  return { x: augment ? augment(x0, step) : x0, y };
}

function scalar(t: Tensor): number {
  return t.dataSync()[0]!;
}

/**
 * MTT: full backpropagation through the N-step unroll.
 *
 * @param images synthetic images `[n, H, W, C]`
 * @param labels one-hot labels `[n, classes]`
 * @param alpha the learnable student learning rate
 */
export function unrolledGradient(
  problem: StudentProblem,
  images: Tensor4D,
  labels: Tensor2D,
  alpha: number,
): DistillGradient {
  const { layout, thetaStart, thetaTarget, batches, augment } = problem;
  return tf.tidy(() => {
    const stepLosses: Tensor[] = [];
    const alphaT = tf.scalar(alpha);
    const f = (x: Tensor, a: Tensor): Scalar => {
      let w = thetaStart;
      batches.forEach((batch, step) => {
        const b = stepBatch(x as Tensor4D, labels, batch, step, augment);
        const { loss, grad } = lossAndGrad(layout, w, b.x, b.y);
        stepLosses.push(tf.keep(loss));
        w = tf.sub(w, tf.mul(a, grad));
      });
      const num = tf.sum(tf.square(tf.sub(w, thetaTarget)));
      const den = tf.sum(tf.square(tf.sub(thetaStart, thetaTarget)));
      return tf.div(num, den) as Scalar;
    };
    const { value, grads } = tf.valueAndGrads(f)([images, alphaT]);
    const out = {
      loss: scalar(value),
      gradImages: tf.keep(grads[0] as Tensor4D),
      gradAlpha: scalar(grads[1]!),
      stepLosses: stepLosses.map(scalar),
    };
    stepLosses.forEach((t) => t.dispose());
    return out;
  });
}

/**
 * MCT: constant-memory per-step gradient with α held fixed during the unroll.
 *
 * Pass 1 runs the student without a tape to get G = Σ gᵢ. Pass 2 walks the
 * same steps again from θ_start, recomputing each gᵢ under a tape for its
 * image gradient; only one step's graph is alive at a time.
 */
export function perStepGradient(
  problem: StudentProblem,
  images: Tensor4D,
  labels: Tensor2D,
  alpha: number,
  options: PerStepOptions = {},
): DistillGradient {
  const { layout, thetaStart, thetaTarget, batches, augment } = problem;
  const scale = options.imageGradScale ?? 1;
  const n = batches.length;

  // Pass 1: G = Σ gᵢ along the detached student path.
  const stepLosses: number[] = [];
  let gradSum = tf.zerosLike(thetaStart) as Tensor1D;
  let w = tf.clone(thetaStart) as Tensor1D;
  for (let step = 0; step < n; step++) {
    const [nextW, nextSum] = tf.tidy(() => {
      const b = stepBatch(images, labels, batches[step]!, step, augment);
      const { loss, grad } = lossAndGrad(layout, w, b.x, b.y);
      stepLosses.push(scalar(loss));
      return [tf.sub(w, tf.mul(alpha, grad)), tf.add(gradSum, grad)];
    }) as [Tensor1D, Tensor1D];
    w.dispose();
    gradSum.dispose();
    w = nextW;
    gradSum = nextSum;
  }
  w.dispose();

  const { loss, gradAlpha, coeff } = tf.tidy(() => {
    const d = tf.sub(thetaTarget, thetaStart);
    const p = tf.sum(tf.square(d));
    const residual = tf.add(d, tf.mul(alpha, gradSum));
    return {
      loss: scalar(tf.div(tf.sum(tf.square(residual)), p)),
      gradAlpha: scalar(
        tf.div(tf.mul(2, tf.sum(tf.mul(gradSum, residual))), p),
      ),
      // ∂L/∂G = 2α(D + αG)/P; the image gradient of step i is this vector
      // contracted with ∂gᵢ/∂Xᵢ (scaled as the caller asks).
      coeff: tf.keep(
        tf.div(tf.mul(2 * alpha * scale, residual), p) as Tensor1D,
      ),
    };
  });
  gradSum.dispose();

  // Pass 2: one step's graph at a time.
  let gradImages = tf.zerosLike(images) as Tensor4D;
  w = tf.clone(thetaStart) as Tensor1D;
  for (let step = 0; step < n; step++) {
    const [nextW, nextGrad] = tf.tidy(() => {
      let g: Tensor1D | undefined;
      const dx = tf.grad((x: Tensor) => {
        const b = stepBatch(
          x as Tensor4D,
          labels,
          batches[step]!,
          step,
          augment,
        );
        g = lossAndGrad(layout, w, b.x, b.y).grad;
        tf.keep(g);
        return tf.sum(tf.mul(coeff, g)) as Scalar;
      })(images);
      const next = tf.sub(w, tf.mul(alpha, g!));
      g!.dispose();
      return [next, tf.add(gradImages, dx)];
    }) as [Tensor1D, Tensor4D];
    w.dispose();
    gradImages.dispose();
    w = nextW;
    gradImages = nextGrad;
  }
  w.dispose();
  coeff.dispose();
  return { loss, gradImages, gradAlpha, stepLosses };
}
