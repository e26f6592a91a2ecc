/**
 * Gather plans: the transposed plan is the exact adjoint, and the tensor path
 * agrees with the float64 array path on a realistic image size.
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { type Tensor4D, tf } from "../../src/backend/tf.ts";
import { initBackend } from "../../src/backend/mod.ts";
import { Rng } from "../../src/util/rng.ts";
import { rotateThetas, scaleThetas } from "../../src/augment/dsa.ts";
import {
  affineGatherPlan,
  applyGatherPlan,
  applyGatherPlanToArray,
  flipGatherPlan,
  type GatherPlan,
  translateGatherPlan,
  transposeGatherPlan,
} from "../../src/augment/sampler.ts";
import { assertClose } from "../_golden.ts";

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function randomPlans(
  rng: Rng,
  n: number,
  h: number,
  w: number,
): [string, GatherPlan][] {
  const u = () => Float64Array.from({ length: n }, () => rng.uniform());
  const ints = (lo: number, hi: number) =>
    Int32Array.from({ length: n }, () => lo + rng.int(hi - lo));
  return [
    ["scale", affineGatherPlan(scaleThetas(u(), u(), 1.2), n, h, w)],
    ["rotate", affineGatherPlan(rotateThetas(u(), 15), n, h, w)],
    ["crop", translateGatherPlan(n, h, w, ints(-3, 4), ints(-3, 4))],
    ["flip", flipGatherPlan(n, h, w, Array.from(u(), (v) => v < 0.5))],
  ];
}

Deno.test("transposed gather plans are exact adjoints", () => {
  const rng = new Rng(21);
  const [n, h, w, c] = [3, 9, 11, 2];
  for (const [name, plan] of randomPlans(rng, n, h, w)) {
    const x = Float64Array.from({ length: n * h * w * c }, () => rng.normal());
    const y = Float64Array.from({ length: n * h * w * c }, () => rng.normal());
    const lhs = dot(applyGatherPlanToArray(plan, x, c), y);
    const rhs = dot(x, applyGatherPlanToArray(transposeGatherPlan(plan), y, c));
    assert(
      Math.abs(lhs - rhs) <= 1e-12 * Math.max(1, Math.abs(lhs)),
      `${name}: <Px, y> = ${lhs} but <x, P'y> = ${rhs}`,
    );
  }
});

Deno.test("an identity affine plan copies the image", () => {
  const plan = affineGatherPlan([1, 0, 0, 0, 1, 0], 1, 5, 7);
  const x = Float64Array.from({ length: 35 }, (_, i) => i + 1);
  // Exact only up to rounding of the normalised grid, as in torch.
  const y = applyGatherPlanToArray(plan, x, 1);
  assertEquals(y.length, x.length);
  assert(y.every((v, i) => Math.abs(v - x[i]!) < 1e-12), `${y}`);
});

Deno.test({
  name: "tensor gather path matches the float64 path at 64×64",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    for (const backend of ["wasm", "cpu"]) {
      await initBackend({ backend, log: false });
      const rng = new Rng(22);
      const [n, h, w, c] = [4, 64, 64, 3];
      const x = rng.uniformArray(n * h * w * c);
      for (const [name, plan] of randomPlans(rng, n, h, w)) {
        const want = applyGatherPlanToArray(plan, x, c);
        const got = tf.tidy(() =>
          applyGatherPlan(tf.tensor4d(x, [n, h, w, c]), plan).dataSync()
        );
        assertClose(got, want, 1e-6, `${name} [${backend}]`);
        const dy = rng.uniformArray(n * h * w * c);
        const wantGrad = applyGatherPlanToArray(
          transposeGatherPlan(plan),
          dy,
          c,
        );
        const gotGrad = tf.tidy(() =>
          tf.grad((v: tf.Tensor) =>
            tf.sum(
              tf.mul(
                applyGatherPlan(v as Tensor4D, plan),
                tf.tensor4d(dy, [n, h, w, c]),
              ),
            )
          )(tf.tensor4d(x, [n, h, w, c])).dataSync()
        );
        assertClose(gotGrad, wantGrad, 1e-6, `${name} gradient [${backend}]`);
      }
    }
  },
});
