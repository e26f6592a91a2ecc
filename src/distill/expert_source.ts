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

function pick(indices: number[], dir: string, max?: number): number[] {
  if (indices.length === 0) {
    throw new InputError(
      dir,
      "holds no finished experts; run `deno task experts` first",
    );
  }
  if (max !== undefined && max < indices.length) return indices.slice(0, max);
  return indices;
}

/** Open an SGD store as an expert source. */
export async function sgdExpertSource(
  dir: string,
  options: ExpertSourceOptions = {},
): Promise<ExpertSource> {
  const store: TrajectoryStore = await openStore(dir);
  const entries = await listExperts(store);
  const indices = pick(entries.map((e) => e.index), dir, options.maxExperts);
  const snapshots = new Set(
    entries.filter((e) => indices.includes(e.index)).map((e) => e.snapshots),
  );
  if (snapshots.size !== 1) {
    throw new InputError(
      dir,
      `experts have different snapshot counts (${[...snapshots].join(", ")})`,
    );
  }
  const cache = new Cache<ExpertPath>(options.cacheBytes ?? 2 ** 31);
  const used = entries.filter((e) => indices.includes(e.index));
  checkExpertAccuracy(used, options.minAccuracy ?? 0, dir);
  return {
    kind: "sgd",
    layout: store.layout,
    indices,
    lastEpoch: [...snapshots][0]! - 1,
    dir,
    contentHash: sha256(used.map((e) => `${e.index}:${e.sha256}`).join("\n")),
    async load(index) {
      let p = cache.get(index);
      if (!p) {
        const traj = await readExpert(store, index);
        p = sgdPath(traj);
        cache.set(index, p, traj.data.byteLength);
      }
      return p;
    },
  };
}

/** Open a convexified store as an expert source. */
export async function convexifiedExpertSource(
  dir: string,
  options: ExpertSourceOptions = {},
): Promise<ExpertSource> {
  const store: ConvexifiedStore = await openConvexifiedStore(dir);
  const entries = await listConvexified(store);
  const indices = pick(entries.map((e) => e.index), dir, options.maxExperts);
  const used = entries.filter((e) => indices.includes(e.index));
  checkExpertAccuracy(used, options.minAccuracy ?? 0, dir);
  const snapshots = new Set(used.map((e) => e.sourceSnapshots));
  if (snapshots.size !== 1) {
    throw new InputError(
      dir,
      `experts have different snapshot counts (${[...snapshots].join(", ")})`,
    );
  }
  const cache = new Cache<ExpertPath>(options.cacheBytes ?? 2 ** 31);
  return {
    kind: "convexified",
    layout: store.layout,
    indices,
    lastEpoch: [...snapshots][0]! - 1,
    dir,
    contentHash: sha256(used.map((e) => `${e.index}:${e.sha256}`).join("\n")),
    async load(index) {
      let p = cache.get(index);
      if (!p) {
        const conv = await readConvexified(store, index);
        p = convexPath(conv);
        cache.set(index, p, conv.waypoints.length * conv.numParams * 4);
      }
      return p;
    },
  };
}
