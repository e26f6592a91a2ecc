/**
 * Fashion-MNIST: MTT vs MCT at IPC 1, 10 (and 50 at paper scale) with the
 * random-real baseline. Neither paper reports Fashion-MNIST; it is the real
 * data set available offline (Debian's dataset-fashion-mnist), so this table
 * is the suite's own and the default of `deno task reproduce`.
 */
import { EXPERT_DEFAULTS } from "../src/experts/train_experts.ts";
import type {
  CellSpec,
  ScaleSpec,
  TableSpec,
} from "../src/pipeline/table_spec.ts";

const SUITE = "suite's choice: Fashion-MNIST is in neither paper";

function cells(
  ipcs: number[],
  mtt: Record<number, CellSpec["distill"]>,
  mct: Record<number, CellSpec["distill"]>,
): CellSpec[] {
  return ipcs.flatMap((ipc) => [
    {
      method: "mtt" as const,
      ipc,
      variant: "",
      zca: false,
      distill: mtt[ipc] ?? {},
      source: SUITE,
    },
    {
      method: "mct" as const,
      ipc,
      variant: "",
      zca: false,
      distill: mct[ipc] ?? {},
      source: SUITE,
    },
  ]);
}

const paper: ScaleSpec = {
  summary:
    "100 experts × 50 epochs on all 60,000 training images (reference expert settings), " +
    "5000 distillation iterations per cell, 5 evaluation networks × 1000 epochs on all 10,000 test images.",
  deviations: [
    "Fashion-MNIST is not in either paper; hyper-parameters follow the CIFAR-10 rows without ZCA (MTT Table, reference.md §4; MCT run_command.md, §5.5).",
    "MCT image learning rate is half the reference's 1e3: the suite applies the analytic gradient, the reference code half of it (README).",
    "whole-training-set row: 2 networks × 50 epochs with the evaluation protocol and lr 0.01, not a tuned full training",
  ],
  data: { trainPerClass: 0, testPerClass: 0, subsetSeed: 0 },
  expert: { ...EXPERT_DEFAULTS },
  experts: 100,
  waypoints: 4,
  beta: "cumulative",
  distill: { iterations: 5000, seed: 0 },
  cells: cells([1, 10, 50], {
    1: {
      synSteps: 50,
      expertEpochs: 2,
      maxStartEpoch: 2,
      lrImg: 1000,
      lrLr: 1e-7,
    },
    10: {
      synSteps: 30,
      expertEpochs: 2,
      maxStartEpoch: 20,
      lrImg: 1000,
      lrLr: 1e-5,
    },
    50: {
      synSteps: 30,
      expertEpochs: 2,
      maxStartEpoch: 40,
      lrImg: 1000,
      lrLr: 1e-5,
    },
  }, {
    1: {
      synSteps: 60,
      expertEpochs: 6,
      maxStartEpoch: 4,
      lrImg: 500,
      lrLr: 1e-7,
    },
    10: {
      synSteps: 30,
      expertEpochs: 15,
      maxStartEpoch: 8,
      lrImg: 500,
      lrLr: 1e-5,
    },
    50: {
      synSteps: 30,
      expertEpochs: 2,
      maxStartEpoch: 40,
      lrImg: 500,
      lrLr: 1e-5,
    },
  }),
  random: [{ ipc: 1, zca: false }, { ipc: 10, zca: false }, {
    ipc: 50,
    zca: false,
  }],
  full: { runs: 2, epochs: 50 },
  eval: { runs: 5, epochs: 1000 },
  evalEvery: 0,
  evalEveryRuns: 0,
  evalSeed: 0,
  minExpertAccuracy: 0.5,
  allowPartialData: false,
};

const quick: ScaleSpec = {
  summary:
    "3 experts × 6 epochs, ConvNet width 64, on a class-balanced subset of 500 training images per class; " +
    "MTT and MCT at IPC 1 and 10 for 100 iterations of 10 student steps; 3 evaluation networks × 300 epochs, " +
    "tested on 200 images per class. About an hour on a 2-core CPU.",
  deviations: [
    "experts: 3 instead of 100, 6 epochs instead of 50, trained on 5,000 of the 60,000 training images",
    "ConvNet width 64 instead of 128 (experts, distillation and evaluation)",
    "distillation: 100 iterations instead of 5000, 10 student steps, start epochs below 3 of the experts' 6",
    "evaluation: 3 networks × 300 epochs instead of 5 × 1000, tested on 2,000 of the 10,000 test images",
    "no IPC 50",
    "whole-training-set row: 1 network × 20 epochs on the 5,000-image subset, lr 0.01",
    "MCT image learning rate is half MTT's: the suite applies the analytic gradient, the reference code half of it (README)",
  ],
  data: { trainPerClass: 500, testPerClass: 200, subsetSeed: 0 },
  expert: { ...EXPERT_DEFAULTS, epochs: 6, netWidth: 64 },
  experts: 3,
  waypoints: 4,
  beta: "cumulative",
  distill: {
    iterations: 100,
    seed: 0,
    synSteps: 10,
    expertEpochs: 2,
    maxStartEpoch: 3,
    lrLr: 1e-5,
  },
  cells: cells([1, 10], { 1: { lrImg: 1000 }, 10: { lrImg: 1000 } }, {
    1: { lrImg: 500 },
    10: { lrImg: 500 },
  }),
  random: [{ ipc: 1, zca: false }, { ipc: 10, zca: false }],
  full: { runs: 1, epochs: 20 },
  eval: { runs: 3, epochs: 300 },
  evalEvery: 0,
  evalEveryRuns: 0,
  evalSeed: 0,
  minExpertAccuracy: 0.5,
  allowPartialData: false,
};

const smoke: ScaleSpec = {
  summary:
    "A pipeline check, not a measurement: 2 experts × 3 epochs, width 8, 12 training images per class, " +
    "3 distillation iterations, 2 evaluation networks × 5 epochs.",
  deviations: [
    "every setting is reduced to run in seconds; the numbers mean nothing",
  ],
  data: { trainPerClass: 12, testPerClass: 6, subsetSeed: 0 },
  expert: { ...EXPERT_DEFAULTS, epochs: 3, netWidth: 8, batchSize: 32 },
  experts: 2,
  waypoints: 3,
  beta: "cumulative",
  distill: {
    iterations: 3,
    seed: 0,
    synSteps: 3,
    expertEpochs: 1,
    maxStartEpoch: 2,
    lrImg: 100,
    lrLr: 1e-5,
  },
  cells: cells([1], {}, {}),
  random: [{ ipc: 1, zca: false }],
  full: { runs: 1, epochs: 2 },
  eval: { runs: 2, epochs: 5 },
  evalEvery: 0,
  evalEveryRuns: 0,
  evalSeed: 0,
  minExpertAccuracy: 0,
  allowPartialData: true,
};

export const table: TableSpec = {
  name: "fashion-mnist",
  title: "Fashion-MNIST, ConvNet: MTT vs MCT",
  dataset: "fashion-mnist",
  kind: "accuracy",
  scales: { paper, quick, smoke },
};
