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
 * The recomputing forms also bound the graph within a step: each step's
 * minibatch is augmented once, its products are formed over chunks of at most
 * {@link ChunkOptions.chunk} images, and the image gradient is pulled back
 * through the augmentation once, so memory does not grow with the minibatch.
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

/**
 * Images per taped chunk are chosen so that one chunk's graph stays within
 * this many bytes: a quarter of the WebAssembly backend's 4 GiB heap, which
 * never shrinks and also holds the synthetic set, the stored student path and
 * allocator slack.
 */
export const CHUNK_BUDGET_BYTES = 2 ** 30;

/**
 * Bytes one image adds to the graph of one step's taped product (forward,
 * explicit backward, and the reverse pass over both), per float of conv
 * output summed over the blocks. Measured peak tensor bytes, wasm backend:
 * 67–71 with the native kernels and 72–78 with the stock ones (im2col filter
 * gradients), for 32×32×3 and 28×28×1 at width 16 and 32 and 64×64×3 at depth
 * 4; 80 leaves a margin.
 */
const GRAPH_BYTES_PER_ACTIVATION = 80 * 4;

/**
 * Estimated bytes per image of one student step's taped product, the unit
 * {@link defaultChunk} divides the budget by. 55 MB for the width-128 ConvNet
 * on 32×32 input, where about 45 MB were measured.
 */
export function stepGraphBytesPerImage(layout: ParamLayout): number {
  let activations = 0;
  layout.blockInput.forEach(([h, w], d) => {
    const pad = layout.padding[d]!;
    activations += (h + 2 * pad - 2) * (w + 2 * pad - 2) *
      layout.spec.netWidth;
  });
  return activations * GRAPH_BYTES_PER_ACTIVATION;
}

/**
 * Default most images per taped forward/backward: as many as fit
 * {@link CHUNK_BUDGET_BYTES} by {@link stepGraphBytesPerImage}, at least 1.
 * 19 for the width-128 ConvNet on 32×32 (and padded 28×28) input, 4 on 64×64
 * at depth 4. Small chunks cost no arithmetic, since each conv still
 * multiplies matrices of chunk·H·W rows: at IPC 10, width 128, the CPU time
 * of a gradient was the same for chunks of 10 to 100 images.
 */
export function defaultChunk(layout: ParamLayout): number {
  return Math.max(
    1,
    Math.floor(CHUNK_BUDGET_BYTES / stepGraphBytesPerImage(layout)),
  );
}

/** Options shared by the gradients that bound one step's graph. */
export interface ChunkOptions {
  /**
   * Most images in one taped forward/backward pass. Each step's minibatch is
   * split into chunks and the step's products are summed over them, which is
   * exact because instance norm is per sample and the loss a batch mean; the
   * result differs from a single pass only by float32 round-off.
   * @default defaultChunk(layout)
   */
  chunk?: number;
}

/** Options of {@link perStepGradient}. */
export interface PerStepOptions extends ChunkOptions {
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

function isIdentity(batch: Int32Array, n: number): boolean {
  return batch.length === n && batch.every((v, i) => v === i);
}

function stepBatch(
  images: Tensor4D,
  labels: Tensor2D,
  batch: Int32Array,
  step: number,
  augment: StepAugment | undefined,
): { x: Tensor4D; y: Tensor2D } {
  const all = isIdentity(batch, images.shape[0]);
  const idx = tf.tensor1d(batch, "int32");
  const x0 = all ? images : gatherRows(images, idx);
  const y = (all ? labels : tf.gather(labels, idx)) as Tensor2D;
  return { x: augment ? augment(x0, step) : x0, y };
}

/**
 * Pull a gradient with respect to step `step`'s augmented minibatch X̃ back
 * to the whole synthetic set: Jᵀ·G̃ for X̃ = augment(images[batch]), as the
 * first-order gradient of Σ X̃·G̃.
 *
 * This is the chain rule, so it needs of the augmentation only what
 * {@link StepAugment} already asks: the same map on every call for a step
 * (replayed draws) and differentiability. DSA's groups are moreover affine in
 * the images for fixed draws (tests/distill/augment_affine_test.ts), so J is
 * the same fixed linear map wherever it is evaluated and this pass costs a
 * few elementwise ops and gathers, not a network's backward.
 */
function pullBack(
  images: Tensor4D,
  labels: Tensor2D,
  batch: Int32Array,
  step: number,
  augment: StepAugment | undefined,
  gTilde: Tensor4D,
): Tensor4D {
  if (!augment && isIdentity(batch, images.shape[0])) return gTilde;
  return tf.grad((x: Tensor) =>
    tf.sum(
      tf.mul(stepBatch(x as Tensor4D, labels, batch, step, augment).x, gTilde),
    )
  )(images) as Tensor4D;
}

/** One chunk of a minibatch: rows [start, start + size), weight size/n. */
interface Chunk {
  start: number;
  size: number;
  weight: number;
}

function chunksOf(n: number, chunk: number): Chunk[] {
  const out: Chunk[] = [];
  for (let start = 0; start < n; start += chunk) {
    const size = Math.min(chunk, n - start);
    out.push({ start, size, weight: size / n });
  }
  return out;
}

function rows<T extends Tensor>(t: T, c: Chunk): T {
  if (c.start === 0 && c.size === t.shape[0]) return t;
  const begin = t.shape.map((_, i) => i === 0 ? c.start : 0);
  const size = t.shape.map((s, i) => i === 0 ? c.size : s);
  return tf.slice(t, begin, size) as T;
}

function resolveChunk(layout: ParamLayout, options: ChunkOptions): number {
  const chunk = options.chunk ?? defaultChunk(layout);
  if (!Number.isInteger(chunk) || chunk < 1) {
    throw new RangeError(`chunk must be a positive integer, got ${chunk}`);
  }
  return chunk;
}

/**
 * Cross-entropy and parameter gradient on the augmented minibatch `x`
 * without a tape, one chunk at a time: Σ_c (n_c/n)·(loss, g)(w, x_c).
 */
function chunkedLossAndGrad(
  layout: ParamLayout,
  w: Tensor1D,
  x: Tensor4D,
  y: Tensor2D,
  chunk: number,
): { loss: number; grad: Tensor1D } {
  let loss = 0;
  let grad = tf.zerosLike(w) as Tensor1D;
  for (const c of chunksOf(x.shape[0], chunk)) {
    const [next, l] = tf.tidy(() => {
      const r = lossAndGrad(layout, w, rows(x, c), rows(y, c));
      return [
        tf.add(grad, tf.mul(r.grad, c.weight)) as Tensor1D,
        scalar(r.loss),
      ] as const;
    });
    grad.dispose();
    grad = next;
    loss += c.weight * l;
  }
  return { loss, grad };
}

/**
 * The augmented minibatch of a step, formed without a tape (outside any
 * gradient function), with its labels.
 */
function augmentedBatch(
  problem: StudentProblem,
  images: Tensor4D,
  labels: Tensor2D,
  step: number,
): { x: Tensor4D; y: Tensor2D } {
  return tf.tidy(() =>
    stepBatch(images, labels, problem.batches[step]!, step, problem.augment)
  );
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
export interface UnrolledOptions extends ChunkOptions {
  /**
   * "recompute" (default) keeps only the N student parameter vectors and
   * rebuilds one step's graph at a time, one chunk of images at a time, in
   * the backward pass; "tape" keeps the whole unroll on one tape and ignores
   * `chunk`. Both give the same gradient.
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
  if ((options.memory ?? "recompute") === "tape") {
    return tapedUnrolledGradient(problem, images, labels, alpha);
  }
  return recomputedUnrolledGradient(
    problem,
    images,
    labels,
    alpha,
    options.chunk === undefined ? {} : { chunk: options.chunk },
  );
}

/**
 * MTT with recomputation: reverse-mode through the unroll by its adjoint.
 * With wᵢ₊₁ = wᵢ − α gᵢ(wᵢ, Xᵢ) and λᵢ = ∂L/∂wᵢ, the backward pass runs
 *   λ_N = 2(w_N − θ_target)/‖θ_start − θ_target‖²,
 *   ∂L/∂Xᵢ = −α (∂gᵢ/∂Xᵢ)ᵀ λᵢ₊₁,  ∂L/∂α −= gᵢ·λᵢ₊₁,
 *   λᵢ = λᵢ₊₁ − α (∂gᵢ/∂wᵢ)ᵀ λᵢ₊₁,
 * where both products are one reverse pass over sᵢ = λᵢ₊₁·gᵢ(wᵢ, Xᵢ). The
 * result equals the taped gradient.
 *
 * Only one step's graph is alive at a time, and within a step only one
 * chunk's: with X̃ = augment(Xᵢ) formed once without a tape,
 * gᵢ = Σ_c (n_c/n)·g(wᵢ, X̃_c), so sᵢ splits into per-chunk products whose
 * reverse passes give ∂sᵢ/∂wᵢ (summed) and ∂sᵢ/∂X̃_c (concatenated); the
 * latter is pulled back through the augmentation and the row gather once.
 * That keeps the graph at `chunk` images whatever the minibatch, which is
 * what lets paper-scale settings fit the 4 GiB WebAssembly heap.
 */
export function recomputedUnrolledGradient(
  problem: StudentProblem,
  images: Tensor4D,
  labels: Tensor2D,
  alpha: number,
  options: ChunkOptions = {},
): DistillGradient {
  const { layout, thetaStart, thetaTarget, batches, augment } = problem;
  const chunk = resolveChunk(layout, options);
  const n = batches.length;

  // Forward, without a tape: the student path w_0 … w_N.
  const stepLosses: number[] = [];
  const ws: Tensor1D[] = [tf.clone(thetaStart) as Tensor1D];
  for (let step = 0; step < n; step++) {
    const w = ws[step]!;
    ws.push(tf.tidy(() => {
      const b = augmentedBatch(problem, images, labels, step);
      const { loss, grad } = chunkedLossAndGrad(layout, w, b.x, b.y, chunk);
      stepLosses.push(loss);
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

  // Backward, one step's graph at a time, one chunk's within the step.
  let lambda = lambdaN;
  let gradImages = tf.zerosLike(images) as Tensor4D;
  let gradAlpha = 0;
  for (let step = n - 1; step >= 0; step--) {
    const w = ws[step]!;
    const [nextLambda, nextGradImages, gDotLambda] = tf.tidy(() => {
      const b = augmentedBatch(problem, images, labels, step);
      let g = tf.zerosLike(w) as Tensor1D;
      let hw = tf.zerosLike(w) as Tensor1D;
      const hx: Tensor4D[] = [];
      for (const c of chunksOf(b.x.shape[0], chunk)) {
        const [gNext, hwNext, hxc] = tf.tidy(() => {
          let gc: Tensor1D | undefined;
          const [dx, dw] = tf.grads((xc: Tensor, wi: Tensor) => {
            gc =
              lossAndGrad(layout, wi as Tensor1D, xc as Tensor4D, rows(b.y, c))
                .grad;
            tf.keep(gc);
            return tf.mul(tf.sum(tf.mul(lambda, gc)), c.weight) as Scalar;
          })([rows(b.x, c), w]);
          const out: [Tensor1D, Tensor1D, Tensor4D] = [
            tf.add(g, tf.mul(gc!, c.weight)),
            tf.add(hw, dw!),
            dx as Tensor4D,
          ];
          gc!.dispose();
          return out;
        });
        g.dispose();
        hw.dispose();
        g = gNext;
        hw = hwNext;
        hx.push(hxc);
      }
      const gTilde = hx.length === 1 ? hx[0]! : tf.concat(hx, 0) as Tensor4D;
      const dImages = pullBack(
        images,
        labels,
        batches[step]!,
        step,
        augment,
        gTilde,
      );
      return [
        tf.sub(lambda, tf.mul(alpha, hw)),
        tf.sub(gradImages, tf.mul(alpha, dImages)),
        scalar(tf.sum(tf.mul(g, lambda))),
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
 * image gradient; only one step's graph is alive at a time, and within a
 * step only one chunk's (as in {@link recomputedUnrolledGradient}: the image
 * gradient is formed with respect to the augmented minibatch chunk by chunk
 * and pulled back through the augmentation once).
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
  const chunk = resolveChunk(layout, options);
  const n = batches.length;

  // Pass 1: G = Σ gᵢ along the detached student path.
  const stepLosses: number[] = [];
  let gradSum = tf.zerosLike(thetaStart) as Tensor1D;
  let w = tf.clone(thetaStart) as Tensor1D;
  for (let step = 0; step < n; step++) {
    const [nextW, nextSum] = tf.tidy(() => {
      const b = augmentedBatch(problem, images, labels, step);
      const { loss, grad } = chunkedLossAndGrad(layout, w, b.x, b.y, chunk);
      stepLosses.push(loss);
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

  // Pass 2: one step's graph at a time, one chunk's within the step.
  let gradImages = tf.zerosLike(images) as Tensor4D;
  w = tf.clone(thetaStart) as Tensor1D;
  for (let step = 0; step < n; step++) {
    const [nextW, nextGrad] = tf.tidy(() => {
      const b = augmentedBatch(problem, images, labels, step);
      let g = tf.zerosLike(w) as Tensor1D;
      const hx: Tensor4D[] = [];
      for (const c of chunksOf(b.x.shape[0], chunk)) {
        const [gNext, hxc] = tf.tidy(() => {
          let gc: Tensor1D | undefined;
          const dx = tf.grad((xc: Tensor) => {
            gc = lossAndGrad(layout, w, xc as Tensor4D, rows(b.y, c)).grad;
            tf.keep(gc);
            return tf.mul(tf.sum(tf.mul(coeff, gc)), c.weight) as Scalar;
          })(rows(b.x, c));
          const out: [Tensor1D, Tensor4D] = [
            tf.add(g, tf.mul(gc!, c.weight)),
            dx as Tensor4D,
          ];
          gc!.dispose();
          return out;
        });
        g.dispose();
        g = gNext;
        hx.push(hxc);
      }
      const gTilde = hx.length === 1 ? hx[0]! : tf.concat(hx, 0) as Tensor4D;
      const dImages = pullBack(
        images,
        labels,
        batches[step]!,
        step,
        augment,
        gTilde,
      );
      return [tf.sub(w, tf.mul(alpha, g)), tf.add(gradImages, dImages)];
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
