/**
 * Building and slicing {@link ImageSet}s with their shape checked and their
 * provenance hash computed in one place.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { DatasetName, ImageSet, Split } from "./types.ts";

/** Fields of an {@link ImageSet} except the derived `count` and `sha256`. */
export interface ImageSetFields {
  /** Data set name. */
  name: DatasetName;
  /** Split. */
  split: Split;
  /** Image height. */
  height: number;
  /** Image width. */
  width: number;
  /** Channels per pixel. */
  channels: number;
  /** Class names; their number is the class count. */
  classNames: string[];
  /** One label per image. */
  labels: Int32Array;
  /** NHWC bytes. */
  pixels: Uint8Array;
}

/**
 * Hex SHA-256 over `pixels` then `labels` (as little-endian int32 bytes).
 *
 * @example
 * ```ts
 * import { imageSetSha256 } from "./image_set.ts";
 * const h = imageSetSha256(new Uint8Array(3), new Int32Array(1));
 * if (h.length !== 64) throw new Error("not a sha256");
 * ```
 */
export function imageSetSha256(pixels: Uint8Array, labels: Int32Array): string {
  return createHash("sha256")
    .update(pixels)
    .update(new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength))
    .digest("hex");
}

/**
 * Assemble an {@link ImageSet}, checking that the pixel buffer matches the
 * label count and shape and that every label is a valid class.
 *
 * These are programming errors inside a loader (each loader reports file
 * problems itself with the file name), so they throw RangeError.
 *
 * @example
 * ```ts
 * import { buildImageSet } from "./image_set.ts";
 * const set = buildImageSet({
 *   name: "fashion-mnist", split: "test", height: 1, width: 2, channels: 1,
 *   classNames: ["a", "b"], labels: Int32Array.of(1),
 *   pixels: Uint8Array.of(0, 255),
 * });
 * if (set.count !== 1) throw new Error("wrong count");
 * ```
 */
export function buildImageSet(fields: ImageSetFields): ImageSet {
  const { height, width, channels, labels, pixels, classNames } = fields;
  const count = labels.length;
  const expected = count * height * width * channels;
  if (pixels.length !== expected) {
    throw new RangeError(
      `${fields.name}/${fields.split}: ${pixels.length} pixel bytes for ` +
        `${count} images of ${height}x${width}x${channels} (need ${expected})`,
    );
  }
  const numClasses = classNames.length;
  for (let i = 0; i < count; i++) {
    const y = labels[i]!;
    if (y < 0 || y >= numClasses) {
      throw new RangeError(
        `${fields.name}/${fields.split}: label ${y} of image ${i} is outside ` +
          `[0, ${numClasses})`,
      );
    }
  }
  return {
    name: fields.name,
    split: fields.split,
    count,
    height,
    width,
    channels,
    numClasses,
    classNames,
    labels,
    pixels,
    sha256: imageSetSha256(pixels, labels),
  };
}

/**
 * A new {@link ImageSet} holding copies of the images at `indices`, in that
 * order, with its own hash.
 *
 * @example
 * ```ts
 * import { buildImageSet, subsetImageSet } from "./image_set.ts";
 * const set = buildImageSet({
 *   name: "fashion-mnist", split: "test", height: 1, width: 1, channels: 1,
 *   classNames: ["a", "b"], labels: Int32Array.of(0, 1, 1),
 *   pixels: Uint8Array.of(10, 20, 30),
 * });
 * const sub = subsetImageSet(set, [2, 0]);
 * if (sub.pixels[0] !== 30 || sub.labels[1] !== 0) throw new Error("bad");
 * ```
 */
export function subsetImageSet(
  set: ImageSet,
  indices: ArrayLike<number>,
): ImageSet {
  const size = set.height * set.width * set.channels;
  const pixels = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= set.count) {
      throw new RangeError(
        `index ${i} is outside [0, ${set.count}) for ${set.name}/${set.split}`,
      );
    }
    pixels.set(set.pixels.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = set.labels[i]!;
  }
  return buildImageSet({
    name: set.name,
    split: set.split,
    height: set.height,
    width: set.width,
    channels: set.channels,
    classNames: set.classNames,
    labels,
    pixels,
  });
}
