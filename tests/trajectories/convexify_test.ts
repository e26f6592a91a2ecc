/** Properties of the convexified trajectory beyond the golden cases. */
import assert from "node:assert/strict";
import { Rng } from "../../src/util/rng.ts";
import {
  betaRows,
  betaTableSize,
  convexify,
  type LayerSpan,
  locate,
  pointAt,
  waypointIndices,
} from "../../src/trajectories/convexify.ts";

/** A random walk with layer-dependent speeds; layer 2 never moves. */
function walk(
  S: number,
  seed = 7,
): { snaps: Float32Array[]; layers: LayerSpan[] } {
  const layers: LayerSpan[] = [
    { offset: 0, size: 12 },
    { offset: 12, size: 3 },
    { offset: 15, size: 4 },
    { offset: 19, size: 9 },
  ];
  const P = 28;
  const rng = new Rng(seed);
  const snaps: Float32Array[] = [rng.normalArray(P)];
  for (let e = 1; e < S; e++) {
    const next = snaps[e - 1]!.slice();
    for (let i = 0; i < P; i++) {
      if (i >= 15 && i < 19) continue;
      next[i] = next[i]! + (i < 12 ? 0.1 : 0.01) * rng.normal() / e;
    }
    snaps.push(next);
  }
  return { snaps, layers };
}

Deno.test("waypoint indices follow the reference rule", () => {
  assert.deepEqual(waypointIndices(51, 2), [0, 50]);
  assert.deepEqual(waypointIndices(51, 3), [0, 25, 50]);
  assert.deepEqual(waypointIndices(51, 4), [0, 17, 34, 50]);
  assert.deepEqual(waypointIndices(51, 6), [0, 10, 20, 30, 40, 50]);
  // Uneven splits: the reference appends 50 as an extra waypoint.
  assert.deepEqual(waypointIndices(51, 5), [0, 12, 24, 36, 48, 50]);
  assert.deepEqual(waypointIndices(51, 7), [0, 8, 16, 24, 32, 40, 48, 50]);
  assert.deepEqual(waypointIndices(2, 2), [0, 1]);
  assert.throws(() => waypointIndices(1, 2), RangeError);
  assert.throws(() => waypointIndices(51, 1), RangeError);
  assert.throws(() => waypointIndices(3, 5), RangeError);
  assert.equal(betaTableSize(51, 4, 14), 742);
  assert.equal(betaTableSize(51, 2, 14), 51 * 14);
});

Deno.test("reconstruction at waypoint times is the stored waypoint", () => {
  const { snaps, layers } = walk(51);
  for (const ip of [2, 3, 4, 5, 7]) {
    const conv = convexify(snaps, layers, { waypoints: ip });
    conv.waypointIndices.forEach((t, k) => {
      assert.deepEqual(pointAt(conv, t), conv.waypoints[k], `ip ${ip} t ${t}`);
    });
    // ip = 2 keeps the raw endpoints.
    if (ip === 2) {
      assert.deepEqual(conv.waypoints[0], snaps[0]);
      assert.deepEqual(conv.waypoints[1], snaps[50]);
    }
  }
});

Deno.test("cumulative beta is monotone in [0, 1] from 0 to 1", () => {
  const { snaps, layers } = walk(51);
  for (const ip of [2, 4, 5]) {
    const conv = convexify(snaps, layers, { waypoints: ip });
    conv.beta.forEach((_, k) => {
      const rows = betaRows(conv, k);
      for (let l = 0; l < layers.length; l++) {
        const col = rows.map((r) => r[l]!);
        assert.equal(col[0], 0);
        // Layer 2 never moves: total 0, denominator 1, β stays 0.
        assert.equal(col[col.length - 1], l === 2 ? 0 : 1);
        col.forEach((v, i) => {
          assert.ok(v >= 0 && v <= 1, `ip ${ip} seg ${k} layer ${l} row ${i}`);
          if (i > 0) assert.ok(v >= col[i - 1]!, `not monotone at row ${i}`);
        });
      }
    });
  }
});

Deno.test("uneven ip covers the whole range [0, S-1], segment by segment", () => {
  const { snaps, layers } = walk(51);
  for (const ip of [5, 7, 8]) {
    const conv = convexify(snaps, layers, { waypoints: ip });
    const idx = conv.waypointIndices;
    assert.equal(idx[idx.length - 1], 50);
    const seen = new Set<number>();
    for (let t = 0; t <= 50; t += 0.25) {
      const p = pointAt(conv, t);
      assert.ok(p.every(Number.isFinite), `ip ${ip} t ${t}`);
      seen.add(locate(conv, t).segment);
    }
    // Every segment, including the short last one the reference ignores.
    assert.equal(seen.size, idx.length - 1, `ip ${ip}`);
    // Continuity at interior waypoints (layers that move).
    for (const t of idx.slice(1, -1)) {
      const before = pointAt(conv, t - 1e-9);
      const at = pointAt(conv, t);
      for (let i = 0; i < 28; i++) {
        if (i >= 15 && i < 19) continue;
        assert.ok(
          Math.abs(before[i]! - at[i]!) < 1e-5,
          `ip ${ip} t ${t} i ${i}`,
        );
      }
    }
    // The end is the final smoothed waypoint, (θ_49 + θ_50)/2.
    const end = pointAt(conv, 50);
    for (let i = 0; i < 28; i++) {
      assert.equal(end[i], Math.fround((snaps[49]![i]! + snaps[50]![i]!) / 2));
    }
  }
});

Deno.test("times outside [0, S-1] are a RangeError", () => {
  const { snaps, layers } = walk(11);
  const conv = convexify(snaps, layers, { waypoints: 3 });
  for (const t of [-1e-9, 10.000001, NaN, Infinity, -Infinity]) {
    assert.throws(() => pointAt(conv, t), RangeError, `t=${t}`);
  }
  assert.doesNotThrow(() => pointAt(conv, 10));
  assert.throws(() => pointAt(conv, 1, new Float32Array(3)), RangeError);
  const out = new Float32Array(28);
  assert.equal(pointAt(conv, 2.5, out), out);
});

Deno.test("smoothing: interior waypoints average neighbours, the last the final two", () => {
  const { snaps, layers } = walk(51);
  const conv = convexify(snaps, layers, { waypoints: 4 });
  assert.deepEqual(conv.waypoints[0], snaps[0]);
  const mean = (a: Float32Array, b: Float32Array) =>
    a.map((v, i) => Math.fround((v + b[i]!) / 2));
  assert.deepEqual(conv.waypoints[1], mean(snaps[16]!, snaps[18]!));
  assert.deepEqual(conv.waypoints[2], mean(snaps[33]!, snaps[35]!));
  assert.deepEqual(conv.waypoints[3], mean(snaps[49]!, snaps[50]!));
  assert.deepEqual(conv.beta.map((t) => t.length / 4), [18, 18, 17]);
});

Deno.test("beta ablations (ip = 2)", () => {
  const { snaps, layers } = walk(51);
  const L = layers.length;
  const uniform = convexify(snaps, layers, { waypoints: 2, beta: "uniform" });
  betaRows(uniform, 0).forEach((r, e) => {
    assert.ok(r.every((v) => Math.abs(v - e / 50) < 1e-15));
  });

  const dec = convexify(snaps, layers, { waypoints: 2, beta: "decreasing" });
  const d = betaRows(dec, 0).map((r) => r[0]!);
  // The reference's formula: β_e = Σ_{j≤e} (51−j)/1326, so β_0 = 51/1326.
  assert.ok(Math.abs(d[0]! - 51 / 1326) < 1e-15);
  assert.ok(Math.abs(d[1]! - (51 + 50) / 1326) < 1e-15);
  assert.equal(d[50], 1);
  // The steps shrink: that is what "decreasing" refers to.
  for (let e = 2; e <= 50; e++) {
    assert.ok(d[e]! - d[e - 1]! < d[e - 1]! - (d[e - 2] ?? 0) + 1e-15);
  }
  // Because β_0 ≠ 0, t = 0 is not θ_0 under this ablation.
  assert.notDeepEqual(pointAt(dec, 0), snaps[0]);

  const proj = convexify(snaps, layers, { waypoints: 2, beta: "projected" });
  const rows = betaRows(proj, 0);
  for (const r of rows) assert.ok(r.every((v) => v === r[0]), "one scalar");
  assert.equal(rows[0]![0], 0);
  assert.equal(rows[50]![0], 1);
  // Projection of θ_e − θ_0 on θ_50 − θ_0, checked directly at one e.
  let dot = 0;
  let n2 = 0;
  for (let i = 0; i < 28; i++) {
    const a = snaps[20]![i]! - snaps[0]![i]!;
    const b = snaps[50]![i]! - snaps[0]![i]!;
    dot += a * b;
    n2 += b * b;
  }
  assert.ok(Math.abs(rows[20]![0]! - dot / n2) < 1e-12);
  assert.equal(proj.beta[0]!.length, 51 * L);

  for (const beta of ["uniform", "decreasing", "projected"] as const) {
    assert.throws(
      () => convexify(snaps, layers, { waypoints: 4, beta }),
      RangeError,
    );
  }
});

Deno.test("projected beta may leave [0, 1] and be non-monotone", () => {
  // A path that overshoots the end and comes back.
  const snaps = [0, 2, 1].map((v) => Float32Array.of(v, v));
  const conv = convexify(snaps, [{ offset: 0, size: 2 }], {
    waypoints: 2,
    beta: "projected",
  });
  assert.deepEqual(betaRows(conv, 0).map((r) => r[0]), [0, 2, 1]);
  assert.deepEqual(pointAt(conv, 1), Float32Array.of(2, 2));
});

Deno.test("two snapshots, float64 input and bad layers", () => {
  const snaps = [Float64Array.of(0, 0, 1), Float64Array.of(1, 2, 1)];
  const layers = [{ offset: 0, size: 2 }, { offset: 2, size: 1 }];
  const conv = convexify(snaps, layers, { waypoints: 2 });
  const mid = pointAt(conv, 0.5);
  assert.ok(mid instanceof Float64Array);
  assert.deepEqual(mid, Float64Array.of(0.5, 1, 1));
  assert.throws(
    () => convexify([snaps[0]!], layers, { waypoints: 2 }),
    RangeError,
  );
  assert.throws(
    () => convexify(snaps, [{ offset: 0, size: 2 }], { waypoints: 2 }),
    /cover 2 parameters/,
  );
  assert.throws(
    () => convexify(snaps, [{ offset: 1, size: 2 }], { waypoints: 2 }),
    /tile/,
  );
  assert.throws(
    () => convexify([snaps[0]!, Float64Array.of(1)], layers, { waypoints: 2 }),
    /snapshot 1 has 1 values/,
  );
});
