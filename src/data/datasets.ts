/**
 * The registry of supported data sets: shapes, classes, reference
 * normalisation constants, and the official archives with their published
 * MD5 checksums.
 *
 * @module
 */
import { InputError } from "../util/errors.ts";
import type { DatasetName, Split } from "./types.ts";

/** Every supported data set name, in the order help texts list them. */
export const DATASET_NAMES: readonly DatasetName[] = [
  "cifar10",
  "cifar100",
  "tiny",
  "fashion-mnist",
];

/** Per-channel mean and standard deviation of pixels scaled to [0, 1]. */
export interface NormalizationStats {
  /** One mean per channel. */
  readonly mean: readonly number[];
  /** One standard deviation per channel. */
  readonly std: readonly number[];
}

/**
 * Which constants normalise CIFAR-100: `"reference"` reproduces MTT/MCT,
 * whose `utils.py` reuses the CIFAR-10 values; `"dc"` uses the CIFAR-100
 * statistics from the DC code base.
 */
export type Cifar100Stats = "reference" | "dc";

/** One file published by a data set's authors. */
export interface ArchiveFile {
  /** File name as published, also its name in the cache folder. */
  readonly fileName: string;
  /** Official base URL; the download URL is `${baseUrl}/${fileName}`. */
  readonly baseUrl: string;
  /** Published MD5 of the file, lowercase hex. */
  readonly md5: string;
  /** For data sets published as loose files: which split it belongs to. */
  readonly split?: Split;
}

/** Everything the loaders and the downloader need to know about a data set. */
export interface DatasetSpec {
  /** Registry key. */
  readonly name: DatasetName;
  /** Display name. */
  readonly title: string;
  /** Image height. */
  readonly height: number;
  /** Image width. */
  readonly width: number;
  /** Channels per pixel. */
  readonly channels: number;
  /** Number of classes. */
  readonly numClasses: number;
  /**
   * Class names by label. Empty for Tiny ImageNet, whose names come from
   * the data set's own `wnids.txt` and `words.txt`.
   */
  readonly classNames: readonly string[];
  /** Published number of images per split. */
  readonly counts: Readonly<Record<Split, number>>;
  /** Reference normalisation (reference.md §2). */
  readonly stats: NormalizationStats;
  /** The official files. */
  readonly archives: readonly ArchiveFile[];
  /**
   * Folder under the cache root holding the extracted data: the archive's
   * top folder for CIFAR and Tiny, a folder of loose files for Fashion-MNIST.
   */
  readonly folder: string;
}

const CIFAR10_STATS: NormalizationStats = {
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.2023, 0.1994, 0.2010],
};

/** CIFAR-100's own statistics as used by DC (not by MTT/MCT). */
export const CIFAR100_DC_STATS: NormalizationStats = {
  mean: [0.5071, 0.4866, 0.4409],
  std: [0.2673, 0.2564, 0.2762],
};

const CIFAR_BASE = "https://www.cs.toronto.edu/~kriz";
const FASHION_BASE =
  "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com";

const CIFAR100_FINE = (
  "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl " +
  "boy bridge bus butterfly camel can castle caterpillar cattle chair " +
  "chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur " +
  "dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard " +
  "lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle " +
  "mountain mouse mushroom oak_tree orange orchid otter palm_tree pear " +
  "pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon " +
  "ray road rocket rose sea seal shark shrew skunk skyscraper snail snake " +
  "spider squirrel streetcar sunflower sweet_pepper table tank telephone " +
  "television tiger tractor train trout tulip turtle wardrobe whale " +
  "willow_tree wolf woman worm"
).split(" ");

const SPECS: Readonly<Record<DatasetName, DatasetSpec>> = {
  "cifar10": {
    name: "cifar10",
    title: "CIFAR-10",
    height: 32,
    width: 32,
    channels: 3,
    numClasses: 10,
    classNames: [
      "airplane",
      "automobile",
      "bird",
      "cat",
      "deer",
      "dog",
      "frog",
      "horse",
      "ship",
      "truck",
    ],
    counts: { train: 50000, test: 10000 },
    stats: CIFAR10_STATS,
    archives: [{
      fileName: "cifar-10-binary.tar.gz",
      baseUrl: CIFAR_BASE,
      md5: "c32a1d4ab5d03f1284b67883e8d87530",
    }],
    folder: "cifar-10-batches-bin",
  },
  "cifar100": {
    name: "cifar100",
    title: "CIFAR-100",
    height: 32,
    width: 32,
    channels: 3,
    numClasses: 100,
    classNames: CIFAR100_FINE,
    counts: { train: 50000, test: 10000 },
    // The MTT/MCT quirk: CIFAR-100 is normalised with CIFAR-10's constants.
    stats: CIFAR10_STATS,
    archives: [{
      fileName: "cifar-100-binary.tar.gz",
      baseUrl: CIFAR_BASE,
      md5: "03b5dce01913d631647c71ecec9e9cb8",
    }],
    folder: "cifar-100-binary",
  },
  "tiny": {
    name: "tiny",
    title: "Tiny ImageNet",
    height: 64,
    width: 64,
    channels: 3,
    numClasses: 200,
    classNames: [],
    counts: { train: 100000, test: 10000 },
    stats: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    archives: [{
      fileName: "tiny-imagenet-200.zip",
      baseUrl: "http://cs231n.stanford.edu",
      md5: "90528d7ca1a48142e341f4ef8d21d0de",
    }],
    folder: "tiny-imagenet-200",
  },
  "fashion-mnist": {
    name: "fashion-mnist",
    title: "Fashion-MNIST",
    height: 28,
    width: 28,
    channels: 1,
    numClasses: 10,
    classNames: [
      "T-shirt/top",
      "Trouser",
      "Pullover",
      "Dress",
      "Coat",
      "Sandal",
      "Shirt",
      "Sneaker",
      "Bag",
      "Ankle boot",
    ],
    counts: { train: 60000, test: 10000 },
    // Not in MTT/MCT; these are the DC code base's values.
    stats: { mean: [0.2861], std: [0.3530] },
    archives: [
      {
        fileName: "train-images-idx3-ubyte.gz",
        baseUrl: FASHION_BASE,
        md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        split: "train",
      },
      {
        fileName: "train-labels-idx1-ubyte.gz",
        baseUrl: FASHION_BASE,
        md5: "25c81989df183df01b3e8a0aad5dffbe",
        split: "train",
      },
      {
        fileName: "t10k-images-idx3-ubyte.gz",
        baseUrl: FASHION_BASE,
        md5: "bef4ecab320f06d8554ea6380940ec79",
        split: "test",
      },
      {
        fileName: "t10k-labels-idx1-ubyte.gz",
        baseUrl: FASHION_BASE,
        md5: "bb300cfdad3c16e7a12a480ee83cd310",
        split: "test",
      },
    ],
    folder: "fashion-mnist",
  },
};

/**
 * True when `name` is a supported data set name.
 *
 * @example
 * ```ts
 * import { isDatasetName } from "./datasets.ts";
 * if (!isDatasetName("cifar10") || isDatasetName("mnist")) throw new Error();
 * ```
 */
export function isDatasetName(name: string): name is DatasetName {
  return Object.hasOwn(SPECS, name);
}

/**
 * Check a user-supplied data set name.
 *
 * @param name the name as typed
 * @param subject what to blame in the error (a flag or config field)
 * @throws InputError listing the valid names when `name` is unknown
 */
export function parseDatasetName(
  name: string,
  subject = "dataset",
): DatasetName {
  if (isDatasetName(name)) return name;
  throw new InputError(
    subject,
    `unknown data set "${name}"; valid names are ${DATASET_NAMES.join(", ")}`,
  );
}

/**
 * The registry entry for a data set.
 *
 * @throws InputError listing the valid names when `name` is unknown
 * @example
 * ```ts
 * import { datasetSpec } from "./datasets.ts";
 * if (datasetSpec("tiny").height !== 64) throw new Error();
 * ```
 */
export function datasetSpec(name: string): DatasetSpec {
  return SPECS[parseDatasetName(name)];
}

/** Options for {@link normalizationStats}. */
export interface NormalizationOptions {
  /**
   * CIFAR-100 only: the reference quirk (CIFAR-10 constants) or DC's own.
   * @default "reference"
   */
  cifar100Stats?: Cifar100Stats;
}

/**
 * Per-channel mean and std used to normalise a data set without ZCA.
 *
 * @example
 * ```ts
 * import { normalizationStats } from "./datasets.ts";
 * const ref = normalizationStats("cifar100");
 * const dc = normalizationStats("cifar100", { cifar100Stats: "dc" });
 * if (ref.mean[0] !== 0.4914 || dc.mean[0] !== 0.5071) throw new Error();
 * ```
 */
export function normalizationStats(
  name: string,
  options: NormalizationOptions = {},
): NormalizationStats {
  const spec = datasetSpec(name);
  const choice = options.cifar100Stats ?? "reference";
  if (choice !== "reference" && choice !== "dc") {
    throw new InputError(
      "cifar100Stats",
      `must be "reference" or "dc", got "${String(choice)}"`,
    );
  }
  if (spec.name === "cifar100" && choice === "dc") return CIFAR100_DC_STATS;
  return spec.stats;
}
