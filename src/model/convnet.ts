/**
 * The reference ConvNet as pure functions of one flat parameter vector.
 *
 * Each block: conv 3×3 → instance norm (per sample and channel, biased
 * variance, eps 1e-5, affine) → ReLU → 2×2 average pool; then one linear
 * layer. The parameter gradient is written out by hand ({@link backward}) from
 * the ops in ops.ts, so that it is an ordinary differentiable function of the
 * parameters and the images: distillation differentiates it once more.
 *
 * Images are NHWC float32, labels one-hot `[B, classes]`.
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
import type { Rng } from "../util/rng.ts";
import type { ParamLayout } from "./layout.ts";
import {
  avgPool2,
  avgPool2Back,
  conv,
  convBackFilter,
  convBackInput,
} from "./ops.ts";

/** Instance-norm epsilon of the reference (`GroupNorm` default). */
export const NORM_EPS = 1e-5;

/**
 * Draw initial parameters distributed as PyTorch's defaults: conv and linear
 * weights and biases U(−1/√fan_in, 1/√fan_in), norm weight 1, norm bias 0.
 */
export function initParams(layout: ParamLayout, rng: Rng): Float32Array {
  const theta = new Float32Array(layout.size);
  for (const t of layout.tensors) {
    const view = theta.subarray(t.offset, t.offset + t.size);
    if (t.role === "norm_weight") view.fill(1);
    else if (t.role === "norm_bias") view.fill(0);
    else {
      const bound = 1 / Math.sqrt(t.fanIn);
      for (let i = 0; i < view.length; i++) {
        view[i] = rng.uniformRange(-bound, bound);
      }
    }
  }
  return theta;
}

/** The parameter tensors of a flat vector, reshaped, in layout order. */
export function unflatten(layout: ParamLayout, theta: Tensor1D): Tensor[] {
  if (theta.shape[0] !== layout.size) {
    throw new RangeError(
      `parameter vector has ${
        theta.shape[0]
      } elements, layout needs ${layout.size}`,
    );
  }
  return layout.tensors.map((t) =>
    tf.reshape(tf.slice(theta, [t.offset], [t.size]), t.shape)
  );
}

/** Intermediate values of one block, kept for the backward pass. */
interface BlockCache {
  input: Tensor4D;
  /** Normalised conv output before the affine step. */
  xhat: Tensor4D;
  /** 1/√(var + eps), shape [B, 1, 1, C]. */
  rstd: Tensor4D;
  /** Pre-activation after the affine step. */
  pre: Tensor4D;
  /** ReLU output (the pooling input). */
  act: Tensor4D;
}

/** What {@link forward} keeps for {@link backward}. */
export interface ForwardCache {
  params: Tensor[];
  blocks: BlockCache[];
  /** Flattened classifier input, [B, features]. */
  features: Tensor2D;
}

/** Forward pass: logits `[B, classes]` and the cache for the backward pass. */
export function forward(
  layout: ParamLayout,
  theta: Tensor1D,
  x: Tensor4D,
): { logits: Tensor2D; cache: ForwardCache } {
  const { spec } = layout;
  if (
    x.rank !== 4 || x.shape[1] !== spec.height || x.shape[2] !== spec.width ||
    x.shape[3] !== spec.inChannels
  ) {
    throw new RangeError(
      `images have shape [${x.shape}], model expects [B, ${spec.height}, ${spec.width}, ${spec.inChannels}] (NHWC)`,
    );
  }
  const params = unflatten(layout, theta);
  const blocks: BlockCache[] = [];
  let h: Tensor4D = x;
  for (let d = 0; d < spec.netDepth; d++) {
    const [w, b, gamma, beta] = params.slice(4 * d, 4 * d + 4) as Tensor[];
    const z = tf.add(
      conv(h, w as Tensor4D, layout.padding[d]!),
      b!,
    ) as Tensor4D;
    // Instance norm: statistics per sample and channel over H×W.
    const { mean, variance } = tf.moments(z, [1, 2], true);
    const rstd = tf.rsqrt(tf.add(variance, NORM_EPS)) as Tensor4D;
    const xhat = tf.mul(tf.sub(z, mean), rstd) as Tensor4D;
    const pre = tf.add(tf.mul(xhat, gamma!), beta!) as Tensor4D;
    const act = tf.relu(pre);
    blocks.push({ input: h, xhat, rstd, pre, act });
    h = avgPool2(act);
  }
  const [bsz] = x.shape;
  const features = tf.reshape(h, [bsz, layout.features]) as Tensor2D;
  const fcW = params[params.length - 2] as Tensor2D;
  const fcB = params[params.length - 1]!;
  const logits = tf.add(tf.matMul(features, fcW), fcB) as Tensor2D;
  return { logits, cache: { params, blocks, features } };
}

/** Logits only. */
export function predict(
  layout: ParamLayout,
  theta: Tensor1D,
  x: Tensor4D,
): Tensor2D {
  return forward(layout, theta, x).logits;
}

/**
 * Mean softmax cross-entropy and its gradient with respect to the logits,
 * both as differentiable expressions. The loss is written as
 * logsumexp(z) − Σ y·z rather than through tf.logSoftmax.
 */
export function crossEntropy(
  logits: Tensor2D,
  onehot: Tensor2D,
): { loss: Scalar; dlogits: Tensor2D } {
  const bsz = logits.shape[0];
  // The shift by the row maximum only guards exp against overflow; it cancels
  // exactly in both outputs.
  const shifted = tf.sub(logits, tf.max(logits, 1, true));
  const lse = tf.log(tf.sum(tf.exp(shifted), 1, true));
  const logProb = tf.sub(shifted, lse);
  const loss = tf.neg(tf.div(tf.sum(tf.mul(onehot, logProb)), bsz)) as Scalar;
  const dlogits = tf.div(tf.sub(tf.exp(logProb), onehot), bsz) as Tensor2D;
  return { loss, dlogits };
}

/**
 * Backward pass: the flat parameter gradient given ∂L/∂logits.
 *
 * @returns gradient vector in the layout order, shape `[P]`
 */
export function backward(
  layout: ParamLayout,
  cache: ForwardCache,
  dlogits: Tensor2D,
): Tensor1D {
  const { spec } = layout;
  const { params, blocks, features } = cache;
  const fcW = params[params.length - 2] as Tensor2D;
  const grads: Tensor[] = new Array(params.length);

  // Classifier. Explicit transposes: matMul's transpose flags are slow on wasm.
  grads[params.length - 2] = tf.matMul(tf.transpose(features), dlogits);
  grads[params.length - 1] = tf.sum(dlogits, 0);
  const dfeat = tf.matMul(dlogits, tf.transpose(fcW));
  const last = blocks[blocks.length - 1]!.act;
  const [bsz, lh, lw, lc] = last.shape;
  let dh = tf.reshape(
    dfeat,
    [bsz, Math.floor(lh / 2), Math.floor(lw / 2), lc],
  ) as Tensor4D;

  for (let d = spec.netDepth - 1; d >= 0; d--) {
    const blk = blocks[d]!;
    const [w, , gamma] = params.slice(4 * d, 4 * d + 4) as Tensor[];
    const [, hh, ww] = blk.act.shape;
    const dact = avgPool2Back(dh, hh, ww);
    const dpre = tf.mul(dact, tf.step(blk.pre)) as Tensor4D;

    grads[4 * d + 2] = tf.sum(tf.mul(dpre, blk.xhat), [0, 1, 2]);
    grads[4 * d + 3] = tf.sum(dpre, [0, 1, 2]);
    // Instance-norm input gradient:
    // dz = rstd·(dxhat − mean(dxhat) − xhat·mean(dxhat·xhat)), means over H×W.
    const dxhat = tf.mul(dpre, gamma!);
    const m1 = tf.mean(dxhat, [1, 2], true);
    const m2 = tf.mean(tf.mul(dxhat, blk.xhat), [1, 2], true);
    const dz = tf.mul(
      blk.rstd,
      tf.sub(tf.sub(dxhat, m1), tf.mul(blk.xhat, m2)),
    ) as Tensor4D;

    grads[4 * d] = convBackFilter(blk.input, dz, layout.padding[d]!);
    grads[4 * d + 1] = tf.sum(dz, [0, 1, 2]);
    if (d > 0) dh = convBackInput(dz, w as Tensor4D, layout.padding[d]!);
  }
  return tf.concat(grads.map((g) => tf.reshape(g, [-1]))) as Tensor1D;
}

/** Cross-entropy loss and flat parameter gradient on one batch. */
export function lossAndGrad(
  layout: ParamLayout,
  theta: Tensor1D,
  x: Tensor4D,
  onehot: Tensor2D,
): { loss: Scalar; grad: Tensor1D; logits: Tensor2D } {
  const { logits, cache } = forward(layout, theta, x);
  const { loss, dlogits } = crossEntropy(logits, onehot);
  return { loss, grad: backward(layout, cache, dlogits), logits };
}

/** Gradient of the input images of cross-entropy (for tests and tools). */
export function inputGrad(
  layout: ParamLayout,
  theta: Tensor1D,
  x: Tensor4D,
  onehot: Tensor2D,
): Tensor4D {
  return tf.grad((xi: Tensor) =>
    crossEntropy(forward(layout, theta, xi as Tensor4D).logits, onehot).loss
  )(x) as Tensor4D;
}
