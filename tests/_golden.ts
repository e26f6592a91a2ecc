/**
 * Access to the float64 reference outputs in `shared/golden/` beside the
 * checkout (or `$TRAJBENCH_GOLDEN`).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as path from "node:path";

/** A tensor as encoded in the golden files. */
export interface GoldenTensor {
  shape: number[];
  layout?: string;
  dtype: "float64" | "int64";
  data: number[];
}

/** Folder holding the golden JSON files. */
export function goldenDir(): string {
  const fromEnv = Deno.env.get("TRAJBENCH_GOLDEN");
  if (fromEnv) return fromEnv;
  const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  return path.join(path.dirname(repo), "shared", "golden");
}

// deno-lint-ignore no-explicit-any
const cache = new Map<string, any>();

/** Parse one golden file (cached per process). */
// deno-lint-ignore no-explicit-any
export function loadGolden(name: string): any {
  let value = cache.get(name);
  if (value === undefined) {
    const file = path.join(goldenDir(), name);
    value = JSON.parse(readFileSync(file, "utf8"));
    cache.set(name, value);
  }
  return value;
}

/** Golden tensor data as a Float64Array. */
export function g64(t: GoldenTensor): Float64Array {
  return Float64Array.from(t.data);
}

/** Golden tensor data as a Float32Array. */
export function g32(t: GoldenTensor): Float32Array {
  return Float32Array.from(t.data);
}

/**
 * Permute NCHW data to NHWC.
 * @param data flat NCHW values
 */
export function nchwToNhwc(
  data: ArrayLike<number>,
  [n, c, h, w]: number[],
): Float32Array {
  const out = new Float32Array(n! * c! * h! * w!);
  for (let b = 0; b < n!; b++) {
    for (let ch = 0; ch < c!; ch++) {
      for (let y = 0; y < h!; y++) {
        for (let x = 0; x < w!; x++) {
          out[((b * h! + y) * w! + x) * c! + ch] =
            data[((b * c! + ch) * h! + y) * w! + x]!;
        }
      }
    }
  }
  return out;
}

/** Maximum absolute difference between two arrays of equal length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  }
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** ‖a − b‖ / ‖b‖ over whole arrays: the float32-robust way to compare. */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  }
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
}

/** Assert that `actual` matches `expected` within a relative L2 tolerance. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
): void {
  const r = relL2(actual, expected);
  if (Deno.env.get("TRAJBENCH_SHOW_ERR")) {
    console.log(`${what}: ${r.toExponential(2)}`);
  }
  if (!(r <= tol)) {
    throw new Error(
      `${what}: relative L2 error ${r.toExponential(3)} exceeds ${tol} ` +
        `(max abs diff ${maxAbsDiff(actual, expected).toExponential(3)})`,
    );
  }
}
