/** The convexified store, end to end from an SGD store of the golden run. */
import assert from "node:assert/strict";
import * as path from "node:path";
import { assertClose, loadGolden, maxAbsDiff } from "../_golden.ts";
import { toReferenceFlat } from "../../src/model/reference_layout.ts";
import { CorruptFileError, InputError } from "../../src/util/errors.ts";
import { sha256 } from "../../src/util/fs.ts";
import { pointAt } from "../../src/trajectories/convexify.ts";
import {
  convexifyStore,
  hasConvexified,
  listConvexified,
  openConvexifiedStore,
  readConvexified,
} from "../../src/trajectories/convexified_store.ts";
import { createStore, writeExpert } from "../../src/trajectories/store.ts";
import {
  goldenNativeSnapshots,
  header,
  randomSnapshots,
  tempDir,
} from "./_fixtures.ts";

const META = { seed: 3, testAccuracy: 0.75, wallSeconds: 1.5 };

async function sgdStore(dir: string) {
  const store = await createStore(dir, header());
  await writeExpert(store, 0, goldenNativeSnapshots(), META);
  await writeExpert(store, 1, randomSnapshots(store.layout.size, 51, 4), {
    ...META,
    seed: 4,
  });
  return store;
}

Deno.test("convexified store reproduces the golden ip4 reconstruction", async () => {
  const root = await tempDir();
  try {
    const src = path.join(root, "sgd");
    const dst = path.join(root, "mct");
    const store = await sgdStore(src);
    const conv = await convexifyStore(src, dst, { quiet: true });
    assert.deepEqual(conv.settings, {
      waypoints: 4,
      beta: "cumulative",
      waypointDtype: "float32",
      betaDtype: "float64",
    });
    // The recorded source hash is that of the (current) source manifest.
    const srcManifest = await Deno.readFile(path.join(src, "manifest.json"));
    assert.equal(conv.source.manifestSha256, sha256(srcManifest));

    const entries = await listConvexified(conv);
    assert.deepEqual(entries.map((e) => e.index), [0, 1]);
    const e0 = entries[0]!;
    assert.deepEqual(e0.waypointIndices, [0, 17, 34, 50]);
    assert.deepEqual(e0.segmentRows, [18, 18, 17]);
    assert.equal(e0.bytes, 4 * 192 * 4 + 53 * 6 * 8);
    assert.equal(e0.seed, 3);

    const manifest = JSON.parse(
      await Deno.readTextFile(path.join(dst, "manifest.json")),
    );
    assert.equal(manifest.kind, "convexified");
    assert.equal(manifest.formatVersion, 1);
    assert.equal(manifest.convexify.betaDtype, "float64");
    assert.equal(manifest.experts.length, 2);

    const c = await readConvexified(conv, 0);
    const golden = loadGolden("convexify.json").ip4;
    for (const q of golden.get_point_n) {
      const ours = toReferenceFlat(store.layout, pointAt(c, q.t));
      if (q.params === null) {
        assert.deepEqual(
          ours,
          toReferenceFlat(store.layout, c.waypoints[3]!),
        );
        continue;
      }
      assert.ok(maxAbsDiff(ours, q.params.data) <= 5e-7, `t=${q.t}`);
      assertClose(ours, q.params.data, 1e-6, `t=${q.t}`);
    }
    assert.ok(await hasConvexified(conv, 1));
    assert.ok(!(await hasConvexified(conv, 2)));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("resume, settings mismatch, ablation, damage", async () => {
  const root = await tempDir();
  try {
    const src = path.join(root, "sgd");
    const dst = path.join(root, "mct");
    const store = await sgdStore(src);
    await convexifyStore(src, dst, { waypoints: 2, quiet: true });
    const before = await Deno.stat(path.join(dst, "expert_000.cvx"));
    // A new expert in the source: only it is converted on the rerun.
    await writeExpert(store, 2, randomSnapshots(192, 51, 8), META);
    const conv = await convexifyStore(src, dst, { waypoints: 2, quiet: true });
    const after = await Deno.stat(path.join(dst, "expert_000.cvx"));
    assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
    assert.equal((await listConvexified(conv)).length, 3);

    await assert.rejects(
      () => convexifyStore(src, dst, { waypoints: 4, quiet: true }),
      (e: Error) => e instanceof InputError && /other settings/.test(e.message),
    );
    await assert.rejects(
      () =>
        convexifyStore(src, path.join(root, "x"), {
          waypoints: 4,
          beta: "uniform",
          quiet: true,
        }),
      /defined for 2 waypoints only/,
    );
    const abl = await convexifyStore(src, path.join(root, "abl"), {
      waypoints: 2,
      beta: "decreasing",
      quiet: true,
    });
    const d = await readConvexified(abl, 0);
    assert.equal(d.betaMethod, "decreasing");
    assert.ok(Math.abs(d.beta[0]![0]! - 51 / 1326) < 1e-15);

    const file = path.join(dst, "expert_001.cvx");
    const good = await Deno.readFile(file);
    const bad = good.slice();
    bad[good.byteLength - 3] = bad[good.byteLength - 3]! ^ 0x10;
    await Deno.writeFile(file, bad);
    await assert.rejects(
      () => readConvexified(conv, 1),
      (e: Error) =>
        e instanceof CorruptFileError && e.message.includes(file) &&
        /SHA-256/.test(e.message),
    );
    await Deno.writeFile(file, good.subarray(0, 1000));
    await assert.rejects(
      () => readConvexified(conv, 1),
      (e: Error) =>
        e instanceof CorruptFileError && e.message.includes(file) &&
        /truncated/.test(e.message),
    );

    const mf = path.join(dst, "manifest.json");
    const m = JSON.parse(await Deno.readTextFile(mf));
    m.formatVersion = 7;
    await Deno.writeTextFile(mf, JSON.stringify(m));
    await assert.rejects(
      () => openConvexifiedStore(dst),
      /formatVersion 7 is not supported; this version of trajbench reads formatVersion 1/,
    );
    m.formatVersion = 1;
    m.convexify.betaDtype = "float32";
    await Deno.writeTextFile(mf, JSON.stringify(m));
    await assert.rejects(
      () => openConvexifiedStore(dst),
      /field "convexify.betaDtype" must be "float64"/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
