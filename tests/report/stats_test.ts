/** Statistics of evaluation runs against known values. */
import assert from "node:assert/strict";
import {
  ci95,
  mean,
  sampleStd,
  studentTCdf,
  studentTQuantile,
  summarizeCell,
} from "../../src/report/stats.ts";
import type { RunRecord } from "../../src/report/types.ts";

function close(actual: number, expected: number, tol: number, what = "") {
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what} ${actual} vs ${expected} (tol ${tol})`,
  );
}

Deno.test("t(0.975, df) matches printed tables for df 1..30 and beyond", () => {
  // Two-sided 95% critical values as printed in standard t tables.
  const table: Record<number, number> = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    11: 2.201,
    12: 2.179,
    13: 2.160,
    14: 2.145,
    15: 2.131,
    16: 2.120,
    17: 2.110,
    18: 2.101,
    19: 2.093,
    20: 2.086,
    21: 2.080,
    22: 2.074,
    23: 2.069,
    24: 2.064,
    25: 2.060,
    26: 2.056,
    27: 2.052,
    28: 2.048,
    29: 2.045,
    30: 2.042,
    40: 2.021,
    60: 2.000,
    120: 1.980,
  };
  for (const [df, t] of Object.entries(table)) {
    close(studentTQuantile(0.975, Number(df)), t, 5e-4, `df=${df}`);
  }
  // Closed forms: df 1 is Cauchy, df 2 has t = (2p−1)·sqrt(2/(4p(1−p))).
  close(studentTQuantile(0.975, 1), Math.tan(Math.PI * 0.475), 1e-9, "df=1");
  const p = 0.975;
  close(
    studentTQuantile(p, 2),
    (2 * p - 1) * Math.sqrt(2 / (4 * p * (1 - p))),
    1e-9,
    "df=2",
  );
  // Tends to the normal quantile 1.959964 for large df.
  close(studentTQuantile(0.975, 1e6), 1.959964, 1e-5, "df=1e6");
  // Other levels: t(0.995, 10) = 3.169, t(0.95, 4) = 2.132.
  close(studentTQuantile(0.995, 10), 3.169, 5e-4, "0.995/10");
  close(studentTQuantile(0.95, 4), 2.132, 5e-4, "0.95/4");
});

Deno.test("t distribution function: symmetry and inverse", () => {
  assert.equal(studentTCdf(0, 3), 0.5);
  close(studentTCdf(1, 1), 0.75, 1e-12, "Cauchy at 1");
  for (const df of [1, 3, 7, 29, 200]) {
    for (const q of [0.6, 0.9, 0.975, 0.999]) {
      const t = studentTQuantile(q, df);
      close(studentTCdf(t, df), q, 1e-12, `cdf(quantile) df=${df}`);
      close(studentTQuantile(1 - q, df), -t, 1e-9, `symmetry df=${df}`);
    }
  }
  assert.throws(() => studentTQuantile(1, 3), RangeError);
  assert.throws(() => studentTQuantile(0.975, 0), RangeError);
});

Deno.test("mean and sample standard deviation", () => {
  assert.equal(mean([1, 2, 3, 4]), 2.5);
  // Population std of this classic set is 2; sample std is sqrt(32/7).
  close(sampleStd([2, 4, 4, 4, 5, 5, 7, 9]), Math.sqrt(32 / 7), 1e-12);
  assert.equal(sampleStd([42]), 0);
  assert.throws(() => mean([]), RangeError);
  assert.throws(() => mean([1, NaN]), RangeError);
});

Deno.test("95% interval: mean ± t·s/√n", () => {
  const [lo, hi] = ci95([1, 2, 3, 4, 5]);
  // s = sqrt(2.5), t(0.975, 4) = 2.7764451.
  const half = 2.7764451052 * Math.sqrt(2.5) / Math.sqrt(5);
  close(lo, 3 - half, 1e-8);
  close(hi, 3 + half, 1e-8);
  const one = ci95([7]);
  assert.ok(Number.isNaN(one[0]) && Number.isNaN(one[1]));
});

function run(run: number, accuracy: number, over: Partial<RunRecord> = {}) {
  const r: RunRecord = {
    table: "cifar10",
    scale: "smoke",
    dataset: "cifar10",
    method: "mct",
    ipc: 10,
    variant: "",
    run,
    evalSeed: run,
    distillSeed: 1,
    iteration: 500,
    lr: 0.01,
    settings: {},
    backend: "cpu",
    accuracy,
    seconds: 1,
  };
  return { ...r, ...over };
}

Deno.test("summarizeCell reports percent with sample std and t interval", () => {
  const s = summarizeCell([run(0, 0.60), run(1, 0.62), run(2, 0.64)]);
  assert.equal(s.n, 3);
  close(s.mean, 62, 1e-9);
  close(s.std, 2, 1e-9);
  const half = 4.302652729749 * 2 / Math.sqrt(3);
  close(s.ci95[0], 62 - half, 1e-8);
  close(s.ci95[1], 62 + half, 1e-8);

  const single = summarizeCell([run(0, 0.5)]);
  assert.equal(single.n, 1);
  assert.equal(single.mean, 50);
  assert.equal(single.std, 0);
  assert.ok(Number.isNaN(single.ci95[0]));
});

Deno.test("summarizeCell refuses empty and mixed cells", () => {
  assert.throws(() => summarizeCell([]), RangeError);
  assert.throws(
    () => summarizeCell([run(0, 0.5), run(1, 0.5, { ipc: 50 })]),
    /not in the cell/,
  );
  assert.throws(
    () => summarizeCell([run(0, 0.5), run(1, 0.5, { iteration: 400 })]),
    /iteration 400/,
  );
  assert.throws(() => summarizeCell([run(0, NaN)]), RangeError);
});
