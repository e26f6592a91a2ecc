/**
 * Chunking a step's minibatch into several taped passes changes neither
 * distillation gradient beyond float32 round-off: minibatches (gather and
 * scatter), replayed DSA, and chunk sizes that do and do not divide the
 * minibatch.
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
  defaultChunk,
  type DistillGradient,
  perStepGradient,
  recomputedUnrolledGradient,
  type StudentProblem,
  unrolledGradient,
} from "../../src/distill/gradient.ts";
import { replayableDsa } from "../../src/distill/step_augment.ts";
import { drawsFromRng, type DrawSource, dsa } from "../../src/augment/dsa.ts";
import { Rng } from "../../src/util/rng.ts";
import { assertClose } from "../_golden.ts";

await initBackend({ log: false });

const rng = new Rng(23);
const layout = paramLayout(
  convNetSpec({ inChannels: 3, height: 16, width: 16, numClasses: 5 }, {
    netWidth: 4,
    netDepth: 2,
  }),
);
const count = 12;
const batchSize = 10;
const thetaStart = tf.tensor1d(initParams(layout, rng)) as Tensor1D;
const thetaTarget = tf.add(
  thetaStart,
  tf.mul(0.05, tf.tensor1d(rng.normalArray(layout.size))),
) as Tensor1D;
const images = tf.tensor4d(rng.normalArray(count * 16 * 16 * 3), [
  count,
  16,
  16,
  3,
]) as Tensor4D;
const labels = tf.oneHot(
  tf.tensor1d(Int32Array.from({ length: count }, (_, i) => i % 5), "int32"),
  5,
).toFloat() as Tensor2D;
// Overlapping minibatches in shuffled order, so the scatter adds rows twice.
const batches = Array.from(
  { length: 6 },
  () => rng.permutation(count).slice(0, batchSize),
);
const alpha = 0.05;
// Draws all six DSA groups over the six steps (checked below).
const DSA_SEED = 10;

/** A fresh problem whose DSA draws are those of every other fresh one. */
function problem(): StudentProblem {
  return {
    layout,
    thetaStart,
    thetaTarget,
    batches,
    augment: replayableDsa(new Rng(DSA_SEED)),
  };
}

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

function assertSame(a: DistillGradient, b: DistillGradient, what: string) {
  assert.ok(
    relErr(a.loss, b.loss) < 1e-5,
    `${what}: loss ${a.loss} vs ${b.loss}`,
  );
  assert.ok(
    relErr(a.gradAlpha, b.gradAlpha) < 1e-5,
    `${what}: ∂L/∂α ${a.gradAlpha} vs ${b.gradAlpha}`,
  );
  a.stepLosses.forEach((l, i) =>
    assert.ok(relErr(l, b.stepLosses[i]!) < 1e-5, `${what}: CE at step ${i}`)
  );
  assertClose(
    a.gradImages.dataSync(),
    b.gradImages.dataSync(),
    1e-5,
    `${what}: ∂L/∂images`,
  );
}

/** Runs `f` and checks that it leaves no tensor behind but its image gradient. */
function leakFree(f: () => DistillGradient): DistillGradient {
  const before = tf.memory().numTensors;
  const g = f();
  assert.equal(tf.memory().numTensors, before + 1, "tensors leaked");
  return g;
}

const CHUNKS = [1, 3, 7, batchSize];

Deno.test("the test problem is one chunk by default and its DSA draws use every group", () => {
  assert.ok(defaultChunk(layout) >= batchSize);
  // The same calls replayableDsa makes, one dsa call per step in step order,
  // noting the group index each one draws first.
  const source = drawsFromRng(new Rng(DSA_SEED));
  const groups = new Set<number>();
  for (const batch of batches) {
    let first = true;
    const spy: DrawSource = {
      rand: (n) => source.rand(n),
      randint(low, high, n) {
        const v = source.randint(low, high, n);
        if (first) groups.add(v[0]!);
        first = false;
        return v;
      },
    };
    tf.tidy(() => {
      dsa(tf.zeros([batch.length, 16, 16, 3]) as Tensor4D, spy);
    });
  }
  assert.equal(groups.size, 6, `groups ${[...groups]}`);
});

Deno.test("unrolled (MTT) gradient: chunked equals unchunked, minibatches and replayed DSA", () => {
  const whole = recomputedUnrolledGradient(problem(), images, labels, alpha);
  for (const chunk of CHUNKS) {
    const g = leakFree(() =>
      recomputedUnrolledGradient(problem(), images, labels, alpha, { chunk })
    );
    assertSame(g, whole, `chunk ${chunk}`);
    g.gradImages.dispose();
  }
  // Through the public entry point, against the plain one-tape statement.
  const taped = unrolledGradient(problem(), images, labels, alpha, {
    memory: "tape",
  });
  const chunked = unrolledGradient(problem(), images, labels, alpha, {
    chunk: 3,
  });
  assertClose(
    chunked.gradImages.dataSync(),
    taped.gradImages.dataSync(),
    1e-5,
    "chunk 3 against the taped gradient",
  );
  assert.ok(relErr(chunked.gradAlpha, taped.gradAlpha) < 1e-4);
});

Deno.test("per-step (MCT) gradient: chunked equals unchunked, minibatches and replayed DSA", () => {
  for (const imageGradScale of [1, 0.5]) {
    const whole = perStepGradient(problem(), images, labels, alpha, {
      imageGradScale,
    });
    for (const chunk of CHUNKS) {
      const g = leakFree(() =>
        perStepGradient(problem(), images, labels, alpha, {
          chunk,
          imageGradScale,
        })
      );
      assertSame(g, whole, `scale ${imageGradScale}, chunk ${chunk}`);
      g.gradImages.dispose();
    }
    whole.gradImages.dispose();
  }
});

Deno.test("whole-set batches without augmentation take the no-gather path, chunked", () => {
  const identity = Int32Array.from({ length: count }, (_, i) => i);
  const p: StudentProblem = {
    layout,
    thetaStart,
    thetaTarget,
    batches: [identity, identity],
  };
  const mtt = recomputedUnrolledGradient(p, images, labels, alpha);
  const mct = perStepGradient(p, images, labels, alpha);
  for (const chunk of [5, count]) {
    assertSame(
      recomputedUnrolledGradient(p, images, labels, alpha, { chunk }),
      mtt,
      `MTT, chunk ${chunk}`,
    );
    assertSame(
      perStepGradient(p, images, labels, alpha, { chunk }),
      mct,
      `MCT, chunk ${chunk}`,
    );
  }
});

Deno.test("chunk must be a positive integer", () => {
  for (const chunk of [0, -2, 2.5, Number.NaN]) {
    assert.throws(
      () => perStepGradient(problem(), images, labels, alpha, { chunk }),
      RangeError,
    );
    assert.throws(
      () =>
        recomputedUnrolledGradient(problem(), images, labels, alpha, {
          chunk,
        }),
      RangeError,
    );
  }
});

Deno.test("per-step (MCT) gradient with DSA, chunked, equals autodiff of the truncated loss on one tape", () => {
  // With the student path w_i frozen, L(X) = ‖D + α Σ g(w_i, aug(X_i))‖²/P;
  // the rows are selected by a one-hot matrix product, so the tape needs no
  // gather gradient.
  const p = problem();
  const select = batches.map((b) =>
    tf.oneHot(tf.tensor1d(b, "int32"), count).toFloat() as Tensor2D
  );
  const stepInput = (x: Tensor4D, step: number) => {
    const flat = tf.reshape(x, [count, -1]) as Tensor2D;
    const rows = tf.reshape(
      tf.matMul(select[step]!, flat),
      [batchSize, 16, 16, 3],
    ) as Tensor4D;
    return {
      x: p.augment!(rows, step),
      y: tf.matMul(select[step]!, labels) as Tensor2D,
    };
  };
  const ws: Tensor1D[] = [];
  let w = thetaStart;
  batches.forEach((_, step) => {
    ws.push(w);
    const b = stepInput(images, step);
    w = tf.sub(w, tf.mul(alpha, lossAndGrad(layout, w, b.x, b.y).grad));
  });
  const expected = tf.grad((x) => {
    let sum = tf.zerosLike(thetaStart);
    batches.forEach((_, step) => {
      const b = stepInput(x as Tensor4D, step);
      sum = tf.add(sum, lossAndGrad(layout, ws[step]!, b.x, b.y).grad);
    });
    const d = tf.sub(thetaTarget, thetaStart);
    return tf.div(
      tf.sum(tf.square(tf.add(d, tf.mul(alpha, sum)))),
      tf.sum(tf.square(d)),
    );
  })(images);
  // The same augmentation object: its draws were recorded above.
  const g = perStepGradient(p, images, labels, alpha, { chunk: 3 });
  assertClose(
    g.gradImages.dataSync(),
    expected.dataSync(),
    1e-5,
    "chunk 3 against one-tape autodiff",
  );
});
