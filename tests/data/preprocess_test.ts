import assert from "node:assert/strict";
import { normalizationStats } from "../../src/data/datasets.ts";
import { buildImageSet } from "../../src/data/image_set.ts";
import { labelsAt, toFloat } from "../../src/data/preprocess.ts";
import type { DatasetName, ImageSet } from "../../src/data/types.ts";
import { InputError } from "../../src/util/errors.ts";

/** 3 images of 2x2x3 whose bytes are all different: value = 7·flat + 3. */
function colourSet(name: DatasetName = "cifar10"): ImageSet {
  const pixels = Uint8Array.from(
    { length: 3 * 2 * 2 * 3 },
    (_, k) => (7 * k + 3) & 255,
  );
  return buildImageSet({
    name,
    split: "train",
    height: 2,
    width: 2,
    channels: 3,
    classNames: ["a", "b"],
    labels: Int32Array.of(1, 0, 1),
    pixels,
  });
}

Deno.test("toFloat: without normalisation, pixel/255 in NHWC order", () => {
  const set = colourSet();
  const out = toFloat(set, null, { normalize: false });
  assert.equal(out.length, set.pixels.length);
  for (let k = 0; k < out.length; k++) {
    assert.equal(out[k], Math.fround(set.pixels[k]! / 255));
  }
});

Deno.test("toFloat: normalisation uses each channel's own mean and std", () => {
  const set = colourSet();
  const { mean, std } = normalizationStats("cifar10");
  const out = toFloat(set);
  for (let k = 0; k < out.length; k++) {
    const c = k % 3;
    const want = (set.pixels[k]! / 255 - mean[c]!) / std[c]!;
    assert.ok(
      Math.abs(out[k]! - want) < 1e-6,
      `element ${k}: ${out[k]} vs ${want}`,
    );
  }
  // Explicit normalize: true is the same as the default.
  assert.deepEqual(toFloat(set, null, { normalize: true }), out);
});

Deno.test("toFloat: CIFAR-100 uses CIFAR-10's constants unless DC's are asked for", () => {
  const ref = toFloat(colourSet("cifar100"));
  assert.deepEqual(ref, toFloat(colourSet("cifar10")));
  const dc = toFloat(colourSet("cifar100"), null, { cifar100Stats: "dc" });
  assert.notDeepEqual(dc, ref);
  assert.ok(Math.abs(dc[1]! - ((7 + 3) / 255 - 0.4866) / 0.2564) < 1e-6);
  const custom = toFloat(colourSet(), null, {
    stats: { mean: [0, 0, 0], std: [2, 2, 2] },
  });
  assert.equal(custom[0], Math.fround(3 / 255 / 2));
});

Deno.test("toFloat: indices pick images in the given order", () => {
  const set = colourSet();
  const all = toFloat(set);
  const picked = toFloat(set, [2, 0, 2]);
  const size = 12;
  assert.deepEqual(picked.subarray(0, size), all.subarray(2 * size, 3 * size));
  assert.deepEqual(picked.subarray(size, 2 * size), all.subarray(0, size));
  assert.deepEqual(picked.subarray(2 * size), all.subarray(2 * size));
  assert.deepEqual([...labelsAt(set, [2, 1])], [1, 0]);
  assert.deepEqual([...labelsAt(set)], [1, 0, 1]);
  assert.equal(toFloat(set, []).length, 0);
});

Deno.test("toFloat: single-channel Fashion-MNIST", () => {
  const set = buildImageSet({
    name: "fashion-mnist",
    split: "test",
    height: 1,
    width: 2,
    channels: 1,
    classNames: ["x"],
    labels: Int32Array.of(0),
    pixels: Uint8Array.of(0, 255),
  });
  const out = toFloat(set);
  assert.equal(out[0], Math.fround(-0.2861 / 0.353));
  assert.equal(out[1], Math.fround((1 - 0.2861) / 0.353));
});

Deno.test("toFloat: bad indices and mismatched stats are rejected", () => {
  const set = colourSet();
  assert.throws(() => toFloat(set, [3]), /index 3 is outside \[0, 3\)/);
  assert.throws(() => toFloat(set, [-1]), RangeError);
  assert.throws(() => labelsAt(set, [1.5]), RangeError);
  assert.throws(
    () => toFloat(set, null, { stats: { mean: [0.5], std: [0.5] } }),
    (err: unknown) =>
      err instanceof InputError &&
      /need 3 mean and std values/.test(err.message),
  );
  assert.throws(
    () => toFloat(set, null, { stats: { mean: [0, 0, 0], std: [1, 0, 1] } }),
    /std of channel 1 is 0/,
  );
});
