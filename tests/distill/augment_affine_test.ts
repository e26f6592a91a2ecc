/**
 * Every DSA group is an affine map of the images for fixed draws, which the
 * chunked distillation gradients (src/distill/gradient.ts, `pullBack`) rely on
 * for pulling a whole minibatch's image gradient back through the
 * augmentation as one fixed linear map.
 */
import { strict as assert } from "node:assert";
import { initBackend } from "../../src/backend/mod.ts";
import { type Tensor, type Tensor4D, tf } from "../../src/backend/tf.ts";
import {
  drawsFromRng,
  DSA_GROUP_FNS,
  DSA_GROUPS,
  dsaBrightness,
  dsaContrast,
  type DsaGroupFn,
  dsaSaturation,
} from "../../src/augment/dsa.ts";
import { Rng } from "../../src/util/rng.ts";
import { assertClose } from "../_golden.ts";

await initBackend({ log: false });

const shape: [number, number, number, number] = [6, 16, 16, 3];
const rng = new Rng(41);
const x = tf.tensor4d(rng.normalArray(6 * 16 * 16 * 3), shape) as Tensor4D;
const y = tf.tensor4d(rng.normalArray(6 * 16 * 16 * 3), shape) as Tensor4D;
const zero = tf.zeros(shape) as Tensor4D;
const [a, b] = [0.7, -1.3];

/** The group with the same draws on every call: a fresh generator each time. */
function fixed(fn: DsaGroupFn, seed: number): (t: Tensor4D) => Tensor4D {
  return (t) => fn(t, drawsFromRng(new Rng(seed)));
}

// The groups of the strategy plus the three parts of "color" on their own.
const groups: [string, DsaGroupFn][] = [
  ...DSA_GROUPS.map((g): [string, DsaGroupFn] => [g, DSA_GROUP_FNS[g]]),
  ["brightness", dsaBrightness],
  ["saturation", dsaSaturation],
  ["contrast", dsaContrast],
];

for (const [name, fn] of groups) {
  for (const seed of [1, 2]) {
    Deno.test(`DSA ${name} (draws ${seed}) is affine in the images`, () => {
      tf.tidy(() => {
        const aug = fixed(fn, seed);
        // A(a·x + b·y) = a·A(x) + b·A(y) + (1 − a − b)·A(0), A(0) the constant.
        const lhs = aug(tf.add(tf.mul(x, a), tf.mul(y, b)) as Tensor4D);
        const rhs = tf.addN([
          tf.mul(aug(x), a),
          tf.mul(aug(y), b),
          tf.mul(aug(zero), 1 - a - b),
        ]);
        assertClose(lhs.dataSync(), rhs.dataSync(), 1e-6, `${name} affine`);
        // So its pullback Jᵀ·G is the same wherever it is taken.
        const g = tf.tensor4d(new Rng(seed + 9).normalArray(x.size), shape);
        const pull = (at: Tensor4D) =>
          tf.grad((t: Tensor) => tf.sum(tf.mul(aug(t as Tensor4D), g)))(at);
        assertClose(
          pull(x).dataSync(),
          pull(y).dataSync(),
          1e-6,
          `${name} pullback`,
        );
        // And the map is not trivially constant.
        assert.ok(tf.max(tf.abs(tf.sub(aug(x), aug(y)))).dataSync()[0]! > 0.1);
      });
    });
  }
}
