/**
 * Summary statistics of evaluation runs: mean, sample standard deviation and
 * a two-sided 95% Student-t confidence interval of the mean.
 *
 * The reference code reports the population std (`np.std`, divide by n); this
 * suite reports the sample std (divide by n − 1), which is the unbiased
 * estimate for the handful of runs a cell has. Reports say so.
 *
 * Student-t quantiles come from a numerical inverse of the t distribution
 * function (regularised incomplete beta function), so they are exact to about
 * 1e-10 for every number of degrees of freedom; no table and no switch to the
 * normal quantile is needed.
 *
 * @module
 */
import type { RunRecord } from "./types.ts";

/** Mean, spread and confidence interval of one cell, in percent. */
export interface CellStats {
  /** Number of runs. */
  n: number;
  /** Mean accuracy, percent. */
  mean: number;
  /** Sample standard deviation (n − 1), percent; 0 when n = 1. */
  std: number;
  /**
   * Two-sided 95% Student-t confidence interval of the mean, percent.
   * `[NaN, NaN]` when n = 1: one run says nothing about its own spread.
   */
  ci95: [number, number];
}

function checkFinite(xs: readonly number[], what: string): void {
  if (xs.length === 0) throw new RangeError(`${what} of an empty list`);
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i])) {
      throw new RangeError(`${what}: value ${i} is ${xs[i]}, not finite`);
    }
  }
}

/**
 * Arithmetic mean.
 *
 * @example
 * ```ts
 * import { mean } from "./stats.ts";
 * mean([1, 2, 3]); // 2
 * ```
 * @throws {RangeError} for an empty list or a non-finite value
 */
export function mean(xs: readonly number[]): number {
  checkFinite(xs, "mean");
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/**
 * Sample standard deviation (divide by n − 1); 0 for a single value.
 *
 * @example
 * ```ts
 * import { sampleStd } from "./stats.ts";
 * sampleStd([2, 4, 4, 4, 5, 5, 7, 9]); // 2.138...
 * ```
 * @throws {RangeError} for an empty list or a non-finite value
 */
export function sampleStd(xs: readonly number[]): number {
  const m = mean(xs);
  if (xs.length === 1) return 0;
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (xs.length - 1));
}

// Lanczos approximation (g = 7, 9 terms), relative error about 1e-15.
const LANCZOS = [
  0.99999999999980993,
  676.5203681218851,
  -1259.1392167224028,
  771.32342877765313,
  -176.61502916214059,
  12.507343278686905,
  -0.13857109526572012,
  9.9843695780195716e-6,
  1.5056327351493116e-7,
];

function logGamma(x: number): number {
  if (x < 0.5) {
    // Reflection keeps the series in its accurate range.
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  x -= 1;
  let a = LANCZOS[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t +
    Math.log(a);
}

// Continued fraction of the incomplete beta function (modified Lentz).
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - (a + b) * x / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) return h;
  }
  throw new RangeError(
    `incomplete beta did not converge (a=${a}, b=${b}, x=${x})`,
  );
}

/** Regularised incomplete beta function I_x(a, b). */
function incompleteBeta(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) +
      b * Math.log1p(-x),
  );
  // The fraction converges fast only on one side of the mean; use symmetry.
  if (x < (a + 1) / (a + b + 2)) {
    return front * betaContinuedFraction(a, b, x) / a;
  }
  return 1 - front * betaContinuedFraction(b, a, 1 - x) / b;
}

/**
 * Distribution function of Student's t with `df` degrees of freedom.
 *
 * @param t the point
 * @param df degrees of freedom, > 0
 * @returns P(T ≤ t)
 */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0) || !Number.isFinite(df)) {
    throw new RangeError(`degrees of freedom must be > 0, got ${df}`);
  }
  if (Number.isNaN(t)) return NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  // Two forms of the same tail: the first loses precision for small |t|.
  const x = df / (df + t * t);
  const tail = x < 0.5
    ? 0.5 * incompleteBeta(df / 2, 0.5, x)
    : 0.5 * (1 - incompleteBeta(0.5, df / 2, t * t / (df + t * t)));
  return t >= 0 ? 1 - tail : tail;
}

/**
 * Quantile of Student's t distribution: the t with P(T ≤ t) = p.
 *
 * Found by bisection on {@link studentTCdf} to full double precision.
 *
 * @example
 * ```ts
 * import { studentTQuantile } from "./stats.ts";
 * studentTQuantile(0.975, 4); // 2.7764451...
 * ```
 * @param p probability in (0, 1)
 * @param df degrees of freedom, > 0
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) {
    throw new RangeError(`probability must be in (0, 1), got ${p}`);
  }
  if (!(df > 0) || !Number.isFinite(df)) {
    throw new RangeError(`degrees of freedom must be > 0, got ${df}`);
  }
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) return Infinity;
  }
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/**
 * Two-sided 95% confidence interval of the mean of `xs` (Student t, n − 1
 * degrees of freedom).
 *
 * @returns `[low, high]`, or `[NaN, NaN]` for a single value
 */
export function ci95(xs: readonly number[]): [number, number] {
  const m = mean(xs);
  if (xs.length < 2) return [NaN, NaN];
  const half = studentTQuantile(0.975, xs.length - 1) * sampleStd(xs) /
    Math.sqrt(xs.length);
  return [m - half, m + half];
}

/**
 * Summarise the runs of one cell in percent.
 *
 * All runs must share the cell coordinates (dataset, method, IPC, variant)
 * and the evaluated distillation iteration, so a cell never silently mixes
 * checkpoints.
 *
 * @example
 * ```ts
 * import { summarizeCell } from "./stats.ts";
 * import type { RunRecord } from "./types.ts";
 * const run = (run: number, accuracy: number): RunRecord => ({
 *   table: "cifar10", scale: "smoke", dataset: "cifar10", method: "mtt",
 *   ipc: 1, variant: "", run, evalSeed: run, distillSeed: 0, iteration: 50,
 *   lr: 0.01, settings: {}, backend: "cpu", accuracy, seconds: 1,
 * });
 * summarizeCell([run(0, 0.46), run(1, 0.47)]).mean; // 46.5
 * ```
 * @param runs the runs of one cell, at least one
 * @throws {RangeError} for no runs, mixed cells or a non-finite accuracy
 */
export function summarizeCell(runs: readonly RunRecord[]): CellStats {
  const first = runs[0];
  if (first === undefined) throw new RangeError("summarizeCell: no runs");
  for (const r of runs) {
    if (
      r.dataset !== first.dataset || r.method !== first.method ||
      r.ipc !== first.ipc || r.variant !== first.variant ||
      r.iteration !== first.iteration
    ) {
      throw new RangeError(
        `summarizeCell: run ${r.run} (${r.dataset}/${r.method}/ipc ${r.ipc}` +
          `/${r.variant}/iteration ${r.iteration}) is not in the cell of run ` +
          `${first.run} (${first.dataset}/${first.method}/ipc ${first.ipc}/` +
          `${first.variant}/iteration ${first.iteration})`,
      );
    }
  }
  const pct = runs.map((r) => r.accuracy * 100);
  return {
    n: pct.length,
    mean: mean(pct),
    std: sampleStd(pct),
    ci95: ci95(pct),
  };
}
