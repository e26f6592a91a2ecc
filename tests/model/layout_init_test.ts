import { strict as assert } from "node:assert";
import { convNetSpec, paramLayout } from "../../src/model/layout.ts";
import { initParams } from "../../src/model/convnet.ts";
import { Rng } from "../../src/util/rng.ts";

Deno.test("parameter counts equal the reference table", () => {
  const count = (
    inChannels: number,
    size: number,
    numClasses: number,
    netDepth = 3,
  ) =>
    paramLayout(
      convNetSpec({ inChannels, height: size, width: size, numClasses }, {
        netDepth,
      }),
    ).size;
  assert.equal(count(3, 32, 10), 320_010);
  assert.equal(count(3, 32, 100), 504_420);
  assert.equal(count(1, 28, 10), 317_706);
  assert.equal(count(3, 64, 200, 4), 857_160);
  assert.equal(count(3, 64, 200, 3), 1_938_120);
});

Deno.test("initialisation follows PyTorch's defaults and is seed-deterministic", () => {
  const layout = paramLayout(
    convNetSpec({ inChannels: 3, height: 32, width: 32, numClasses: 10 }),
  );
  const theta = initParams(layout, new Rng(1));
  for (const t of layout.tensors) {
    const v = theta.subarray(t.offset, t.offset + t.size);
    if (t.role === "norm_weight") assert.ok(v.every((x) => x === 1), t.name);
    else if (t.role === "norm_bias") assert.ok(v.every((x) => x === 0), t.name);
    else {
      // U(−b, b) with b = 1/√fan_in: inside the bounds, variance b²/3.
      const b = 1 / Math.sqrt(t.fanIn);
      assert.ok(v.every((x) => Math.abs(x) <= b), `${t.name} within ±${b}`);
      if (t.size >= 1000) {
        const mean = v.reduce((a, x) => a + x, 0) / v.length;
        const variance = v.reduce((a, x) => a + (x - mean) ** 2, 0) / v.length;
        assert.ok(
          Math.abs(variance / (b * b / 3) - 1) < 0.1,
          `${t.name} variance ${variance}`,
        );
        assert.ok(Math.abs(mean) < 0.05 * b, `${t.name} mean ${mean}`);
      }
    }
  }
  assert.deepEqual(initParams(layout, new Rng(1)), theta);
  assert.notDeepEqual(initParams(layout, new Rng(2)), theta);
});
