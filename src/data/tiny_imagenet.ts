/**
 * Reader for Tiny ImageNet (`tiny-imagenet-200`): 200 classes of 64x64 JPEGs.
 *
 * Classes are indexed by their sorted WordNet ids, which is the order
 * torchvision's `ImageFolder` gives, and the same map serves train and
 * validation. The validation images (the suite's "test" split) are accepted
 * in three layouts: the published flat `val/images/*.JPEG` with
 * `val/val_annotations.txt`, and the two per-class layouts made by common
 * reorganisation scripts, `val/<wnid>/images/*.JPEG` and
 * `val/images/<wnid>/*.JPEG` (the one MTT's `ImageFolder(val/images)` reads).
 * All three give the same images in the same order: class by class, files
 * sorted by name.
 *
 * @module
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import jpeg from "jpeg-js";
import { CorruptFileError, InputError } from "../util/errors.ts";
import { Progress } from "../util/progress.ts";
import { datasetSpec } from "./datasets.ts";
import { buildImageSet } from "./image_set.ts";
import type { ImageSet, Split } from "./types.ts";

const JPEG_NAME = /\.jpe?g$/i;

/** How the validation images are laid out on disk. */
export type TinyValLayout =
  | "flat"
  | "class-folders"
  | "images-class-folders";

/** Options for {@link readTinyImageNet}. */
export interface TinyReadOptions {
  /** Number of images the split must hold; a different number is an error. */
  expectedCount?: number;
  /** Silence the decoding progress bar. @default false */
  quiet?: boolean;
}

interface Item {
  file: string;
  label: number;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function requireFolder(dir: string, why = ""): Promise<void> {
  if (!(await isDir(dir))) {
    throw new InputError(dir, `missing folder${why ? ` (${why})` : ""}`);
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await fsp.readFile(file, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") {
      throw new InputError(file, "file not found");
    }
    throw err;
  }
}

async function jpegsIn(dir: string): Promise<string[]> {
  const names = (await fsp.readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && JPEG_NAME.test(e.name))
    .map((e) => e.name)
    .sort();
  return names.map((n) => path.join(dir, n));
}

async function subfolders(dir: string): Promise<string[]> {
  return (await fsp.readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** The class list: `wnids.txt` sorted, checked for duplicates. */
async function readWnids(dir: string): Promise<string[]> {
  const file = path.join(dir, "wnids.txt");
  const ids = (await readText(file)).split(/\r?\n/).map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0) throw new CorruptFileError(file, "lists no classes");
  const seen = new Set<string>();
  for (const id of ids) {
    if (/\s/.test(id) || id.includes("/")) {
      throw new CorruptFileError(file, `"${id}" is not a class id`);
    }
    if (seen.has(id)) throw new CorruptFileError(file, `lists ${id} twice`);
    seen.add(id);
  }
  return ids.sort();
}

/** Class names from `words.txt` where present, else the WordNet id. */
async function classNamesFor(dir: string, wnids: string[]): Promise<string[]> {
  let text: string;
  try {
    text = await fsp.readFile(path.join(dir, "words.txt"), "utf8");
  } catch {
    return [...wnids];
  }
  const wanted = new Set(wnids);
  const words = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const tab = line.indexOf("\t");
    if (tab <= 0) continue;
    const id = line.slice(0, tab).trim();
    if (wanted.has(id)) words.set(id, line.slice(tab + 1).trim());
  }
  return wnids.map((id) => words.get(id) || id);
}

/** Fail on class folders that `wnids.txt` does not list: their images would be dropped silently. */
function checkNoStrays(
  folder: string,
  found: string[],
  classIndex: Map<string, number>,
  ignore: string[] = [],
): void {
  for (const name of found) {
    if (!classIndex.has(name) && !ignore.includes(name)) {
      throw new InputError(
        path.join(folder, name),
        "folder is not a class listed in wnids.txt",
      );
    }
  }
}

async function trainItems(
  dir: string,
  wnids: string[],
  classIndex: Map<string, number>,
): Promise<Item[]> {
  const trainDir = path.join(dir, "train");
  await requireFolder(trainDir);
  checkNoStrays(trainDir, await subfolders(trainDir), classIndex);
  const items: Item[] = [];
  for (const [label, id] of wnids.entries()) {
    const imagesDir = path.join(trainDir, id, "images");
    await requireFolder(imagesDir, `class ${id} from wnids.txt`);
    const files = await jpegsIn(imagesDir);
    if (files.length === 0) {
      throw new CorruptFileError(imagesDir, "holds no JPEG images");
    }
    for (const file of files) items.push({ file, label });
  }
  return items;
}

/**
 * Which validation layout `dir/val` uses.
 *
 * @throws InputError when `dir/val` is missing
 */
export async function detectTinyValLayout(dir: string): Promise<TinyValLayout> {
  const valDir = path.join(dir, "val");
  await requireFolder(valDir);
  const imagesDir = path.join(valDir, "images");
  if (await isDir(imagesDir)) {
    if ((await jpegsIn(imagesDir)).length > 0) return "flat";
    if ((await subfolders(imagesDir)).length > 0) return "images-class-folders";
  }
  return "class-folders";
}

async function flatValItems(
  dir: string,
  classIndex: Map<string, number>,
): Promise<Item[]> {
  const imagesDir = path.join(dir, "val", "images");
  const annotations = path.join(dir, "val", "val_annotations.txt");
  const files = await jpegsIn(imagesDir);
  const text = await readText(annotations);
  const labelOf = new Map<string, number>();
  for (const [n, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === "") continue;
    const [name, id] = line.split("\t");
    const label = id === undefined ? undefined : classIndex.get(id.trim());
    if (name === undefined || label === undefined) {
      throw new CorruptFileError(
        annotations,
        `line ${n + 1} ("${line.slice(0, 60)}") does not name an image and a ` +
          `class from wnids.txt`,
      );
    }
    if (labelOf.has(name.trim())) {
      throw new CorruptFileError(
        annotations,
        `line ${n + 1} labels ${name} a second time`,
      );
    }
    labelOf.set(name.trim(), label);
  }
  if (labelOf.size !== files.length) {
    throw new CorruptFileError(
      annotations,
      `image/label count mismatch: ${labelOf.size} labels but ${files.length} ` +
        `JPEG images in ${imagesDir}`,
    );
  }
  const items: Item[] = [];
  for (const file of files) {
    const label = labelOf.get(path.basename(file));
    if (label === undefined) {
      throw new CorruptFileError(
        annotations,
        `has no label for ${file}`,
      );
    }
    items.push({ file, label });
  }
  // Class-major order, as the per-class layouts give.
  return items.sort((a, b) =>
    a.label - b.label || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)
  );
}

async function perClassValItems(
  dir: string,
  wnids: string[],
  classIndex: Map<string, number>,
  layout: "class-folders" | "images-class-folders",
): Promise<Item[]> {
  const valDir = path.join(dir, "val");
  const parent = layout === "class-folders"
    ? valDir
    : path.join(valDir, "images");
  checkNoStrays(
    parent,
    await subfolders(parent),
    classIndex,
    layout === "class-folders" ? ["images"] : [],
  );
  const items: Item[] = [];
  for (const [label, id] of wnids.entries()) {
    const imagesDir = layout === "class-folders"
      ? path.join(valDir, id, "images")
      : path.join(valDir, "images", id);
    await requireFolder(imagesDir, `class ${id} from wnids.txt`);
    for (const file of await jpegsIn(imagesDir)) items.push({ file, label });
  }
  if (items.length === 0) {
    throw new CorruptFileError(valDir, "holds no JPEG images");
  }
  return items;
}

/**
 * Decode one JPEG into 64x64x3 bytes at `out`. Greyscale (and CMYK) JPEGs,
 * which Tiny ImageNet contains, come out as three channels.
 */
function decodeInto(
  file: string,
  bytes: Uint8Array,
  side: number,
  out: Uint8Array,
): void {
  let image: { width: number; height: number; data: Uint8Array };
  try {
    image = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      // A damaged file must fail, not come back as a partly grey image.
      tolerantDecoding: false,
    });
  } catch (err) {
    throw new CorruptFileError(
      file,
      `cannot decode JPEG (${(err as Error).message})`,
    );
  }
  if (image.width !== side || image.height !== side) {
    throw new CorruptFileError(
      file,
      `image is ${image.width}x${image.height}, expected ${side}x${side}`,
    );
  }
  out.set(image.data);
}

/**
 * Read one split of Tiny ImageNet from the extracted `tiny-imagenet-200`
 * folder ("test" reads the validation images).
 *
 * @throws InputError for missing folders or files, or class folders not in
 *   `wnids.txt`; CorruptFileError for undecodable or wrongly sized JPEGs,
 *   bad annotation lines, an image/label count mismatch, or a wrong total
 */
export async function readTinyImageNet(
  dir: string,
  split: Split,
  options: TinyReadOptions = {},
): Promise<ImageSet> {
  const spec = datasetSpec("tiny");
  await requireFolder(dir);
  const wnids = await readWnids(dir);
  const classIndex = new Map(wnids.map((id, i) => [id, i]));
  let items: Item[];
  if (split === "train") {
    items = await trainItems(dir, wnids, classIndex);
  } else {
    const layout = await detectTinyValLayout(dir);
    items = layout === "flat"
      ? await flatValItems(dir, classIndex)
      : await perClassValItems(dir, wnids, classIndex, layout);
  }
  if (
    options.expectedCount !== undefined &&
    items.length !== options.expectedCount
  ) {
    throw new CorruptFileError(
      dir,
      `${split === "train" ? "train/" : "val/"} holds ${items.length} ` +
        `images, expected ${options.expectedCount}`,
    );
  }

  const side = spec.height;
  const size = side * side * spec.channels;
  const pixels = new Uint8Array(items.length * size);
  const labels = Int32Array.from(items, (it) => it.label);
  const progress = new Progress({
    label: `decode tiny/${split}`,
    total: items.length,
    unit: "img",
    quiet: options.quiet ?? false,
  });
  // Reads overlap with decoding; decoding itself is synchronous.
  const window = 16;
  // A failed read resolves to its error, so reads still in flight when an
  // earlier image fails do not become unhandled rejections.
  const reads: (Promise<Uint8Array | Error> | undefined)[] = [];
  const start = (i: number) => {
    if (i < items.length) {
      reads[i] = fsp.readFile(items[i]!.file).then(
        (b) => new Uint8Array(b),
        (err: Error) => err,
      );
    }
  };
  for (let i = 0; i < window; i++) start(i);
  for (let i = 0; i < items.length; i++) {
    const bytes = await reads[i]!;
    reads[i] = undefined;
    if (bytes instanceof Error) {
      throw new InputError(items[i]!.file, `cannot read (${bytes.message})`);
    }
    start(i + window);
    decodeInto(items[i]!.file, bytes, side, pixels.subarray(i * size));
    if (i % 256 === 255) progress.update(i + 1);
  }
  progress.update(items.length);
  progress.finish();

  return buildImageSet({
    name: "tiny",
    split,
    height: side,
    width: side,
    channels: spec.channels,
    classNames: await classNamesFor(dir, wnids),
    labels,
    pixels,
  });
}
