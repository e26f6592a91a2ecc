/**
 * Resampling images through precomputed gather plans.
 *
 * Every geometric DSA group (crop, flip, scale, rotate) is a fixed linear map
 * of the pixels once its random draws are known: each output pixel is a
 * weighted sum of at most four input pixels. The geometry is therefore worked
 * out in plain JavaScript (a {@link GatherPlan}) and only the pixel gathering
 * and weighting run as tensor ops.
 *
 * The gradient is supplied by hand as the transposed plan, again a gather.
 * TensorFlow.js would otherwise differentiate `gather` with
 * `UnsortedSegmentSum`, which the wasm backend lacks and the cpu backend runs
 * as one masked full-size sum per segment (quadratic in the pixel count).
 * Gathers use `gatherND`: on wasm it measured 7× faster than `gather` for
 * [262144, 3] rows (4.8 ms against 36 ms); on cpu it is 2.4× slower (142 ms
 * against 59 ms), a fair trade since wasm is the default backend.
 *
 * @module
 */
import { type Tensor, type Tensor4D, tf } from "../backend/tf.ts";

/**
 * A linear resampling of a batch of NHWC images that keeps the batch size and
 * the spatial size: output pixel `q` (flat index over n, h, w) is
 * `Σ_k weight[k·P + q] · x[index[k·P + q]]` over all channels at once, with
 * `P = n·h·w`. An index equal to `P` reads zero (outside the image).
 */
export interface GatherPlan {
  /** Batch size. */
  readonly n: number;
  /** Image height. */
  readonly h: number;
  /** Image width. */
  readonly w: number;
  /** Number of taps (source pixels) per output pixel. */
  readonly taps: number;
  /** Tap-major source pixel indices, length `taps·n·h·w`, values in [0, P]. */
  readonly index: Int32Array;
  /** Tap weights in the same layout; null means every tap has weight 1. */
  readonly weight: Float64Array | null;
}

/**
 * torch's base grid coordinate for `affine_grid(..., align_corners=True)`:
 * `linspace(-1, 1, size)`, and a single 0 for a size-1 axis.
 */
function baseGrid(size: number): Float64Array {
  const g = new Float64Array(size);
  if (size <= 1) return g;
  const step = 2 / (size - 1);
  // torch's linspace fills the second half backwards from the end point, so
  // both ends are exact; mirrored here to keep the grid symmetric.
  const half = Math.floor(size / 2);
  for (let i = 0; i < size; i++) {
    g[i] = i < half ? -1 + step * i : 1 - step * (size - 1 - i);
  }
  return g;
}

/**
 * The plan of `grid_sample(x, affine_grid(theta, x.shape, align_corners=True),
 * mode="bilinear", padding_mode="zeros", align_corners=True)`.
 *
 * @param theta per-image 2×3 affine matrices, row-major, length `6·n`; row 0
 *   gives the normalised width coordinate, row 1 the height coordinate
 * @param n batch size
 * @param h image height
 * @param w image width
 * @returns a four-tap plan
 */
export function affineGatherPlan(
  theta: ArrayLike<number>,
  n: number,
  h: number,
  w: number,
): GatherPlan {
  if (theta.length !== 6 * n) {
    throw new RangeError(
      `affineGatherPlan: theta needs 6·n = ${
        6 * n
      } values, got ${theta.length}`,
    );
  }
  const p = n * h * w;
  const index = new Int32Array(4 * p).fill(p);
  const weight = new Float64Array(4 * p);
  const gx = baseGrid(w);
  const gy = baseGrid(h);
  const th = Float64Array.from(theta);
  for (let b = 0; b < n; b++) {
    const t = 6 * b;
    const t00 = th[t]!, t01 = th[t + 1]!, t02 = th[t + 2]!;
    const t10 = th[t + 3]!, t11 = th[t + 4]!, t12 = th[t + 5]!;
    for (let i = 0; i < h; i++) {
      const yb = gy[i]!;
      // The row's constant part of the normalised position.
      const cx = t01 * yb + t02;
      const cy = t11 * yb + t12;
      for (let j = 0; j < w; j++) {
        const xb = gx[j]!;
        const q = (b * h + i) * w + j;
        // Normalised sampling position, then pixel units (align_corners).
        const ix = ((t00 * xb + cx + 1) / 2) * (w - 1);
        const iy = ((t10 * xb + cy + 1) / 2) * (h - 1);
        if (!Number.isFinite(ix) || !Number.isFinite(iy)) continue;
        const x0 = Math.floor(ix);
        const y0 = Math.floor(iy);
        const x1 = x0 + 1;
        const y1 = y0 + 1;
        // torch's corner weights, in its order nw, ne, sw, se.
        const ax = x1 - ix, bx = ix - x0, ay = y1 - iy, by = iy - y0;
        const inX0 = x0 >= 0 && x0 < w, inX1 = x1 >= 0 && x1 < w;
        const inY0 = y0 >= 0 && y0 < h, inY1 = y1 >= 0 && y1 < h;
        const row0 = (b * h + y0) * w, row1 = row0 + w;
        if (inY0 && inX0) {
          index[q] = row0 + x0;
          weight[q] = ax * ay;
        }
        if (inY0 && inX1) {
          index[p + q] = row0 + x1;
          weight[p + q] = bx * ay;
        }
        if (inY1 && inX0) {
          index[2 * p + q] = row1 + x0;
          weight[2 * p + q] = ax * by;
        }
        if (inY1 && inX1) {
          index[3 * p + q] = row1 + x1;
          weight[3 * p + q] = bx * by;
        }
      }
    }
  }
  return { n, h, w, taps: 4, index, weight };
}

/**
 * The plan of an integer translation with zero fill:
 * `out[b, i, j] = x[b, i + dy[b], j + dx[b]]`, or 0 when that is outside.
 *
 * @param dy per-image shift along the height axis
 * @param dx per-image shift along the width axis
 */
export function translateGatherPlan(
  n: number,
  h: number,
  w: number,
  dy: ArrayLike<number>,
  dx: ArrayLike<number>,
): GatherPlan {
  if (dy.length !== n || dx.length !== n) {
    throw new RangeError(
      `translateGatherPlan: need ${n} shifts per axis, got ${dy.length} and ${dx.length}`,
    );
  }
  const p = n * h * w;
  const index = new Int32Array(p).fill(p);
  for (let b = 0; b < n; b++) {
    const sy = dy[b]!, sx = dx[b]!;
    for (let i = 0; i < h; i++) {
      const si = i + sy;
      if (si < 0 || si >= h) continue;
      for (let j = 0; j < w; j++) {
        const sj = j + sx;
        if (sj < 0 || sj >= w) continue;
        index[(b * h + i) * w + j] = (b * h + si) * w + sj;
      }
    }
  }
  return { n, h, w, taps: 1, index, weight: null };
}

/**
 * The plan of a per-image horizontal flip (along the width axis).
 *
 * @param flip per image, whether to flip it
 */
export function flipGatherPlan(
  n: number,
  h: number,
  w: number,
  flip: ArrayLike<boolean>,
): GatherPlan {
  if (flip.length !== n) {
    throw new RangeError(
      `flipGatherPlan: need ${n} flags, got ${flip.length}`,
    );
  }
  const p = n * h * w;
  const index = new Int32Array(p);
  for (let b = 0; b < n; b++) {
    const f = flip[b]!;
    for (let i = 0; i < h; i++) {
      const row = (b * h + i) * w;
      for (let j = 0; j < w; j++) index[row + j] = row + (f ? w - 1 - j : j);
    }
  }
  return { n, h, w, taps: 1, index, weight: null };
}

/**
 * The adjoint of a plan, as a plan: applying it to an output-shaped gradient
 * gives the input gradient. Zero-weight taps are dropped, so the number of
 * taps is the largest number of outputs any input pixel feeds.
 */
export function transposeGatherPlan(plan: GatherPlan): GatherPlan {
  const { n, h, w, taps, index, weight } = plan;
  const p = n * h * w;
  const degree = new Int32Array(p);
  for (let t = 0; t < taps * p; t++) {
    const src = index[t]!;
    if (src < p && (weight === null || weight[t] !== 0)) degree[src]!++;
  }
  let maxDegree = 1;
  for (let s = 0; s < p; s++) maxDegree = Math.max(maxDegree, degree[s]!);

  const tIndex = new Int32Array(maxDegree * p).fill(p);
  const tWeight = weight === null ? null : new Float64Array(maxDegree * p);
  const filled = new Int32Array(p);
  for (let k = 0; k < taps; k++) {
    for (let q = 0; q < p; q++) {
      const t = k * p + q;
      const src = index[t]!;
      if (src >= p || (weight !== null && weight[t] === 0)) continue;
      const slot = filled[src]!++;
      tIndex[slot * p + src] = q;
      if (tWeight !== null) tWeight[slot * p + src] = weight![t]!;
    }
  }
  return { n, h, w, taps: maxDegree, index: tIndex, weight: tWeight };
}

/**
 * Apply a plan to flat NHWC data in float64 (no tensors): the reference the
 * tensor path is tested against, and a way to check geometry exactly.
 *
 * @param x flat NHWC values, length `n·h·w·c`
 * @param c channels
 */
export function applyGatherPlanToArray(
  plan: GatherPlan,
  x: ArrayLike<number>,
  c: number,
): Float64Array {
  const p = plan.n * plan.h * plan.w;
  if (x.length !== p * c) {
    throw new RangeError(
      `applyGatherPlanToArray: expected ${p * c} values, got ${x.length}`,
    );
  }
  const out = new Float64Array(p * c);
  for (let k = 0; k < plan.taps; k++) {
    for (let q = 0; q < p; q++) {
      const t = k * p + q;
      const src = plan.index[t]!;
      if (src >= p) continue;
      const wt = plan.weight === null ? 1 : plan.weight[t]!;
      for (let ch = 0; ch < c; ch++) out[q * c + ch]! += wt * x[src * c + ch]!;
    }
  }
  return out;
}

/** Forward gather of one plan, in tensor ops (differentiable as ops). */
function gatherTaps(x: Tensor4D, plan: GatherPlan): Tensor4D {
  const [n, h, w, c] = x.shape;
  const p = n * h * w;
  return tf.tidy(() => {
    // One appended zero row stands for every outside-the-image tap.
    const src = tf.concat([tf.reshape(x, [p, c]), tf.zeros([1, c])], 0);
    const parts: Tensor[] = [];
    for (let k = 0; k < plan.taps; k++) {
      const idx = tf.tensor2d(
        plan.index.subarray(k * p, (k + 1) * p),
        [p, 1],
        "int32",
      );
      let g: Tensor = tf.gatherND(src, idx);
      if (plan.weight !== null) {
        const wk = tf.tensor2d(
          Float32Array.from(plan.weight.subarray(k * p, (k + 1) * p)),
          [p, 1],
        );
        g = tf.mul(g, wk);
      }
      parts.push(g);
    }
    const sum = parts.length === 1 ? parts[0]! : tf.addN(parts);
    return tf.reshape(sum, [n, h, w, c]);
  });
}

/**
 * Apply a plan to a batch of NHWC images. Differentiable with respect to `x`
 * through `tf.grad`; the gradient is the transposed plan, built only when a
 * gradient is actually requested.
 *
 * @param x float32 images, shape [n, h, w, c] matching the plan
 */
export function applyGatherPlan(x: Tensor4D, plan: GatherPlan): Tensor4D {
  const [n, h, w] = x.shape;
  if (n !== plan.n || h !== plan.h || w !== plan.w) {
    throw new RangeError(
      `applyGatherPlan: images [${x.shape}] do not match a plan for ` +
        `${plan.n}×${plan.h}×${plan.w}`,
    );
  }
  const op = tf.customGrad((...args: Array<Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as Tensor4D;
    return {
      value: gatherTaps(input, plan),
      gradFunc: (dy: Tensor4D) => gatherTaps(dy, transposeGatherPlan(plan)),
    };
  });
  return op(x);
}
