/**
 * Where the distillation loop gets expert parameters at a time t: the stored
 * SGD snapshots (MTT, integer t) or the convexified form (MCT, real t).
 *
 * @module
 */
import {
  listExperts,
  openStore,
  readExpert,
  snapshot,
  type Trajectory,
  type TrajectoryStore,
} from "../trajectories/store.ts";
import {
  type ConvexifiedStore,
  listConvexified,
  openConvexifiedStore,
  readConvexified,
} from "../trajectories/convexified_store.ts";
import { type Convexified, pointAt } from "../trajectories/convexify.ts";
import type { ParamLayout } from "../model/layout.ts";
import { InputError } from "../util/errors.ts";
import { checkExpertAccuracy } from "../experts/accuracy.ts";
import { sha256 } from "../util/fs.ts";

/** One expert's path through parameter space. */
export interface ExpertPath {
  /** Parameters at time t ∈ [0, lastEpoch]. */
  at(t: number): Float32Array;
}

/** A set of experts the loop cycles through. */
export interface ExpertSource {
  /** "sgd" or "convexified". */
  kind: "sgd" | "convexified";
  layout: ParamLayout;
  /** Expert indices available, ascending. */
  indices: number[];
  /** Last valid time (snapshots − 1). */
  lastEpoch: number;
  /** The store folder (recorded in outputs). */
  dir: string;
  /** A hash identifying the store's contents (recorded in outputs). */
  contentHash: string;
  /** Load one expert (cached up to the byte budget). */
  load(index: number): Promise<ExpertPath>;
}

function sgdPath(traj: Trajectory): ExpertPath {
  return {
    at(t: number): Float32Array {
      if (!Number.isInteger(t)) {
        throw new RangeError(
          `SGD trajectories hold whole epochs only; asked for t = ${t}`,
        );
      }
      return snapshot(traj, t);
    },
  };
}

function convexPath(conv: Convexified<Float32Array>): ExpertPath {
  return { at: (t: number) => pointAt(conv, t) };
}

/** Keep loaded experts while their total size stays under `budget` bytes. */
class Cache<T> {
  #items = new Map<number, { value: T; bytes: number }>();
  #bytes = 0;
  constructor(readonly budget: number) {}
  get(k: number): T | undefined {
    return this.#items.get(k)?.value;
  }
  set(k: number, value: T, bytes: number): void {
    while (this.#bytes + bytes > this.budget && this.#items.size > 0) {
      const [oldest, item] = this.#items.entries().next().value!;
      this.#items.delete(oldest);
      this.#bytes -= item.bytes;
    }
    if (bytes <= this.budget) {
      this.#items.set(k, { value, bytes });
      this.#bytes += bytes;
    }
  }
}

/** Options of {@link openExpertSource}. */
export interface ExpertSourceOptions {
  /** Use at most this many experts (the lowest indices). */
  maxExperts?: number;
  /** Bytes of experts kept in memory. @default 2 GiB */
  cacheBytes?: number;
  /**
   * Refuse the source when a used expert's final test accuracy is below this
   * fraction. @default 0 (accept all)
   */
  minAccuracy?: number;
}

/** What both store kinds report per expert, as far as the source needs it. */
interface EntryLike {
  index: number;
  testAccuracy: number;
  sha256: string;
  snapshots: number;
}

/**
 * The common part of both sources: choose the experts, check them, and cache
 * what `read` loads (with its size in bytes).
 */
function buildSource(
  kind: ExpertSource["kind"],
  dir: string,
  layout: ParamLayout,
  entries: EntryLike[],
  options: ExpertSourceOptions,
  read: (index: number) => Promise<{ path: ExpertPath; bytes: number }>,
): ExpertSource {
  if (entries.length === 0) {
    throw new InputError(
      dir,
      "holds no finished experts; run `deno task experts` first",
    );
  }
  const max = options.maxExperts;
  const used = max !== undefined && max < entries.length
    ? entries.slice(0, max)
    : entries;
  checkExpertAccuracy(used, options.minAccuracy ?? 0, dir);
  const snapshots = new Set(used.map((e) => e.snapshots));
  if (snapshots.size !== 1) {
    throw new InputError(
      dir,
      `experts have different snapshot counts (${[...snapshots].join(", ")})`,
    );
  }
  const cache = new Cache<ExpertPath>(options.cacheBytes ?? 2 ** 31);
  return {
    kind,
    layout,
    indices: used.map((e) => e.index),
    lastEpoch: [...snapshots][0]! - 1,
    dir,
    contentHash: sha256(used.map((e) => `${e.index}:${e.sha256}`).join("\n")),
    async load(index) {
      let p = cache.get(index);
      if (!p) {
        const loaded = await read(index);
        p = loaded.path;
        cache.set(index, p, loaded.bytes);
      }
      return p;
    },
  };
}

/** Open an SGD store as an expert source. */
export async function sgdExpertSource(
  dir: string,
  options: ExpertSourceOptions = {},
): Promise<ExpertSource> {
  const store: TrajectoryStore = await openStore(dir);
  const entries = (await listExperts(store)).sort((a, b) => a.index - b.index);
  return buildSource(
    "sgd",
    dir,
    store.layout,
    entries,
    options,
    async (index) => {
      const traj = await readExpert(store, index);
      return { path: sgdPath(traj), bytes: traj.data.byteLength };
    },
  );
}

/** Open a convexified store as an expert source. */
export async function convexifiedExpertSource(
  dir: string,
  options: ExpertSourceOptions = {},
): Promise<ExpertSource> {
  const store: ConvexifiedStore = await openConvexifiedStore(dir);
  const entries = (await listConvexified(store))
    .sort((a, b) => a.index - b.index)
    .map((e) => ({ ...e, snapshots: e.sourceSnapshots }));
  return buildSource(
    "convexified",
    dir,
    store.layout,
    entries,
    options,
    async (index) => {
      const conv = await readConvexified(store, index);
      return {
        path: convexPath(conv),
        bytes: conv.waypoints.length * conv.numParams * 4,
      };
    },
  );
}
