/**
 * Expert-count ablation on CIFAR-10 (MCT's "number of experts" study,
 * reference.md §7 item 6): MTT and MCT distilled from the first 1, 10 or 50
 * experts of one store, via `maxExperts` (the reference's --max_files ×
 * --max_experts: 1×1, 1×10, 5×10). Cell settings are the CIFAR-10 table's.
 */
import type {
  CellSpec,
  ScaleSpec,
  TableSpec,
} from "../src/pipeline/table_spec.ts";
import {
  EVAL_RUNS_NOTE,
  expertGateNote,
  finalIterationNote,
  LR_INIT_NOTE,
  MCT_HALF_LR_NOTE,
  SEEDS_NOTE,
  SMOKE_NOTE,
  smokeCells,
} from "./_common.ts";
import { table as cifar10 } from "./cifar10.ts";

/** Each cell once per expert count, with `variant` "experts=n". */
function byExpertCount(cells: CellSpec[], counts: number[]): CellSpec[] {
  return counts.flatMap((n) =>
    cells.map((c) => ({
      ...c,
      variant: `experts=${n}`,
      distill: { ...c.distill, maxExperts: n },
      source: `${c.source}; first ${n} expert${n === 1 ? "" : "s"} ` +
        "(MCT's expert-count ablation, reference.md §7 item 6)",
    }))
  );
}

const c10 = cifar10.scales;

const paper: ScaleSpec = {
  ...c10.paper,
  summary:
    "50 experts × 50 epochs with ZCA on all 50,000 CIFAR-10 training images (reference buffer.py); " +
    "MTT and MCT at IPC 10 with the CIFAR-10 table's settings, distilled from the first 1, 10 and 50 " +
    "experts, 5000 iterations each; 5 evaluation networks × 1000 epochs on all 10,000 test images.",
  deviations: [
    "IPC 10 is the suite's choice: the reference records the expert counts of this ablation (1, 10, 50) " +
    "but not its IPC or other settings; the cells take the CIFAR-10 table's IPC 10 settings (MTT table, " +
    "reference.md §4; MCT run_command.md, §5.5).",
    "The n experts are the lowest-numbered of one store of 50, as the reference's first files and first " +
    "experts per file are.",
    LR_INIT_NOTE,
    MCT_HALF_LR_NOTE,
    EVAL_RUNS_NOTE,
    finalIterationNote(5000),
    SEEDS_NOTE,
    expertGateNote(c10.paper.minExpertAccuracy),
  ],
  experts: 50,
  cells: byExpertCount(c10.paper.cells.filter((c) => c.ipc === 10), [
    1,
    10,
    50,
  ]),
  random: [],
};

const quick: ScaleSpec = {
  ...c10.quick,
  summary:
    "4 experts × 6 epochs with ZCA, ConvNet width 64, on a class-balanced subset of 500 CIFAR-10 training " +
    "images per class; MTT and MCT at IPC 1 distilled from the first 1, 2 and 4 experts for 200 iterations " +
    "of 10 student steps; 3 evaluation networks × 300 epochs, tested on 200 images per class. " +
    "About half an hour on a 2-core CPU.",
  deviations: [
    "expert counts 1, 2 and 4 of 4 instead of 1, 10 and 50 of 50; 6 epochs instead of 50, trained on " +
    "5,000 of the 50,000 training images, ZCA fitted on them",
    "IPC 1 instead of 10, so that six distillations fit in an hour; lr_img and lr_lr of the CIFAR-10 " +
    "table's IPC 1 cells",
    "ConvNet width 64 instead of 128 (experts, distillation and evaluation)",
    "distillation: 200 iterations instead of 5000; N = 10 student steps, M = 2, T⁺ = 3 for both methods " +
    "(the experts have 6 epochs)",
    "evaluation: 3 networks × 300 epochs instead of 5 × 1000, tested on 2,000 of the 10,000 test images",
    MCT_HALF_LR_NOTE,
    finalIterationNote(200),
    expertGateNote(c10.quick.minExpertAccuracy),
  ],
  experts: 4,
  distill: { ...c10.quick.distill, iterations: 200 },
  cells: byExpertCount(c10.quick.cells.filter((c) => c.ipc === 1), [1, 2, 4]),
  random: [],
};

const smoke: ScaleSpec = {
  ...c10.smoke,
  summary:
    "A pipeline check, not a measurement: 2 CIFAR-10 experts × 3 epochs, width 8, 10 training images per " +
    "class; MTT and MCT at IPC 1 from the first 1 and 2 experts, 3 iterations; 2 evaluation networks × 4 epochs.",
  deviations: [SMOKE_NOTE],
  experts: 2,
  cells: byExpertCount(smokeCells(), [1, 2]),
  random: [],
};

/** The expert-count ablation. */
export const table: TableSpec = {
  name: "experts",
  title: "CIFAR-10, ConvNet: accuracy by number of experts, MTT vs MCT",
  dataset: "cifar10",
  kind: "accuracy",
  scales: { paper, quick, smoke },
};
