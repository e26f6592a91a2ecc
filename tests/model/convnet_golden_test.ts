import { strict as assert } from "node:assert";
import { initBackend } from "../../src/backend/mod.ts";
import {
  type Tensor1D,
  type Tensor2D,
  type Tensor4D,
  tf,
} from "../../src/backend/tf.ts";
import {
  convNetSpec,
  type ParamLayout,
  paramLayout,
} from "../../src/model/layout.ts";
import {
  crossEntropy,
  forward,
  inputGrad,
  lossAndGrad,
} from "../../src/model/convnet.ts";
import {
  fromReferenceFlat,
  toReferenceFlat,
} from "../../src/model/reference_layout.ts";
import { assertClose, g64, loadGolden, nchwToNhwc } from "../_golden.ts";

await initBackend({ log: false });

function layoutOf(g: { config: Record<string, number> }): ParamLayout {
  const c = g.config;
  return paramLayout(convNetSpec({
    inChannels: c.channel!,
    height: (c.im_size as unknown as number[])[0]!,
    width: (c.im_size as unknown as number[])[1]!,
    numClasses: c.num_classes!,
  }, { netWidth: c.net_width!, netDepth: c.net_depth! }));
}

export function goldenLayout(name: string): ParamLayout {
  return layoutOf(loadGolden(name));
}

for (
  const name of [
    "convnet_forward_c3.json",
    "convnet_forward_c1.json",
    "convnet_forward_d4.json",
  ]
) {
  Deno.test(`ConvNet matches ${name}: logits, loss, parameter and input gradients`, () => {
    const g = loadGolden(name);
    const layout = layoutOf(g);
    assert.equal(layout.size, g.flat_params.shape[0], "parameter count");
    const theta = tf.tensor1d(
      Float32Array.from(fromReferenceFlat(layout, g64(g.flat_params))),
    ) as Tensor1D;
    const [n, c, h, w] = g.input.shape;
    const x = tf.tensor4d(nchwToNhwc(g.input.data, g.input.shape), [
      n,
      h,
      w,
      c,
    ]) as Tensor4D;
    const onehot = tf.oneHot(
      tf.tensor1d(g.labels.data, "int32"),
      layout.spec.numClasses,
    ).toFloat() as Tensor2D;

    const { logits, cache } = forward(layout, theta, x);
    assertClose(logits.dataSync(), g.logits.data, 1e-5, "logits");
    for (let d = 0; d < layout.spec.netDepth; d++) {
      const got = tf.avgPool(cache.blocks[d]!.act, 2, 2, "valid");
      const ref = g.block_outputs[d];
      assertClose(
        got.dataSync(),
        nchwToNhwc(ref.data, ref.shape),
        1e-5,
        `block ${d + 1} output`,
      );
    }
    const { loss } = crossEntropy(logits, onehot);
    assert.ok(
      Math.abs(loss.dataSync()[0]! - g.loss) <
        1e-5 * Math.max(1, Math.abs(g.loss)),
      "loss",
    );

    const { grad } = lossAndGrad(layout, theta, x, onehot);
    assertClose(
      toReferenceFlat(layout, grad.dataSync() as Float32Array),
      g.grad_flat_params.data,
      1e-5,
      "dL/dθ",
    );
    const gx = inputGrad(layout, theta, x, onehot);
    assertClose(
      gx.dataSync(),
      nchwToNhwc(g.grad_input.data, g.grad_input.shape),
      1e-5,
      "dL/dx",
    );
  });
}
