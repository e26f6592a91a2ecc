/**
 * The accuracy gate between the expert stage and distillation.
 *
 * @module
 */
import { InputError } from "../util/errors.ts";

/**
 * Lowest acceptable final test accuracy per data set: well above chance
 * (10%, 10%, 1%, 0.5%), low enough for the short "quick" presets.
 */
export const MIN_EXPERT_ACCURACY: Record<string, number> = {
  "fashion-mnist": 0.5,
  cifar10: 0.3,
  cifar100: 0.1,
  tiny: 0.05,
};

/**
 * Refuse experts below `minAccuracy`, naming each and why; returns the
 * indices that pass.
 */
export function checkExpertAccuracy(
  entries: { index: number; testAccuracy: number }[],
  minAccuracy: number,
  where: string,
): number[] {
  const bad = entries.filter((e) => !(e.testAccuracy >= minAccuracy));
  if (bad.length > 0) {
    throw new InputError(
      where,
      bad.map((e) =>
        `expert ${e.index} reached ${
          (100 * e.testAccuracy).toFixed(2)
        }% test accuracy, below the ` +
        `${(100 * minAccuracy).toFixed(1)}% threshold`
      ).join("; ") +
        ". Train longer or on more data, or lower the threshold with --min-expert-accuracy.",
    );
  }
  return entries.map((e) => e.index);
}
