/**
 * The convexified store: MCT's compressed form of an SGD store.
 *
 * Same folder rules and commit protocol as the SGD store (`store.ts`), with
 * `kind: "convexified"`. Per expert one data file `expert_000.cvx` holds,
 * little-endian and back to back:
 *
 * 1. the waypoints, W × P float32 (W = number of waypoint indices);
 * 2. the β tables of all segments, rows × layers float64, segment after
 *    segment (rows = S − 1 + segments in total).
 *
 * β stays float64 because it is computed in float64 and is tiny (53 × 14 × 8 =
 * 5,936 bytes per expert at ip = 4), while rounding it would change the
 * interpolation of slow layers; it is counted in the storage figures at 8
 * bytes a value.
 *
 * @module
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import type { ParamLayout } from "../model/layout.ts";
import { CorruptFileError, InputError } from "../util/errors.ts";
import { Progress } from "../util/progress.ts";
import { bytesToFloat32, sha256 } from "../util/fs.ts";
import {
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
} from "./_manifest.ts";
import {
  BETA_METHODS,
  type BetaMethod,
  type Convexified,
  convexify,
  waypointIndices,
} from "./convexify.ts";
import {
  listExperts,
  openStore,
  readExpert,
  snapshots,
  type TrajectoryStore,
} from "./store.ts";

/** Bytes per stored β value (float64). */
export const BETA_BYTES = 8;

/** Settings a convexified store was built with. */
export interface ConvexifySettings {
  /** MCT's `num_interpolation` (ip) as requested. */
  waypoints: number;
  /** How β was formed. */
  beta: BetaMethod;
  /** Stored precision of the waypoints. */
  waypointDtype: "float32";
  /** Stored precision of β. */
  betaDtype: "float64";
}

/** Where a convexified store came from. */
export interface SourceInfo {
  /** The SGD store's folder, as given. */
  dir: string;
  /**
   * SHA-256 of the SGD store's manifest text as rebuilt from its expert
   * records when the conversion ran (equal to the file's hash when current).
   */
  manifestSha256: string;
}

/** One convexified expert's record. */
export interface ConvexifiedExpertEntry {
  /** Expert index, as in the source store. */
  index: number;
  /** Data file name, relative to the store. */
  file: string;
  /** The source expert's seed. */
  seed: number;
  /** The source expert's final test accuracy. */
  testAccuracy: number;
  /** Snapshot count S of the source trajectory. */
  sourceSnapshots: number;
  /** SHA-256 of the source expert's data file. */
  sourceSha256: string;
  /** Snapshot index of each stored waypoint. */
  waypointIndices: number[];
  /** Rows of each segment's β table. */
  segmentRows: number[];
  /** Size of the data file. */
  bytes: number;
  /** Hex SHA-256 of the data file. */
  sha256: string;
  /** Seconds the conversion of this expert took. */
  wallSeconds: number;
}

/** An open convexified store. */
export interface ConvexifiedStore {
  readonly dir: string;
  readonly header: StoreHeader;
  readonly layout: ParamLayout;
  readonly source: SourceInfo;
  readonly settings: ConvexifySettings;
}

/** Options for {@link convexifyStore}. */
export interface ConvexifyStoreOptions {
  /** MCT's `num_interpolation`. @default 4 */
  waypoints?: number;
  /** β method; ablations need `waypoints: 2`. @default "cumulative" */
  beta?: BetaMethod;
  /** Silence the progress bar. @default false */
  quiet?: boolean;
}

function validateEntry(
  raw: Record<string, unknown>,
  f: Fields,
): ConvexifiedExpertEntry {
  const entry: ConvexifiedExpertEntry = {
    index: f.int(raw.index, "index"),
    file: f.string(raw.file, "file"),
    seed: f.int(raw.seed, "seed"),
    testAccuracy: f.number(raw.testAccuracy, "testAccuracy", 0, 1),
    sourceSnapshots: f.int(raw.sourceSnapshots, "sourceSnapshots", 2),
    sourceSha256: f.sha256(raw.sourceSha256, "sourceSha256"),
    waypointIndices: f.ints(raw.waypointIndices, "waypointIndices"),
    segmentRows: f.ints(raw.segmentRows, "segmentRows", 2),
    bytes: f.int(raw.bytes, "bytes"),
    sha256: f.sha256(raw.sha256, "sha256"),
    wallSeconds: f.number(raw.wallSeconds, "wallSeconds", 0),
  };
  const idx = entry.waypointIndices;
  const ok = idx.length >= 2 && idx[0] === 0 &&
    idx[idx.length - 1] === entry.sourceSnapshots - 1 &&
    idx.every((v, i) => i === 0 || v > idx[i - 1]!) &&
    entry.segmentRows.length === idx.length - 1 &&
    entry.segmentRows.every((r, k) => r === idx[k + 1]! - idx[k]! + 1);
  if (!ok) {
    f.fail(
      "waypointIndices",
      `${JSON.stringify(idx)} and segmentRows ` +
        `${JSON.stringify(entry.segmentRows)} do not describe segments of a ` +
        `${entry.sourceSnapshots}-snapshot trajectory`,
    );
  }
  return entry;
}

function validateExtra(
  raw: Record<string, unknown>,
  file: string,
): { source: SourceInfo; settings: ConvexifySettings } {
  const f = new Fields(file);
  const src = f.object(raw.source, "source");
  const cfg = f.object(raw.convexify, "convexify");
  const beta = cfg.beta as BetaMethod;
  if (!BETA_METHODS.includes(beta)) {
    f.fail("convexify.beta", `must be one of ${BETA_METHODS.join(", ")}`);
  }
  if (cfg.waypointDtype !== "float32") {
    f.fail("convexify.waypointDtype", `must be "float32"`);
  }
  if (cfg.betaDtype !== "float64") {
    f.fail("convexify.betaDtype", `must be "float64"`);
  }
  return {
    source: {
      dir: f.string(src.dir, "source.dir"),
      manifestSha256: f.sha256(src.manifestSha256, "source.manifestSha256"),
    },
    settings: {
      waypoints: f.int(cfg.waypoints, "convexify.waypoints", 2),
      beta,
      waypointDtype: "float32",
      betaDtype: "float64",
    },
  };
}

function manifestObject(
  store: ConvexifiedStore,
  experts: ConvexifiedExpertEntry[],
) {
  return {
    formatVersion: FORMAT_VERSION,
    kind: "convexified",
    ...store.header,
    source: store.source,
    convexify: store.settings,
    experts,
  };
}

function rebuild(store: ConvexifiedStore): Promise<void> {
  return rebuildManifest(
    store.dir,
    (entries: ConvexifiedExpertEntry[]) => manifestObject(store, entries),
    validateEntry,
  );
}

/**
 * Open an existing convexified store, validating its manifest.
 *
 * @throws {InputError} naming the manifest and the field at fault
 */
export async function openConvexifiedStore(
  dir: string,
): Promise<ConvexifiedStore> {
  const { raw, header, file } = await readManifest(dir, "convexified");
  const f = new Fields(file);
  (raw.experts as unknown[]).forEach((e, i) =>
    validateEntry(
      f.object(e, `experts[${i}]`),
      new Fields(`${file} experts[${i}]`),
    )
  );
  return {
    dir,
    header,
    layout: headerLayout(header),
    ...validateExtra(raw, file),
  };
}

/** The text the SGD store's manifest has when it lists every record. */
async function sourceManifestSha256(src: TrajectoryStore): Promise<string> {
  const experts = await listExperts(src);
  const text = JSON.stringify(
    { formatVersion: FORMAT_VERSION, kind: "sgd", ...src.header, experts },
    null,
    2,
  ) + "\n";
  return sha256(text);
}

function serialise(conv: Convexified<Float32Array>): Uint8Array {
  const P = conv.numParams;
  const W = conv.waypoints.length;
  const betaValues = conv.beta.reduce((n, t) => n + t.length, 0);
  const out = new Uint8Array(W * P * 4 + betaValues * BETA_BYTES);
  const wp = new Float32Array(out.buffer, 0, W * P);
  conv.waypoints.forEach((w, k) => wp.set(w, k * P));
  // The β block may start at an offset that is not a multiple of 8, so it is
  // written through a DataView, explicitly little-endian.
  const view = new DataView(out.buffer, W * P * 4);
  let pos = 0;
  for (const table of conv.beta) {
    for (const v of table) {
      view.setFloat64(pos, v, true);
      pos += BETA_BYTES;
    }
  }
  return out;
}

/**
 * Convexify every expert of an SGD store into a new convexified store.
 * Resumable: experts already converted from the same source data are kept.
 *
 * @param srcDir the SGD store
 * @param dstDir the convexified store (created if missing)
 * @param options waypoint count and β method
 * @returns the convexified store
 * @throws {InputError} if `dstDir` holds a store built with other settings or
 *   from another data set / model
 */
export async function convexifyStore(
  srcDir: string,
  dstDir: string,
  options: ConvexifyStoreOptions = {},
): Promise<ConvexifiedStore> {
  const settings: ConvexifySettings = {
    waypoints: options.waypoints ?? 4,
    beta: options.beta ?? "cumulative",
    waypointDtype: "float32",
    betaDtype: "float64",
  };
  const src = await openStore(srcDir);
  const experts = await listExperts(src);
  const store: ConvexifiedStore = {
    dir: dstDir,
    header: src.header,
    layout: src.layout,
    source: { dir: srcDir, manifestSha256: await sourceManifestSha256(src) },
    settings,
  };
  const manifest = path.join(dstDir, MANIFEST_NAME);
  if ((await fileSize(manifest)) !== null) {
    const old = await openConvexifiedStore(dstDir);
    if (
      headerKey(old.header) !== headerKey(store.header) ||
      JSON.stringify(old.settings) !== JSON.stringify(settings)
    ) {
      throw new InputError(
        manifest,
        "already holds a convexified store of another source or with other " +
          "settings; use another folder",
      );
    }
  }

  await fsp.mkdir(dstDir, { recursive: true });
  await rebuild(store);
  const progress = new Progress({
    label: "convexify",
    total: experts.length,
    unit: "expert",
    quiet: options.quiet ?? false,
  });
  for (const srcEntry of experts) {
    const done = await readRecord(dstDir, srcEntry.index, validateEntry);
    if (done?.sourceSha256 === srcEntry.sha256) {
      progress.tick();
      continue;
    }
    const start = performance.now();
    const traj = await readExpert(src, srcEntry.index);
    const conv = convexify(snapshots(traj), src.layout.tensors, {
      waypoints: settings.waypoints,
      beta: settings.beta,
    });
    const bytes = serialise(conv);
    const file = `${expertStem(srcEntry.index)}.cvx`;
    const entry: ConvexifiedExpertEntry = {
      index: srcEntry.index,
      file,
      seed: srcEntry.seed,
      testAccuracy: srcEntry.testAccuracy,
      sourceSnapshots: traj.numSnapshots,
      sourceSha256: srcEntry.sha256,
      waypointIndices: conv.waypointIndices,
      segmentRows: conv.beta.map((t) => t.length / conv.layers.length),
      bytes: bytes.byteLength,
      sha256: sha256(bytes),
      wallSeconds: (performance.now() - start) / 1000,
    };
    await commitExpert(
      dstDir,
      entry.index,
      path.join(dstDir, file),
      bytes,
      entry,
    );
    await rebuild(store);
    progress.tick();
  }
  progress.finish();
  return store;
}

/** Every committed convexified expert, sorted by index. */
export function listConvexified(
  store: ConvexifiedStore,
): Promise<ConvexifiedExpertEntry[]> {
  return readRecords(store.dir, validateEntry);
}

/** Whether expert `index` is committed with a data file of the recorded size. */
export async function hasConvexified(
  store: ConvexifiedStore,
  index: number,
): Promise<boolean> {
  const entry = await readRecord(store.dir, index, validateEntry);
  if (entry === null) return false;
  return (await fileSize(path.join(store.dir, entry.file))) === entry.bytes;
}

/**
 * Read and verify one convexified expert.
 *
 * @throws {InputError} if the expert is not in the store
 * @throws {CorruptFileError} naming the file for a wrong size or checksum
 */
export async function readConvexified(
  store: ConvexifiedStore,
  index: number,
): Promise<Convexified<Float32Array>> {
  const entry = await readRecord(store.dir, index, validateEntry);
  if (entry === null) {
    throw new InputError(store.dir, `expert ${index} is not in this store`);
  }
  const file = path.join(store.dir, entry.file);
  const P = store.layout.size;
  const L = store.layout.tensors.length;
  const W = entry.waypointIndices.length;
  const rows = entry.segmentRows.reduce((a, b) => a + b, 0);
  const expected = W * P * 4 + rows * L * BETA_BYTES;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new CorruptFileError(file, "is missing although its record exists");
    }
    throw err;
  }
  if (bytes.byteLength !== expected) {
    throw new CorruptFileError(
      file,
      `has ${bytes.byteLength} bytes, expected ${W} waypoints × ${P} × 4 + ` +
        `${rows} β rows × ${L} layers × 8 = ${expected}` +
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
  const wp = bytesToFloat32(bytes.subarray(0, W * P * 4));
  const view = new DataView(bytes.buffer, bytes.byteOffset + W * P * 4);
  let pos = 0;
  const beta = entry.segmentRows.map((r) => {
    const t = new Float64Array(r * L);
    for (let i = 0; i < t.length; i++, pos += BETA_BYTES) {
      t[i] = view.getFloat64(pos, true);
    }
    return t;
  });
  // Check the waypoint rule too, so a store built by other code with other
  // indices is not silently misused.
  const want = waypointIndices(entry.sourceSnapshots, store.settings.waypoints);
  if (want.join() !== entry.waypointIndices.join()) {
    throw new CorruptFileError(
      recordPath(store.dir, index),
      `waypointIndices ${entry.waypointIndices.join(",")} do not follow the ` +
        `rule for ${store.settings.waypoints} waypoints (${want.join(",")})`,
    );
  }
  return {
    numSnapshots: entry.sourceSnapshots,
    numParams: P,
    layers: store.layout.tensors.map(({ offset, size }) => ({ offset, size })),
    requestedWaypoints: store.settings.waypoints,
    betaMethod: store.settings.beta,
    waypointIndices: entry.waypointIndices,
    waypoints: Array.from(
      { length: W },
      (_, k) => wp.subarray(k * P, (k + 1) * P),
    ),
    beta,
  };
}
