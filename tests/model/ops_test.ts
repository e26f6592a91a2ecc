/**
 * Central finite differences for every op in src/model/ops.ts, at first order
 * (the op's gradient) and second order (the gradient of that gradient), and for
 * the ConvNet's mixed product d(v·∂L/∂θ)/dx on a tiny network.
 */
import { strict as assert } from "node:assert";
import { initBackend } from "../../src/backend/mod.ts";
import {
  type Tensor,
  type Tensor1D,
  type Tensor2D,
  type Tensor4D,
  tf,
} from "../../src/backend/tf.ts";
import {
  avgPool2,
  avgPool2Back,
  conv,
  convBackFilter,
  convBackInput,
} from "../../src/model/ops.ts";
import { convNetSpec, paramLayout } from "../../src/model/layout.ts";
import { initParams, lossAndGrad } from "../../src/model/convnet.ts";
import { Rng } from "../../src/util/rng.ts";
import { checkGradients } from "../_fd.ts";

await initBackend({ log: false });

const rng = new Rng(7);
function rand(shape: number[], scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = rng.normalArray(n).map((v) => v * scale);
  return tf.tensor(data, shape);
}

for (const pad of [1, 3]) {
  const x = rand([2, 6, 6, 3]) as Tensor4D;
  const w = rand([3, 3, 3, 4]) as Tensor4D;
  const ho = 6 + 2 * pad - 2;
  const dy = rand([2, ho, ho, 4]) as Tensor4D;
  const rY = rand([2, ho, ho, 4]);
  const rX = rand([2, 6, 6, 3]);
  const rW = rand([3, 3, 3, 4]);

  Deno.test(`conv (pad ${pad}): gradient to input and filter`, () => {
    checkGradients(
      "conv",
      (a, b) => tf.sum(tf.mul(rY, conv(a as Tensor4D, b as Tensor4D, pad))),
      [x, w],
    );
  });
  Deno.test(`convBackInput (pad ${pad}): gradient to dy and filter`, () => {
    checkGradients(
      "convBackInput",
      (a, b) =>
        tf.sum(tf.mul(rX, convBackInput(a as Tensor4D, b as Tensor4D, pad))),
      [dy, w],
    );
  });
  Deno.test(`convBackFilter (pad ${pad}): gradient to input and dy`, () => {
    checkGradients(
      "convBackFilter",
      (a, b) =>
        tf.sum(tf.mul(rW, convBackFilter(a as Tensor4D, b as Tensor4D, pad))),
      [x, dy],
    );
  });
  Deno.test(`convBackInput/convBackFilter are the adjoints of conv (pad ${pad})`, () => {
    // ⟨dy, conv(x, w)⟩ = ⟨convBackInput(dy, w), x⟩ = ⟨convBackFilter(x, dy), w⟩
    const a = tf.sum(tf.mul(dy, conv(x, w, pad))).dataSync()[0]!;
    const b = tf.sum(tf.mul(convBackInput(dy, w, pad), x)).dataSync()[0]!;
    const c = tf.sum(tf.mul(convBackFilter(x, dy, pad), w)).dataSync()[0]!;
    assert.ok(
      Math.abs(a - b) < 1e-4 * Math.abs(a) &&
        Math.abs(a - c) < 1e-4 * Math.abs(a),
      `${a} ${b} ${c}`,
    );
  });
}

for (const size of [6, 7]) {
  Deno.test(`avgPool2 and avgPool2Back (${size}x${size}): gradients and adjointness`, () => {
    const x = rand([2, size, size, 3]) as Tensor4D;
    const half = Math.floor(size / 2);
    const dy = rand([2, half, half, 3]) as Tensor4D;
    const r1 = rand([2, half, half, 3]);
    const r2 = rand([2, size, size, 3]);
    checkGradients(
      "avgPool2",
      (a) => tf.sum(tf.mul(r1, tf.square(avgPool2(a as Tensor4D)))),
      [x],
    );
    checkGradients(
      "avgPool2Back",
      (a) =>
        tf.sum(tf.mul(r2, tf.square(avgPool2Back(a as Tensor4D, size, size)))),
      [dy],
    );
    const lhs = tf.sum(tf.mul(dy, avgPool2(x))).dataSync()[0]!;
    const rhs = tf.sum(tf.mul(avgPool2Back(dy, size, size), x)).dataSync()[0]!;
    assert.ok(Math.abs(lhs - rhs) < 1e-4 * Math.abs(lhs));
  });
}

Deno.test("ConvNet: finite differences of ∂L/∂θ and of d(v·∂L/∂θ)/dx on a tiny net", () => {
  for (const inChannels of [1, 3]) {
    const size = inChannels === 1 ? 10 : 12;
    const layout = paramLayout(
      convNetSpec({ inChannels, height: size, width: size, numClasses: 3 }, {
        netWidth: 3,
        netDepth: 2,
      }),
    );
    // ReLU makes the loss piecewise smooth, and a random difference step
    // crosses many kinks, so a float32 difference quotient says little about a
    // correct gradient. Norm biases of ±3 (with weight 0.5) keep every
    // pre-activation far from zero: half the channels always on, half always
    // off, so both ReLU branches are exercised and no kink is near.
    const init = initParams(layout, rng);
    for (const t of layout.tensors) {
      for (let k = 0; k < t.size; k++) {
        if (t.role === "norm_weight") init[t.offset + k] = 0.5;
        if (t.role === "norm_bias") init[t.offset + k] = k % 2 === 0 ? 3 : -3;
      }
    }
    const theta = tf.tensor1d(init) as Tensor1D;
    const x = rand([3, size, size, inChannels]) as Tensor4D;
    const onehot = tf.oneHot(tf.tensor1d([0, 2, 1], "int32"), 3)
      .toFloat() as Tensor2D;
    const v = rand([layout.size]);
    checkGradients(
      "dL/dθ",
      (th) => lossAndGrad(layout, th as Tensor1D, x, onehot).loss,
      [theta],
      { eps: 1e-2, tol: 2e-3 },
    );
    const vDotG = (xi: Tensor, th: Tensor) =>
      tf.sum(
        tf.mul(
          v,
          lossAndGrad(layout, th as Tensor1D, xi as Tensor4D, onehot).grad,
        ),
      );
    // Along the gradient for the images: along a random direction this
    // derivative is small enough for float32 noise in v·g to matter.
    checkGradients("d(v·g)/dx", (xi) => vDotG(xi, theta), [x], {
      eps: 1e-2,
      tol: 2e-3,
      along: "gradient",
    });
    checkGradients("d(v·g)/dθ", (th) => vDotG(x, th), [theta], {
      eps: 1e-2,
      tol: 2e-3,
    });
  }
});
