/**
 * `deno task reproduce`: run one table at one scale end to end — data,
 * experts, convexified stores, distillation per cell, evaluation, baselines —
 * and write its results folder. Every stage is cached by content, so a rerun
 * reuses finished work and a killed run resumes.
 *
 * @module
 */
import * as path from "node:path";
import { backendInfo } from "../backend/mod.ts";
import {
  type Tensor1D,
  type Tensor2D,
  type Tensor4D,
  tf,
} from "../backend/tf.ts";
import { distillConfig } from "../distill/config.ts";
import { syntheticLabels } from "../distill/loop.ts";
import type { EvalRun } from "../eval/protocol.ts";
import { expertSpec } from "../experts/train_experts.ts";
import { initParams, lossAndGrad } from "../model/convnet.ts";
import { paramLayout } from "../model/layout.ts";
import { summarizeCell } from "../report/stats.ts";
import type {
  CellSummary,
  ConvergencePoint,
  PaperValue,
  Provenance,
  RunRecord,
  Scale,
  StorageRow,
  TableResult,
} from "../report/types.ts";
import { writeResults } from "../report/write.ts";
import {
  compareStores,
  PUBLISHED_STORAGE,
  referenceStorage,
} from "../trajectories/storage.ts";
import { openStore } from "../trajectories/store.ts";
import { exists, writeJsonAtomic } from "../util/fs.ts";
import { InputError } from "../util/errors.ts";
import { formatDuration } from "../util/progress.ts";
import { Rng } from "../util/rng.ts";
import {
  type DataLocation,
  prepareData,
  type PreparedData,
} from "./prepare.ts";
import {
  artifactUses,
  cpuDescription,
  producedBy,
  runtimeVersions,
} from "./provenance.ts";
import { contentKey } from "./work.ts";
import {
  distillDir,
  distilledImages,
  ensureConvexified,
  ensureDistilled,
  ensureEvaluation,
  ensureExperts,
  expertSourceFor,
  randomReal,
} from "./stages.ts";
import type { CellSpec, ScaleSpec, TableSpec } from "./table_spec.ts";
import { evaluateImageSet } from "../eval/protocol.ts";

/** Options of {@link reproduce}. */
export interface ReproduceOptions {
  spec: TableSpec;
  scale: Scale;
  /** Folder that holds `<table>/<scale>/`. @default "results" */
  resultsRoot?: string;
  /** Start even when the plan is long or the backend is the slow `cpu` one. */
  yes?: boolean;
  /** Print the plan and stop. */
  planOnly?: boolean;
  dataRoot?: string;
  /** Allow downloading missing data sets. @default true */
  download?: boolean;
  quiet?: boolean;
  /** The command line, recorded in the provenance. */
  command: string;
  log?: (line: string) => void;
}

/** A paper run longer than this many hours needs --yes. */
export const CONFIRM_HOURS = 24;

/** The evaluation protocol of the rows at one IPC (see {@link ScaleSpec.evalByIpc}). */
function evalFor(s: ScaleSpec, ipc: number): ScaleSpec["eval"] {
  return { ...s.eval, ...s.evalByIpc?.[ipc] };
}

function cellConfig(s: ScaleSpec, cell: CellSpec) {
  return distillConfig(cell.method, {
    ...s.distill,
    ...cell.distill,
    ipc: cell.ipc,
  });
}

/** Seconds per image of one forward+backward pass at the experts' width, measured now. */
async function probeSecondsPerImage(
  data: PreparedData,
  s: ScaleSpec,
): Promise<number> {
  const layout = paramLayout(expertSpec(data, s.expert));
  const theta = tf.tensor1d(initParams(layout, new Rng(1))) as Tensor1D;
  const b = Math.min(32, data.train.count);
  const { height: h, width: w, channels: c, numClasses } = data.train;
  const x = tf.tensor4d(data.train.images.subarray(0, b * h * w * c), [
    b,
    h,
    w,
    c,
  ]) as Tensor4D;
  const y = tf.oneHot(
    tf.tensor1d(data.train.labels.subarray(0, b), "int32"),
    numClasses,
  ).toFloat() as Tensor2D;
  const once = () =>
    tf.tidy(() => lossAndGrad(layout, theta, x, y).grad.dataSync());
  once();
  const t0 = performance.now();
  once();
  once();
  const secs = (performance.now() - t0) / 2000 / b;
  tf.dispose([theta, x, y]);
  await Promise.resolve();
  return secs;
}

/** The plan: one line per stage with its estimated seconds. */
export function planLines(
  spec: TableSpec,
  scale: Scale,
  data: PreparedData,
  perImage: number,
): {
  lines: string[];
  seconds: number;
} {
  const s = spec.scales[scale];
  const lines: string[] = [];
  let total = 0;
  const add = (what: string, secs: number) => {
    lines.push(`  ${what.padEnd(64)} ~${formatDuration(secs)}`);
    total += secs;
  };
  // Random rows need no experts; a storage table trains the no-ZCA store.
  const stores = new Set(
    spec.kind === "storage" ? [false] : s.cells.map((c) => c.zca),
  );
  const testFrac = data.test.count / Math.max(1, data.train.count) / 3;
  for (const zca of stores) {
    add(
      `experts: ${s.experts} × ${s.expert.epochs} epochs on ${data.train.count} images${
        zca ? " (ZCA)" : ""
      }`,
      s.experts * s.expert.epochs * data.train.count * perImage *
        (1 + testFrac),
    );
  }
  const evalSecs = (n: number, runs: number, epochs: number) =>
    runs * (epochs + 1) * n * perImage + runs * data.test.count * perImage / 3;
  for (const cell of s.cells) {
    const cfg = cellConfig(s, cell);
    const n = data.train.numClasses * cell.ipc;
    const batch = cfg.batchSyn === 0 ? n : Math.min(cfg.batchSyn, n);
    // Both gradients run the student once without a tape, then each step once
    // more under a tape with its second-order pass.
    const factor = 4.5;
    add(
      `distill ${cell.method} IPC ${cell.ipc}${
        cell.variant ? ` ${cell.variant}` : ""
      }: ${cfg.iterations} it × ${cfg.synSteps} steps`,
      cfg.iterations * cfg.synSteps * batch * perImage * factor,
    );
    const checkpoints = s.evalEvery > 0
      ? Math.floor(cfg.iterations / s.evalEvery)
      : 0;
    const ev = evalFor(s, cell.ipc);
    add(
      `eval ${cell.method} IPC ${cell.ipc}: ${ev.runs} runs × ${ev.epochs} epochs` +
        (checkpoints
          ? ` (+${checkpoints} checkpoints × ${s.evalEveryRuns})`
          : ""),
      evalSecs(n, ev.runs, ev.epochs) +
        checkpoints * evalSecs(n, s.evalEveryRuns, ev.epochs),
    );
  }
  for (const r of s.random) {
    const ev = evalFor(s, r.ipc);
    add(
      `eval random real IPC ${r.ipc}: ${ev.runs} runs × ${ev.epochs} epochs`,
      evalSecs(data.train.numClasses * r.ipc, ev.runs, ev.epochs),
    );
  }
  if (s.full) {
    add(
      `eval whole training set (${data.train.count} images): ${s.full.runs} runs × ${s.full.epochs} epochs`,
      evalSecs(data.train.count, s.full.runs, s.full.epochs),
    );
  }
  return { lines, seconds: total };
}

/** Flatten nested settings into `prefix.key` columns. */
function flatten(
  prefix: string,
  obj: Record<string, unknown>,
  out: Record<string, string | number | boolean>,
) {
  for (const [k, v] of Object.entries(obj)) {
    if (
      typeof v === "number" || typeof v === "string" || typeof v === "boolean"
    ) out[`${prefix}.${k}`] = v;
  }
}

interface CheckpointEval {
  iteration: number;
  accuracies: number[];
}

/** Run one table at one scale; returns the results folder. */
export async function reproduce(
  opts: ReproduceOptions,
): Promise<{ dir: string; result: TableResult | null }> {
  const { spec, scale } = opts;
  const s = spec.scales[scale];
  const log = opts.log ?? ((l: string) => console.error(l));
  const started = new Date();
  const location: DataLocation = {
    ...(opts.dataRoot !== undefined ? { root: opts.dataRoot } : {}),
    download: opts.download ?? true,
    verifyCount: !s.allowPartialData,
    quiet: opts.quiet ?? false,
  };
  const dir = path.join(opts.resultsRoot ?? "results", spec.name, scale);
  // The code this process runs is the code at its start, whatever is
  // committed while it runs.
  const git = await producedBy();
  const backend = backendInfo();

  // Data, one preparation per ZCA setting.
  const prepared = new Map<boolean, PreparedData>();
  const dataFor = async (zca: boolean) => {
    let d = prepared.get(zca);
    if (!d) {
      d = await prepareData(
        { dataset: spec.dataset, zca, ...s.data },
        location,
      );
      prepared.set(zca, d);
    }
    return d;
  };
  const first = await dataFor(s.cells[0]?.zca ?? s.random[0]?.zca ?? false);

  // Plan and estimate.
  const perImage = await probeSecondsPerImage(first, s);
  const plan = planLines(spec, scale, first, perImage);
  log(
    `[reproduce] ${spec.name} at scale ${scale} on backend ${
      backend?.name ?? "?"
    }: ${s.summary}`,
  );
  log(
    `[reproduce] plan (estimated from a timed probe, ${
      (perImage * 1e3).toFixed(2)
    } ms per image pass):`,
  );
  for (const l of plan.lines) log(l);
  log(
    `[reproduce] estimated total ${
      formatDuration(plan.seconds)
    } (cached stages are skipped)`,
  );
  if (opts.planOnly) return { dir, result: null };
  const hours = plan.seconds / 3600;
  if (
    !opts.yes &&
    ((scale === "paper" && backend?.name === "cpu") || hours > CONFIRM_HOURS)
  ) {
    throw new InputError(
      "--yes",
      `this run is estimated at ${
        formatDuration(plan.seconds)
      } on the ${backend?.name} backend` +
        `${
          backend?.name === "cpu" ? " (the slowest; see README 'Backends')" : ""
        }. ` +
        `Pass --yes to start it anyway, or choose --scale quick`,
    );
  }

  const stageSeconds: Record<string, number> = {
    experts: 0,
    convexify: 0,
    distill: 0,
    eval: 0,
  };
  const runs: RunRecord[] = [];
  const convergence: ConvergencePoint[] = [];
  const cells: CellSummary[] = [];
  const storage: StorageRow[] = [];
  const trajectories: Provenance["trajectories"] = [];
  const stores = new Map<boolean, string>();
  const convexStores = new Map<boolean, string>();

  const storeFor = async (zca: boolean) => {
    let dirOf = stores.get(zca);
    if (!dirOf) {
      const data = await dataFor(zca);
      const { storeDir, entries } = await ensureExperts(
        data,
        s.expert,
        s.experts,
        {
          ...(opts.quiet !== undefined ? { quiet: opts.quiet } : {}),
          log,
        },
      );
      stageSeconds.experts! += entries.reduce((a, e) => a + e.wallSeconds, 0);
      stores.set(zca, storeDir);
      dirOf = storeDir;
    }
    return dirOf;
  };
  const convexFor = async (zca: boolean) => {
    let d = convexStores.get(zca);
    if (!d) {
      const t0 = performance.now();
      d = await ensureConvexified(
        await storeFor(zca),
        s.waypoints,
        s.beta,
        opts.quiet ?? false,
      );
      stageSeconds.convexify! += (performance.now() - t0) / 1000;
      convexStores.set(zca, d);
    }
    return d;
  };

  const baseSettings = (
    data: PreparedData,
    protocol: ScaleSpec["eval"] = s.eval,
  ): Record<string, string | number | boolean> => {
    const out: Record<string, string | number | boolean> = {};
    flatten("data", data.settings as unknown as Record<string, unknown>, out);
    flatten("expert", s.expert as unknown as Record<string, unknown>, out);
    out["expert.count"] = s.experts;
    flatten("eval", { ...protocol } as Record<string, unknown>, out);
    return out;
  };
  const record = (
    base: Omit<RunRecord, "run" | "accuracy" | "seconds" | "evalSeed">,
    r: EvalRun[],
  ) => {
    for (const e of r) {
      runs.push({
        ...base,
        run: e.run,
        evalSeed: e.seed,
        accuracy: e.accuracy,
        seconds: e.seconds,
      });
    }
    stageSeconds.eval! += r.reduce((a, e) => a + e.seconds, 0);
  };

  if (spec.kind === "storage") {
    await storageRows(spec, s, storeFor, convexFor, storage, trajectories);
  }

  for (const cell of s.cells) {
    const data = await dataFor(cell.zca);
    const storeDir = await storeFor(cell.zca);
    const config = cellConfig(s, cell);
    const convexDir = config.trajectory === "convexified"
      ? await convexFor(cell.zca)
      : undefined;
    const job = {
      config,
      data,
      storeDir,
      ...(convexDir ? { convexDir } : {}),
      minExpertAccuracy: s.minExpertAccuracy,
      ...(opts.quiet ? { quiet: true } : {}),
    };
    const experts = await expertSourceFor(job);
    trajectories.push({
      dir: experts.dir,
      kind: experts.kind,
      hash: experts.contentHash,
      experts: experts.indices.length,
    });
    const protocol = evalFor(s, cell.ipc);
    // Checkpoint evaluations happen during the run, so a distillation cached
    // without them (or with another schedule) cannot supply them: a run with
    // a schedule gets its own folder, keyed on that schedule.
    const plainDir = distillDir(job, experts);
    const outDir = s.evalEvery > 0
      ? `${plainDir}-every${s.evalEvery}-${
        contentKey({ runs: s.evalEveryRuns, protocol, seed: s.evalSeed })
      }`
      : plainDir;
    const evalsFile = path.join(outDir, "checkpoint_evals.json");
    const evals: CheckpointEval[] = (await exists(evalsFile))
      ? JSON.parse(await Deno.readTextFile(evalsFile)).evals
      : [];
    const layout = paramLayout(expertSpec(data, s.expert));
    const d = await ensureDistilled({
      ...job,
      outDir,
      ...(s.evalEvery > 0
        ? {
          evalEvery: s.evalEvery,
          onEval: async (
            iteration: number,
            images: Float32Array,
            alpha: number,
          ) => {
            if (
              iteration >= config.iterations ||
              evals.some((e) => e.iteration === iteration)
            ) return;
            const labels = syntheticLabels(data.train.numClasses, config.ipc);
            const set = { ...data.train, images, labels, count: labels.length };
            const r = await evaluateImageSet(
              layout,
              set,
              data.test,
              alpha,
              s.evalSeed,
              { ...protocol, runs: s.evalEveryRuns },
            );
            evals.push({ iteration, accuracies: r.map((e) => e.accuracy) });
            await writeJsonAtomic(evalsFile, { evals });
            log(
              `[reproduce] ${cell.method} IPC ${cell.ipc} iteration ${iteration}: ${
                (100 * r.reduce((a, e) => a + e.accuracy, 0) / r.length)
                  .toFixed(2)
              }%`,
            );
          },
        }
        : {}),
    });
    stageSeconds.distill! += d.manifest.seconds;
    const label = `${cell.method}-${spec.dataset}-ipc${cell.ipc}${
      cell.variant ? `-${cell.variant}` : ""
    }`;
    const r = await ensureEvaluation(
      { label, key: { images: d.manifest.imagesSha256 } },
      data,
      s.expert,
      distilledImages(d),
      d.manifest.alpha,
      s.evalSeed,
      protocol,
    );
    const settings = baseSettings(data, protocol);
    flatten("distill", config as unknown as Record<string, unknown>, settings);
    settings["distill.alphaLearned"] = d.manifest.alpha;
    settings["distill.imagesSha256"] = d.manifest.imagesSha256;
    settings["source"] = cell.source;
    const base = {
      table: spec.name,
      scale,
      dataset: spec.dataset,
      method: cell.method,
      ipc: cell.ipc,
      variant: cell.variant,
      distillSeed: config.seed,
      iteration: d.manifest.iteration,
      lr: d.manifest.alpha,
      settings,
      backend: backend?.name ?? "unknown",
    } as const;
    record(base, r);
    const cellRuns = runs.filter((x) =>
      x.method === cell.method && x.ipc === cell.ipc &&
      x.variant === cell.variant
    );
    const stats = summarizeCell(cellRuns);
    const points: ConvergencePoint[] = evals.map((e) => {
      const pct = e.accuracies.map((a) => 100 * a);
      const m = pct.reduce((a, b) => a + b, 0) / pct.length;
      const sd = pct.length > 1
        ? Math.sqrt(
          pct.reduce((a, b) => a + (b - m) ** 2, 0) / (pct.length - 1),
        )
        : 0;
      return {
        dataset: spec.dataset,
        method: cell.method,
        ipc: cell.ipc,
        variant: cell.variant,
        iteration: e.iteration,
        mean: m,
        std: sd,
        n: pct.length,
      };
    });
    if (points.length > 0) {
      points.push({
        dataset: spec.dataset,
        method: cell.method,
        ipc: cell.ipc,
        variant: cell.variant,
        iteration: d.manifest.iteration,
        mean: stats.mean,
        std: stats.std,
        n: stats.n,
      });
      convergence.push(...points);
    }
    const best = points.length > 0
      ? points.reduce((a, b) => (b.mean > a.mean ? b : a))
      : null;
    cells.push({
      dataset: spec.dataset,
      method: cell.method,
      ipc: cell.ipc,
      variant: cell.variant,
      ...stats,
      bestOverCheckpoints: best
        ? { iteration: best.iteration, mean: best.mean }
        : null,
      paper: paperValueFor(spec, cell.method),
    });
  }

  for (const rnd of s.random) {
    const data = await dataFor(rnd.zca);
    const set = randomReal(data.train, rnd.ipc, s.evalSeed);
    const lr = s.expert.lr;
    const protocol = evalFor(s, rnd.ipc);
    const r = await ensureEvaluation(
      {
        label: `random-${spec.dataset}-ipc${rnd.ipc}`,
        key: { random: rnd.ipc, seed: s.evalSeed, train: data.trainSha256 },
      },
      data,
      s.expert,
      set,
      lr,
      s.evalSeed,
      protocol,
    );
    const settings = baseSettings(data, protocol);
    settings["random.lr"] = lr;
    record({
      table: spec.name,
      scale,
      dataset: spec.dataset,
      method: "random",
      ipc: rnd.ipc,
      variant: "",
      distillSeed: null,
      iteration: null,
      lr,
      settings,
      backend: backend?.name ?? "unknown",
    }, r);
    const stats = summarizeCell(
      runs.filter((x) => x.method === "random" && x.ipc === rnd.ipc),
    );
    cells.push({
      dataset: spec.dataset,
      method: "random",
      ipc: rnd.ipc,
      variant: "",
      ...stats,
      bestOverCheckpoints: null,
      paper: paperValueFor(spec, "random"),
    });
  }

  if (s.full) {
    const data = await dataFor(s.cells[0]?.zca ?? false);
    const protocol = { ...s.eval, runs: s.full.runs, epochs: s.full.epochs };
    const r = await ensureEvaluation(
      { label: `full-${spec.dataset}`, key: { full: data.trainSha256 } },
      data,
      s.expert,
      data.train,
      s.expert.lr,
      s.evalSeed,
      protocol,
    );
    const settings = baseSettings(data);
    settings["eval.runs"] = s.full.runs;
    settings["eval.epochs"] = s.full.epochs;
    record({
      table: spec.name,
      scale,
      dataset: spec.dataset,
      method: "full",
      ipc: 0,
      variant: "",
      distillSeed: null,
      iteration: null,
      lr: s.expert.lr,
      settings,
      backend: backend?.name ?? "unknown",
    }, r);
    cells.push({
      dataset: spec.dataset,
      method: "full",
      ipc: 0,
      variant: "",
      ...summarizeCell(runs.filter((x) => x.method === "full")),
      bestOverCheckpoints: null,
      paper: paperValueFor(spec, "full"),
    });
  }

  const versions = runtimeVersions();
  // Cached stages may come from other commits: say so rather than let the
  // table's own commit stand for them.
  const artifacts = artifactUses();
  const foreign = artifacts.filter((a) =>
    a.producedBy === null || a.producedBy.commit !== git.commit ||
    a.producedBy.dirty
  );
  const states = [
    ...new Set(
      foreign.map((a) =>
        a.producedBy
          ? a.producedBy.commit.slice(0, 12) +
            (a.producedBy.dirty ? "+dirty" : "")
          : "not recorded"
      ),
    ),
  ];
  const deviations = foreign.length === 0 ? s.deviations : [
    ...s.deviations,
    `${foreign.length} of ${artifacts.length} stage outputs come from other or uncommitted ` +
    `states of the code (${
      states.join(", ")
    }); the configuration below lists each`,
  ];
  const datasets = [...prepared.values()].flatMap((d) => [
    {
      name: `${d.settings.dataset}${d.settings.zca ? " (ZCA)" : ""}`,
      split: "train",
      sha256: d.trainSha256,
    },
    {
      name: `${d.settings.dataset}${d.settings.zca ? " (ZCA)" : ""}`,
      split: "test",
      sha256: d.testSha256,
    },
  ]);
  const result: TableResult = {
    table: spec.name,
    scale,
    title: spec.title,
    summary: s.summary,
    deviations,
    runs,
    cells,
    convergence,
    storage,
    provenance: {
      commit: git.commit,
      dirty: git.dirty,
      command: opts.command,
      deno: versions.deno,
      tfjs: versions.tfjs,
      backend: versions.backend,
      cpu: cpuDescription(),
      gpu: null,
      os: versions.os,
      datasets,
      trajectories: dedupe(trajectories),
      config: {
        table: spec.name,
        scale,
        dataset: spec.dataset,
        ...s,
        artifacts,
      },
      stageSeconds,
      started: started.toISOString(),
      finished: new Date().toISOString(),
    },
  };
  await writeResults(dir, result);
  log(`[reproduce] wrote ${dir}/report.md`);
  return { dir, result };
}

function dedupe<T>(xs: T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = JSON.stringify(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Fashion-MNIST is not in either paper; other data sets take the built-in values. */
function paperValueFor(spec: TableSpec, method: string): PaperValue | null {
  if (spec.dataset === "fashion-mnist") {
    return {
      mean: null,
      std: null,
      source: `not reported: neither paper evaluates ${
        method === "random" ? "this baseline on " : ""
      }Fashion-MNIST`,
    };
  }
  return null;
}

async function storageRows(
  spec: TableSpec,
  s: ScaleSpec,
  storeFor: (zca: boolean) => Promise<string>,
  convexFor: (zca: boolean) => Promise<string>,
  rows: StorageRow[],
  trajectories: Provenance["trajectories"],
): Promise<void> {
  const sgd = await storeFor(false);
  const mct = await convexFor(false);
  const cmp = await compareStores(sgd, mct);
  trajectories.push({
    dir: sgd,
    kind: "sgd",
    hash: "",
    experts: cmp.sgd.experts.length,
  });
  trajectories.push({
    dir: mct,
    kind: "convexified",
    hash: "",
    experts: cmp.convexified.experts.length,
  });
  rows.push({
    dataset: spec.dataset,
    source: "measured",
    numParams: (await openStore(sgd)).layout.size,
    experts: cmp.sgd.experts.length,
    mttBytes: cmp.sgd.totalBytes,
    mctBytes: cmp.convexified.totalBytes,
    ratio: cmp.ratio,
    note: `${
      s.expert.epochs + 1
    } snapshots, ip=${s.waypoints}; whole store folders incl. manifests`,
  });
  for (const p of PUBLISHED_STORAGE) {
    const f = referenceStorage(p.numParams, p.numLayers, { waypoints: 4 });
    rows.push({
      dataset: p.dataset,
      source: "formula",
      numParams: p.numParams,
      experts: p.experts,
      mttBytes: f.mttBytesPerExpert * p.experts,
      mctBytes: f.mctBytesPerExpert * p.experts,
      ratio: f.mttBytesPerExpert / f.mctBytesPerExpert,
      note:
        "51 × P × 4 vs 4 waypoints × P × 4 + β (float32), no pickle overhead",
    });
    rows.push({
      dataset: p.dataset,
      source: "published",
      numParams: p.numParams,
      experts: p.experts,
      mttBytes: p.mttBytes,
      mctBytes: p.mctBytes,
      ratio: p.mttBytes / p.mctBytes,
      note:
        "MCT code exps/storage_compare.py (reference.md §5.2); Tiny is depth 3",
    });
  }
}
