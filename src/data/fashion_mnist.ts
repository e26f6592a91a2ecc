/**
 * Reader for Fashion-MNIST's idx files (the MNIST file format), gzipped as
 * published or already unpacked.
 *
 * @module
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import { CorruptFileError, InputError } from "../util/errors.ts";
import { datasetSpec } from "./datasets.ts";
import { buildImageSet } from "./image_set.ts";
import type { ImageSet, Split } from "./types.ts";

const gunzip = promisify(zlib.gunzip);

/** A parsed idx file of unsigned bytes. */
export interface IdxArray {
  /** Dimension sizes, outermost first. */
  dims: number[];
  /** The values, row-major. */
  data: Uint8Array;
}

/**
 * Parse idx bytes holding unsigned 8-bit data.
 *
 * @param bytes the uncompressed file
 * @param file name used in error messages
 * @param ndims the number of dimensions the caller expects (3 for images,
 *   1 for labels)
 * @throws CorruptFileError for a bad magic number, a different number of
 *   dimensions, or a size that does not match the header
 * @example
 * ```ts
 * import { parseIdx } from "./fashion_mnist.ts";
 * const bytes = Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 2, 7, 9);
 * const idx = parseIdx(bytes, "labels", 1);
 * if (idx.dims[0] !== 2 || idx.data[1] !== 9) throw new Error();
 * ```
 */
export function parseIdx(
  bytes: Uint8Array,
  file: string,
  ndims: number,
): IdxArray {
  const expectedMagic = 0x0800 + ndims;
  if (bytes.length < 4) {
    throw new CorruptFileError(
      file,
      `only ${bytes.length} bytes; not an idx file`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== expectedMagic) {
    throw new CorruptFileError(
      file,
      `bad idx magic number 0x${magic.toString(16).padStart(8, "0")}, ` +
        `expected 0x${expectedMagic.toString(16).padStart(8, "0")} ` +
        `(unsigned bytes, ${ndims} dimension${ndims > 1 ? "s" : ""})`,
    );
  }
  const header = 4 + 4 * ndims;
  if (bytes.length < header) {
    throw new CorruptFileError(
      file,
      `idx header truncated at ${bytes.length} bytes`,
    );
  }
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== header + size) {
    throw new CorruptFileError(
      file,
      `wrong file size ${bytes.length} for idx dimensions ${dims.join("x")} ` +
        `(expected ${header + size} bytes)`,
    );
  }
  return { dims, data: bytes.subarray(header) };
}

/**
 * Read a file, gunzipping it when it starts with the gzip signature (some
 * browsers unpack `.gz` downloads but keep the name).
 */
async function readMaybeGzip(file: string): Promise<Uint8Array> {
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(await fsp.readFile(file));
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") {
      throw new InputError(file, "file not found");
    }
    throw err;
  }
  if (raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  try {
    return new Uint8Array(await gunzip(raw));
  } catch (err) {
    throw new CorruptFileError(
      file,
      `gzip data is damaged or truncated (${(err as Error).message})`,
    );
  }
}

/** Image and label file names of a Fashion-MNIST split, as published. */
export function fashionMnistFiles(
  split: Split,
): { images: string; labels: string } {
  const stem = split === "train" ? "train" : "t10k";
  return {
    images: `${stem}-images-idx3-ubyte.gz`,
    labels: `${stem}-labels-idx1-ubyte.gz`,
  };
}

/** Options for {@link readFashionMnist}. */
export interface FashionMnistReadOptions {
  /** Number of images the split must hold; a different number is an error. */
  expectedCount?: number;
}

/**
 * Read one split of Fashion-MNIST from a folder holding the published
 * `*-idx3-ubyte.gz` / `*-idx1-ubyte.gz` files.
 *
 * @throws InputError for a missing file; CorruptFileError for damaged gzip,
 *   a bad magic number, a wrong size, images that are not 28x28, an
 *   image/label count mismatch, or a label outside 0..9
 */
export async function readFashionMnist(
  dir: string,
  split: Split,
  options: FashionMnistReadOptions = {},
): Promise<ImageSet> {
  const spec = datasetSpec("fashion-mnist");
  const names = fashionMnistFiles(split);
  const imageFile = path.join(dir, names.images);
  const labelFile = path.join(dir, names.labels);
  const images = parseIdx(await readMaybeGzip(imageFile), imageFile, 3);
  const labelIdx = parseIdx(await readMaybeGzip(labelFile), labelFile, 1);

  const [count = 0, rows, cols] = images.dims;
  if (rows !== spec.height || cols !== spec.width) {
    throw new CorruptFileError(
      imageFile,
      `images are ${rows}x${cols}, expected ${spec.height}x${spec.width}`,
    );
  }
  if (labelIdx.dims[0] !== count) {
    throw new CorruptFileError(
      labelFile,
      `image/label count mismatch: ${labelIdx.dims[0]} labels for ${count} ` +
        `images in ${imageFile}`,
    );
  }
  if (options.expectedCount !== undefined && count !== options.expectedCount) {
    throw new CorruptFileError(
      imageFile,
      `holds ${count} images, expected ${options.expectedCount}`,
    );
  }
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const y = labelIdx.data[i]!;
    if (y >= spec.numClasses) {
      throw new CorruptFileError(
        labelFile,
        `label ${y} of image ${i} is outside [0, ${spec.numClasses})`,
      );
    }
    labels[i] = y;
  }
  return buildImageSet({
    name: "fashion-mnist",
    split,
    height: spec.height,
    width: spec.width,
    channels: 1,
    classNames: [...spec.classNames],
    labels,
    // A copy, so the set does not keep the whole decompressed file alive.
    pixels: images.data.slice(),
  });
}
