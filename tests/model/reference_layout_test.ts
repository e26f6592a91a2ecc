/**
 * The native ⇄ reference flat-vector conversion: exact round trips, and the
 * meaning of the permutation checked against the reference network itself
 * (convnet_forward_c3.json): a naive NHWC forward pass with converted weights
 * must reproduce the reference's block output and logits.
 */
import assert from "node:assert/strict";
import { type GoldenTensor, loadGolden, maxAbsDiff } from "../_golden.ts";
import {
  type ConvNetSpec,
  convNetSpec,
  paramLayout,
} from "../../src/model/layout.ts";
import {
  fromReferenceFlat,
  referenceParamLayout,
  toReferenceFlat,
} from "../../src/model/reference_layout.ts";
import { Rng } from "../../src/util/rng.ts";

const SPECS: ConvNetSpec[] = [
  convNetSpec({ inChannels: 3, height: 32, width: 32, numClasses: 10 }, {
    netWidth: 8,
  }),
  convNetSpec({ inChannels: 1, height: 28, width: 28, numClasses: 10 }, {
    netWidth: 4,
  }),
  convNetSpec({ inChannels: 3, height: 64, width: 64, numClasses: 5 }, {
    netWidth: 4,
    netDepth: 4,
  }),
  convNetSpec({ inChannels: 3, height: 8, width: 8, numClasses: 4 }, {
    netWidth: 2,
    netDepth: 1,
  }),
];

Deno.test("round trip is exact in both directions and both precisions", () => {
  for (const spec of SPECS) {
    const layout = paramLayout(spec);
    const rng = new Rng(11);
    const x32 = rng.normalArray(layout.size);
    assert.deepEqual(
      fromReferenceFlat(layout, toReferenceFlat(layout, x32)),
      x32,
    );
    assert.deepEqual(
      toReferenceFlat(layout, fromReferenceFlat(layout, x32)),
      x32,
    );
    const x64 = Float64Array.from(x32, (v) => v + 1e-12);
    const r64 = toReferenceFlat(layout, x64);
    assert.ok(r64 instanceof Float64Array);
    assert.deepEqual(fromReferenceFlat(layout, r64), x64);
    // A permutation: every value appears exactly once.
    const idx = Float64Array.from({ length: layout.size }, (_, i) => i);
    const perm = toReferenceFlat(layout, idx);
    assert.deepEqual([...perm].sort((a, b) => a - b), [...idx]);
  }
});

Deno.test("biases and norm parameters are not moved; wrong length refused", () => {
  const layout = paramLayout(SPECS[0]!);
  const idx = Float64Array.from({ length: layout.size }, (_, i) => i);
  const ref = toReferenceFlat(layout, idx);
  for (const t of layout.tensors) {
    if (t.role === "conv_weight" || t.role === "fc_weight") continue;
    assert.deepEqual(
      ref.subarray(t.offset, t.offset + t.size),
      idx.subarray(t.offset, t.offset + t.size),
    );
  }
  assert.throws(() => toReferenceFlat(layout, new Float32Array(3)), RangeError);
  assert.throws(
    () => fromReferenceFlat(layout, new Float32Array(3)),
    RangeError,
  );
});

Deno.test("referenceParamLayout equals the golden files' param_layout", () => {
  const cases: [string, ConvNetSpec][] = [
    ["convnet_forward_c3.json", SPECS[0]!],
    ["convexify.json", SPECS[3]!],
  ];
  for (const [file, spec] of cases) {
    const golden = loadGolden(file).param_layout as {
      name: string;
      shape: number[];
      layout: string;
      offset: number;
      numel: number;
    }[];
    const ours = referenceParamLayout(paramLayout(spec));
    assert.deepEqual(
      ours.map(({ name, shape, layout, offset, numel }) => ({
        name,
        shape,
        layout,
        offset,
        numel,
      })),
      golden.map(({ name, shape, layout, offset, numel }) => ({
        name,
        shape,
        layout,
        offset,
        numel,
      })),
      file,
    );
  }
});

/** conv 3×3 (pad 1) → instance norm → ReLU → avg-pool 2, NHWC, native HWIO. */
function block(
  x: Float64Array,
  [n, h, w, cin]: number[],
  weight: Float64Array,
  bias: Float64Array,
  gamma: Float64Array,
  beta: Float64Array,
  cout: number,
): Float64Array {
  const conv = new Float64Array(n! * h! * w! * cout);
  for (let b = 0; b < n!; b++) {
    for (let y = 0; y < h!; y++) {
      for (let xx = 0; xx < w!; xx++) {
        for (let o = 0; o < cout; o++) {
          let s = bias[o]!;
          for (let ky = 0; ky < 3; ky++) {
            for (let kx = 0; kx < 3; kx++) {
              const iy = y + ky - 1;
              const ix = xx + kx - 1;
              if (iy < 0 || iy >= h! || ix < 0 || ix >= w!) continue;
              for (let i = 0; i < cin!; i++) {
                s += x[((b * h! + iy) * w! + ix) * cin! + i]! *
                  weight[((ky * 3 + kx) * cin! + i) * cout + o]!;
              }
            }
          }
          conv[((b * h! + y) * w! + xx) * cout + o] = s;
        }
      }
    }
  }
  const hw = h! * w!;
  const out = new Float64Array(n! * (h! / 2) * (w! / 2) * cout);
  for (let b = 0; b < n!; b++) {
    for (let o = 0; o < cout; o++) {
      let mean = 0;
      for (let p = 0; p < hw; p++) mean += conv[(b * hw + p) * cout + o]!;
      mean /= hw;
      let v = 0;
      for (let p = 0; p < hw; p++) {
        v += (conv[(b * hw + p) * cout + o]! - mean) ** 2;
      }
      const inv = 1 / Math.sqrt(v / hw + 1e-5);
      const act = (p: number) =>
        Math.max(
          0,
          (conv[(b * hw + p) * cout + o]! - mean) * inv * gamma[o]! + beta[o]!,
        );
      for (let y = 0; y < h! / 2; y++) {
        for (let xx = 0; xx < w! / 2; xx++) {
          const p = (2 * y) * w! + 2 * xx;
          out[((b * (h! / 2) + y) * (w! / 2) + xx) * cout + o] =
            (act(p) + act(p + 1) + act(p + w!) + act(p + w! + 1)) / 4;
        }
      }
    }
  }
  return out;
}

Deno.test("converted weights run the reference network (conv and classifier order)", () => {
  const g = loadGolden("convnet_forward_c3.json");
  const layout = paramLayout(SPECS[0]!);
  const native = fromReferenceFlat(
    layout,
    Float64Array.from(g.flat_params.data as number[]),
  );
  const tensor = (i: number) => {
    const t = layout.tensors[i]!;
    return native.subarray(t.offset, t.offset + t.size);
  };
  const blocks = g.block_outputs as GoldenTensor[];
  // Permute the input to NHWC here rather than with nchwToNhwc, which
  // returns float32: this comparison is float64 throughout.
  const [n, c, h, w] = g.input.shape as number[];
  const input = g.input.data as number[];
  let x: Float64Array = new Float64Array(n! * c! * h! * w!);
  for (let b = 0; b < n!; b++) {
    for (let ch = 0; ch < c!; ch++) {
      for (let p = 0; p < h! * w!; p++) {
        x[(b * h! * w! + p) * c! + ch] = input[(b * c! + ch) * h! * w! + p]!;
      }
    }
  }
  let shape = [n!, h!, w!, c!];
  for (let d = 0; d < 3; d++) {
    x = block(
      x,
      shape,
      tensor(4 * d),
      tensor(4 * d + 1),
      tensor(4 * d + 2),
      tensor(4 * d + 3),
      8,
    );
    shape = [n!, shape[1]! / 2, shape[2]! / 2, 8];
    const ref = blocks[d]!;
    const refNhwc: number[] = [];
    const [, rc, rh, rw] = ref.shape as number[];
    for (let b = 0; b < n!; b++) {
      for (let p = 0; p < rh! * rw!; p++) {
        for (let ch = 0; ch < rc!; ch++) {
          refNhwc.push(ref.data[(b * rc! + ch) * rh! * rw! + p]!);
        }
      }
    }
    assert.ok(maxAbsDiff(x, refNhwc) < 1e-12, `block ${d + 1}`);
  }
  // Classifier on NHWC features with the native [features(H,W,C), classes].
  const fc = tensor(12);
  const fcBias = tensor(13);
  const features = layout.features;
  const logits: number[] = [];
  for (let b = 0; b < n!; b++) {
    for (let k = 0; k < 10; k++) {
      let s = fcBias[k]!;
      for (let f = 0; f < features; f++) {
        s += x[b * features + f]! * fc[f * 10 + k]!;
      }
      logits.push(s);
    }
  }
  assert.ok(maxAbsDiff(logits, g.logits.data) < 1e-12, "logits");
});
