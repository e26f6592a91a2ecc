/**
 * Turning raw bytes into the float tensors the networks see.
 *
 * @module
 */
import { InputError } from "../util/errors.ts";
import {
  type Cifar100Stats,
  type NormalizationStats,
  normalizationStats,
} from "./datasets.ts";
import type { ImageSet } from "./types.ts";

/** Options for {@link toFloat}. */
export interface ToFloatOptions {
  /**
   * Subtract the per-channel mean and divide by the std after scaling to
   * [0, 1]. Turn off for ZCA, which the reference fits on [0, 1] images.
   * @default true
   */
  normalize?: boolean;
  /** Constants to normalise with. @default the data set's reference stats */
  stats?: NormalizationStats;
  /**
   * CIFAR-100 constants when `stats` is not given.
   * @default "reference"
   */
  cifar100Stats?: Cifar100Stats;
}

/**
 * Convert images to float32 NHWC: pixel/255, then (x − mean)/std per channel
 * when `normalize` is on.
 *
 * @param set the images
 * @param indices which images, in output order; all when omitted
 * @returns Float32Array of length indices.length·H·W·C
 * @example
 * ```ts
 * import { buildImageSet } from "./image_set.ts";
 * import { toFloat } from "./preprocess.ts";
 * const set = buildImageSet({
 *   name: "fashion-mnist", split: "test", height: 1, width: 1, channels: 1,
 *   classNames: ["a"], labels: Int32Array.of(0, 0),
 *   pixels: Uint8Array.of(0, 255),
 * });
 * const raw = toFloat(set, [1], { normalize: false });
 * if (raw[0] !== 1) throw new Error("expected 1");
 * ```
 */
export function toFloat(
  set: ImageSet,
  indices?: ArrayLike<number> | null,
  options: ToFloatOptions = {},
): Float32Array {
  const normalize = options.normalize ?? true;
  const c = set.channels;
  // One lookup table per channel: 256 entries replace a divide per pixel.
  const lut = new Float32Array(256 * c);
  if (normalize) {
    const stats = options.stats ??
      normalizationStats(set.name, {
        cifar100Stats: options.cifar100Stats ?? "reference",
      });
    if (stats.mean.length !== c || stats.std.length !== c) {
      throw new InputError(
        "stats",
        `need ${c} mean and std values for ${set.name}, got ` +
          `${stats.mean.length} and ${stats.std.length}`,
      );
    }
    for (let ch = 0; ch < c; ch++) {
      const mean = stats.mean[ch]!;
      const std = stats.std[ch]!;
      if (!(std > 0)) {
        throw new InputError("stats", `std of channel ${ch} is ${std}`);
      }
      for (let v = 0; v < 256; v++) lut[v * c + ch] = (v / 255 - mean) / std;
    }
  } else {
    for (let v = 0; v < 256; v++) {
      for (let ch = 0; ch < c; ch++) lut[v * c + ch] = v / 255;
    }
  }

  const size = set.height * set.width * c;
  const n = indices ? indices.length : set.count;
  const out = new Float32Array(n * size);
  for (let k = 0; k < n; k++) {
    const i = indices ? indices[k]! : k;
    if (!Number.isInteger(i) || i < 0 || i >= set.count) {
      throw new RangeError(
        `index ${i} is outside [0, ${set.count}) for ${set.name}/${set.split}`,
      );
    }
    const src = i * size;
    const dst = k * size;
    for (let p = 0; p < size; p++) {
      out[dst + p] = lut[set.pixels[src + p]! * c + (p % c)]!;
    }
  }
  return out;
}

/**
 * Labels of the images at `indices` (all when omitted), in that order.
 *
 * @example
 * ```ts
 * import { buildImageSet } from "./image_set.ts";
 * import { labelsAt } from "./preprocess.ts";
 * const set = buildImageSet({
 *   name: "fashion-mnist", split: "test", height: 1, width: 1, channels: 1,
 *   classNames: ["a", "b"], labels: Int32Array.of(0, 1),
 *   pixels: Uint8Array.of(0, 0),
 * });
 * if (labelsAt(set, [1])[0] !== 1) throw new Error();
 * ```
 */
export function labelsAt(
  set: ImageSet,
  indices?: ArrayLike<number> | null,
): Int32Array {
  if (!indices) return set.labels.slice();
  const out = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= set.count) {
      throw new RangeError(
        `index ${i} is outside [0, ${set.count}) for ${set.name}/${set.split}`,
      );
    }
    out[k] = set.labels[i]!;
  }
  return out;
}
