/**
 * Class-balanced sampling of image indices, for initialising synthetic sets
 * from real images and for building small training subsets.
 *
 * @module
 */
import { InputError } from "../util/errors.ts";
import type { Rng } from "../util/rng.ts";
import { subsetImageSet } from "./image_set.ts";
import type { ImageSet } from "./types.ts";

/**
 * Indices of each class's images, in ascending order.
 *
 * @returns one Int32Array per class
 * @throws RangeError when a label is outside [0, numClasses)
 * @example
 * ```ts
 * import { indicesByClass } from "./sampler.ts";
 * const byClass = indicesByClass(Int32Array.of(1, 0, 1), 2);
 * if (byClass[1]!.join() !== "0,2") throw new Error();
 * ```
 */
export function indicesByClass(
  labels: ArrayLike<number>,
  numClasses: number,
): Int32Array[] {
  const counts = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new RangeError(
        `label ${y} at index ${i} is outside [0, ${numClasses})`,
      );
    }
    counts[y]!++;
  }
  const out = Array.from(counts, (n) => new Int32Array(n));
  const fill = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    out[y]![fill[y]!++] = i;
  }
  return out;
}

/**
 * Draw `perClass` indices from every class without replacement.
 *
 * Within a class the indices come in draw order (like
 * `torch.randperm(n)[:k]` over the class's images); classes come in label
 * order, so the result is class-major: class 0's picks, then class 1's, …
 *
 * @returns Int32Array of length numClasses·perClass
 * @throws InputError when a class has fewer than `perClass` images
 * @example
 * ```ts
 * import { Rng } from "../util/rng.ts";
 * import { sampleBalanced } from "./sampler.ts";
 * const picks = sampleBalanced(Int32Array.of(0, 1, 0, 1), 2, 1, new Rng(0));
 * if (picks.length !== 2 || picks[0]! % 2 !== 0) throw new Error();
 * ```
 */
export function sampleBalanced(
  labels: ArrayLike<number>,
  numClasses: number,
  perClass: number,
  rng: Rng,
): Int32Array {
  if (!Number.isInteger(perClass) || perClass < 0) {
    throw new InputError(
      "perClass",
      `must be a non-negative integer, got ${perClass}`,
    );
  }
  const byClass = indicesByClass(labels, numClasses);
  const short = byClass
    .map((idx, c) => ({ c, n: idx.length }))
    .filter(({ n }) => n < perClass);
  if (short.length > 0) {
    const list = short.slice(0, 5).map(({ c, n }) => `class ${c} has ${n}`)
      .join(", ");
    throw new InputError(
      "perClass",
      `${perClass} images per class requested but ${list}` +
        `${short.length > 5 ? ` (and ${short.length - 5} more classes)` : ""}`,
    );
  }
  const out = new Int32Array(numClasses * perClass);
  for (let c = 0; c < numClasses; c++) {
    const pool = byClass[c]!;
    // Partial Fisher-Yates: only the first perClass slots are drawn.
    for (let k = 0; k < perClass; k++) {
      const j = k + rng.int(pool.length - k);
      const tmp = pool[k]!;
      pool[k] = pool[j]!;
      pool[j] = tmp;
      out[c * perClass + k] = pool[k]!;
    }
  }
  return out;
}

/**
 * A class-balanced subset of `set` with `perClass` images of every class
 * (class-major order), for quick runs on a fraction of the data.
 *
 * @throws InputError when a class has fewer than `perClass` images
 * @example
 * ```ts
 * import { Rng } from "../util/rng.ts";
 * import { buildImageSet } from "./image_set.ts";
 * import { balancedSubset } from "./sampler.ts";
 * const set = buildImageSet({
 *   name: "fashion-mnist", split: "train", height: 1, width: 1, channels: 1,
 *   classNames: ["a", "b"], labels: Int32Array.of(0, 1, 0, 1),
 *   pixels: Uint8Array.of(1, 2, 3, 4),
 * });
 * const small = balancedSubset(set, 1, new Rng(3));
 * if (small.count !== 2 || small.labels.join() !== "0,1") throw new Error();
 * ```
 */
export function balancedSubset(
  set: ImageSet,
  perClass: number,
  rng: Rng,
): ImageSet {
  return subsetImageSet(
    set,
    sampleBalanced(set.labels, set.numClasses, perClass, rng),
  );
}
