import { strict as assert } from "node:assert";
import { initBackend } from "../../src/backend/mod.ts";
import { type Tensor1D, tf } from "../../src/backend/tf.ts";
import { convNetSpec, paramLayout } from "../../src/model/layout.ts";
import { initParams, lossAndGrad } from "../../src/model/convnet.ts";
import {
  accuracy,
  batchTensors,
  type LabelledImages,
  trainSgd,
} from "../../src/train/sgd.ts";
import { Rng } from "../../src/util/rng.ts";

await initBackend({ log: false });

const layout = paramLayout(
  convNetSpec({ inChannels: 1, height: 8, width: 8, numClasses: 2 }, {
    netWidth: 4,
    netDepth: 2,
  }),
);

/** Two classes told apart by the sign of the image's left half. */
function toyData(count: number, rng: Rng): LabelledImages {
  const images = new Float32Array(count * 64);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 2;
    for (let p = 0; p < 64; p++) {
      const left = p % 8 < 4;
      images[i * 64 + p] = 0.3 * rng.normal() +
        (left ? (labels[i] ? 1 : -1) : 0);
    }
  }
  return {
    images,
    labels,
    count,
    height: 8,
    width: 8,
    channels: 1,
    numClasses: 2,
  };
}

Deno.test("trainSgd follows torch.optim.SGD with momentum and weight decay step by step", async () => {
  const data = toyData(6, new Rng(1));
  const theta0 = initParams(layout, new Rng(2));
  const lr = 0.1, mu = 0.9, wd = 5e-4;
  // Two epochs of one full batch each: the order is then irrelevant.
  const got = await trainSgd(layout, theta0, data, {
    epochs: 2,
    lr,
    momentum: mu,
    weightDecay: wd,
    batchSize: 6,
    rng: new Rng(3),
  });

  const all = Int32Array.from({ length: 6 }, (_, i) => i);
  let theta = tf.tensor1d(theta0) as Tensor1D;
  let buf: Tensor1D | undefined;
  for (let step = 0; step < 2; step++) {
    const { x, y } = batchTensors(data, all);
    const g = tf.add(
      lossAndGrad(layout, theta, x, y).grad,
      tf.mul(theta, wd),
    ) as Tensor1D;
    buf = buf ? tf.add(tf.mul(buf, mu), g) as Tensor1D : g;
    theta = tf.sub(theta, tf.mul(buf, lr)) as Tensor1D;
  }
  const want = theta.dataSync();
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i]! - want[i]!) < 1e-5, `parameter ${i}`);
  }
});

Deno.test("chunked gradients equal the whole-batch gradient", async () => {
  const data = toyData(10, new Rng(4));
  const theta0 = initParams(layout, new Rng(5));
  const opts = { epochs: 1, lr: 0.05, batchSize: 10 };
  const whole = await trainSgd(layout, theta0, data, {
    ...opts,
    chunk: 10,
    rng: new Rng(6),
  });
  const chunked = await trainSgd(layout, theta0, data, {
    ...opts,
    chunk: 3,
    rng: new Rng(6),
  });
  for (let i = 0; i < whole.length; i++) {
    assert.ok(Math.abs(whole[i]! - chunked[i]!) < 1e-6, `parameter ${i}`);
  }
});

Deno.test("training learns a separable toy problem, snapshots every epoch, and is seed-deterministic", async () => {
  const rng = new Rng(7);
  const train = toyData(64, rng);
  const test = toyData(32, rng);
  const theta0 = initParams(layout, new Rng(8));
  const before = accuracy(layout, theta0, test);
  const snapshots: Float32Array[] = [];
  const run = (seed: number) =>
    trainSgd(layout, theta0, train, {
      epochs: 4,
      lr: 0.05,
      batchSize: 16,
      rng: new Rng(seed),
      onEpoch: (_e, theta) => {
        snapshots.push(theta);
      },
    });
  const a = await run(9);
  assert.equal(snapshots.length, 4);
  assert.notDeepEqual(
    snapshots[0],
    snapshots[1],
    "consecutive snapshots must differ",
  );
  const after = accuracy(layout, a, test);
  assert.ok(after >= 0.9 && after > before, `accuracy ${before} -> ${after}`);
  assert.deepEqual(await run(9), a, "same seed, same parameters");
});

Deno.test("running out of backend memory becomes a ResourceError that says what to change", async () => {
  const { explainBackendFailure, ResourceError } = await import(
    "../../src/util/errors.ts"
  );
  const e = explainBackendFailure(
    new Error("RuntimeError: memory access out of bounds"),
    "distillation iteration 3",
  );
  assert.ok(e instanceof ResourceError);
  assert.match(
    (e as Error).message,
    /distillation iteration 3 ran out of tensor memory.*4 GiB.*--batch-syn/,
  );
  const other = new Error("something else");
  assert.equal(explainBackendFailure(other, "x"), other);
});
