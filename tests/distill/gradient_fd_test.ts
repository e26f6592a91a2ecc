/**
 * Finite-difference checks of both distillation gradients on a tiny net, with
 * minibatches (so the gather and its scatter gradient are exercised) and a
 * differentiable stand-in augmentation.
 */
import { strict as assert } from "node:assert";
import { initBackend } from "../../src/backend/mod.ts";
import {
  type Tensor1D,
  type Tensor2D,
  type Tensor4D,
  tf,
} from "../../src/backend/tf.ts";
import { convNetSpec, paramLayout } from "../../src/model/layout.ts";
import { initParams, lossAndGrad } from "../../src/model/convnet.ts";
import {
  type DistillGradient,
  perStepGradient,
  type StudentProblem,
  unrolledGradient,
} from "../../src/distill/gradient.ts";
import { Rng } from "../../src/util/rng.ts";

await initBackend({ log: false });

const rng = new Rng(16);
const layout = paramLayout(
  convNetSpec({ inChannels: 3, height: 8, width: 8, numClasses: 3 }, {
    netWidth: 3,
    netDepth: 2,
  }),
);
// Norm biases of ±3 keep every ReLU far from its kink (see tests/model/ops_test.ts).
const start = initParams(layout, rng);
for (const t of layout.tensors) {
  for (let k = 0; k < t.size; k++) {
    if (t.role === "norm_weight") start[t.offset + k] = 0.5;
    if (t.role === "norm_bias") start[t.offset + k] = k % 2 === 0 ? 3 : -3;
  }
}
const thetaStart = tf.tensor1d(start) as Tensor1D;
const thetaTarget = tf.add(
  thetaStart,
  tf.mul(0.05, tf.tensor1d(rng.normalArray(layout.size))),
) as Tensor1D;
const images = tf.tensor4d(rng.normalArray(6 * 8 * 8 * 3), [
  6,
  8,
  8,
  3,
]) as Tensor4D;
const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], "int32"), 3)
  .toFloat() as Tensor2D;
const problem: StudentProblem = {
  layout,
  thetaStart,
  thetaTarget,
  batches: [
    Int32Array.of(4, 0, 2),
    Int32Array.of(1, 5, 3),
    Int32Array.of(2, 3, 0),
  ],
  // A smooth, step-dependent, differentiable map standing in for DSA.
  augment: (x, step) => tf.add(tf.mul(x, 1 + 0.1 * step), 0.05 * step),
};
const alpha = 0.2;

function mttLoss(x: Tensor4D, a: number): number {
  return tf.tidy(() => {
    let w = thetaStart;
    problem.batches.forEach((batch, step) => {
      const idx = tf.tensor1d(batch, "int32");
      const xb = problem.augment!(tf.gather(x, idx), step);
      w = tf.sub(
        w,
        tf.mul(
          a,
          lossAndGrad(layout, w, xb, tf.gather(labels, idx) as Tensor2D).grad,
        ),
      );
    });
    return tf.div(
      tf.sum(tf.square(tf.sub(w, thetaTarget))),
      tf.sum(tf.square(tf.sub(thetaStart, thetaTarget))),
    ).dataSync()[0]!;
  });
}

function directional(f: (s: number) => number, eps: number): number {
  return (8 * (f(eps) - f(-eps)) - (f(2 * eps) - f(-2 * eps))) / (12 * eps);
}

function check(label: string, ad: number, fd: number, tol: number) {
  const rel = Math.abs(ad - fd) / Math.max(Math.abs(fd), 1e-6);
  assert.ok(
    rel < tol,
    `${label}: gradient ${ad} vs finite difference ${fd} (rel ${
      rel.toExponential(2)
    })`,
  );
}

/**
 * A difference direction along the gradient itself, scaled to unit RMS per
 * pixel. Along a random direction the derivative is so small that float32
 * noise in the loss swamps it; along ĝ it is |g|·√n, and it can only match
 * when g is right (⟨∇L, ĝ⟩ = |g| forces g = ∇L up to a component that is
 * orthogonal to ∇L and changes |g|).
 */
function gradientDirection(g: DistillGradient): { u: Tensor4D; ad: number } {
  const norm = tf.norm(g.gradImages).dataSync()[0]!;
  const scale = Math.sqrt(g.gradImages.size) / norm;
  return {
    u: tf.mul(g.gradImages, scale) as Tensor4D,
    ad: norm * Math.sqrt(g.gradImages.size),
  };
}

Deno.test("unrolled gradient: finite differences in the images and in α", () => {
  const g = unrolledGradient(problem, images, labels, alpha);
  assert.ok(Math.abs(g.loss - mttLoss(images, alpha)) < 1e-5 * g.loss);
  const { u, ad } = gradientDirection(g);
  check(
    "images",
    ad,
    directional(
      (s) => mttLoss(tf.add(images, tf.mul(u, s)) as Tensor4D, alpha),
      1e-2,
    ),
    2e-3,
  );
  check(
    "α",
    g.gradAlpha,
    directional((s) => mttLoss(images, alpha + s), 1e-3),
    5e-3,
  );
});

Deno.test("per-step gradient: finite differences of the truncated loss with the student path frozen", () => {
  // With the weights wᵢ frozen, L(X) = ‖D + α Σ gᵢ(wᵢ, Xᵢ)‖²/P exactly.
  const ws: Tensor1D[] = [];
  let w = thetaStart;
  for (const [step, batch] of problem.batches.entries()) {
    ws.push(w);
    const idx = tf.tensor1d(batch, "int32");
    const xb = problem.augment!(tf.gather(images, idx), step);
    w = tf.sub(
      w,
      tf.mul(
        alpha,
        lossAndGrad(layout, w, xb, tf.gather(labels, idx) as Tensor2D).grad,
      ),
    ) as Tensor1D;
  }
  const truncated = (x: Tensor4D, a: number) =>
    tf.tidy(() => {
      let sum = tf.zerosLike(thetaStart);
      problem.batches.forEach((batch, step) => {
        const idx = tf.tensor1d(batch, "int32");
        const xb = problem.augment!(tf.gather(x, idx), step);
        sum = tf.add(
          sum,
          lossAndGrad(layout, ws[step]!, xb, tf.gather(labels, idx) as Tensor2D)
            .grad,
        );
      });
      const d = tf.sub(thetaTarget, thetaStart);
      return tf.div(
        tf.sum(tf.square(tf.add(d, tf.mul(a, sum)))),
        tf.sum(tf.square(d)),
      ).dataSync()[0]!;
    });
  const g = perStepGradient(problem, images, labels, alpha);
  assert.ok(Math.abs(g.loss - truncated(images, alpha)) < 1e-5 * g.loss);
  const { u, ad } = gradientDirection(g);
  check(
    "images",
    ad,
    directional(
      (s) => truncated(tf.add(images, tf.mul(u, s)) as Tensor4D, alpha),
      1e-2,
    ),
    2e-3,
  );
  // The α gradient holds G fixed: dL/dα = 2Gᵀ(D + αG)/P.
  check(
    "α (G fixed)",
    g.gradAlpha,
    directional((s) => truncated(images, alpha + s), 1e-3),
    5e-3,
  );
});

Deno.test("recomputed and taped unrolled gradients agree with minibatches and augmentation", () => {
  const a = unrolledGradient(problem, images, labels, alpha, {
    memory: "recompute",
  });
  const b = unrolledGradient(problem, images, labels, alpha, {
    memory: "tape",
  });
  assert.ok(Math.abs(a.loss - b.loss) <= 1e-6 * b.loss);
  assert.ok(
    Math.abs(a.gradAlpha - b.gradAlpha) <= 1e-4 * Math.abs(b.gradAlpha),
    `${a.gradAlpha} vs ${b.gradAlpha}`,
  );
  const ga = a.gradImages.dataSync();
  const gb = b.gradImages.dataSync();
  let num = 0, den = 0;
  for (let i = 0; i < gb.length; i++) {
    num += (ga[i]! - gb[i]!) ** 2;
    den += gb[i]! ** 2;
  }
  assert.ok(
    Math.sqrt(num / den) < 1e-5,
    `relative difference ${Math.sqrt(num / den)}`,
  );
});
