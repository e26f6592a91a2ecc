/**
 * Trajectory storage (MCT's storage comparison, reference.md §5.2 and §7
 * item 2): bytes of MTT's stored SGD snapshots against MCT's convexified
 * waypoints. The runner measures the two stores it trains here on
 * Fashion-MNIST, the real data set available offline, and adds the
 * reference formula and the MCT code's published measurements for CIFAR-10,
 * CIFAR-100 and Tiny ImageNet. Nothing is distilled or evaluated.
 */
import { EXPERT_DEFAULTS } from "../src/experts/train_experts.ts";
import type { ScaleSpec, TableSpec } from "../src/pipeline/table_spec.ts";

const MEASURED_NOTE =
  "Fashion-MNIST is in neither paper: the measured row is this suite's stores of Fashion-MNIST experts " +
  "(ConvNet depth 3, width 128: 317,706 parameters). The published rows are the MCT code's measurements " +
  "(exps/storage_compare.py, reference.md §5.2: 100 experts, ip = 4, depth-3 Tiny ImageNet); the formula " +
  "rows are 51 × P × 4 bytes against 4 waypoints × P × 4 bytes plus the β table.";

const FORMAT_NOTE =
  "Measured sizes are whole store folders in this suite's format (float32 data files, JSON records and " +
  "manifest), not the reference's torch pickles.";

/** Nothing is distilled or evaluated in this table. */
const NO_EVAL = { runs: 0, epochs: 0 };

const common = {
  waypoints: 4,
  beta: "cumulative",
  distill: {},
  cells: [],
  random: [],
  eval: NO_EVAL,
  evalEvery: 0,
  evalEveryRuns: 0,
  evalSeed: 0,
  minExpertAccuracy: 0,
} as const satisfies Partial<ScaleSpec>;

const paper: ScaleSpec = {
  ...common,
  summary:
    "100 Fashion-MNIST experts × 50 epochs on all 60,000 training images (reference buffer.py: " +
    "51 snapshots each), convexified with ip = 4 (4 waypoints); both stores measured on disk.",
  deviations: [MEASURED_NOTE, FORMAT_NOTE],
  data: { trainPerClass: 0, testPerClass: 0, subsetSeed: 0 },
  expert: { ...EXPERT_DEFAULTS },
  experts: 100,
  cells: [],
  random: [],
  allowPartialData: false,
};

const quick: ScaleSpec = {
  ...common,
  summary:
    "3 Fashion-MNIST experts × 50 epochs at the reference width 128 (51 snapshots each) on a class-balanced " +
    "subset of 20 training images per class, convexified with ip = 4; both stores measured on disk. " +
    "About ten minutes on a 2-core CPU.",
  deviations: [
    MEASURED_NOTE,
    FORMAT_NOTE,
    "3 experts instead of 100, trained on 200 of the 60,000 training images: the bytes per expert depend " +
    "only on the network and the 51 snapshots, so the measured ratio is that of a full store; totals " +
    "scale with the number of experts",
  ],
  data: { trainPerClass: 20, testPerClass: 10, subsetSeed: 0 },
  expert: { ...EXPERT_DEFAULTS },
  experts: 3,
  cells: [],
  random: [],
  allowPartialData: false,
};

const smoke: ScaleSpec = {
  ...common,
  summary:
    "A pipeline check, not a measurement: 2 experts × 8 epochs (9 snapshots), width 8, 10 training images " +
    "per class, convexified with ip = 4.",
  deviations: [
    "Every setting is reduced to run in seconds; with 9 snapshots instead of 51 and width 8, the measured " +
    "ratio means nothing",
  ],
  data: { trainPerClass: 10, testPerClass: 5, subsetSeed: 0 },
  expert: { ...EXPERT_DEFAULTS, epochs: 8, netWidth: 8, batchSize: 32 },
  experts: 2,
  cells: [],
  random: [],
  allowPartialData: true,
};

/** The storage table. */
export const table: TableSpec = {
  name: "storage",
  title:
    "Trajectory storage: MTT's SGD snapshots vs MCT's convexified waypoints",
  dataset: "fashion-mnist",
  kind: "storage",
  scales: { paper, quick, smoke },
};
