/**
 * Named scales for the expert stage. `reference` is buffer.py's setting on the
 * whole data set; `quick` and `smoke` shrink it so it runs on a 2-core CPU in
 * minutes, and every reduction is written into the outputs.
 *
 * @module
 */
import type { DataSettings } from "./prepare.ts";
import {
  EXPERT_DEFAULTS,
  type ExpertSettings,
} from "../experts/train_experts.ts";
import type { DatasetName } from "../data/types.ts";
import { InputError } from "../util/errors.ts";

/** Scale names. */
export const EXPERT_PRESETS = ["reference", "quick", "smoke"] as const;
/** One of {@link EXPERT_PRESETS}. */
export type ExpertPreset = typeof EXPERT_PRESETS[number];

/** Data, expert settings and expert count of a preset. */
export interface ExpertPlan {
  data: DataSettings;
  expert: ExpertSettings;
  experts: number;
  /** Each departure from the reference, in words. */
  reductions: string[];
}

/** The reference uses ZCA for CIFAR-10/100 buffers (`--zca`), not for Tiny or Fashion-MNIST. */
export function referenceZca(dataset: DatasetName): boolean {
  return dataset === "cifar10" || dataset === "cifar100";
}

/** The plan of a preset for a data set. */
export function expertPlan(
  dataset: DatasetName,
  preset: ExpertPreset,
): ExpertPlan {
  const zca = referenceZca(dataset);
  const base: ExpertPlan = {
    data: { dataset, zca, trainPerClass: 0, testPerClass: 0, subsetSeed: 0 },
    expert: { ...EXPERT_DEFAULTS, netDepth: dataset === "tiny" ? 4 : 3 },
    experts: 100,
    reductions: [],
  };
  switch (preset) {
    case "reference":
      return base;
    case "quick":
      return {
        data: { ...base.data, trainPerClass: 500, testPerClass: 200 },
        expert: { ...base.expert, epochs: 6, netWidth: 64 },
        experts: 3,
        reductions: [
          "experts train on a class-balanced subset of 500 images per class and are tested on 200 per class",
          "3 experts of 6 epochs instead of 100 of 50",
          "ConvNet width 64 instead of 128",
        ],
      };
    case "smoke":
      return {
        data: { ...base.data, trainPerClass: 12, testPerClass: 6, zca: false },
        expert: { ...base.expert, epochs: 3, netWidth: 8, batchSize: 32 },
        experts: 2,
        reductions: [
          "12 training and 6 test images per class",
          "2 experts of 3 epochs, batch 32",
          "ConvNet width 8",
          "no ZCA",
        ],
      };
    default:
      throw new InputError("--preset", `unknown preset "${preset}"`);
  }
}
