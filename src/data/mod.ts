/**
 * The data layer: data set registry, loaders for CIFAR-10, CIFAR-100, Tiny
 * ImageNet and Fashion-MNIST, the downloader, preprocessing and
 * class-balanced sampling.
 *
 * @example
 * ```ts ignore
 * import { loadDataset, sampleBalanced, toFloat } from "./mod.ts";
 * import { Rng } from "../util/rng.ts";
 * const train = await loadDataset("cifar10", { split: "train", download: true });
 * const init = sampleBalanced(train.labels, train.numClasses, 10, new Rng(0));
 * const x = toFloat(train, init); // (100, 32, 32, 3) normalised
 * ```
 *
 * @module
 */
export type { DatasetName, ImageSet, Split } from "./types.ts";
export {
  type ArchiveFile,
  CIFAR100_DC_STATS,
  type Cifar100Stats,
  DATASET_NAMES,
  type DatasetSpec,
  datasetSpec,
  isDatasetName,
  type NormalizationOptions,
  type NormalizationStats,
  normalizationStats,
  parseDatasetName,
} from "./datasets.ts";
export {
  buildImageSet,
  type ImageSetFields,
  imageSetSha256,
  subsetImageSet,
} from "./image_set.ts";
export {
  archiveUrl,
  defaultDataRoot,
  resolveMirror,
  SYSTEM_FASHION_MNIST_DIR,
} from "./paths.ts";
export {
  downloadFile,
  type DownloadOptions,
  extractArchive,
  md5File,
  placementHint,
} from "./download.ts";
export {
  cifar100File,
  cifar10Files,
  type CifarReadOptions,
  readCifar10,
  readCifar100,
} from "./cifar.ts";
export {
  fashionMnistFiles,
  type FashionMnistReadOptions,
  type IdxArray,
  parseIdx,
  readFashionMnist,
} from "./fashion_mnist.ts";
export {
  detectTinyValLayout,
  readTinyImageNet,
  type TinyReadOptions,
  type TinyValLayout,
} from "./tiny_imagenet.ts";
export { loadDataset, type LoadOptions, locateDataset } from "./load.ts";
export { labelsAt, toFloat, type ToFloatOptions } from "./preprocess.ts";
export { balancedSubset, indicesByClass, sampleBalanced } from "./sampler.ts";
