/**
 * The expert stage: train independent SGD experts on real data and write each
 * as soon as it finishes, so a killed run loses at most the expert in progress
 * and a rerun skips finished ones (experts can also be split across machines
 * with `--experts`).
 *
 * Reference settings (buffer.py): SGD lr 0.01, no momentum, no weight decay,
 * batch 256, DSA on every batch, 50 epochs, snapshots at initialisation and
 * after every epoch.
 *
 * @module
 */
import type { Tensor4D } from "../backend/tf.ts";
import { drawsFromRng, dsa } from "../augment/dsa.ts";
import { type ConvNetSpec, convNetSpec, paramLayout } from "../model/layout.ts";
import { initParams } from "../model/convnet.ts";
import { accuracy, trainSgd } from "../train/sgd.ts";
import {
  createStore,
  hasExpert,
  listExperts,
  type SgdExpertEntry,
  writeExpert,
} from "../trajectories/store.ts";
import type { PreparedData } from "../pipeline/prepare.ts";
import { formatDuration, Progress } from "../util/progress.ts";
import { Rng } from "../util/rng.ts";
import { writeJsonAtomic } from "../util/fs.ts";
import {
  noteArtifact,
  type ProducedBy,
  producedBy,
} from "../pipeline/provenance.ts";
import * as path from "node:path";

/** Expert training settings; defaults are the reference's. */
export interface ExpertSettings {
  epochs: number;
  lr: number;
  batchSize: number;
  momentum: number;
  weightDecay: number;
  dsa: boolean;
  netWidth: number;
  netDepth: number;
  /** Root seed; expert i draws from `Rng.derive(seed, "expert", i)`. */
  seed: number;
}

/** buffer.py's values. */
export const EXPERT_DEFAULTS: ExpertSettings = {
  epochs: 50,
  lr: 0.01,
  batchSize: 256,
  momentum: 0,
  weightDecay: 0,
  dsa: true,
  netWidth: 128,
  netDepth: 3,
  seed: 0,
};

/** The architecture the experts use for this data. */
export function expertSpec(data: PreparedData, s: ExpertSettings): ConvNetSpec {
  return convNetSpec(
    {
      inChannels: data.train.channels,
      height: data.train.height,
      width: data.train.width,
      numClasses: data.train.numClasses,
    },
    { netWidth: s.netWidth, netDepth: s.netDepth },
  );
}

/**
 * Sidecar in every store written here: how the training data was prepared, so
 * later stages rebuild exactly the same arrays (and check their hash).
 */
export const DATA_SIDECAR = "data.json";

/** Options of {@link trainExperts}. */
export interface TrainExpertsOptions {
  data: PreparedData;
  settings: ExpertSettings;
  /** Expert indices to make sure exist. */
  experts: number[];
  storeDir: string;
  quiet?: boolean;
  log?: (line: string) => void;
}

/** Train the missing experts among `experts`; returns all their records. */
export async function trainExperts(
  opts: TrainExpertsOptions,
): Promise<SgdExpertEntry[]> {
  const { data, settings: s, storeDir } = opts;
  const log = opts.log ?? ((l: string) => console.error(l));
  const spec = expertSpec(data, s);
  const layout = paramLayout(spec);
  const store = await createStore(storeDir, {
    dataset: { name: data.settings.dataset, sha256: data.trainSha256 },
    model: spec,
    zca: data.zcaSha256
      ? { regularization: 0.1, transformSha256: data.zcaSha256 }
      : null,
    expert: {
      lr: s.lr,
      batchSize: s.batchSize,
      epochs: s.epochs,
      momentum: s.momentum,
      weightDecay: s.weightDecay,
      augmentation: s.dsa ? "dsa:color_crop_cutout_flip_scale_rotate" : "none",
    },
  });
  const sidecar = path.join(storeDir, DATA_SIDECAR);
  const by = await producedBy();
  let first: ProducedBy | null = by;
  try {
    first = JSON.parse(await Deno.readTextFile(sidecar)).producedBy ?? null;
  } catch {
    // A new store: this process is its producer.
  }
  await writeJsonAtomic(sidecar, {
    settings: data.settings,
    trainSha256: data.trainSha256,
    zcaSha256: data.zcaSha256,
    producedBy: first,
  });
  const missing: number[] = [];
  for (const index of opts.experts) {
    if (await hasExpert(store, index)) {
      log(`[experts] expert ${index} already in ${storeDir}, skipped`);
      continue;
    }
    missing.push(index);
    const started = performance.now();
    const rng = Rng.derive(s.seed, "expert", index);
    const theta0 = initParams(layout, rng);
    const draws = drawsFromRng(rng);
    const snapshots: Float32Array[] = [theta0];
    const bar = new Progress({
      label: `expert ${index}`,
      total: s.epochs,
      unit: "epoch",
      quiet: opts.quiet ?? false,
    });
    let lastAcc = 0;
    await trainSgd(layout, theta0, data.train, {
      epochs: s.epochs,
      lr: s.lr,
      momentum: s.momentum,
      weightDecay: s.weightDecay,
      batchSize: s.batchSize,
      rng,
      ...(s.dsa ? { augment: (x: Tensor4D) => dsa(x, draws) } : {}),
      onEpoch: (epoch, theta, stats) => {
        snapshots.push(theta);
        lastAcc = accuracy(layout, theta, data.test);
        bar.update(
          epoch + 1,
          `loss ${stats.loss.toFixed(4)} test acc ${
            (100 * lastAcc).toFixed(2)
          }% ${stats.seconds.toFixed(1)} s/epoch`,
        );
      },
    });
    bar.finish(`test acc ${(100 * lastAcc).toFixed(2)}%`);
    const wallSeconds = (performance.now() - started) / 1000;
    await writeExpert(store, index, snapshots, {
      seed: s.seed,
      testAccuracy: lastAcc,
      wallSeconds,
    });
    log(
      `[experts] expert ${index}: test accuracy ${
        (100 * lastAcc).toFixed(2)
      }% in ${formatDuration(wallSeconds)}`,
    );
  }
  noteArtifact({
    stage: "experts",
    path: storeDir,
    producedBy: missing.length === opts.experts.length ? by : first,
    reused: missing.length < opts.experts.length,
  });
  const want = new Set(opts.experts);
  return (await listExperts(store)).filter((e) => want.has(e.index));
}
