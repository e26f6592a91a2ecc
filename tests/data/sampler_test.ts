import assert from "node:assert/strict";
import { buildImageSet } from "../../src/data/image_set.ts";
import {
  balancedSubset,
  indicesByClass,
  sampleBalanced,
} from "../../src/data/sampler.ts";
import { InputError } from "../../src/util/errors.ts";
import { Rng } from "../../src/util/rng.ts";

/** 3 classes; class c has 5 + c images, interleaved. */
function labels(): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < 7; i++) {
    for (let c = 0; c < 3; c++) if (i < 5 + c) out.push(c);
  }
  return Int32Array.from(out);
}

Deno.test("indicesByClass: ascending indices per class", () => {
  const byClass = indicesByClass(Int32Array.of(2, 0, 2, 1, 0), 4);
  assert.deepEqual(byClass.map((a) => [...a]), [[1, 4], [3], [0, 2], []]);
  assert.throws(
    () => indicesByClass(Int32Array.of(0, 4), 4),
    /label 4 at index 1/,
  );
});

Deno.test("sampleBalanced: perClass distinct indices per class, class-major", () => {
  const y = labels();
  const picks = sampleBalanced(y, 3, 4, new Rng(1));
  assert.equal(picks.length, 12);
  assert.deepEqual([...picks].map((i) => y[i]), [
    0,
    0,
    0,
    0,
    1,
    1,
    1,
    1,
    2,
    2,
    2,
    2,
  ]);
  assert.equal(new Set(picks).size, 12, "without replacement");
  // All of a class can be taken.
  const all = sampleBalanced(y, 3, 5, new Rng(2));
  assert.deepEqual([...all.subarray(0, 5)].sort((a, b) => a - b), [
    ...indicesByClass(y, 3)[0]!,
  ]);
  assert.equal(sampleBalanced(y, 3, 0, new Rng(3)).length, 0);
});

Deno.test("sampleBalanced: deterministic for a seed, different across seeds", () => {
  const y = labels();
  const a = sampleBalanced(y, 3, 3, new Rng(42));
  assert.deepEqual(sampleBalanced(y, 3, 3, new Rng(42)), a);
  const differs = [43, 44, 45, 46].some((s) =>
    sampleBalanced(y, 3, 3, new Rng(s)).join() !== a.join()
  );
  assert.ok(differs);
  // The caller's generator advances, so two draws in a row differ.
  const rng = new Rng(7);
  const first = sampleBalanced(y, 3, 3, rng);
  const second = sampleBalanced(y, 3, 3, rng);
  assert.notDeepEqual(first, second);
});

Deno.test("sampleBalanced: every image of a class is equally likely", () => {
  const y = Int32Array.of(0, 0, 0, 0, 1);
  const counts = [0, 0, 0, 0];
  const rng = new Rng(5);
  for (let t = 0; t < 800; t++) counts[sampleBalanced(y, 2, 1, rng)[0]!]!++;
  for (const n of counts) assert.ok(n > 140 && n < 260, `counts ${counts}`);
});

Deno.test("sampleBalanced: too few images in a class is a clear InputError", () => {
  const y = labels();
  assert.throws(() => sampleBalanced(y, 3, 6, new Rng(0)), (err: unknown) => {
    assert.ok(err instanceof InputError);
    assert.match(err.message, /6 images per class requested but class 0 has 5/);
    assert.doesNotMatch(err.message, /class 1/);
    return true;
  });
  assert.throws(() => sampleBalanced(y, 4, 1, new Rng(0)), /class 3 has 0/);
  assert.throws(() => sampleBalanced(y, 3, 1.5, new Rng(0)), /perClass/);
});

Deno.test("balancedSubset: copies the sampled images with their labels", () => {
  const y = labels();
  const pixels = Uint8Array.from({ length: y.length * 2 }, (_, k) => k);
  const set = buildImageSet({
    name: "cifar10",
    split: "train",
    height: 1,
    width: 2,
    channels: 1,
    classNames: ["a", "b", "c"],
    labels: y,
    pixels,
  });
  const sub = balancedSubset(set, 2, new Rng(9));
  const picks = sampleBalanced(y, 3, 2, new Rng(9));
  assert.equal(sub.count, 6);
  assert.deepEqual([...sub.labels], [0, 0, 1, 1, 2, 2]);
  for (const [k, i] of picks.entries()) {
    assert.deepEqual([...sub.pixels.subarray(2 * k, 2 * k + 2)], [
      2 * i,
      2 * i + 1,
    ]);
  }
  assert.notEqual(sub.sha256, set.sha256);
  assert.deepEqual(
    [sub.name, sub.split, sub.height, sub.width, sub.channels, sub.numClasses],
    ["cifar10", "train", 1, 2, 1, 3],
  );
});
