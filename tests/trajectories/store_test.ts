/** The SGD trajectory store: layout on disk, validation, damage, atomicity. */
import assert from "node:assert/strict";
import * as path from "node:path";
import { loadGolden } from "../_golden.ts";
import { CorruptFileError, InputError } from "../../src/util/errors.ts";
import { exists, sha256 } from "../../src/util/fs.ts";
import {
  createStore,
  exportExpertReferenceJson,
  hasExpert,
  listExperts,
  openStore,
  readExpert,
  snapshot,
  snapshots,
  writeExpert,
} from "../../src/trajectories/store.ts";
import {
  goldenNativeSnapshots,
  header,
  randomSnapshots,
  tempDir,
  TOY_SPEC,
} from "./_fixtures.ts";

/** A parsed manifest being edited into an invalid one. */
// deno-lint-ignore no-explicit-any
type RawManifest = any;

const META = { seed: 3, testAccuracy: 0.75, wallSeconds: 1.5 };
const P = 192;

async function readJsonFile(file: string) {
  return JSON.parse(await Deno.readTextFile(file));
}

Deno.test("write, read and the files on disk", async () => {
  const dir = await tempDir();
  try {
    const store = await createStore(dir, header());
    assert.equal(store.layout.size, P);
    const snaps = goldenNativeSnapshots();
    const entry = await writeExpert(store, 0, snaps, META);
    const file = path.join(dir, "expert_000.f32");
    const bytes = await Deno.readFile(file);
    assert.equal(bytes.byteLength, 51 * P * 4);
    assert.equal(entry.bytes, 51 * P * 4);
    assert.equal(entry.sha256, sha256(bytes));
    // Raw little-endian float32, snapshots back to back.
    const view = new DataView(bytes.buffer);
    assert.equal(view.getFloat32((7 * P + 5) * 4, true), snaps[7]![5]);

    const traj = await readExpert(store, 0);
    assert.equal(traj.numSnapshots, 51);
    snaps.forEach((s, e) => assert.deepEqual(snapshot(traj, e), s));
    assert.equal(snapshots(traj).length, 51);
    // A view, not a copy.
    assert.equal(snapshot(traj, 3).buffer, traj.data.buffer);
    assert.throws(() => snapshot(traj, 51), RangeError);
    assert.throws(() => snapshot(traj, 1.5), RangeError);
    assert.ok(await hasExpert(store, 0));
    assert.ok(!(await hasExpert(store, 1)));

    const manifest = await readJsonFile(path.join(dir, "manifest.json"));
    assert.equal(manifest.formatVersion, 1);
    assert.equal(manifest.kind, "sgd");
    assert.equal(manifest.dataset.name, "toy");
    assert.equal(manifest.model.numParams, P);
    assert.equal(manifest.model.tensors[4].name, "classifier.weight");
    assert.deepEqual(manifest.model.tensors[4].shape, [32, 4]);
    assert.equal(manifest.zca.regularization, 0.1);
    assert.equal(manifest.expert.lr, 0.1);
    assert.deepEqual(manifest.experts, [entry]);
    assert.deepEqual(
      await readJsonFile(path.join(dir, "expert_000.json")),
      entry,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("experts finishing in any order, concurrently", async () => {
  const dir = await tempDir();
  try {
    const store = await createStore(dir, header());
    await Promise.all(
      [4, 1, 3, 0, 2].map((i) =>
        writeExpert(store, i, randomSnapshots(P, 3, i + 1), {
          ...META,
          seed: i,
        })
      ),
    );
    const manifest = await readJsonFile(path.join(dir, "manifest.json"));
    assert.deepEqual(
      manifest.experts.map((e: { index: number }) => e.index),
      [0, 1, 2, 3, 4],
    );
    assert.deepEqual(
      (await listExperts(store)).map((e) => e.seed),
      [0, 1, 2, 3, 4],
    );
    // A second writer process opening the same folder sees all of them.
    const again = await openStore(dir);
    assert.equal((await listExperts(again)).length, 5);
    for (let i = 0; i < 5; i++) await readExpert(again, i);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createStore reopens the same store and refuses another", async () => {
  const dir = await tempDir();
  try {
    await createStore(dir, header());
    const store = await createStore(dir, header());
    await writeExpert(store, 0, randomSnapshots(P, 2), META);
    const reopened = await createStore(dir, header());
    assert.ok(await hasExpert(reopened, 0));
    const other = header();
    other.expert.lr = 0.01;
    await assert.rejects(
      () => createStore(dir, other),
      (e: Error) =>
        e instanceof InputError && /different header/.test(e.message),
    );
    await assert.rejects(
      () =>
        createStore(path.join(dir, "bad"), {
          ...header(),
          zca: { regularization: -1, transformSha256: "x" },
        }),
      /field "zca.regularization" must be a finite number >= 0, got -1/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("corrupt and truncated expert files are named", async () => {
  const dir = await tempDir();
  try {
    const store = await createStore(dir, header());
    await writeExpert(store, 0, randomSnapshots(P, 4), META);
    const file = path.join(dir, "expert_000.f32");
    const good = await Deno.readFile(file);

    const flipped = good.slice();
    flipped[100] = flipped[100]! ^ 0x01;
    await Deno.writeFile(file, flipped);
    await assert.rejects(
      () => readExpert(store, 0),
      (e: Error) =>
        e instanceof CorruptFileError && e.message.includes(file) &&
        /SHA-256 .* does not match/.test(e.message),
    );
    // Same size, so the cheap check still passes; reading does not.
    assert.ok(await hasExpert(store, 0));

    await Deno.writeFile(file, good.subarray(0, good.byteLength - 10));
    await assert.rejects(
      () => readExpert(store, 0),
      (e: Error) =>
        e instanceof CorruptFileError && e.message.includes(file) &&
        e.message.includes(`expected 4 snapshots × ${P} parameters × 4`) &&
        e.message.includes("truncated"),
    );
    assert.ok(!(await hasExpert(store, 0)));

    await Deno.remove(file);
    await assert.rejects(
      () => readExpert(store, 0),
      (e: Error) => e instanceof CorruptFileError && /missing/.test(e.message),
    );
    await assert.rejects(
      () => readExpert(store, 9),
      /expert 9 is not in this store/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("manifest of another version or with a bad field is refused", async () => {
  const dir = await tempDir();
  try {
    await createStore(dir, header());
    const file = path.join(dir, "manifest.json");
    const original = await readJsonFile(file);
    const edit = async (change: (m: RawManifest) => void) => {
      const m = structuredClone(original);
      change(m);
      await Deno.writeTextFile(file, JSON.stringify(m));
    };

    await edit((m) => (m.formatVersion = 2));
    await assert.rejects(
      () => openStore(dir),
      (e: Error) =>
        e instanceof InputError && e.message.startsWith(file) &&
        e.message.includes("formatVersion 2 is not supported") &&
        e.message.includes("reads formatVersion 1"),
    );
    await edit((m) => delete m.formatVersion);
    await assert.rejects(() => openStore(dir), /formatVersion undefined/);

    const cases: [(m: RawManifest) => void, RegExp][] = [
      [(m) => (m.kind = "convexified"), /field "kind" is "convexified"/],
      [
        (m) => (m.dataset.sha256 = "xyz"),
        /field "dataset.sha256" must be a 64-digit/,
      ],
      [
        (m) => (m.model.spec.netWidth = "2"),
        /field "model.spec.netWidth" must be an integer/,
      ],
      [
        (m) => (m.model.numParams = 5),
        /field "model.numParams" is 5 but the spec gives 192/,
      ],
      [
        (m) => (m.model.tensors[2].offset = 57),
        /field "model.tensors\[2\].offset" is 57 but this version's layout gives 56/,
      ],
      [
        (m) => (m.expert.batchSize = 0),
        /field "expert.batchSize" must be an integer >= 1/,
      ],
      [(m) => delete m.expert.augmentation, /field "expert.augmentation"/],
      [(m) => (m.experts = {}), /field "experts" must be an array/],
      [(m) => (m.experts = [{ index: 0 }]), /experts\[0\].*field "file"/],
    ];
    for (const [change, pattern] of cases) {
      await edit(change);
      await assert.rejects(() => openStore(dir), pattern);
    }
    await Deno.writeTextFile(file, "{ not json");
    await assert.rejects(
      () => openStore(dir),
      (e: Error) =>
        e instanceof CorruptFileError && /not valid JSON/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeExpert refuses aliased or identical snapshots, naming the epoch", async () => {
  const dir = await tempDir();
  try {
    const store = await createStore(dir, header());
    const snaps = randomSnapshots(P, 5);
    // The reference's CPU bug: every "snapshot" is the live weights.
    const live = snaps[4]!;
    await assert.rejects(
      () => writeExpert(store, 0, [snaps[0]!, live, live], META),
      /snapshot 2 \(epoch 2\) shares memory with snapshot 1/,
    );
    const copy = [snaps[0]!, snaps[1]!, snaps[1]!.slice(), snaps[2]!];
    await assert.rejects(
      () => writeExpert(store, 0, copy, META),
      /snapshot 2 \(epoch 2\) is identical to snapshot 1/,
    );
    const nan = snaps.map((s) => s.slice());
    nan[3]![7] = NaN;
    await assert.rejects(
      () => writeExpert(store, 0, nan, META),
      /snapshot 3 \(epoch 3\) has a non-finite value/,
    );
    await assert.rejects(
      () => writeExpert(store, 0, [snaps[0]!, new Float32Array(3)], META),
      /snapshot 1 has 3 values/,
    );
    await assert.rejects(
      () => writeExpert(store, 0, [snaps[0]!], META),
      /at least 2/,
    );
    await assert.rejects(() => writeExpert(store, -1, snaps, META), RangeError);
    await assert.rejects(
      () => writeExpert(store, 0, snaps, { ...META, testAccuracy: 75 }),
      /field "testAccuracy" must be a finite number in \[0, 1\]/,
    );
    // Nothing was written by the refused calls.
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name),
      ["manifest.json"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("leftovers of an interrupted write are not taken for an expert", async () => {
  const dir = await tempDir();
  try {
    const store = await createStore(dir, header());
    const snaps = randomSnapshots(P, 3);
    // Killed while writing the data: only a partial temporary file exists.
    await Deno.writeFile(
      path.join(dir, "expert_001.f32.tmp-999-0badf00d"),
      new Uint8Array(17),
    );
    // Killed after the data rename but before the record: no record.
    await writeExpert(store, 2, snaps, META);
    await Deno.remove(path.join(dir, "expert_002.json"));
    const again = await openStore(dir);
    assert.deepEqual(await listExperts(again), []);
    assert.ok(!(await hasExpert(again, 1)));
    assert.ok(!(await hasExpert(again, 2)));
    await assert.rejects(() => readExpert(again, 2), /not in this store/);
    // Rewriting commits it again; replacing an existing expert works too.
    await writeExpert(again, 2, snaps, META);
    await writeExpert(again, 2, randomSnapshots(P, 4, 9), META);
    assert.equal((await readExpert(again, 2)).numSnapshots, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a writer killed mid-write never leaves a complete-looking file", async () => {
  const dir = await tempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-check",
      "--allow-read",
      "--allow-write",
      new URL("./_write_child.ts", import.meta.url).pathname,
      dir,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let killed = false;
  try {
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    reader.releaseLock();
    assert.match(new TextDecoder().decode(value), /ready/);
    // Wait for a first commit (however slow the machine), then kill the
    // child shortly after, most likely in the middle of the next write.
    const first = path.join(dir, "expert_000.json");
    for (let waited = 0; !(await exists(first)); waited += 20) {
      assert.ok(waited < 30_000, "the child committed nothing in 30 s");
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 60));
    child.kill("SIGKILL");
    killed = true;
    await child.status;

    const store = await openStore(dir);
    const size = 11 * store.layout.size * 4;
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    for (const name of names) {
      if (/^expert_\d+\.f32$/.test(name)) {
        const s = (await Deno.stat(path.join(dir, name))).size;
        assert.equal(s, size, `${name} has a final name but ${s} bytes`);
      }
    }
    // Every committed expert reads back and verifies.
    const entries = await listExperts(store);
    for (const e of entries) await readExpert(store, e.index);
    assert.ok(entries.length >= 1);
  } finally {
    if (!killed) {
      child.kill("SIGKILL");
      await child.status;
    }
    await child.stdout.cancel();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("export in the reference layout reproduces the golden trajectory", async () => {
  const dir = await tempDir();
  try {
    const store = await createStore(dir, header(TOY_SPEC));
    await writeExpert(store, 5, goldenNativeSnapshots(), META);
    const out = path.join(dir, "export", "expert_005.json");
    await exportExpertReferenceJson(store, 5, out);
    const exported = await readJsonFile(out);
    const golden = loadGolden("convexify.json");
    assert.deepEqual(
      exported.param_layout.map((
        p: { name: string; shape: number[]; offset: number },
      ) => [p.name, p.shape, p.offset]),
      golden.param_layout.map((
        p: { name: string; shape: number[]; offset: number },
      ) => [p.name, p.shape, p.offset]),
    );
    assert.deepEqual(exported.trajectory.shape, [51, P]);
    assert.equal(exported.expert.index, 5);
    const want = Float32Array.from(golden.trajectory.data as number[]);
    assert.deepEqual(Float32Array.from(exported.trajectory.data), want);
    assert.ok(
      ![...Deno.readDirSync(path.dirname(out))].some((e) =>
        e.name.includes(".tmp-")
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
