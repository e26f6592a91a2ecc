/**
 * Wording and small helpers shared by the CIFAR-10, CIFAR-100, Tiny ImageNet
 * and ablation tables, so a sentence that several reports print says the same
 * thing in each. Configuration only; private to reproduce/.
 *
 * @module
 */
import {
  EXPERT_DEFAULTS,
  type ExpertSettings,
} from "../src/experts/train_experts.ts";
import type { CellSpec, ScaleSpec } from "../src/pipeline/table_spec.ts";

/** Where the MTT hyper-parameters come from. */
export const MTT_TABLE = "MTT hyper-parameter table (reference.md §4)";

/** Where the published MCT CIFAR-10 hyper-parameters come from. */
export const MCT_CIFAR10 =
  "MCT run_command.md, CIFAR-10 (reference.md §5.5), ip=4, ZCA buffers";

/** α₀: `--lr_init` is never read, so α starts at the experts' lr. */
export const LR_INIT_NOTE =
  "α₀ = 0.01 (the experts' learning rate) in every cell: the reference " +
  "scripts never read --lr_init, so neither the 0.001 of some copies of the " +
  "MTT table nor MCT's --lr_init values take effect (reference.md §4, §8 " +
  "item 3).";

/** The suite's MCT gradient is the analytic one; the reference's is half. */
export const MCT_HALF_LR_NOTE =
  "MCT image learning rates are half of the values they are taken from: the " +
  "suite applies the analytic gradient, the reference MCT code half of it " +
  "(reference.md §5.4, §8 item 6), so with SGD the update is the same.";

/** Evaluation networks per cell at paper scale. */
export const EVAL_RUNS_NOTE =
  "Evaluation: 5 networks × 1000 epochs per cell for both methods (MTT's " +
  "num_eval); MCT's code evaluates 3 (reference.md §6).";

/** What the reported number is, next to what the papers report. */
export function finalIterationNote(iterations: number): string {
  return `Each cell reports the images of the final iteration (${iterations}); ` +
    "both papers report the best mean over evaluations every 100 " +
    "iterations, selected on test data (reference.md §6, §8 item 13). The " +
    "convergence table measures that figure for CIFAR-10 IPC 10.";
}

/** The random-real baseline, which the reference code does not contain. */
export const RANDOM_NOTE =
  "Random rows: the reference code has no such baseline; the suite trains " +
  "the evaluation networks on randomly drawn real training images (no ZCA) " +
  "with the protocol of reference.md §6 at lr 0.01, the experts' learning " +
  "rate, since there is no learned α.";

/** Seeds, where the reference seeds from the clock. */
export const SEEDS_NOTE =
  "Runs are seeded (distillation seed 0, evaluation seed 0, expert seed 0); " +
  "the reference reseeds from the clock on every network (reference.md §8 " +
  "item 12).";

/** The expert accuracy gate, which is the suite's and not the reference's. */
export function expertGateNote(fraction: number): string {
  return fraction > 0
    ? `Experts below ${
      Math.round(fraction * 1000) / 10
    }% test accuracy are refused: the suite's check against experts that did ` +
      "not learn (not part of the reference)."
    : "No expert accuracy gate at this scale.";
}

/** The smoke scale's one-line disclaimer. */
export const SMOKE_NOTE =
  "A pipeline check on a few images per class: every setting is reduced to " +
  "run in seconds and the numbers mean nothing. No ZCA: whitening fitted on " +
  "a few images is meaningless.";

/** Source text of smoke-scale cells. */
export const SMOKE_SOURCE =
  "smoke scale: pipeline check, not the paper's values";

/**
 * Cells of a reduced scale made from paper cells: the same method, IPC and
 * ZCA, keeping only the learning rates (lr_img, lr_lr) and the batch size,
 * because N, M and T⁺ must fit the shorter experts and are set per scale.
 *
 * @param paper the paper-scale cells
 * @param ipcs which IPCs to keep
 * @param extra overrides added to every kept cell (e.g. a student batch)
 */
export function reducedCells(
  paper: readonly CellSpec[],
  ipcs: readonly number[],
  extra: CellSpec["distill"] = {},
): CellSpec[] {
  return paper.filter((c) => ipcs.includes(c.ipc)).map((c) => {
    const distill: CellSpec["distill"] = {};
    if (c.distill.lrImg !== undefined) distill.lrImg = c.distill.lrImg;
    if (c.distill.lrLr !== undefined) distill.lrLr = c.distill.lrLr;
    if (c.distill.batchSyn !== undefined) distill.batchSyn = c.distill.batchSyn;
    return {
      ...c,
      distill: { ...distill, ...extra },
      source: `lr_img and lr_lr of the paper cell (${c.source}); ` +
        "N, M, T⁺ reduced for this scale",
    };
  });
}

/** Smoke cells: both methods at IPC 1 without ZCA and without overrides. */
export function smokeCells(variant = ""): CellSpec[] {
  return (["mtt", "mct"] as const).map((method) => ({
    method,
    ipc: 1,
    variant,
    zca: false,
    distill: {},
    source: SMOKE_SOURCE,
  }));
}

/** What differs between the fixture-sized smoke scales. */
export interface FixtureSmoke {
  summary: string;
  trainPerClass: number;
  testPerClass: number;
  /** Changes to the smoke experts (width, depth). */
  expert: Partial<ExpertSettings>;
  iterations: number;
  synSteps: number;
}

/**
 * A smoke scale sized for the small fixture files the tests write: 2 experts
 * × 3 epochs, IPC 1, 2 evaluation networks × 4 epochs, no ZCA, no gate.
 */
export function fixtureSmoke(o: FixtureSmoke): ScaleSpec {
  return {
    summary: o.summary,
    deviations: [SMOKE_NOTE],
    data: {
      trainPerClass: o.trainPerClass,
      testPerClass: o.testPerClass,
      subsetSeed: 0,
    },
    expert: { ...EXPERT_DEFAULTS, epochs: 3, batchSize: 32, ...o.expert },
    experts: 2,
    waypoints: 3,
    beta: "cumulative",
    distill: {
      iterations: o.iterations,
      seed: 0,
      synSteps: o.synSteps,
      expertEpochs: 1,
      maxStartEpoch: 2,
      lrImg: 100,
      // Fixture images give α large gradients; 1e-5 can turn α negative.
      lrLr: 1e-7,
    },
    cells: smokeCells(),
    random: [{ ipc: 1, zca: false }],
    eval: { runs: 2, epochs: 4 },
    evalEvery: 0,
    evalEveryRuns: 0,
    evalSeed: 0,
    minExpertAccuracy: 0,
    allowPartialData: true,
  };
}
