/**
 * The shape of a table's configuration module in `reproduce/`: plain values
 * per scale, with the source of every paper-scale value in words.
 *
 * @module
 */
import type { DatasetName } from "../data/types.ts";
import type { DistillConfig, Method } from "../distill/config.ts";
import type { EvalProtocol } from "../eval/protocol.ts";
import type { ExpertSettings } from "../experts/train_experts.ts";
import type { Scale } from "../report/types.ts";
import type { BetaMethod } from "../trajectories/convexify.ts";

/** One distilled cell of a table. */
export interface CellSpec {
  method: Method;
  ipc: number;
  /** Extra coordinate for ablations, e.g. `experts=10`; "" for none. */
  variant: string;
  /** ZCA whitening of the data (and so of the experts) for this cell. */
  zca: boolean;
  /** Overrides on top of the method preset and {@link ScaleSpec.distill}. */
  distill: Partial<DistillConfig>;
  /** Where this cell's values come from, or that they are the suite's choice. */
  source: string;
}

/** One random-real baseline row. */
export interface RandomSpec {
  ipc: number;
  zca: boolean;
}

/** Everything a table needs at one scale. */
export interface ScaleSpec {
  /** What runs at this scale, in plain words (goes into the report). */
  summary: string;
  /** Every way this scale departs from the paper's protocol. */
  deviations: string[];
  /** Class-balanced subsets (0 = all) and their seed. */
  data: { trainPerClass: number; testPerClass: number; subsetSeed: number };
  /** Expert training. */
  expert: ExpertSettings;
  /** Experts per store. */
  experts: number;
  /** MCT's num_interpolation for the convexified stores. */
  waypoints: number;
  /** β method of the convexified stores. */
  beta: BetaMethod;
  /** Settings shared by every cell (iterations, seeds, …). */
  distill: Partial<DistillConfig>;
  cells: CellSpec[];
  random: RandomSpec[];
  /**
   * The "whole training set" row: the evaluation protocol applied to every
   * (subset) training image, with the expert learning rate. Omitted where it
   * is not affordable.
   */
  full?: { runs: number; epochs: number };
  /** Evaluation protocol of the final sets. */
  eval: Partial<EvalProtocol> & { runs: number; epochs: number };
  /**
   * Overrides of {@link ScaleSpec.eval} by IPC, for reduced scales that cannot
   * give a large set as many epochs as a small one. Distilled cells and random
   * rows of an IPC all use `{ ...eval, ...evalByIpc[ipc] }`, so the rows
   * compared at one IPC always share a protocol.
   */
  evalByIpc?: Record<number, Partial<EvalProtocol>>;
  /**
   * Evaluate the images every this many distillation iterations too (for
   * convergence curves and "best over checkpoints"); 0 = only at the end.
   */
  evalEvery: number;
  /** Runs per intermediate evaluation. */
  evalEveryRuns: number;
  /** Seed of the evaluation networks. */
  evalSeed: number;
  /** Minimum expert test accuracy (fraction). */
  minExpertAccuracy: number;
  /** Accept data sets of non-standard size (fixture files in tests). */
  allowPartialData: boolean;
}

/** A table's configuration module. */
export interface TableSpec {
  name: string;
  title: string;
  dataset: DatasetName;
  /** "accuracy" tables distil and evaluate; "storage" measures stores. */
  kind: "accuracy" | "storage";
  scales: Record<Scale, ScaleSpec>;
}
