/**
 * Differentiable Siamese augmentation (DSA), strategy
 * `color_crop_cutout_flip_scale_rotate`, as MTT and MCT use it: mode 'S'
 * (one group per call for the whole batch), parameters drawn per image, no
 * seed sharing.
 *
 * Images are NHWC float32 tensors. Every group is linear in the images for
 * fixed draws and differentiable through `tf.grad`, because the distillation
 * differentiates through the augmentation.
 *
 * Random draws go through a {@link DrawSource} whose two calls mirror the
 * reference's `torch.rand` / `torch.randint`, one call per reference call
 * with the same sizes and in the same order, so recorded reference draws can
 * be replayed exactly. Real runs use {@link drawsFromRng}.
 *
 * @module
 */
import type { Tensor4D } from "../backend/tf.ts";
import { tf } from "../backend/tf.ts";
import type { Rng } from "../util/rng.ts";
import {
  affineGatherPlan,
  applyGatherPlan,
  flipGatherPlan,
  translateGatherPlan,
} from "./sampler.ts";

/**
 * The random draws an augmentation consumes. Each call corresponds to one
 * `torch.rand(n)` or `torch.randint(low, high, (n,))` of the reference.
 */
export interface DrawSource {
  /** `n` uniform draws in [0, 1). */
  rand(n: number): Float64Array;
  /** `n` uniform integers in [low, high). */
  randint(low: number, high: number, n: number): Int32Array;
}

/**
 * A {@link DrawSource} backed by the project's seeded generator.
 *
 * @example
 * ```ts
 * import { Rng } from "../util/rng.ts";
 * import { drawsFromRng } from "./dsa.ts";
 * const draws = drawsFromRng(new Rng(7));
 * const [k] = draws.randint(0, 6, 1);
 * if (k === undefined || k < 0 || k >= 6) throw new Error("out of range");
 * ```
 */
export function drawsFromRng(rng: Rng): DrawSource {
  return {
    rand(n: number): Float64Array {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = rng.uniform();
      return out;
    },
    randint(low: number, high: number, n: number): Int32Array {
      if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
        throw new RangeError(
          `randint needs integers low < high, got [${low}, ${high})`,
        );
      }
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = low + rng.int(high - low);
      return out;
    },
  };
}

/** Strengths of the DSA groups (the reference's `ParamDiffAug`). */
export interface DsaParams {
  /** Scale factors are drawn from U[1/ratioScale, ratioScale). */
  ratioScale: number;
  /** Rotation angles are drawn from U(−ratioRotate°, +ratioRotate°). */
  ratioRotate: number;
  /** Crop shift bound as a fraction of the image side. */
  ratioCropPad: number;
  /** Cutout square side as a fraction of the image side. */
  ratioCutout: number;
  /** Brightness offset range (offset = (u − 0.5)·brightness). */
  brightness: number;
  /** Saturation factor range (factor = u·saturation). */
  saturation: number;
  /** Contrast factor offset (factor = u + contrast). */
  contrast: number;
  /** Probability of a horizontal flip. */
  probFlip: number;
}

/** The reference defaults, used by MTT and MCT throughout. */
export const DEFAULT_DSA_PARAMS: Readonly<DsaParams> = Object.freeze({
  ratioScale: 1.2,
  ratioRotate: 15,
  ratioCropPad: 0.125,
  ratioCutout: 0.5,
  brightness: 1.0,
  saturation: 2.0,
  contrast: 0.5,
  probFlip: 0.5,
});

/** The groups of the strategy, in the reference's order (mode-S index). */
export const DSA_GROUPS = [
  "color",
  "crop",
  "cutout",
  "flip",
  "scale",
  "rotate",
] as const;

/** One of {@link DSA_GROUPS}. */
export type DsaGroup = typeof DSA_GROUPS[number];

/** Signature shared by every group function. */
export type DsaGroupFn = (
  x: Tensor4D,
  draws: DrawSource,
  params?: Partial<DsaParams>,
) => Tensor4D;

function resolve(params: Partial<DsaParams> | undefined): DsaParams {
  return { ...DEFAULT_DSA_PARAMS, ...params };
}

function checkImages(x: Tensor4D, what: string): void {
  if (x.rank !== 4 || x.dtype !== "float32") {
    throw new RangeError(
      `${what}: expected a float32 NHWC batch, got ${x.dtype} [${x.shape}]`,
    );
  }
}

/** Python's `int(v + 0.5)` for the non-negative sizes the reference rounds. */
function roundHalfUp(v: number): number {
  return Math.trunc(v + 0.5);
}

/** A per-image scalar as a [n, 1, 1, 1] float32 tensor. */
function perImage(values: ArrayLike<number>): Tensor4D {
  return tf.tensor4d(Float32Array.from(values), [values.length, 1, 1, 1]);
}

/**
 * Brightness: `x + (u − 0.5)·brightness`, one `u` per image.
 * Draws: `rand(n)`.
 */
export const dsaBrightness: DsaGroupFn = (x, draws, params) => {
  checkImages(x, "dsaBrightness");
  const { brightness } = resolve(params);
  const u = draws.rand(x.shape[0]);
  return tf.tidy(() =>
    tf.add(x, perImage(u.map((v) => (v - 0.5) * brightness)))
  );
};

/**
 * Saturation: `(x − m)·(u·saturation) + m`, where `m` is the mean over
 * channels at each pixel. Draws: `rand(n)`.
 */
export const dsaSaturation: DsaGroupFn = (x, draws, params) => {
  checkImages(x, "dsaSaturation");
  const { saturation } = resolve(params);
  const u = draws.rand(x.shape[0]);
  return tf.tidy(() => {
    const m = tf.mean(x, 3, true);
    const f = perImage(u.map((v) => v * saturation));
    return tf.add(tf.mul(tf.sub(x, m), f), m);
  });
};

/**
 * Contrast: `(x − m)·(u + contrast) + m`, where `m` is the mean of each image
 * over H, W and C. Draws: `rand(n)`.
 */
export const dsaContrast: DsaGroupFn = (x, draws, params) => {
  checkImages(x, "dsaContrast");
  const { contrast } = resolve(params);
  const u = draws.rand(x.shape[0]);
  return tf.tidy(() => {
    const m = tf.mean(x, [1, 2, 3], true);
    const f = perImage(u.map((v) => v + contrast));
    return tf.add(tf.mul(tf.sub(x, m), f), m);
  });
};

/**
 * Color group: brightness, then saturation, then contrast, each with its own
 * draw. Draws: `rand(n)` three times.
 */
export const dsaColor: DsaGroupFn = (x, draws, params) => {
  return tf.tidy(() =>
    dsaContrast(
      dsaSaturation(dsaBrightness(x, draws, params), draws, params),
      draws,
      params,
    )
  );
};

/**
 * Crop group: integer translation by (ty, tx) with zero fill,
 * `out[i, j] = x[i + ty, j + tx]`, each in [−s, s] with
 * `s = int(side·ratioCropPad + 0.5)`.
 * Draws: `randint(−sH, sH + 1, n)` for the height shift, then
 * `randint(−sW, sW + 1, n)` for the width shift.
 */
export const dsaCrop: DsaGroupFn = (x, draws, params) => {
  checkImages(x, "dsaCrop");
  const { ratioCropPad } = resolve(params);
  const [n, h, w] = x.shape;
  const sh = roundHalfUp(h * ratioCropPad);
  const sw = roundHalfUp(w * ratioCropPad);
  const ty = draws.randint(-sh, sh + 1, n);
  const tx = draws.randint(-sw, sw + 1, n);
  return applyGatherPlan(x, translateGatherPlan(n, h, w, ty, tx));
};

/**
 * The cutout mask: 1 everywhere except a square of side
 * `int(side·ratio + 0.5)` per image, centred at the given offsets and clipped
 * to the image.
 */
export function cutoutMask(
  n: number,
  h: number,
  w: number,
  offsetY: ArrayLike<number>,
  offsetX: ArrayLike<number>,
  ratio: number,
): Float32Array {
  const sizeH = roundHalfUp(h * ratio);
  const sizeW = roundHalfUp(w * ratio);
  const mask = new Float32Array(n * h * w).fill(1);
  for (let b = 0; b < n; b++) {
    // The reference clamps each of the `size` rows (columns) into the image,
    // so the zeroed band is the clipped range below.
    const r0 = offsetY[b]! - Math.floor(sizeH / 2);
    const c0 = offsetX[b]! - Math.floor(sizeW / 2);
    if (sizeH === 0 || sizeW === 0) continue;
    const rLo = Math.min(Math.max(r0, 0), h - 1);
    const rHi = Math.min(Math.max(r0 + sizeH - 1, 0), h - 1);
    const cLo = Math.min(Math.max(c0, 0), w - 1);
    const cHi = Math.min(Math.max(c0 + sizeW - 1, 0), w - 1);
    for (let i = rLo; i <= rHi; i++) {
      mask.fill(0, (b * h + i) * w + cLo, (b * h + i) * w + cHi + 1);
    }
  }
  return mask;
}

/**
 * Cutout group: zero a square of side `int(side·ratioCutout + 0.5)` centred
 * at a random offset, shared by all channels.
 * Draws: `randint(0, H + 1 − sizeH % 2, n)` for the row offset, then
 * `randint(0, W + 1 − sizeW % 2, n)` for the column offset.
 */
export const dsaCutout: DsaGroupFn = (x, draws, params) => {
  checkImages(x, "dsaCutout");
  const { ratioCutout } = resolve(params);
  const [n, h, w] = x.shape;
  const sizeH = roundHalfUp(h * ratioCutout);
  const sizeW = roundHalfUp(w * ratioCutout);
  const oy = draws.randint(0, h + (1 - (sizeH % 2)), n);
  const ox = draws.randint(0, w + (1 - (sizeW % 2)), n);
  const mask = cutoutMask(n, h, w, oy, ox, ratioCutout);
  return tf.tidy(() => tf.mul(x, tf.tensor4d(mask, [n, h, w, 1])));
};

/**
 * Flip group: mirror along the width axis when `u < probFlip`.
 * Draws: `rand(n)`.
 */
export const dsaFlip: DsaGroupFn = (x, draws, params) => {
  checkImages(x, "dsaFlip");
  const { probFlip } = resolve(params);
  const [n, h, w] = x.shape;
  const u = draws.rand(n);
  const flags = Array.from(u, (v) => v < probFlip);
  return applyGatherPlan(x, flipGatherPlan(n, h, w, flags));
};

/**
 * Per-image scale matrices `[[sx, 0, 0], [0, sy, 0]]` with
 * `s = u·(ratio − 1/ratio) + 1/ratio`, rounded to float32 as the reference
 * rounds them (it builds theta with `dtype=torch.float`).
 */
export function scaleThetas(
  ux: ArrayLike<number>,
  uy: ArrayLike<number>,
  ratio: number,
): Float64Array {
  const n = ux.length;
  const theta = new Float64Array(6 * n);
  for (let b = 0; b < n; b++) {
    theta[6 * b] = Math.fround(ux[b]! * (ratio - 1 / ratio) + 1 / ratio);
    theta[6 * b + 4] = Math.fround(uy[b]! * (ratio - 1 / ratio) + 1 / ratio);
  }
  return theta;
}

/**
 * Per-image rotation matrices `[[cos a, −sin a, 0], [sin a, cos a, 0]]` with
 * `a = (u − 0.5)·2·ratio·π/180`, rounded to float32 like the reference.
 */
export function rotateThetas(
  u: ArrayLike<number>,
  ratio: number,
): Float64Array {
  const n = u.length;
  const theta = new Float64Array(6 * n);
  for (let b = 0; b < n; b++) {
    const a = ((u[b]! - 0.5) * 2 * ratio) / 180 * Math.PI;
    const c = Math.fround(Math.cos(a));
    const s = Math.fround(Math.sin(a));
    theta.set([c, -s, 0, s, c, 0], 6 * b);
  }
  return theta;
}

/**
 * Scale group: independent width and height scale factors in
 * [1/ratioScale, ratioScale), bilinear resampling with zero padding and
 * align_corners=True. Draws: `rand(n)` for sx (width), then `rand(n)` for sy.
 */
export const dsaScale: DsaGroupFn = (x, draws, params) => {
  checkImages(x, "dsaScale");
  const { ratioScale } = resolve(params);
  const [n, h, w] = x.shape;
  const ux = draws.rand(n);
  const uy = draws.rand(n);
  const theta = scaleThetas(ux, uy, ratioScale);
  return applyGatherPlan(x, affineGatherPlan(theta, n, h, w));
};

/**
 * Rotate group: angle in (−ratioRotate°, +ratioRotate°), sampled like
 * {@link dsaScale}. Draws: `rand(n)`.
 */
export const dsaRotate: DsaGroupFn = (x, draws, params) => {
  checkImages(x, "dsaRotate");
  const { ratioRotate } = resolve(params);
  const [n, h, w] = x.shape;
  const theta = rotateThetas(draws.rand(n), ratioRotate);
  return applyGatherPlan(x, affineGatherPlan(theta, n, h, w));
};

/** Group functions by name. */
export const DSA_GROUP_FNS: Readonly<Record<DsaGroup, DsaGroupFn>> = Object
  .freeze({
    color: dsaColor,
    crop: dsaCrop,
    cutout: dsaCutout,
    flip: dsaFlip,
    scale: dsaScale,
    rotate: dsaRotate,
  });

/**
 * DSA in mode 'S': one group, chosen uniformly by a first `randint(0, 6, 1)`,
 * is applied to the whole batch with per-image parameters.
 *
 * @param x float32 images [n, h, w, c]
 * @param draws where the random draws come from
 * @param params group strengths; missing fields take the reference defaults
 * @returns the augmented batch, differentiable with respect to `x`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { Rng } from "../util/rng.ts";
 * import { drawsFromRng, dsa } from "./dsa.ts";
 * const x = tf.ones([2, 8, 8, 3]) as tf.Tensor4D;
 * const y = dsa(x, drawsFromRng(new Rng(1)));
 * if (y.shape.join() !== x.shape.join()) throw new Error("shape changed");
 * ```
 */
export function dsa(
  x: Tensor4D,
  draws: DrawSource,
  params?: Partial<DsaParams>,
): Tensor4D {
  const k = draws.randint(0, DSA_GROUPS.length, 1)[0]!;
  const group = DSA_GROUPS[k];
  if (group === undefined) {
    throw new RangeError(
      `dsa: group index ${k} outside [0, ${DSA_GROUPS.length})`,
    );
  }
  return DSA_GROUP_FNS[group](x, draws, params);
}
