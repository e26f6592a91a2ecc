/**
 * The two ways of forming the distillation gradient.
 *
 * Both start the student at θ_start, take N SGD steps of size α on minibatches
 * of the synthetic images, and measure
 *   L = ‖θ_N − θ_target‖² / ‖θ_start − θ_target‖².
 *
 * - {@link unrolledGradient} (MTT): backpropagation through all N steps to the
 *   images and to α, second-order terms included — either on one tape (memory
 *   grows with N) or by recomputing one step at a time (the default).
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
 * MTT, taped: one TensorFlow.js tape over all N steps. Memory grows with N
 * (every step's activations stay alive until the backward pass); kept as the
 * plain statement of the method and as a cross-check of
 * {@link recomputedUnrolledGradient}.
 *
 * @param images synthetic images `[n, H, W, C]`
 * @param labels one-hot labels `[n, classes]`
 * @param alpha the learnable student learning rate
 */
export function tapedUnrolledGradient(
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

/** How {@link unrolledGradient} trades memory for time. */
export type UnrollMemory = "recompute" | "tape";

/** Options of {@link unrolledGradient}. */
export interface UnrolledOptions {
  /**
   * "recompute" (default) keeps only the N student parameter vectors and
   * rebuilds one step's graph at a time in the backward pass; "tape" keeps the
   * whole unroll on one tape. Both give the same gradient.
   * @default "recompute"
   */
  memory?: UnrollMemory;
}

/**
 * MTT: the exact gradient of the matching loss through all N student steps,
 * second-order terms included.
 */
export function unrolledGradient(
  problem: StudentProblem,
  images: Tensor4D,
  labels: Tensor2D,
  alpha: number,
  options: UnrolledOptions = {},
): DistillGradient {
  return (options.memory ?? "recompute") === "tape"
    ? tapedUnrolledGradient(problem, images, labels, alpha)
    : recomputedUnrolledGradient(problem, images, labels, alpha);
}

/**
 * MTT with recomputation: reverse-mode through the unroll by its adjoint.
 * With wᵢ₊₁ = wᵢ − α gᵢ(wᵢ, Xᵢ) and λᵢ = ∂L/∂wᵢ, the backward pass runs
 *   λ_N = 2(w_N − θ_target)/‖θ_start − θ_target‖²,
 *   ∂L/∂Xᵢ = −α (∂gᵢ/∂Xᵢ)ᵀ λᵢ₊₁,  ∂L/∂α −= gᵢ·λᵢ₊₁,
 *   λᵢ = λᵢ₊₁ − α (∂gᵢ/∂wᵢ)ᵀ λᵢ₊₁,
 * where both products are one reverse pass over sᵢ = λᵢ₊₁·gᵢ(wᵢ, Xᵢ). The
 * result equals the taped gradient; only one step's graph is alive at a time,
 * which is what lets realistic settings fit the 4 GiB WebAssembly heap.
 */
export function recomputedUnrolledGradient(
  problem: StudentProblem,
  images: Tensor4D,
  labels: Tensor2D,
  alpha: number,
): DistillGradient {
  const { layout, thetaStart, thetaTarget, batches, augment } = problem;
  const n = batches.length;

  // Forward, without a tape: the student path w_0 … w_N.
  const stepLosses: number[] = [];
  const ws: Tensor1D[] = [tf.clone(thetaStart) as Tensor1D];
  for (let step = 0; step < n; step++) {
    const w = ws[step]!;
    ws.push(tf.tidy(() => {
      const b = stepBatch(images, labels, batches[step]!, step, augment);
      const { loss, grad } = lossAndGrad(layout, w, b.x, b.y);
      stepLosses.push(scalar(loss));
      return tf.sub(w, tf.mul(alpha, grad)) as Tensor1D;
    }));
  }
  const { loss, lambdaN } = tf.tidy(() => {
    const den = tf.sum(tf.square(tf.sub(thetaStart, thetaTarget)));
    const diff = tf.sub(ws[n]!, thetaTarget);
    return {
      loss: scalar(tf.div(tf.sum(tf.square(diff)), den)),
      lambdaN: tf.keep(tf.div(tf.mul(2, diff), den) as Tensor1D),
    };
  });

  // Backward, one step's graph at a time.
  let lambda = lambdaN;
  let gradImages = tf.zerosLike(images) as Tensor4D;
  let gradAlpha = 0;
  for (let step = n - 1; step >= 0; step--) {
    const w = ws[step]!;
    const [nextLambda, nextGradImages, gDotLambda] = tf.tidy(() => {
      let g: Tensor1D | undefined;
      const [hx, hw] = tf.grads((x: Tensor, wi: Tensor) => {
        const b = stepBatch(
          x as Tensor4D,
          labels,
          batches[step]!,
          step,
          augment,
        );
        g = lossAndGrad(layout, wi as Tensor1D, b.x, b.y).grad;
        tf.keep(g);
        return tf.sum(tf.mul(lambda, g)) as Scalar;
      })([images, w]);
      const dot = scalar(tf.sum(tf.mul(g!, lambda)));
      g!.dispose();
      return [
        tf.sub(lambda, tf.mul(alpha, hw!)),
        tf.sub(gradImages, tf.mul(alpha, hx!)),
        dot,
      ] as const;
    });
    gradAlpha -= gDotLambda;
    lambda.dispose();
    gradImages.dispose();
    lambda = nextLambda as Tensor1D;
    gradImages = nextGradImages as Tensor4D;
  }
  lambda.dispose();
  ws.forEach((w) => w.dispose());
  return { loss, gradImages, gradAlpha, stepLosses };
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
