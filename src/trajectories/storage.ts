/**
 * Storage accounting: bytes on disk of trajectory stores, and the reference's
 * storage formula with the published totals it is checked against
 * (reference.md §3 and §5.2).
 *
 * Sizes are file sizes from `Deno.stat` (what the reference's
 * `storage_compare.py` reports), not allocated blocks.
 *
 * @module
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { InputError } from "../util/errors.ts";
import { MANIFEST_NAME, readJson, type StoreKind } from "./_manifest.ts";
import { BETA_BYTES } from "./convexified_store.ts";
import { betaTableSize, waypointIndices } from "./convexify.ts";

/** Bytes of one expert in a store. */
export interface ExpertBytes {
  index: number;
  /** The data file (`.f32` or `.cvx`). */
  dataBytes: number;
  /** The commit record (`expert_000.json`). */
  recordBytes: number;
  /** Both. */
  totalBytes: number;
}

/** Bytes of a whole store folder. */
export interface StoreBytes {
  dir: string;
  kind: StoreKind;
  /** `manifest.json`. */
  manifestBytes: number;
  /** All expert data files. */
  dataBytes: number;
  /** All commit records. */
  recordBytes: number;
  /** Anything else in the folder (leftover temporary files). */
  otherBytes: number;
  /** Everything in the folder. */
  totalBytes: number;
  /** Per expert, by index. */
  experts: ExpertBytes[];
}

/** An SGD store next to its convexified store. */
export interface StorageComparison {
  sgd: StoreBytes;
  convexified: StoreBytes;
  /** sgd.totalBytes / convexified.totalBytes. */
  ratio: number;
  /** The same ratio over expert data files only. */
  dataRatio: number;
}

const DATA_RE = /^expert_(\d{3,})\.(f32|cvx)$/;
const RECORD_RE = /^expert_(\d{3,})\.json$/;

/**
 * Measure the bytes on disk of a store folder (SGD or convexified).
 *
 * @param dir the store folder
 * @returns totals by category and per expert, manifest included
 * @throws {InputError} if the folder has no readable manifest
 */
export async function measureStore(dir: string): Promise<StoreBytes> {
  const manifestFile = path.join(dir, MANIFEST_NAME);
  const raw = await readJson(manifestFile) as { kind?: unknown };
  if (raw.kind !== "sgd" && raw.kind !== "convexified") {
    throw new InputError(
      manifestFile,
      `field "kind" must be "sgd" or "convexified", got ${
        JSON.stringify(raw.kind)
      }`,
    );
  }
  const out: StoreBytes = {
    dir,
    kind: raw.kind,
    manifestBytes: 0,
    dataBytes: 0,
    recordBytes: 0,
    otherBytes: 0,
    totalBytes: 0,
    experts: [],
  };
  const byIndex = new Map<number, ExpertBytes>();
  const expert = (index: number): ExpertBytes => {
    let e = byIndex.get(index);
    if (e === undefined) {
      e = { index, dataBytes: 0, recordBytes: 0, totalBytes: 0 };
      byIndex.set(index, e);
    }
    return e;
  };
  for (const name of await fsp.readdir(dir)) {
    const stat = await Deno.stat(path.join(dir, name));
    if (!stat.isFile) continue;
    const size = stat.size;
    out.totalBytes += size;
    let m: RegExpExecArray | null;
    if (name === MANIFEST_NAME) {
      out.manifestBytes += size;
    } else if ((m = DATA_RE.exec(name)) !== null) {
      out.dataBytes += size;
      const e = expert(Number(m[1]));
      e.dataBytes += size;
      e.totalBytes += size;
    } else if ((m = RECORD_RE.exec(name)) !== null) {
      out.recordBytes += size;
      const e = expert(Number(m[1]));
      e.recordBytes += size;
      e.totalBytes += size;
    } else {
      out.otherBytes += size;
    }
  }
  out.experts = [...byIndex.values()].sort((a, b) => a.index - b.index);
  return out;
}

/**
 * Measure an SGD store and its convexified store side by side.
 *
 * @param sgdDir the SGD store
 * @param convexifiedDir the convexified store
 */
export async function compareStores(
  sgdDir: string,
  convexifiedDir: string,
): Promise<StorageComparison> {
  const sgd = await measureStore(sgdDir);
  const convexified = await measureStore(convexifiedDir);
  return {
    sgd,
    convexified,
    ratio: sgd.totalBytes / convexified.totalBytes,
    dataRatio: sgd.dataBytes / convexified.dataBytes,
  };
}

/** Bytes of one SGD expert's data: snapshots × P × 4. */
export function sgdExpertBytes(numParams: number, snapshots = 51): number {
  return snapshots * numParams * 4;
}

/** Options for {@link convexifiedExpertBytes}. */
export interface ConvexifiedBytesOptions {
  /** Snapshots of the source trajectory. @default 51 */
  snapshots?: number;
  /** MCT's `num_interpolation`. @default 4 */
  waypoints?: number;
  /** Bytes per β value. @default 8 (this suite's float64 β) */
  betaBytes?: number;
}

/**
 * Bytes of one convexified expert's data: W × P × 4 waypoint bytes plus the β
 * table, where W is the number of waypoint indices (ip, or ip + 1 when S − 1
 * is not split evenly).
 */
export function convexifiedExpertBytes(
  numParams: number,
  numLayers: number,
  options: ConvexifiedBytesOptions = {},
): number {
  const S = options.snapshots ?? 51;
  const ip = options.waypoints ?? 4;
  const W = waypointIndices(S, ip).length;
  return W * numParams * 4 +
    betaTableSize(S, ip, numLayers) * (options.betaBytes ?? BETA_BYTES);
}

/** The reference's storage per expert, without pickle overhead. */
export interface ReferenceStorage {
  /** MTT: 51 snapshots × P × 4. */
  mttBytesPerExpert: number;
  /** MCT waypoints: W × P × 4. */
  mctWaypointBytesPerExpert: number;
  /** MCT β scalars (ip = 4, 14 layers: 742). */
  mctBetaScalars: number;
  /** Their float32 payload: scalars × 4. */
  mctBetaPayloadBytes: number;
  /** Waypoints + β payload. */
  mctBytesPerExpert: number;
}

/**
 * The reference formula: 51 × P × 4 bytes per MTT expert against
 * W × P × 4 + β for MCT. In the reference each β value is a 0-d float32
 * tensor in a pickle, so its payload is 4 bytes and the rest is part of the
 * pickle overhead (about 0.21 MB per expert, see {@link STATED_PICKLE_OVERHEAD}).
 *
 * @example
 * ```ts
 * import { referenceStorage } from "./storage.ts";
 * const r = referenceStorage(320_010, 14);
 * if (r.mttBytesPerExpert !== 65_282_040) throw new Error();
 * ```
 */
export function referenceStorage(
  numParams: number,
  numLayers: number,
  options: { snapshots?: number; waypoints?: number } = {},
): ReferenceStorage {
  const S = options.snapshots ?? 51;
  const ip = options.waypoints ?? 4;
  const W = waypointIndices(S, ip).length;
  const mctBetaScalars = betaTableSize(S, ip, numLayers);
  const mctWaypointBytesPerExpert = W * numParams * 4;
  return {
    mttBytesPerExpert: sgdExpertBytes(numParams, S),
    mctWaypointBytesPerExpert,
    mctBetaScalars,
    mctBetaPayloadBytes: mctBetaScalars * 4,
    mctBytesPerExpert: mctWaypointBytesPerExpert + mctBetaScalars * 4,
  };
}

/** One row of the published storage comparison (100 experts each). */
export interface PublishedStorage {
  dataset: "CIFAR10" | "CIFAR100" | "TinyImageNet";
  /** Parameters of the ConvNet used (Tiny: depth 3). */
  numParams: number;
  /** Parameter tensors ("layers"). */
  numLayers: number;
  experts: number;
  mttBytes: number;
  datmBytes: number;
  mctBytes: number;
  /** The MiB figures printed by the reference (labelled "MB" there). */
  mttMiB: number;
  datmMiB: number;
  mctMiB: number;
}

/**
 * Measured totals from the MCT code's `exps/storage_compare.py`
 * (reference.md §5.2), measured with ip = 4 and depth-3 Tiny ImageNet.
 */
export const PUBLISHED_STORAGE: readonly PublishedStorage[] = [
  {
    dataset: "CIFAR10",
    numParams: 320_010,
    numLayers: 14,
    experts: 100,
    mttBytes: 6_547_733_490,
    datmBytes: 2_619_093_396,
    mctBytes: 532_881_660,
    mttMiB: 6244.41,
    datmMiB: 2497.76,
    mctMiB: 508.2,
  },
  {
    dataset: "CIFAR100",
    numParams: 504_420,
    numLayers: 14,
    experts: 100,
    mttBytes: 10_309_830_130,
    datmBytes: 4_123_932_052,
    mctBytes: 827_948_540,
    mttMiB: 9832.22,
    datmMiB: 3932.89,
    mctMiB: 789.59,
  },
  {
    dataset: "TinyImageNet",
    numParams: 1_938_120,
    numLayers: 14,
    experts: 100,
    mttBytes: 39_557_228_530,
    datmBytes: 15_822_891_412,
    mctBytes: 3_121_862_140,
    mttMiB: 37724.71,
    datmMiB: 15089.89,
    mctMiB: 2977.24,
  },
];

/**
 * Pickle overhead per expert as stated in reference.md: about 0.2 MB for an
 * MTT expert (§3) and about 0.21 MB for an MCT ip = 4 expert (§5.2), MB =
 * 10⁶ bytes.
 */
export const STATED_PICKLE_OVERHEAD = {
  mttPerExpert: 0.2e6,
  mctPerExpert: 0.21e6,
} as const;

/** Bytes to MiB (2²⁰ bytes), the unit the reference labels "MB". */
export function toMiB(bytes: number): number {
  return bytes / 2 ** 20;
}
