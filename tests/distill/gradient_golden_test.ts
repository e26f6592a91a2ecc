import { strict as assert } from "node:assert";
import { initBackend } from "../../src/backend/mod.ts";
import {
  type Tensor1D,
  type Tensor2D,
  type Tensor4D,
  tf,
} from "../../src/backend/tf.ts";
import { convNetSpec, paramLayout } from "../../src/model/layout.ts";
import {
  fromReferenceFlat,
  toReferenceFlat,
} from "../../src/model/reference_layout.ts";
import { lossAndGrad } from "../../src/model/convnet.ts";
import {
  perStepGradient,
  type StudentProblem,
  unrolledGradient,
} from "../../src/distill/gradient.ts";
import { assertClose, loadGolden, nchwToNhwc } from "../_golden.ts";

await initBackend({ log: false });

const mtt = loadGolden("mtt_unrolled.json");
const mct = loadGolden("mct_step_gradient.json");
const layout = paramLayout(
  convNetSpec({ inChannels: 3, height: 32, width: 32, numClasses: 10 }, {
    netWidth: 4,
    netDepth: 3,
  }),
);
const flat = (t: { data: number[] }) =>
  tf.tensor1d(
    Float32Array.from(fromReferenceFlat(layout, Float64Array.from(t.data))),
  ) as Tensor1D;
const images = tf.tensor4d(
  nchwToNhwc(mtt.image_syn.data, mtt.image_syn.shape),
  [10, 32, 32, 3],
) as Tensor4D;
const labels = tf.oneHot(tf.tensor1d(mtt.label_syn.data, "int32"), 10)
  .toFloat() as Tensor2D;
const identity = Int32Array.from({ length: 10 }, (_, i) => i);
const problem: StudentProblem = {
  layout,
  thetaStart: flat(mtt.theta_start),
  thetaTarget: flat(mtt.theta_target),
  batches: [identity, identity, identity],
};
const nhwc = (t: { data: number[]; shape: number[] }) =>
  nchwToNhwc(t.data, t.shape);

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

for (const memory of ["recompute", "tape"] as const) {
  Deno.test(`unrolled (MTT) gradient, ${memory}: matches mtt_unrolled.json`, () => {
    const r = unrolledGradient(problem, images, labels, 0.01, { memory });
    // The loss is a ratio of two small differences of nearby parameter vectors,
    // so float32 cancellation sets the tolerance here.
    assert.ok(relErr(r.loss, mtt.loss) < 1e-3, `loss ${r.loss} vs ${mtt.loss}`);
    r.stepLosses.forEach((l, i) =>
      assert.ok(relErr(l, mtt.ce_loss_per_step[i]) < 1e-5, `CE at step ${i}`)
    );
    assertClose(
      r.gradImages.dataSync(),
      nhwc(mtt.grad_image_syn),
      1e-5,
      "∂L/∂images",
    );
    assert.ok(
      relErr(r.gradAlpha, mtt.grad_syn_lr) < 2e-3,
      `∂L/∂α ${r.gradAlpha} vs ${mtt.grad_syn_lr}`,
    );
  });
}

Deno.test("unrolled student passes through the recorded intermediate parameters", () => {
  let w = problem.thetaStart;
  for (let i = 0; i < 3; i++) {
    const { grad } = lossAndGrad(layout, w, images, labels);
    assertClose(
      toReferenceFlat(layout, grad.dataSync() as Float32Array),
      mtt.student_grads_per_step[i].data,
      1e-5,
      `g_${i}`,
    );
    w = tf.sub(w, tf.mul(0.01, grad)) as Tensor1D;
    assertClose(
      toReferenceFlat(layout, w.dataSync() as Float32Array),
      mtt.student_params_after_step[i].data,
      1e-6,
      `w_${i + 1}`,
    );
  }
});

Deno.test("per-step (MCT) gradient matches mct_step_gradient.json: analytic and reference-halved", () => {
  const analytic = perStepGradient(problem, images, labels, 0.01);
  assert.ok(
    relErr(analytic.loss, mct.loss) < 1e-3,
    `loss ${analytic.loss} vs ${mct.loss}`,
  );
  assertClose(
    analytic.gradImages.dataSync(),
    nhwc(mct.grad_image_syn_analytic),
    1e-5,
    "analytic ∂L/∂images",
  );
  assert.ok(
    relErr(analytic.gradAlpha, mct.grad_syn_lr_reference) < 2e-3,
    `∂L/∂α ${analytic.gradAlpha} vs ${mct.grad_syn_lr_reference}`,
  );

  const halved = perStepGradient(problem, images, labels, 0.01, {
    imageGradScale: 0.5,
  });
  assertClose(
    halved.gradImages.dataSync(),
    nhwc(mct.grad_image_syn_reference),
    1e-5,
    "reference ∂L/∂images",
  );
  assert.ok(
    relErr(halved.gradAlpha, mct.grad_syn_lr_reference) < 2e-3,
    "α gradient keeps its factor 2",
  );
});

Deno.test("per-step gradient is a truncation: close to but not equal to the unrolled one", () => {
  const a = unrolledGradient(problem, images, labels, 0.01).gradImages
    .dataSync();
  const b = perStepGradient(problem, images, labels, 0.01).gradImages
    .dataSync();
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  const cos = dot / Math.sqrt(na * nb);
  // The golden README records cosine 0.9997 and a 2.8% norm difference.
  assert.ok(cos > 0.999 && cos < 0.99999, `cosine ${cos}`);
  assert.ok(
    Math.abs(Math.sqrt(nb / na) - 1) > 0.01,
    "norms should differ by a few percent",
  );
});
