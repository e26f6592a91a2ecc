/**
 * The expert trajectory store: one folder per (data set, model, ZCA).
 *
 * ```
 * buffers/CIFAR10_ZCA_ConvNet/
 *   manifest.json     header + every expert's record (rebuilt on each commit)
 *   expert_000.f32    51 snapshots × P float32, little-endian, concatenated
 *   expert_000.json   the expert's record; its presence commits the expert
 * ```
 *
 * Each snapshot is a flat parameter vector in {@link ParamLayout} order
 * (native layout). Writes are atomic and experts may finish in any order,
 * from several processes; see `_manifest.ts` for the commit protocol.
 *
 * @module
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import type { ParamLayout } from "../model/layout.ts";
import {
  referenceParamLayout,
  toReferenceFlat,
} from "../model/reference_layout.ts";
import { CorruptFileError, InputError } from "../util/errors.ts";
import { bytesToFloat32, float32ToBytes, sha256 } from "../util/fs.ts";
import {
  buildHeader,
  commitExpert,
  expertStem,
  Fields,
  fileSize,
  FORMAT_VERSION,
  headerKey,
  headerLayout,
  MANIFEST_NAME,
  readManifest,
  readRecord,
  readRecords,
  rebuildManifest,
  recordPath,
  type StoreHeader,
  type StoreHeaderInput,
} from "./_manifest.ts";

export type {
  DatasetInfo,
  ExpertHyperParams,
  ModelInfo,
  StoreHeader,
  StoreHeaderInput,
  ZcaInfo,
} from "./_manifest.ts";
export { FORMAT_VERSION, MANIFEST_NAME } from "./_manifest.ts";

/** An open SGD trajectory store. */
export interface TrajectoryStore {
  /** The folder. */
  readonly dir: string;
  /** Header shared by every expert (validated). */
  readonly header: StoreHeader;
  /** The parameter layout of every snapshot. */
  readonly layout: ParamLayout;
}

/** What the trainer reports about one expert. */
export interface ExpertMeta {
  /** Seed the expert was trained from. */
  seed: number;
  /** Test accuracy of the final snapshot, as a fraction in [0, 1]. */
  testAccuracy: number;
  /** Wall-clock seconds spent training. */
  wallSeconds: number;
}

/** One expert's record, as in `expert_000.json` and the manifest. */
export interface SgdExpertEntry extends ExpertMeta {
  /** Expert index (file name number). */
  index: number;
  /** Data file name, relative to the store. */
  file: string;
  /** Number of snapshots (epochs + 1 for a full run). */
  snapshots: number;
  /** Size of the data file: snapshots × P × 4. */
  bytes: number;
  /** Hex SHA-256 of the data file. */
  sha256: string;
}

/** A trajectory read from a store: every snapshot in one buffer. */
export interface Trajectory {
  /** Expert index. */
  index: number;
  /** Snapshot count S. */
  numSnapshots: number;
  /** Parameters per snapshot P. */
  numParams: number;
  /** `[S × P]` float32, snapshot-major. */
  data: Float32Array;
  /** The expert's record. */
  entry: SgdExpertEntry;
}

function validateEntry(
  raw: Record<string, unknown>,
  f: Fields,
): SgdExpertEntry {
  return {
    index: f.int(raw.index, "index"),
    file: f.string(raw.file, "file"),
    seed: f.int(raw.seed, "seed"),
    snapshots: f.int(raw.snapshots, "snapshots", 2),
    testAccuracy: f.number(raw.testAccuracy, "testAccuracy", 0, 1),
    wallSeconds: f.number(raw.wallSeconds, "wallSeconds", 0),
    bytes: f.int(raw.bytes, "bytes"),
    sha256: f.sha256(raw.sha256, "sha256"),
  };
}

function manifestObject(header: StoreHeader, experts: SgdExpertEntry[]) {
  return { formatVersion: FORMAT_VERSION, kind: "sgd", ...header, experts };
}

function rebuild(store: TrajectoryStore): Promise<void> {
  return rebuildManifest(
    store.dir,
    (entries: SgdExpertEntry[]) => manifestObject(store.header, entries),
    validateEntry,
  );
}

/**
 * Create a store, or reopen an existing one with the same header so that an
 * interrupted expert run can resume.
 *
 * @param dir the store folder (created if missing)
 * @param header data set, model spec, ZCA and expert hyper-parameters
 * @returns the open store
 * @throws {InputError} if a field is invalid or `dir` holds a store with a
 *   different header
 *
 * @example
 * ```ts
 * import { createStore, readExpert, writeExpert } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * const store = await createStore(dir, {
 *   dataset: { name: "toy", sha256: "0".repeat(64) },
 *   model: { inChannels: 1, height: 8, width: 8, numClasses: 2,
 *            netWidth: 2, netDepth: 1 },
 *   zca: null,
 *   expert: { lr: 0.01, batchSize: 8, epochs: 1, momentum: 0,
 *             weightDecay: 0, augmentation: "none" },
 * });
 * const snaps = [0, 1].map((e) =>
 *   Float32Array.from({ length: store.layout.size }, (_, i) => i * e));
 * await writeExpert(store, 0, snaps,
 *   { seed: 1, testAccuracy: 0.5, wallSeconds: 1 });
 * const traj = await readExpert(store, 0);
 * if (traj.numSnapshots !== 2) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function createStore(
  dir: string,
  header: StoreHeaderInput,
): Promise<TrajectoryStore> {
  const file = path.join(dir, MANIFEST_NAME);
  const full = buildHeader(header, file);
  await fsp.mkdir(dir, { recursive: true });
  if ((await fileSize(file)) !== null) {
    const existing = await openStore(dir);
    if (headerKey(existing.header) !== headerKey(full)) {
      throw new InputError(
        file,
        "already holds a store with a different header (data set, model, " +
          "ZCA or expert settings); use another folder",
      );
    }
    return existing;
  }
  const store: TrajectoryStore = {
    dir,
    header: full,
    layout: headerLayout(full),
  };
  await rebuild(store);
  return store;
}

/**
 * Open an existing SGD store, validating its manifest.
 *
 * @param dir the store folder
 * @returns the open store
 * @throws {InputError} naming the manifest and field for an invalid manifest,
 *   or the found and expected version for an unsupported `formatVersion`
 */
export async function openStore(dir: string): Promise<TrajectoryStore> {
  const { raw, header, file } = await readManifest(dir, "sgd");
  const f = new Fields(file);
  (raw.experts as unknown[]).forEach((e, i) =>
    validateEntry(
      f.object(e, `experts[${i}]`),
      new Fields(`${file} experts[${i}]`),
    )
  );
  return { dir, header, layout: headerLayout(header) };
}

/**
 * Every committed expert, sorted by index, read from the per-expert records
 * (which are authoritative; the manifest may lag a concurrent writer).
 */
export function listExperts(store: TrajectoryStore): Promise<SgdExpertEntry[]> {
  return readRecords(store.dir, validateEntry);
}

/**
 * Whether expert `index` is committed and its data file has the recorded
 * size. Cheap: the checksum is verified by {@link readExpert}.
 */
export async function hasExpert(
  store: TrajectoryStore,
  index: number,
): Promise<boolean> {
  checkIndex(index);
  const entry = await readEntry(store, index);
  if (entry === null) return false;
  return (await fileSize(path.join(store.dir, entry.file))) === entry.bytes;
}

function readEntry(
  store: TrajectoryStore,
  index: number,
): Promise<SgdExpertEntry | null> {
  return readRecord(store.dir, index, validateEntry);
}

function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new RangeError(`expert index must be an integer >= 0, got ${index}`);
  }
}

/**
 * Refuse a trajectory that would make distillation meaningless: snapshots of
 * the wrong size, non-finite values, or consecutive snapshots that share
 * memory or are equal (the reference's CPU aliasing bug, reference.md §8
 * item 17, where every snapshot is the final weights).
 */
function checkSnapshots(snapshots: readonly Float32Array[], P: number): void {
  if (snapshots.length < 2) {
    throw new RangeError(
      `a trajectory needs at least 2 snapshots, got ${snapshots.length}`,
    );
  }
  snapshots.forEach((s, e) => {
    if (s.length !== P) {
      throw new RangeError(
        `snapshot ${e} has ${s.length} values, the layout has ${P}`,
      );
    }
    for (let i = 0; i < P; i++) {
      if (!Number.isFinite(s[i]!)) {
        throw new RangeError(
          `snapshot ${e} (epoch ${e}) has a non-finite value ${s[i]} at ${i}`,
        );
      }
    }
    if (e === 0) return;
    const prev = snapshots[e - 1]!;
    if (
      s.buffer === prev.buffer &&
      s.byteOffset < prev.byteOffset + prev.byteLength &&
      prev.byteOffset < s.byteOffset + s.byteLength
    ) {
      throw new RangeError(
        `snapshot ${e} (epoch ${e}) shares memory with snapshot ${e - 1}; ` +
          `each snapshot must be a copy of the weights`,
      );
    }
    let same = true;
    for (let i = 0; i < P && same; i++) same = s[i] === prev[i];
    if (same) {
      throw new RangeError(
        `snapshot ${e} (epoch ${e}) is identical to snapshot ${e - 1}; ` +
          `the snapshots were probably not copied from the live weights`,
      );
    }
  });
}

/**
 * Write one expert's trajectory: the data file atomically, then its record,
 * then the manifest. Replacing an existing expert is allowed; its record is
 * withdrawn first so a crash never pairs the old record with new data.
 *
 * @param store the open store
 * @param index expert index (file `expert_NNN.f32`)
 * @param snapshots S ≥ 2 flat vectors of P float32 values, one per epoch
 *   boundary (init first)
 * @param meta seed, final test accuracy, wall seconds
 * @returns the committed record
 * @throws {RangeError} for bad snapshots, naming the epoch
 */
export async function writeExpert(
  store: TrajectoryStore,
  index: number,
  snapshots: readonly Float32Array[],
  meta: ExpertMeta,
): Promise<SgdExpertEntry> {
  checkIndex(index);
  const P = store.layout.size;
  checkSnapshots(snapshots, P);
  const data = new Float32Array(snapshots.length * P);
  snapshots.forEach((s, e) => data.set(s, e * P));
  const bytes = float32ToBytes(data);
  const file = `${expertStem(index)}.f32`;
  const entry: SgdExpertEntry = {
    index,
    file,
    seed: meta.seed,
    snapshots: snapshots.length,
    testAccuracy: meta.testAccuracy,
    wallSeconds: meta.wallSeconds,
    bytes: bytes.byteLength,
    sha256: sha256(bytes),
  };
  const record = recordPath(store.dir, index);
  validateEntry(
    entry as unknown as Record<string, unknown>,
    new Fields(record),
  );
  await commitExpert(
    store.dir,
    index,
    path.join(store.dir, file),
    bytes,
    entry,
  );
  await rebuild(store);
  return entry;
}

/**
 * Read and verify one expert: the file must be snapshots × P × 4 bytes and
 * match the recorded SHA-256.
 *
 * @throws {InputError} if the expert is not in the store
 * @throws {CorruptFileError} naming the file for a wrong size or checksum
 */
export async function readExpert(
  store: TrajectoryStore,
  index: number,
): Promise<Trajectory> {
  checkIndex(index);
  const entry = await readEntry(store, index);
  if (entry === null) {
    throw new InputError(store.dir, `expert ${index} is not in this store`);
  }
  const file = path.join(store.dir, entry.file);
  const P = store.layout.size;
  const expected = entry.snapshots * P * 4;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new CorruptFileError(file, "is missing although its record exists");
    }
    throw err;
  }
  if (bytes.byteLength !== expected || entry.bytes !== expected) {
    throw new CorruptFileError(
      file,
      `has ${bytes.byteLength} bytes, expected ${entry.snapshots} snapshots × ` +
        `${P} parameters × 4 = ${expected}` +
        (bytes.byteLength < expected ? " (truncated)" : ""),
    );
  }
  const digest = sha256(bytes);
  if (digest !== entry.sha256) {
    throw new CorruptFileError(
      file,
      `SHA-256 ${digest} does not match the recorded ${entry.sha256}; ` +
        `the file is damaged`,
    );
  }
  return {
    index,
    numSnapshots: entry.snapshots,
    numParams: P,
    data: bytesToFloat32(bytes),
    entry,
  };
}

/**
 * One snapshot of a trajectory as a view (no copy).
 *
 * @param traj a trajectory from {@link readExpert}
 * @param epoch snapshot index, 0 = initialisation
 * @throws {RangeError} if epoch is not an integer in [0, S−1]
 */
export function snapshot(traj: Trajectory, epoch: number): Float32Array {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch >= traj.numSnapshots) {
    throw new RangeError(
      `epoch ${epoch} is outside [0, ${traj.numSnapshots - 1}]`,
    );
  }
  return traj.data.subarray(
    epoch * traj.numParams,
    (epoch + 1) * traj.numParams,
  );
}

/** All snapshots of a trajectory as views, in order. */
export function snapshots(traj: Trajectory): Float32Array[] {
  return Array.from({ length: traj.numSnapshots }, (_, e) => snapshot(traj, e));
}

const encoder = new TextEncoder();

/**
 * Write an expert in the reference's layout as JSON, in the golden files'
 * tensor encoding: `param_layout` (reference names, OIHW / `[classes,
 * C·H·W]` shapes, offsets) and `trajectory` `[S, P]` of reference flat
 * vectors. Values are float32 printed as their exact shortest decimal.
 * Streamed to a temporary file and renamed, so large experts fit in memory
 * and a reader never sees half a file.
 *
 * @param store the open store
 * @param index expert index
 * @param file destination JSON file
 */
export async function exportExpertReferenceJson(
  store: TrajectoryStore,
  index: number,
  file: string,
): Promise<void> {
  const traj = await readExpert(store, index);
  const head = {
    description:
      "expert trajectory in the reference (PyTorch ReparamModule) flat layout",
    formatVersion: FORMAT_VERSION,
    dataset: store.header.dataset,
    model: store.header.model.spec,
    expert: {
      index,
      seed: traj.entry.seed,
      testAccuracy: traj.entry.testAccuracy,
    },
    num_params: traj.numParams,
    param_layout: referenceParamLayout(store.layout),
  };
  const headText = JSON.stringify(head, null, 2);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const handle = await fsp.open(tmp, "w");
  try {
    const write = (s: string) => handle.write(encoder.encode(s));
    await write(headText.slice(0, -2));
    await write(
      `,\n  "trajectory": {"shape": [${traj.numSnapshots}, ${traj.numParams}], ` +
        `"layout": "snapshot,flat", "dtype": "float32", "data": [`,
    );
    for (let e = 0; e < traj.numSnapshots; e++) {
      const ref = toReferenceFlat(store.layout, snapshot(traj, e));
      await write((e > 0 ? ",\n" : "\n") + Array.from(ref).join(","));
    }
    await write("\n  ]}\n}\n");
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  await fsp.rename(tmp, file);
}
