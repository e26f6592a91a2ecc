import { strict as assert } from "node:assert";
import { initBackend } from "../../src/backend/mod.ts";
import {
  type Tensor,
  type Tensor1D,
  type Tensor2D,
  type Tensor4D,
  tf,
} from "../../src/backend/tf.ts";
import { convNetSpec, paramLayout } from "../../src/model/layout.ts";
import { lossAndGrad } from "../../src/model/convnet.ts";
import {
  fromReferenceFlat,
  toReferenceFlat,
} from "../../src/model/reference_layout.ts";
import { assertClose, g64, loadGolden, nchwToNhwc } from "../_golden.ts";

await initBackend({ log: false });

Deno.test("mixed second-order product d(v·∂L/∂θ)/dx and H·v match mixed_second_order.json", () => {
  const g = loadGolden("mixed_second_order.json");
  const base = loadGolden("convnet_forward_c3.json");
  const layout = paramLayout(
    convNetSpec({ inChannels: 3, height: 32, width: 32, numClasses: 10 }, {
      netWidth: 8,
      netDepth: 3,
    }),
  );
  const theta = tf.tensor1d(
    Float32Array.from(fromReferenceFlat(layout, g64(base.flat_params))),
  ) as Tensor1D;
  const [n, c, h, w] = base.input.shape;
  const x = tf.tensor4d(nchwToNhwc(base.input.data, base.input.shape), [
    n,
    h,
    w,
    c,
  ]) as Tensor4D;
  const onehot = tf.oneHot(tf.tensor1d(base.labels.data, "int32"), 10)
    .toFloat() as Tensor2D;
  const v = tf.tensor1d(
    Float32Array.from(fromReferenceFlat(layout, g64(g.v))),
  ) as Tensor1D;

  const vDotGrad = (xi: Tensor, th: Tensor) =>
    tf.sum(
      tf.mul(
        v,
        lossAndGrad(layout, th as Tensor1D, xi as Tensor4D, onehot).grad,
      ),
    );
  const value = vDotGrad(x, theta).dataSync()[0]!;
  assert.ok(
    Math.abs(value - g.v_dot_grad) <= 1e-5 * Math.abs(g.v_dot_grad),
    `v·g ${value} vs ${g.v_dot_grad}`,
  );

  const [dx, dtheta] = tf.grads((xi: Tensor, th: Tensor) => vDotGrad(xi, th))([
    x,
    theta,
  ]);
  assertClose(
    dx!.dataSync(),
    nchwToNhwc(g.d_v_dot_grad_d_input.data, g.d_v_dot_grad_d_input.shape),
    1e-5,
    "d(v·g)/dx",
  );
  assertClose(
    toReferenceFlat(layout, dtheta!.dataSync() as Float32Array),
    g.hessian_vector_product_params.data,
    1e-5,
    "H·v",
  );
});
