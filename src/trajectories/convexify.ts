/**
 * MCT's convexified trajectory: a few waypoints plus per-layer step fractions.
 *
 * From an SGD trajectory θ_0..θ_{S−1} (S snapshots, 51 in the papers) MCT keeps
 * only waypoints W_0..W_K and a table β of cumulative step fractions per
 * "layer" (parameter tensor). A point at real time t is rebuilt layer by layer
 * as W_k + β(t)·(W_{k+1} − W_k), so each layer moves in a straight line between
 * waypoints at the speed the real trajectory had (reference.md §5.1).
 *
 * Differences from the reference `exps/trajectory_compression.py`, all on
 * purpose (reference.md §8 item 7):
 * - t = S−1 exactly returns the final waypoint (the reference returns `None`
 *   for more than 2 waypoints);
 * - when S−1 is not split evenly the reference appends an extra waypoint and
 *   then never reconstructs inside the last segment; here every segment is
 *   usable, so the whole range [0, S−1] is;
 * - t outside [0, S−1] raises a RangeError instead of returning `None`.
 *
 * β is computed in float64 whatever the snapshots' precision; waypoints keep
 * the snapshots' precision.
 *
 * @module
 */
import type { FlatParams } from "../model/reference_layout.ts";

/** A contiguous block of the flat vector treated as one MCT "layer". */
export interface LayerSpan {
  /** Offset of the first element. */
  offset: number;
  /** Number of elements. */
  size: number;
}

/**
 * How β is formed.
 * - `cumulative`: MCT's default, per-layer cumulative path length;
 * - `uniform`: β_e = e/(S−1) for every layer (`--abl_uniform_points`);
 * - `decreasing`: β_e = Σ_{j≤e}(S−j) / (S(S+1)/2), the reference's formula,
 *   so β_0 = S/(S(S+1)/2) ≠ 0 (`--abl_decreasing_points`);
 * - `projected`: one scalar for all layers, the projection of θ_e − θ_0 onto
 *   θ_{S−1} − θ_0; may be non-monotone and leave [0, 1]
 *   (`--abl_projected_points`).
 *
 * The three ablations are defined for 2 waypoints only, as in the reference.
 */
export type BetaMethod = "cumulative" | "uniform" | "decreasing" | "projected";

/** Every {@link BetaMethod}, for option parsing. */
export const BETA_METHODS: readonly BetaMethod[] = [
  "cumulative",
  "uniform",
  "decreasing",
  "projected",
];

/** Options for {@link convexify}. */
export interface ConvexifyOptions {
  /** MCT's `num_interpolation` (ip). @default 4 (the released default) */
  waypoints?: number;
  /** How β is formed. @default "cumulative" */
  beta?: BetaMethod;
}

/** A convexified trajectory. */
export interface Convexified<T extends FlatParams = Float32Array> {
  /** Snapshot count S of the source trajectory; times run over [0, S−1]. */
  numSnapshots: number;
  /** Length of every flat vector. */
  numParams: number;
  /** The layers β is computed per, tiling [0, numParams). */
  layers: LayerSpan[];
  /** The `waypoints` setting that produced this (may be fewer than stored). */
  requestedWaypoints: number;
  /** How β was formed. */
  betaMethod: BetaMethod;
  /** Snapshot index of each waypoint: starts at 0, ends at S−1, increasing. */
  waypointIndices: number[];
  /** The (smoothed) waypoints, one flat vector per index. */
  waypoints: T[];
  /**
   * One table per segment k (waypoint k to k+1): rows are the snapshots
   * `waypointIndices[k]..waypointIndices[k+1]`, columns the layers, row-major
   * `[(rows) × layers.length]`, float64.
   */
  beta: Float64Array[];
}

/** Where a time falls: segment, local row, fraction. */
export interface Location {
  /** Segment k, between waypoints k and k+1. */
  segment: number;
  /** Row of the segment's β table at or below t. */
  low: number;
  /** The next row (`low + 1`, or `low` at the very end). */
  high: number;
  /** t − ⌊t⌋, the fraction between the two rows. */
  alpha: number;
}

/**
 * Waypoint snapshot indices for `waypoints` = ip and S snapshots: [0, S−1] for
 * ip = 2, otherwise `range(0, S, ⌊S/(ip−1)⌋)` with S−1 appended when missing
 * (so ip = 5 with S = 51 gives 6 indices, ending …, 48, 50).
 *
 * @param numSnapshots S ≥ 2
 * @param waypoints ip ≥ 2, with ⌊S/(ip−1)⌋ ≥ 1
 * @returns increasing indices from 0 to S−1
 * @throws {RangeError} for settings that give no valid split
 *
 * @example
 * ```ts
 * import { waypointIndices } from "./convexify.ts";
 * const idx = waypointIndices(51, 4);
 * if (idx.join() !== "0,17,34,50") throw new Error(idx.join());
 * ```
 */
export function waypointIndices(
  numSnapshots: number,
  waypoints: number,
): number[] {
  if (!Number.isInteger(numSnapshots) || numSnapshots < 2) {
    throw new RangeError(
      `a trajectory needs at least 2 snapshots, got ${numSnapshots}`,
    );
  }
  if (!Number.isInteger(waypoints) || waypoints < 2) {
    throw new RangeError(
      `waypoints must be an integer >= 2, got ${waypoints}`,
    );
  }
  const last = numSnapshots - 1;
  if (waypoints === 2) return [0, last];
  const step = Math.floor(numSnapshots / (waypoints - 1));
  if (step < 1) {
    throw new RangeError(
      `waypoints ${waypoints} is too many for ${numSnapshots} snapshots ` +
        `(at most ${numSnapshots + 1})`,
    );
  }
  const idx: number[] = [];
  for (let i = 0; i < numSnapshots; i += step) idx.push(i);
  if (idx[idx.length - 1] !== last) idx.push(last);
  return idx;
}

/**
 * Number of β scalars stored for one expert: (S − 1 + segments) rows times the
 * layer count (ip = 4, S = 51, 14 layers: 53 × 14 = 742).
 */
export function betaTableSize(
  numSnapshots: number,
  waypoints: number,
  numLayers: number,
): number {
  const segments = waypointIndices(numSnapshots, waypoints).length - 1;
  return (numSnapshots - 1 + segments) * numLayers;
}

function checkLayers(layers: readonly LayerSpan[], numParams: number): void {
  if (layers.length === 0) throw new RangeError("the layer list is empty");
  let next = 0;
  layers.forEach((l, i) => {
    if (l.offset !== next || !Number.isInteger(l.size) || l.size <= 0) {
      throw new RangeError(
        `layer ${i} (offset ${l.offset}, size ${l.size}) does not continue ` +
          `the previous layer at offset ${next}; layers must tile the vector`,
      );
    }
    next += l.size;
  });
  if (next !== numParams) {
    throw new RangeError(
      `layers cover ${next} parameters but the snapshots have ${numParams}`,
    );
  }
}

/**
 * Frobenius norm of θ_{j+1} − θ_j per layer, in float64.
 *
 * @returns `[(S−1) × layers]` row-major
 */
export function stepNorms(
  snapshots: readonly FlatParams[],
  layers: readonly LayerSpan[],
): Float64Array {
  const L = layers.length;
  const out = new Float64Array((snapshots.length - 1) * L);
  for (let j = 0; j + 1 < snapshots.length; j++) {
    const a = snapshots[j]!;
    const b = snapshots[j + 1]!;
    for (let l = 0; l < L; l++) {
      const { offset, size } = layers[l]!;
      let s = 0;
      for (let i = offset; i < offset + size; i++) {
        const d = b[i]! - a[i]!;
        s += d * d;
      }
      out[j * L + l] = Math.sqrt(s);
    }
  }
  return out;
}

/**
 * Cumulative step fractions for snapshots `from..to` from precomputed step
 * norms. The total is the same running sum as the last row, so the last row is
 * exactly 1 (or 0 for a layer that never moves, whose denominator becomes 1).
 */
function cumulativeBeta(
  norms: Float64Array,
  L: number,
  from: number,
  to: number,
): Float64Array {
  const rows = to - from + 1;
  const out = new Float64Array(rows * L);
  for (let l = 0; l < L; l++) {
    let total = 0;
    for (let j = from; j < to; j++) total += norms[j * L + l]!;
    const denom = total === 0 ? 1 : total;
    let cum = 0;
    for (let e = 0; e < rows; e++) {
      out[e * L + l] = cum / denom;
      if (e + 1 < rows) cum += norms[(from + e) * L + l]!;
    }
  }
  return out;
}

function ablationBeta(
  snapshots: readonly FlatParams[],
  L: number,
  method: Exclude<BetaMethod, "cumulative">,
): Float64Array {
  const S = snapshots.length;
  const values = new Float64Array(S);
  if (method === "uniform") {
    for (let e = 0; e < S; e++) values[e] = e / (S - 1);
  } else if (method === "decreasing") {
    // The reference's weights 51−j over 1326 = 51·52/2, generalised to S.
    const denom = (S * (S + 1)) / 2;
    let cum = 0;
    for (let e = 0; e < S; e++) {
      cum += S - e;
      values[e] = cum / denom;
    }
  } else {
    const first = snapshots[0]!;
    const final = snapshots[S - 1]!;
    const P = first.length;
    let norm2 = 0;
    for (let i = 0; i < P; i++) norm2 += (final[i]! - first[i]!) ** 2;
    const denom = norm2 === 0 ? 1 : norm2;
    for (let e = 0; e < S; e++) {
      const s = snapshots[e]!;
      let dot = 0;
      for (let i = 0; i < P; i++) {
        dot += (s[i]! - first[i]!) * (final[i]! - first[i]!);
      }
      values[e] = dot / denom;
    }
  }
  const out = new Float64Array(S * L);
  for (let e = 0; e < S; e++) out.fill(values[e]!, e * L, (e + 1) * L);
  return out;
}

function like<T extends FlatParams>(proto: T, n: number): T {
  return (proto instanceof Float64Array
    ? new Float64Array(n)
    : new Float32Array(n)) as T;
}

/**
 * Build MCT's convexified form of one SGD trajectory.
 *
 * β is computed on the unsmoothed snapshots; then, for more than 2 waypoints,
 * each interior waypoint at snapshot i becomes (θ_{i−1} + θ_{i+1})/2 and the
 * final one (θ_{S−2} + θ_{S−1})/2, with θ_0 kept. That mismatch between β and
 * the smoothed waypoints is the reference's (reference.md §8 item 8).
 *
 * @param snapshots S ≥ 2 flat vectors of equal length (float32 or float64)
 * @param layers the per-layer blocks, tiling the vector (a ParamLayout's
 *   `tensors` qualifies)
 * @param options waypoint count and β method
 * @returns waypoints in the snapshots' precision and float64 β tables
 * @throws {RangeError} on inconsistent input or an ablation with ip ≠ 2
 *
 * @example
 * ```ts
 * import { convexify, pointAt } from "./convexify.ts";
 * const snaps = [0, 1, 3, 6].map((v) => Float32Array.of(v, -v));
 * const conv = convexify(snaps, [{ offset: 0, size: 2 }], { waypoints: 2 });
 * // one layer that moved 1, 2, 3: after 2 snapshots it is 3/6 of the way
 * if (pointAt(conv, 2)[0] !== 3) throw new Error();
 * ```
 */
export function convexify<T extends FlatParams>(
  snapshots: readonly T[],
  layers: readonly LayerSpan[],
  options: ConvexifyOptions = {},
): Convexified<T> {
  const ip = options.waypoints ?? 4;
  const method = options.beta ?? "cumulative";
  if (!BETA_METHODS.includes(method)) {
    throw new RangeError(
      `beta must be one of ${BETA_METHODS.join(", ")}, got ${method}`,
    );
  }
  const S = snapshots.length;
  const idx = waypointIndices(S, ip);
  if (method !== "cumulative" && ip !== 2) {
    throw new RangeError(
      `beta "${method}" is defined for 2 waypoints only, got ${ip}`,
    );
  }
  const first = snapshots[0]!;
  const P = first.length;
  snapshots.forEach((s, i) => {
    if (s.length !== P) {
      throw new RangeError(
        `snapshot ${i} has ${s.length} values, snapshot 0 has ${P}`,
      );
    }
  });
  checkLayers(layers, P);
  const L = layers.length;

  // β per segment, on the unsmoothed trajectory.
  const beta: Float64Array[] = [];
  if (method === "cumulative") {
    const norms = stepNorms(snapshots, layers);
    for (let k = 0; k + 1 < idx.length; k++) {
      beta.push(cumulativeBeta(norms, L, idx[k]!, idx[k + 1]!));
    }
  } else {
    beta.push(ablationBeta(snapshots, L, method));
  }

  // Waypoints, smoothed when there are more than 2.
  const waypoints = idx.map((i, k) => {
    const w = like(first, P);
    if (ip === 2 || k === 0) {
      w.set(snapshots[i]!);
      return w;
    }
    const a = k === idx.length - 1 ? snapshots[S - 2]! : snapshots[i - 1]!;
    const b = k === idx.length - 1 ? snapshots[S - 1]! : snapshots[i + 1]!;
    for (let p = 0; p < P; p++) w[p] = (a[p]! + b[p]!) / 2;
    return w;
  });

  return {
    numSnapshots: S,
    numParams: P,
    layers: layers.map(({ offset, size }) => ({ offset, size })),
    requestedWaypoints: ip,
    betaMethod: method,
    waypointIndices: idx,
    waypoints,
    beta,
  };
}

/** torch.lerp: two branches so that w = 1 lands exactly on b. */
function lerp(a: number, b: number, w: number): number {
  return Math.abs(w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w);
}

/**
 * Where real time t falls in a convexified trajectory.
 *
 * @param conv the convexified trajectory
 * @param t a time in [0, S−1]
 * @throws {RangeError} if t is not a number in [0, S−1]
 */
export function locate(conv: Convexified<FlatParams>, t: number): Location {
  const last = conv.numSnapshots - 1;
  if (typeof t !== "number" || !(t >= 0 && t <= last)) {
    throw new RangeError(`time ${t} is outside [0, ${last}]`);
  }
  const idx = conv.waypointIndices;
  const K = idx.length - 1;
  if (t === last) {
    const rows = idx[K]! - idx[K - 1]!;
    return { segment: K - 1, low: rows, high: rows, alpha: 0 };
  }
  let k = 0;
  while (k + 1 < K && idx[k + 1]! <= t) k++;
  const whole = Math.floor(t);
  const low = whole - idx[k]!;
  return { segment: k, low, high: low + 1, alpha: t - whole };
}

/**
 * The parameters at real time t: per layer, β = lerp(β_low, β_high, α) and
 * θ = lerp(W_k, W_{k+1}, β), both with torch.lerp's formula. At a waypoint
 * time this returns that waypoint exactly; at t = S−1 the final waypoint.
 *
 * @param conv the convexified trajectory
 * @param t a time in [0, S−1]
 * @param out optional destination of `numParams` values (same precision)
 * @returns `out`, or a new vector in the waypoints' precision
 * @throws {RangeError} if t is outside [0, S−1] or `out` has the wrong size
 */
export function pointAt<T extends FlatParams>(
  conv: Convexified<T>,
  t: number,
  out?: T,
): T {
  const loc = locate(conv, t);
  const W0 = conv.waypoints[loc.segment]!;
  const W1 = conv.waypoints[loc.segment + 1]!;
  const dst = out ?? like(W0, conv.numParams);
  if (dst.length !== conv.numParams) {
    throw new RangeError(
      `output has ${dst.length} values, expected ${conv.numParams}`,
    );
  }
  if (t === conv.numSnapshots - 1) {
    // The end of the trajectory is the final waypoint by definition, even for
    // a layer whose β stayed 0 because it never moved in the last segment.
    dst.set(W1);
    return dst;
  }
  const table = conv.beta[loc.segment]!;
  const L = conv.layers.length;
  for (let l = 0; l < L; l++) {
    const b = lerp(
      table[loc.low * L + l]!,
      table[loc.high * L + l]!,
      loc.alpha,
    );
    const { offset, size } = conv.layers[l]!;
    const end = offset + size;
    if (Math.abs(b) < 0.5) {
      for (let i = offset; i < end; i++) {
        dst[i] = W0[i]! + b * (W1[i]! - W0[i]!);
      }
    } else {
      const c = 1 - b;
      for (let i = offset; i < end; i++) {
        dst[i] = W1[i]! - (W1[i]! - W0[i]!) * c;
      }
    }
  }
  return dst;
}

/**
 * The β table of a segment as rows of per-layer values (for reports/tests).
 *
 * @param conv the convexified trajectory
 * @param segment segment index
 * @returns `rows × layers` nested arrays
 */
export function betaRows(
  conv: Convexified<FlatParams>,
  segment: number,
): number[][] {
  const table = conv.beta[segment];
  if (table === undefined) {
    throw new RangeError(
      `segment ${segment} is outside [0, ${conv.beta.length - 1}]`,
    );
  }
  const L = conv.layers.length;
  const rows: number[][] = [];
  for (let r = 0; r < table.length / L; r++) {
    rows.push(Array.from(table.subarray(r * L, (r + 1) * L)));
  }
  return rows;
}
