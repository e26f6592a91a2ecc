/** Storage accounting: the reference formula and measured stores. */
import assert from "node:assert/strict";
import * as path from "node:path";
import { convNetSpec, paramLayout } from "../../src/model/layout.ts";
import { convexifyStore } from "../../src/trajectories/convexified_store.ts";
import {
  compareStores,
  convexifiedExpertBytes,
  measureStore,
  PUBLISHED_STORAGE,
  referenceStorage,
  sgdExpertBytes,
  STATED_PICKLE_OVERHEAD,
  toMiB,
} from "../../src/trajectories/storage.ts";
import { createStore, writeExpert } from "../../src/trajectories/store.ts";
import { header, randomSnapshots, tempDir } from "./_fixtures.ts";

Deno.test("parameter counts of the published comparison match the layouts", () => {
  const c10 = paramLayout(
    convNetSpec({ inChannels: 3, height: 32, width: 32, numClasses: 10 }),
  );
  const c100 = paramLayout(
    convNetSpec({ inChannels: 3, height: 32, width: 32, numClasses: 100 }),
  );
  const tiny = paramLayout(
    convNetSpec({ inChannels: 3, height: 64, width: 64, numClasses: 200 }),
  );
  const counts = PUBLISHED_STORAGE.map((r) => r.numParams);
  assert.deepEqual(counts, [c10.size, c100.size, tiny.size]);
  assert.deepEqual(counts, [320_010, 504_420, 1_938_120]);
  for (const l of [c10, c100, tiny]) assert.equal(l.tensors.length, 14);
});

Deno.test("formula vs published totals: within the stated pickle overhead", () => {
  for (const row of PUBLISHED_STORAGE) {
    const r = referenceStorage(row.numParams, row.numLayers);
    assert.equal(r.mctBetaScalars, 742, "53 points x 14 layers at ip=4");
    // MTT: 51 snapshots; stated overhead about 0.2 MB per expert.
    const mttOverhead = (row.mttBytes - row.experts * r.mttBytesPerExpert) /
      row.experts;
    assert.ok(
      mttOverhead > 0 && mttOverhead <= STATED_PICKLE_OVERHEAD.mttPerExpert,
      `${row.dataset} MTT overhead ${mttOverhead}`,
    );
    assert.ok(mttOverhead > 0.9 * STATED_PICKLE_OVERHEAD.mttPerExpert);
    // MCT: 4 waypoints + 742 float32 β values; about 0.21 MB per expert.
    const mctOverhead = (row.mctBytes - row.experts * r.mctBytesPerExpert) /
      row.experts;
    assert.ok(
      mctOverhead > 0 && mctOverhead <= STATED_PICKLE_OVERHEAD.mctPerExpert,
      `${row.dataset} MCT overhead ${mctOverhead}`,
    );
    assert.ok(mctOverhead > 0.9 * STATED_PICKLE_OVERHEAD.mctPerExpert);
    // The "MB" labels are MiB, to two decimals.
    assert.equal(toMiB(row.mttBytes).toFixed(2), row.mttMiB.toFixed(2));
    assert.equal(toMiB(row.datmBytes).toFixed(2), row.datmMiB.toFixed(2));
    assert.equal(toMiB(row.mctBytes).toFixed(2), row.mctMiB.toFixed(2));
  }
  // Published MTT/MCT ratios 12.29, 12.45, 12.67.
  assert.deepEqual(
    PUBLISHED_STORAGE.map((r) => (r.mttBytes / r.mctBytes).toFixed(2)),
    ["12.29", "12.45", "12.67"],
  );
  // Per-expert figures of reference.md §3 / §5.2 (MB = 10^6 bytes).
  assert.equal((sgdExpertBytes(320_010) / 1e6).toFixed(2), "65.28");
  assert.equal((sgdExpertBytes(1_938_120) / 1e6).toFixed(2), "395.38");
  assert.equal(
    (referenceStorage(320_010, 14).mctWaypointBytesPerExpert / 1e6).toFixed(2),
    "5.12",
  );
  assert.equal(
    (referenceStorage(320_010, 14, { waypoints: 2 }).mctWaypointBytesPerExpert /
      1e6).toFixed(2),
    "2.56",
  );
});

Deno.test("measured bytes of a real store = formula + metadata", async () => {
  const root = await tempDir();
  try {
    const src = path.join(root, "sgd");
    const dst = path.join(root, "mct");
    const store = await createStore(src, header());
    const P = store.layout.size;
    const L = store.layout.tensors.length;
    for (let i = 0; i < 3; i++) {
      await writeExpert(store, i, randomSnapshots(P, 51, i + 1), {
        seed: i,
        testAccuracy: 0.5,
        wallSeconds: 1,
      });
    }
    await convexifyStore(src, dst, { quiet: true });
    // A leftover temporary file counts towards the folder, separately.
    await Deno.writeFile(
      path.join(src, "expert_003.f32.tmp-1-x"),
      new Uint8Array(5),
    );

    const cmp = await compareStores(src, dst);
    const stat = async (dir: string, name: string) =>
      (await Deno.stat(path.join(dir, name))).size;

    assert.equal(cmp.sgd.kind, "sgd");
    assert.equal(cmp.sgd.manifestBytes, await stat(src, "manifest.json"));
    assert.equal(cmp.sgd.dataBytes, 3 * sgdExpertBytes(P));
    assert.equal(cmp.sgd.otherBytes, 5);
    assert.equal(
      cmp.sgd.totalBytes,
      3 * sgdExpertBytes(P) + cmp.sgd.manifestBytes + cmp.sgd.recordBytes + 5,
    );
    assert.equal(cmp.sgd.experts.length, 3);
    for (const e of cmp.sgd.experts) {
      assert.equal(e.dataBytes, 51 * P * 4);
      assert.equal(e.recordBytes, await stat(src, `expert_00${e.index}.json`));
    }

    const perExpert = convexifiedExpertBytes(P, L);
    assert.equal(perExpert, 4 * P * 4 + 53 * L * 8);
    assert.equal(cmp.convexified.kind, "convexified");
    assert.equal(cmp.convexified.dataBytes, 3 * perExpert);
    assert.equal(cmp.convexified.otherBytes, 0);
    assert.equal(
      cmp.convexified.totalBytes,
      3 * perExpert + cmp.convexified.manifestBytes +
        cmp.convexified.recordBytes,
    );
    assert.equal(cmp.ratio, cmp.sgd.totalBytes / cmp.convexified.totalBytes);
    assert.equal(cmp.dataRatio, sgdExpertBytes(P) / perExpert);

    const again = await measureStore(dst);
    assert.deepEqual(again, cmp.convexified);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("uneven ip stores the extra waypoint", () => {
  // ip = 5 with 51 snapshots: indices 0,12,24,36,48,50 — 6 waypoints, 55 rows.
  assert.equal(
    convexifiedExpertBytes(100, 2, { waypoints: 5 }),
    6 * 100 * 4 + 55 * 2 * 8,
  );
  assert.equal(
    convexifiedExpertBytes(100, 2, { waypoints: 2, betaBytes: 4 }),
    2 * 100 * 4 + 51 * 2 * 4,
  );
});
