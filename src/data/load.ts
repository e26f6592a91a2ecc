/**
 * Finding a data set on this machine, or downloading it, and loading it.
 *
 * @module
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { CorruptFileError, MissingDataError } from "../util/errors.ts";
import { exists } from "../util/fs.ts";
import { readCifar10, readCifar100 } from "./cifar.ts";
import { type ArchiveFile, type DatasetSpec, datasetSpec } from "./datasets.ts";
import {
  downloadFile,
  extractArchive,
  md5File,
  placementHint,
} from "./download.ts";
import { fashionMnistFiles, readFashionMnist } from "./fashion_mnist.ts";
import {
  archiveUrl,
  defaultDataRoot,
  SYSTEM_FASHION_MNIST_DIR,
} from "./paths.ts";
import { readTinyImageNet } from "./tiny_imagenet.ts";
import type { ImageSet, Split } from "./types.ts";

/** Options for {@link locateDataset} and {@link loadDataset}. */
export interface LoadOptions {
  /** Which split; Tiny ImageNet's "test" is its validation set. */
  split: Split;
  /** Cache folder. @default defaultDataRoot() (`$TRAJBENCH_DATA`, …) */
  root?: string;
  /**
   * Fetch missing archives from the official site (or the mirror).
   * @default false
   */
  download?: boolean;
  /** Base URL replacing the official ones. @default $TRAJBENCH_MIRROR */
  mirror?: string;
  /**
   * Expected MD5 by archive file name, replacing the published checksum
   * (for a mirror that serves other files, such as test fixtures).
   */
  md5?: Readonly<Record<string, string>>;
  /**
   * Require the published number of images per split, so a damaged or
   * partial copy cannot pass as the real data set.
   * @default true
   */
  verifyCount?: boolean;
  /**
   * Where to look for Debian's Fashion-MNIST after the cache; `null` skips
   * it.
   * @default "/usr/share/datasets/fashion-mnist"
   */
  systemDir?: string | null;
  /** Silence progress bars. @default false */
  quiet?: boolean;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

function expectedMd5(file: ArchiveFile, options: LoadOptions): string {
  return options.md5?.[file.fileName] ?? file.md5;
}

async function locateArchived(
  spec: DatasetSpec,
  root: string,
  options: LoadOptions,
): Promise<string> {
  const folder = path.join(root, spec.folder);
  if (await isDir(folder)) return folder;
  const file = spec.archives[0]!;
  const archive = path.join(root, file.fileName);
  const url = archiveUrl(file, options.mirror);
  const md5 = expectedMd5(file, options);
  if (await exists(archive)) {
    const got = await md5File(archive);
    if (got !== md5) {
      throw new CorruptFileError(
        archive,
        `MD5 ${got} does not match the expected ${md5}; delete the file ` +
          `and ${placementHint(url, archive, md5)}`,
      );
    }
  } else if (options.download) {
    await downloadFile(url, archive, { md5, quiet: options.quiet ?? false });
  } else {
    throw new MissingDataError(
      folder,
      `${spec.title} is not in ${root}: ${placementHint(url, archive, md5)} ` +
        `(it is unpacked on first use), or allow downloading (download: ` +
        `true); set TRAJBENCH_DATA to use another folder`,
    );
  }
  return await extractArchive(archive, root, spec.folder);
}

async function hasAll(dir: string, names: string[]): Promise<boolean> {
  for (const n of names) {
    if (!(await exists(path.join(dir, n)))) return false;
  }
  return true;
}

async function locateFashionMnist(
  spec: DatasetSpec,
  root: string,
  options: LoadOptions,
): Promise<string> {
  const { images, labels } = fashionMnistFiles(options.split);
  const names = [images, labels];
  const cacheDir = path.join(root, spec.folder);
  if (await hasAll(cacheDir, names)) return cacheDir;
  const systemDir = options.systemDir === undefined
    ? SYSTEM_FASHION_MNIST_DIR
    : options.systemDir;
  if (systemDir !== null && (await hasAll(systemDir, names))) return systemDir;

  const missing: ArchiveFile[] = [];
  for (const f of spec.archives) {
    if (
      names.includes(f.fileName) &&
      !(await exists(path.join(cacheDir, f.fileName)))
    ) missing.push(f);
  }
  if (!options.download) {
    const hints = missing.map((f) =>
      placementHint(
        archiveUrl(f, options.mirror),
        path.join(cacheDir, f.fileName),
        expectedMd5(f, options),
      )
    );
    throw new MissingDataError(
      cacheDir,
      `Fashion-MNIST ${options.split} files are not in ${cacheDir}` +
        `${systemDir ? ` or ${systemDir}` : ""}: ${hints.join("; ")}; or ` +
        `install Debian's dataset-fashion-mnist package, or allow ` +
        `downloading (download: true)`,
    );
  }
  for (const f of missing) {
    // The published MD5s are of the official gzip files; Debian's copies are
    // re-gzipped and differ, which is why found files are not checked.
    await downloadFile(
      archiveUrl(f, options.mirror),
      path.join(cacheDir, f.fileName),
      { md5: expectedMd5(f, options), quiet: options.quiet ?? false },
    );
  }
  return cacheDir;
}

/**
 * The folder holding a data set's files, after downloading and unpacking
 * them if needed and allowed.
 *
 * Order of search: the unpacked folder in the cache, then the archive in the
 * cache (MD5-checked, then unpacked), then (Fashion-MNIST only) Debian's
 * system copy, then a download.
 *
 * @throws InputError for an unknown name; MissingDataError when the data is
 *   absent and cannot be downloaded, saying which file goes where;
 *   CorruptFileError for an archive with the wrong MD5 or damaged contents
 */
export async function locateDataset(
  name: string,
  options: LoadOptions,
): Promise<string> {
  const spec = datasetSpec(name);
  const root = path.resolve(options.root ?? defaultDataRoot());
  return spec.name === "fashion-mnist"
    ? await locateFashionMnist(spec, root, options)
    : await locateArchived(spec, root, options);
}

/**
 * Find (or download) a data set and load one split into memory.
 *
 * @param name "cifar10", "cifar100", "tiny" or "fashion-mnist"
 * @throws see {@link locateDataset}; the readers add errors for damaged
 *   files, each naming the file
 * @example
 * ```ts ignore
 * import { loadDataset } from "./load.ts";
 * const train = await loadDataset("fashion-mnist", { split: "train" });
 * console.log(train.count, train.sha256);
 * ```
 */
export async function loadDataset(
  name: string,
  options: LoadOptions,
): Promise<ImageSet> {
  const spec = datasetSpec(name);
  const dir = await locateDataset(spec.name, options);
  const expectedCount = (options.verifyCount ?? true)
    ? spec.counts[options.split]
    : undefined;
  const opts = expectedCount === undefined ? {} : { expectedCount };
  switch (spec.name) {
    case "cifar10":
      return await readCifar10(dir, options.split, opts);
    case "cifar100":
      return await readCifar100(dir, options.split, opts);
    case "tiny":
      return await readTinyImageNet(dir, options.split, {
        ...opts,
        quiet: options.quiet ?? false,
      });
    case "fashion-mnist":
      return await readFashionMnist(dir, options.split, opts);
  }
}
