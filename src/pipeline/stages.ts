/**
 * The pipeline stages as cached, resumable functions: each writes into a
 * content-addressed work folder and returns at once when its output already
 * exists. `deno task reproduce` chains them; the per-stage commands call them
 * one at a time.
 *
 * @module
 */
import * as path from "node:path";
import { backendInfo } from "../backend/mod.ts";
import type { DistillConfig } from "../distill/config.ts";
import {
  convexifiedExpertSource,
  type ExpertSource,
  sgdExpertSource,
} from "../distill/expert_source.ts";
import { runDistillation } from "../distill/loop.ts";
import {
  type EvalProtocol,
  type EvalRun,
  evaluateImageSet,
} from "../eval/protocol.ts";
import {
  DATA_SIDECAR,
  type ExpertSettings,
  expertSpec,
  trainExperts,
} from "../experts/train_experts.ts";
import { paramLayout } from "../model/layout.ts";
import { sampleBalanced } from "../data/sampler.ts";
import type { LabelledImages } from "../train/sgd.ts";
import { convexifyStore } from "../trajectories/convexified_store.ts";
import type { BetaMethod } from "../trajectories/convexify.ts";
import type { SgdExpertEntry } from "../trajectories/store.ts";
import { exists, writeJsonAtomic } from "../util/fs.ts";
import { Rng } from "../util/rng.ts";
import { InputError } from "../util/errors.ts";
import {
  type DataLocation,
  type DataSettings,
  prepareData,
  type PreparedData,
} from "./prepare.ts";
import { type Distilled, loadDistilled, saveDistilled } from "./distilled.ts";
import { contentKey, workDir } from "./work.ts";
import { noteArtifact, producedBy } from "./provenance.ts";

/** Train (or reuse) experts; returns the store and its records. */
export async function ensureExperts(
  data: PreparedData,
  settings: ExpertSettings,
  count: number,
  opts: { quiet?: boolean; storeDir?: string; log?: (l: string) => void } = {},
): Promise<{ storeDir: string; entries: SgdExpertEntry[] }> {
  const storeDir = opts.storeDir ??
    workDir("experts", data.settings.dataset, {
      data: data.settings,
      expert: settings,
    });
  const entries = await trainExperts({
    data,
    settings,
    experts: Array.from({ length: count }, (_, i) => i),
    storeDir,
    ...(opts.quiet !== undefined ? { quiet: opts.quiet } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  return { storeDir, entries };
}

/** Prepare the data an expert store was trained on, checking it is the same. */
export async function dataOfStore(
  storeDir: string,
  location: DataLocation = {},
): Promise<PreparedData> {
  const file = path.join(storeDir, DATA_SIDECAR);
  if (!(await exists(file))) {
    throw new InputError(
      storeDir,
      `has no ${DATA_SIDECAR}; it was not written by deno task experts`,
    );
  }
  const side = JSON.parse(await Deno.readTextFile(file)) as {
    settings: DataSettings;
    trainSha256: string;
  };
  const data = await prepareData(side.settings, location);
  if (data.trainSha256 !== side.trainSha256) {
    throw new InputError(
      file,
      `the training data found now (sha256 ${
        data.trainSha256.slice(0, 12)
      }…) is not what the experts ` +
        `were trained on (${side.trainSha256.slice(0, 12)}…)`,
    );
  }
  return data;
}

/** Convexify (or reuse) a store. */
export async function ensureConvexified(
  storeDir: string,
  waypoints: number,
  beta: BetaMethod = "cumulative",
  quiet = false,
): Promise<string> {
  const dir = `${storeDir}-mct-ip${waypoints}${
    beta === "cumulative" ? "" : `-${beta}`
  }`;
  // convexifyStore skips experts already converted, so this also resumes.
  await convexifyStore(storeDir, dir, { waypoints, beta, quiet });
  return dir;
}

/** What a distillation needs beyond its config. */
export interface DistillJob {
  config: DistillConfig;
  data: PreparedData;
  /** SGD store (MTT) — also the source of a convexified store. */
  storeDir: string;
  /** Convexified store, required when config.trajectory is "convexified". */
  convexDir?: string;
  minExpertAccuracy?: number;
  evalEvery?: number;
  onEval?: (
    iteration: number,
    images: Float32Array,
    alpha: number,
  ) => Promise<void>;
  checkpointEvery?: number;
  logEvery?: number;
  quiet?: boolean;
  outDir?: string;
}

/** Open the expert source a config asks for. */
export function expertSourceFor(job: DistillJob): Promise<ExpertSource> {
  const opts = {
    ...(job.config.maxExperts > 0 ? { maxExperts: job.config.maxExperts } : {}),
    minAccuracy: job.minExpertAccuracy ?? 0,
  };
  if (job.config.trajectory === "sgd") {
    return sgdExpertSource(job.storeDir, opts);
  }
  if (!job.convexDir) {
    throw new InputError(
      "--mct-store",
      "a convexified store is needed for this config",
    );
  }
  return convexifiedExpertSource(job.convexDir, opts);
}

/** The folder a distillation writes to. */
export function distillDir(job: DistillJob, experts: ExpertSource): string {
  return job.outDir ??
    workDir(
      "distill",
      `${job.config.method}-${job.data.settings.dataset}-ipc${job.config.ipc}`,
      {
        config: job.config,
        experts: experts.contentHash,
        indices: experts.indices,
        train: job.data.trainSha256,
      },
    );
}

/** Run (or resume, or reuse) a distillation. */
export async function ensureDistilled(
  job: DistillJob,
): Promise<Distilled & { dir: string }> {
  const experts = await expertSourceFor(job);
  const dir = distillDir(job, experts);
  if (await exists(path.join(dir, "distilled.json"))) {
    const d = await loadDistilled(dir);
    noteArtifact({
      stage: "distill",
      path: dir,
      producedBy: d.manifest.producedBy ?? null,
      reused: true,
    });
    return { ...d, dir };
  }
  const out = await runDistillation({
    config: job.config,
    experts,
    train: job.data.train,
    outDir: dir,
    ...(job.checkpointEvery !== undefined
      ? { checkpointEvery: job.checkpointEvery }
      : {}),
    ...(job.logEvery !== undefined ? { logEvery: job.logEvery } : {}),
    ...(job.onEval ? { onEval: job.onEval } : {}),
    ...(job.evalEvery !== undefined ? { evalEvery: job.evalEvery } : {}),
    ...(job.quiet ? { log: () => {} } : {}),
  });
  const { train } = job.data;
  const by = await producedBy();
  noteArtifact({ stage: "distill", path: dir, producedBy: by, reused: false });
  const manifest = await saveDistilled(
    dir,
    {
      producedBy: by,
      config: job.config,
      iteration: out.state.iteration,
      alpha: out.state.alpha,
      shape: [out.labels.length, train.height, train.width, train.channels],
      numClasses: train.numClasses,
      labels: Array.from(out.labels),
      classNames: job.data.classNames,
      data: {
        dataset: job.data.settings.dataset,
        trainSha256: job.data.trainSha256,
        zcaSha256: job.data.zcaSha256,
        settings: job.data.settings,
      },
      experts: {
        dir: experts.dir,
        kind: experts.kind,
        contentHash: experts.contentHash,
        indices: experts.indices,
      },
      backend: backendInfo()?.name ?? "unknown",
      seconds: out.seconds,
      finalLoss: out.state.losses.at(-1) ?? null,
    },
    out.state.images,
    { losses: out.state.losses, alphas: out.state.alphas },
  );
  return { manifest, images: out.state.images, dir };
}

/** Random real images of the same count as a distilled set (the "Random" row). */
export function randomReal(
  train: LabelledImages,
  ipc: number,
  seed: number,
): LabelledImages {
  const rng = Rng.derive(seed, "random-real", ipc);
  const idx = sampleBalanced(train.labels, train.numClasses, ipc, rng);
  const stride = train.height * train.width * train.channels;
  const images = new Float32Array(idx.length * stride);
  idx.forEach((r, i) =>
    images.set(train.images.subarray(r * stride, (r + 1) * stride), i * stride)
  );
  return {
    ...train,
    images,
    labels: Int32Array.from(idx, (r) => train.labels[r]!),
    count: idx.length,
  };
}

/** A distilled set as a labelled training array. */
export function distilledImages(d: Distilled): LabelledImages {
  const [n, h, w, c] = d.manifest.shape;
  return {
    images: d.images,
    labels: Int32Array.from(d.manifest.labels),
    count: n,
    height: h,
    width: w,
    channels: c,
    numClasses: d.manifest.numClasses,
  };
}

/** Evaluate (or reuse an earlier evaluation of) an image set. */
export async function ensureEvaluation(
  what: { label: string; key: unknown },
  data: PreparedData,
  expert: ExpertSettings,
  train: LabelledImages,
  lr: number,
  seed: number,
  protocol: Partial<EvalProtocol>,
  log?: (r: EvalRun) => void,
): Promise<EvalRun[]> {
  const file = path.join(
    workDir("eval", what.label, {
      what: what.key,
      lr,
      seed,
      protocol,
      test: data.testSha256,
      expert,
    }),
    "runs.json",
  );
  if (await exists(file)) {
    const saved = JSON.parse(await Deno.readTextFile(file));
    noteArtifact({
      stage: "eval",
      path: file,
      producedBy: saved.producedBy ?? null,
      reused: true,
    });
    return saved.runs as EvalRun[];
  }
  const layout = paramLayout(expertSpec(data, expert));
  const runs = await evaluateImageSet(
    layout,
    train,
    data.test,
    lr,
    seed,
    protocol,
    log,
  );
  const by = await producedBy();
  noteArtifact({ stage: "eval", path: file, producedBy: by, reused: false });
  await writeJsonAtomic(file, {
    producedBy: by,
    key: contentKey(what.key),
    lr,
    seed,
    protocol,
    runs,
  });
  return runs;
}
