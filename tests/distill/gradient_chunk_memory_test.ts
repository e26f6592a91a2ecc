/**
 * Chunking bounds the memory of one gradient evaluation: the peak tensor
 * bytes with chunks of 8 images are well below those of one pass over a
 * 32-image minibatch, for both gradients.
 *
 * The peak is the engine's own byte counter observed on every change
 * (bench/measure.ts `TensorPeak`), so no short-lived maximum inside a
 * reverse pass is missed; `tf.profile` would also time every kernel.
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
import { initParams } from "../../src/model/convnet.ts";
import {
  type DistillGradient,
  perStepGradient,
  recomputedUnrolledGradient,
  type StudentProblem,
} from "../../src/distill/gradient.ts";
import { replayableDsa } from "../../src/distill/step_augment.ts";
import { Rng } from "../../src/util/rng.ts";
import { withTensorPeak } from "../../bench/measure.ts";

await initBackend({ log: false });

const rng = new Rng(3);
const count = 32;
const layout = paramLayout(
  convNetSpec({ inChannels: 3, height: 16, width: 16, numClasses: 4 }, {
    netWidth: 8,
    netDepth: 2,
  }),
);
const thetaStart = tf.tensor1d(initParams(layout, rng)) as Tensor1D;
const thetaTarget = tf.add(thetaStart, 0.01) as Tensor1D;
const images = tf.tensor4d(rng.normalArray(count * 16 * 16 * 3), [
  count,
  16,
  16,
  3,
]) as Tensor4D;
const labels = tf.oneHot(
  tf.tensor1d(Int32Array.from({ length: count }, (_, i) => i % 4), "int32"),
  4,
).toFloat() as Tensor2D;

function problem(): StudentProblem {
  return {
    layout,
    thetaStart,
    thetaTarget,
    // Whole-set minibatches in shuffled order, as with batchSyn 0.
    batches: [rng.permutation(count), rng.permutation(count)],
    augment: replayableDsa(new Rng(8)),
  };
}

function peakOf(f: () => DistillGradient): number {
  const { value, peak } = withTensorPeak(f);
  value.gradImages.dispose();
  return peak;
}

const gradients = {
  "unrolled (MTT)": (chunk: number) =>
    recomputedUnrolledGradient(problem(), images, labels, 0.01, { chunk }),
  "per-step (MCT)": (chunk: number) =>
    perStepGradient(problem(), images, labels, 0.01, { chunk }),
};

for (const [name, gradient] of Object.entries(gradients)) {
  Deno.test(`${name}: chunks of 8 of a 32-image minibatch hold well under half the peak tensor memory`, () => {
    const whole = peakOf(() => gradient(count));
    const chunked = peakOf(() => gradient(8));
    // One step's graph is ~0.7 MB per image here; the rest is a few
    // minibatch-sized tensors and parameter vectors.
    assert.ok(whole > 10e6, `unchunked peak ${whole} B`);
    assert.ok(
      chunked < 0.4 * whole,
      `peak ${chunked} B with chunks of 8 against ${whole} B unchunked`,
    );
  });
}
