/**
 * Turn a data set name and settings into the float arrays every stage trains
 * on: optional class-balanced subsets, then either the reference
 * normalisation or ZCA whitening fitted on the (subset) training images only.
 *
 * @module
 */
import { datasetSpec, loadDataset, toFloat } from "../data/mod.ts";
import { balancedSubset } from "../data/sampler.ts";
import type { DatasetName, ImageSet } from "../data/types.ts";
import type { LabelledImages } from "../train/sgd.ts";
import { Rng } from "../util/rng.ts";
import { applyZca, fitZca } from "../data/zca.ts";

/** What determines the prepared arrays. */
export interface DataSettings {
  dataset: DatasetName;
  /** ZCA whitening (eps 0.1) instead of mean/std normalisation. */
  zca: boolean;
  /** Training images per class; 0 = the whole training set. */
  trainPerClass: number;
  /** Test images per class; 0 = the whole test set. */
  testPerClass: number;
  /** Seed of the subset draws. */
  subsetSeed: number;
}

/** Where to find the files (does not change the numbers). */
export interface DataLocation {
  root?: string;
  download?: boolean;
  /** Insist on the official image counts. @default true */
  verifyCount?: boolean;
  quiet?: boolean;
}

/** The arrays plus what identifies them. */
export interface PreparedData {
  settings: DataSettings;
  train: LabelledImages;
  test: LabelledImages;
  /** Content hashes of the raw images used (after subsetting). */
  trainSha256: string;
  testSha256: string;
  /** Hash of the fitted ZCA transform, or null. */
  zcaSha256: string | null;
  classNames: string[];
}

function labelled(set: ImageSet, images: Float32Array): LabelledImages {
  return {
    images,
    labels: set.labels,
    count: set.count,
    height: set.height,
    width: set.width,
    channels: set.channels,
    numClasses: set.numClasses,
  };
}

/** Load, subset and preprocess a data set. */
export async function prepareData(
  settings: DataSettings,
  location: DataLocation = {},
): Promise<PreparedData> {
  const common = {
    ...(location.root !== undefined ? { root: location.root } : {}),
    download: location.download ?? false,
    verifyCount: location.verifyCount ?? true,
    quiet: location.quiet ?? false,
  };
  let train = await loadDataset(settings.dataset, {
    split: "train",
    ...common,
  });
  let test = await loadDataset(settings.dataset, { split: "test", ...common });
  const rng = Rng.derive(settings.subsetSeed, "subset", settings.dataset);
  if (settings.trainPerClass > 0) {
    train = balancedSubset(train, settings.trainPerClass, rng);
  }
  if (settings.testPerClass > 0) {
    test = balancedSubset(test, settings.testPerClass, rng);
  }

  let trainF: Float32Array;
  let testF: Float32Array;
  let zcaSha256: string | null = null;
  if (settings.zca) {
    // The reference fits ZCA on [0, 1] images without mean/std normalisation.
    const rawTrain = toFloat(train, null, { normalize: false });
    const d = train.height * train.width * train.channels;
    const zca = fitZca(rawTrain, train.count, d, { eps: 0.1 });
    trainF = applyZca(zca, rawTrain);
    testF = applyZca(zca, toFloat(test, null, { normalize: false }));
    zcaSha256 = zca.sha256;
  } else {
    trainF = toFloat(train);
    testF = toFloat(test);
  }
  return {
    settings,
    train: labelled(train, trainF),
    test: labelled(test, testF),
    trainSha256: train.sha256,
    testSha256: test.sha256,
    zcaSha256,
    classNames: datasetSpec(settings.dataset).classNames.slice(),
  };
}
