/**
 * Readers for the CIFAR-10 and CIFAR-100 "binary version" files.
 *
 * Each record is the label byte(s) followed by 3072 pixel bytes stored as
 * three 32x32 planes (all red, then green, then blue); the readers turn that
 * CHW layout into the suite's NHWC.
 *
 * @module
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { CorruptFileError, InputError } from "../util/errors.ts";
import { datasetSpec } from "./datasets.ts";
import { buildImageSet } from "./image_set.ts";
import type { ImageSet, Split } from "./types.ts";

const SIDE = 32;
const PLANE = SIDE * SIDE;
const PIXELS = 3 * PLANE;

/** Options shared by the CIFAR readers. */
export interface CifarReadOptions {
  /**
   * Number of images the split must hold (the published size); when given, a
   * different number is an error rather than a silently smaller set.
   */
  expectedCount?: number;
}

/** The files a CIFAR-10 split is made of, in load order. */
export function cifar10Files(split: Split): string[] {
  return split === "train"
    ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`)
    : ["test_batch.bin"];
}

/** The file a CIFAR-100 split is made of. */
export function cifar100File(split: Split): string {
  return split === "train" ? "train.bin" : "test.bin";
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fsp.readFile(file));
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") {
      throw new InputError(file, "file not found");
    }
    throw err;
  }
}

async function requireFolder(dir: string): Promise<void> {
  let ok = false;
  try {
    ok = (await fsp.stat(dir)).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw new InputError(dir, "missing folder");
}

/**
 * Decode whole records from one file into `pixels`/`labels` at `at`.
 *
 * @param labelOffset which header byte holds the label we keep
 * @param headerBytes label bytes before the pixels (1 or 2)
 * @param limits exclusive upper bound for each header byte
 */
function decodeRecords(
  file: string,
  bytes: Uint8Array,
  headerBytes: number,
  labelOffset: number,
  limits: number[],
  pixels: Uint8Array,
  labels: Int32Array,
  at: number,
): void {
  const record = headerBytes + PIXELS;
  const n = bytes.length / record;
  for (let r = 0; r < n; r++) {
    const base = r * record;
    for (let h = 0; h < headerBytes; h++) {
      const v = bytes[base + h]!;
      if (v >= limits[h]!) {
        throw new CorruptFileError(
          file,
          `record ${r} has label ${v} in header byte ${h}, outside ` +
            `[0, ${limits[h]})`,
        );
      }
    }
    labels[at + r] = bytes[base + labelOffset]!;
    const src = base + headerBytes;
    const dst = (at + r) * PIXELS;
    for (let p = 0; p < PLANE; p++) {
      const o = dst + p * 3;
      pixels[o] = bytes[src + p]!;
      pixels[o + 1] = bytes[src + PLANE + p]!;
      pixels[o + 2] = bytes[src + 2 * PLANE + p]!;
    }
  }
}

async function readCifar(
  dir: string,
  files: string[],
  headerBytes: number,
  labelOffset: number,
  limits: number[],
  options: CifarReadOptions,
): Promise<{ pixels: Uint8Array; labels: Int32Array }> {
  await requireFolder(dir);
  const record = headerBytes + PIXELS;
  const chunks: { file: string; bytes: Uint8Array }[] = [];
  let count = 0;
  for (const name of files) {
    const file = path.join(dir, name);
    const bytes = await readBytes(file);
    if (bytes.length === 0 || bytes.length % record !== 0) {
      throw new CorruptFileError(
        file,
        `wrong file size ${bytes.length}: not a whole number of ${record}-byte ` +
          `records (${Math.floor(bytes.length / record)} records and ` +
          `${bytes.length % record} extra bytes; truncated or not a CIFAR ` +
          `binary file)`,
      );
    }
    chunks.push({ file, bytes });
    count += bytes.length / record;
  }
  if (options.expectedCount !== undefined && count !== options.expectedCount) {
    throw new CorruptFileError(
      dir,
      `holds ${count} images in ${files.join(", ")}, expected ` +
        `${options.expectedCount}`,
    );
  }
  const pixels = new Uint8Array(count * PIXELS);
  const labels = new Int32Array(count);
  let at = 0;
  for (const { file, bytes } of chunks) {
    decodeRecords(
      file,
      bytes,
      headerBytes,
      labelOffset,
      limits,
      pixels,
      labels,
      at,
    );
    at += bytes.length / record;
  }
  return { pixels, labels };
}

/**
 * Read CIFAR-10 from the extracted `cifar-10-batches-bin` folder.
 *
 * @param dir folder holding `data_batch_1.bin` … `test_batch.bin`
 * @throws InputError for a missing folder or file; CorruptFileError for a
 *   wrong file size, a label outside 0..9, or a wrong image count
 */
export async function readCifar10(
  dir: string,
  split: Split,
  options: CifarReadOptions = {},
): Promise<ImageSet> {
  const spec = datasetSpec("cifar10");
  const { pixels, labels } = await readCifar(
    dir,
    cifar10Files(split),
    1,
    0,
    [spec.numClasses],
    options,
  );
  return buildImageSet({
    name: "cifar10",
    split,
    height: SIDE,
    width: SIDE,
    channels: 3,
    classNames: [...spec.classNames],
    labels,
    pixels,
  });
}

/** Class names from `fine_label_names.txt` when present and well formed. */
async function fineNames(dir: string, fallback: string[]): Promise<string[]> {
  try {
    const text = await fsp.readFile(
      path.join(dir, "fine_label_names.txt"),
      "utf8",
    );
    const names = text.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    return names.length === fallback.length ? names : fallback;
  } catch {
    return fallback;
  }
}

/**
 * Read CIFAR-100 from the extracted `cifar-100-binary` folder, keeping the
 * fine (100-class) label, which is the second byte of each record.
 *
 * @param dir folder holding `train.bin` and `test.bin`
 * @throws InputError for a missing folder or file; CorruptFileError for a
 *   wrong file size, a coarse label outside 0..19 or a fine label outside
 *   0..99, or a wrong image count
 */
export async function readCifar100(
  dir: string,
  split: Split,
  options: CifarReadOptions = {},
): Promise<ImageSet> {
  const spec = datasetSpec("cifar100");
  const { pixels, labels } = await readCifar(
    dir,
    [cifar100File(split)],
    2,
    1,
    [20, spec.numClasses],
    options,
  );
  return buildImageSet({
    name: "cifar100",
    split,
    height: SIDE,
    width: SIDE,
    channels: 3,
    classNames: await fineNames(dir, [...spec.classNames]),
    labels,
    pixels,
  });
}
