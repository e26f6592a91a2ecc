/**
 * The in-memory form every loader returns: raw 8-bit pixels in NHWC order
 * plus integer labels, with a content hash for provenance.
 *
 * @module
 */

/** Names of the supported data sets, as used on the command line. */
export type DatasetName = "cifar10" | "cifar100" | "tiny" | "fashion-mnist";

/** Which part of a data set: Tiny ImageNet's `val/` folder serves as "test". */
export type Split = "train" | "test";

/**
 * A labelled image set held as raw bytes.
 *
 * Pixels stay as 0..255 bytes so a 100k-image set fits in memory; conversion
 * to normalised floats happens per batch (see `toFloat` in preprocess.ts).
 */
export interface ImageSet {
  /** Which data set the images come from. */
  name: DatasetName;
  /** Which split. */
  split: Split;
  /** Number of images. */
  count: number;
  /** Image height in pixels. */
  height: number;
  /** Image width in pixels. */
  width: number;
  /** Channels per pixel (3 for colour, 1 for Fashion-MNIST). */
  channels: number;
  /** Number of classes; every label is below it. */
  numClasses: number;
  /** Human-readable class names, indexed by label. */
  classNames: string[];
  /** Labels, length `count`, each in [0, numClasses). */
  labels: Int32Array;
  /** NHWC pixels, length count*height*width*channels, values 0..255. */
  pixels: Uint8Array;
  /**
   * Hex SHA-256 over the pixel bytes followed by the labels as little-endian
   * int32, so two runs can prove they saw the same data.
   */
  sha256: string;
}
