/**
 * Settings of one distillation run and the method presets.
 *
 * MTT and MCT differ in three named choices, each independent of the others:
 * which trajectory the student is matched to, how the start point is drawn,
 * and how the gradient is formed. The presets fix them as the papers do; any
 * of the four trajectory × gradient pairings can be requested explicitly.
 *
 * @module
 */
import { InputError } from "../util/errors.ts";

/** The two methods. */
export type Method = "mtt" | "mct";
/** Stored SGD snapshots, or MCT's convexified form. */
export type TrajectoryKind = "sgd" | "convexified";
/** Integer epochs in [0, T⁺) (MTT) or real numbers in [0, T⁺) (MCT). */
export type StartSampling = "integer" | "continuous";
/** Backpropagation through the unroll (MTT) or MCT's per-step form. */
export type GradientKind = "unrolled" | "per-step";

/** Everything that determines a distillation run's numbers. */
export interface DistillConfig {
  method: Method;
  trajectory: TrajectoryKind;
  startSampling: StartSampling;
  gradient: GradientKind;
  /** Images per class. */
  ipc: number;
  /** N: student steps per iteration. */
  synSteps: number;
  /** M: epochs between start and target. */
  expertEpochs: number;
  /** T⁺: upper bound of the start epoch. */
  maxStartEpoch: number;
  /** Minibatch of the student steps; 0 = the whole synthetic set. */
  batchSyn: number;
  /** Learning rate of the images (SGD, momentum 0.5). */
  lrImg: number;
  /** Learning rate of α (SGD, momentum 0.5). */
  lrLr: number;
  /** Initial α (the reference uses the expert learning rate). */
  alphaInit: number;
  /** Distillation iterations. */
  iterations: number;
  /** Initial images: real images of each class, or Gaussian noise. */
  init: "real" | "noise";
  /** Differentiable augmentation on every student step. */
  dsa: boolean;
  /** Root seed of the run. */
  seed: number;
  /** Use at most this many experts; 0 = all in the store. */
  maxExperts: number;
}

/** Defaults shared by both methods (the reference's argument defaults). */
export const DISTILL_DEFAULTS: Omit<
  DistillConfig,
  "method" | "trajectory" | "startSampling" | "gradient"
> = {
  ipc: 1,
  synSteps: 20,
  expertEpochs: 2,
  maxStartEpoch: 20,
  batchSyn: 0,
  lrImg: 1000,
  lrLr: 1e-5,
  alphaInit: 0.01,
  iterations: 5000,
  init: "real",
  dsa: true,
  seed: 0,
  maxExperts: 0,
};

/** The three choices each method makes. */
export const METHOD_CHOICES: Record<
  Method,
  Pick<DistillConfig, "trajectory" | "startSampling" | "gradient">
> = {
  mtt: { trajectory: "sgd", startSampling: "integer", gradient: "unrolled" },
  mct: {
    trajectory: "convexified",
    startSampling: "continuous",
    gradient: "per-step",
  },
};

/** A full config from a method and overrides. */
export function distillConfig(
  method: Method,
  overrides: Partial<DistillConfig> = {},
): DistillConfig {
  const cfg = {
    ...DISTILL_DEFAULTS,
    ...METHOD_CHOICES[method],
    method,
    ...overrides,
  };
  validateDistillConfig(cfg);
  return cfg;
}

/** Check ranges; errors name the field. */
export function validateDistillConfig(
  cfg: DistillConfig,
  where = "config",
): void {
  const positiveInt = ["ipc", "synSteps", "iterations"] as const;
  for (const k of positiveInt) {
    if (!Number.isInteger(cfg[k]) || cfg[k] <= 0) {
      throw new InputError(
        `${where}.${k}`,
        `must be a positive integer, got ${cfg[k]}`,
      );
    }
  }
  for (
    const k of ["expertEpochs", "maxStartEpoch", "lrImg", "alphaInit"] as const
  ) {
    if (!(cfg[k] > 0) || !Number.isFinite(cfg[k])) {
      throw new InputError(
        `${where}.${k}`,
        `must be a positive number, got ${cfg[k]}`,
      );
    }
  }
  if (!(cfg.lrLr >= 0)) {
    throw new InputError(`${where}.lrLr`, `must be ≥ 0, got ${cfg.lrLr}`);
  }
  if (!Number.isInteger(cfg.batchSyn) || cfg.batchSyn < 0) {
    throw new InputError(
      `${where}.batchSyn`,
      `must be 0 (whole set) or a positive integer, got ${cfg.batchSyn}`,
    );
  }
  if (!Number.isInteger(cfg.maxExperts) || cfg.maxExperts < 0) {
    throw new InputError(
      `${where}.maxExperts`,
      `must be 0 (all) or a positive integer, got ${cfg.maxExperts}`,
    );
  }
  if (cfg.trajectory === "sgd" && cfg.startSampling === "continuous") {
    throw new InputError(
      `${where}.startSampling`,
      "continuous start points need the convexified trajectory; SGD snapshots exist only at whole epochs",
    );
  }
  if (cfg.trajectory === "sgd" && !Number.isInteger(cfg.expertEpochs)) {
    throw new InputError(
      `${where}.expertEpochs`,
      "must be a whole number of epochs with SGD trajectories",
    );
  }
  if (!["real", "noise"].includes(cfg.init)) {
    throw new InputError(
      `${where}.init`,
      `must be "real" or "noise", got ${cfg.init}`,
    );
  }
}
