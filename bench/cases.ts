/**
 * The benchmark cases. Each builds its inputs once (untimed) and returns one
 * timed iteration; random inputs come from fixed seeds, so every backend
 * configuration times the same work (the same DSA groups in the same order).
 *
 * @module
 */
import * as path from "node:path";
import {
  type Tensor,
  type Tensor1D,
  type Tensor2D,
  type Tensor4D,
  tf,
} from "../src/backend/tf.ts";
import { drawsFromRng, dsa } from "../src/augment/dsa.ts";
import { loadDataset } from "../src/data/load.ts";
import { fashionMnistFiles } from "../src/data/fashion_mnist.ts";
import { SYSTEM_FASHION_MNIST_DIR } from "../src/data/paths.ts";
import { toFloat } from "../src/data/preprocess.ts";
import {
  perStepGradient,
  type StudentProblem,
  unrolledGradient,
} from "../src/distill/gradient.ts";
import { replayableDsa } from "../src/distill/step_augment.ts";
import { initParams, lossAndGrad } from "../src/model/convnet.ts";
import {
  convNetSpec,
  type ParamLayout,
  paramLayout,
} from "../src/model/layout.ts";
import { accuracy, type LabelledImages, trainSgd } from "../src/train/sgd.ts";
import { convexify, pointAt } from "../src/trajectories/convexify.ts";
import { Rng } from "../src/util/rng.ts";

/** A backend configuration the cases run on. */
export interface BenchConfig {
  /** `wasm+native`, `wasm`, `cpu+native` or `cpu`. */
  id: string;
  backend: "wasm" | "cpu";
  native: boolean;
  /** The run's main configuration (`wasm+native`, else `wasm`). */
  primary?: boolean;
}

/** Warm-up and timed iterations, or the reason a configuration is skipped. */
export type Plan = { warmup: number; iterations: number } | { skip: string };

/** One prepared case: the timed body and the clean-up. */
export interface Prepared {
  /**
   * One iteration; leaves no tensors behind. Always an async function:
   * tinybench calls a plain function once more, untimed, to learn whether it
   * returns a promise.
   */
  fn: () => Promise<void>;
  teardown?: () => void;
}

/** A benchmark case. */
export interface BenchCase {
  /** Stable identifier, matched by `--filter`. */
  id: string;
  /** What one iteration does, for the report. */
  title: string;
  /** Pure JavaScript: run once, not per backend configuration. */
  backendFree?: boolean;
  /** Runs only when `--filter` names it (too slow for the default run). */
  optIn?: boolean;
  /**
   * Cases of one group run interleaved, an iteration of each in turn, so their
   * ratio is not skewed by the machine's load changing between them.
   */
  group?: string;
  /** How often to run on `config`. */
  plan(config: BenchConfig, quick: boolean): Plan;
  /** Build inputs (untimed); may throw a {@link SkipCase}. */
  prepare(config: BenchConfig): Prepared | Promise<Prepared>;
}

/** Thrown by `prepare` when a case cannot run here (missing data). */
export class SkipCase extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "SkipCase";
  }
}

/**
 * Synchronous work as an async function (see {@link Prepared.fn}).
 */
// deno-lint-ignore require-await
const asAsync = (work: () => void) => async (): Promise<void> => work();

const CPU_TOO_SLOW =
  "stock cpu kernels are ~25× slower than wasm: minutes per iteration";

/** Iteration counts by configuration; `undefined` skips with the reason. */
function byConfig(
  config: BenchConfig,
  quick: boolean,
  counts: Partial<Record<string, [number, number]>>,
  quickCounts: Partial<Record<string, [number, number]>> = {},
  skipReason = CPU_TOO_SLOW,
): Plan {
  // Quick runs always cover the main configuration, native or not.
  const c = quick
    ? quickCounts[config.id] ??
      (config.primary ? quickCounts["wasm+native"] : undefined)
    : counts[config.id];
  if (!c) {
    return {
      skip: quick && counts[config.id] ? "not in --quick runs" : skipReason,
    };
  }
  return { warmup: c[0], iterations: c[1] };
}

// ---------------------------------------------------------------------------
// Shared inputs

const CIFAR = { inChannels: 3, height: 32, width: 32, numClasses: 10 };
const FMNIST = { inChannels: 1, height: 28, width: 28, numClasses: 10 };

function randomImages(
  shape: typeof CIFAR,
  count: number,
  seed: number,
): LabelledImages {
  const rng = new Rng(seed);
  const { height, width, inChannels: channels, numClasses } = shape;
  return {
    images: rng.normalArray(count * height * width * channels),
    labels: Int32Array.from({ length: count }, (_, i) => i % numClasses),
    count,
    height,
    width,
    channels,
    numClasses,
  };
}

function oneHot(count: number, classes: number): Tensor2D {
  return tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(Int32Array.from({ length: count }, (_, i) => i % classes)),
      classes,
    ).toFloat() as Tensor2D
  );
}

// ---------------------------------------------------------------------------
// Cases

function trainStep(
  id: string,
  shape: typeof CIFAR,
  name: string,
): BenchCase {
  return {
    id,
    title: `one SGD step, batch 256, width 128, ${name} ` +
      `(DSA, chunks of 128, as the expert stage)`,
    plan: (c, quick) =>
      byConfig(
        c,
        quick,
        { "wasm+native": [1, 5], wasm: [1, 2], "cpu+native": [1, 2] },
        {
          "wasm+native": [1, 2],
          ...(id === "train-step-fmnist" ? { wasm: [1, 1] } : {}),
        },
      ),
    prepare: () => {
      const layout = paramLayout(convNetSpec(shape));
      const theta0 = initParams(layout, new Rng(1));
      const data = randomImages(shape, 256, 2);
      const rng = new Rng(3);
      return {
        fn: async () => {
          await trainSgd(layout, theta0, data, {
            epochs: 1,
            lr: 0.01,
            batchSize: 256,
            rng,
            augment: (x) => dsa(x, drawsFromRng(rng)),
          });
        },
      };
    },
  };
}

/** The distillation problem of the MTT / MCT cases. */
export interface DistillSetting {
  ipc: number;
  synSteps: number;
  netWidth: number;
}

/** Inputs of one distillation gradient evaluation on 32×32×3, 10 classes. */
export function distillProblem(setting: DistillSetting, seed: number): {
  layout: ParamLayout;
  images: Tensor4D;
  labels: Tensor2D;
  problem: (augmentSeed: number) => StudentProblem;
  dispose: () => void;
} {
  const layout = paramLayout(
    convNetSpec(CIFAR, { netWidth: setting.netWidth }),
  );
  const rng = new Rng(seed);
  const n = setting.ipc * CIFAR.numClasses;
  const images = tf.tensor4d(rng.normalArray(n * 32 * 32 * 3), [n, 32, 32, 3]);
  const labels = oneHot(n, CIFAR.numClasses);
  const thetaStart = tf.tensor1d(initParams(layout, rng)) as Tensor1D;
  const thetaTarget = tf.tensor1d(initParams(layout, rng)) as Tensor1D;
  // Whole-set batches, as the reference's default batch_syn.
  const whole = Int32Array.from({ length: n }, (_, i) => i);
  const batches = Array.from({ length: setting.synSteps }, () => whole);
  return {
    layout,
    images,
    labels,
    problem: (augmentSeed) => ({
      layout,
      thetaStart,
      thetaTarget,
      batches,
      augment: replayableDsa(new Rng(augmentSeed)),
    }),
    dispose: () => tf.dispose([images, labels, thetaStart, thetaTarget]),
  };
}

/**
 * The MTT / MCT iteration setting run on every configuration. IPC 10 with
 * whole-set batches does not fit the wasm heap: one step's graph holds
 * ~45 MB of tensors per image at width 128 (4.2 GiB at 100 images), so the
 * default cases use IPC 1; {@link IPC10_SETTING} runs on `cpu+native` on
 * request.
 */
export const ITERATION_SETTING: DistillSetting = {
  ipc: 1,
  synSteps: 10,
  netWidth: 128,
};

/** The setting, IPC 10: `cpu+native` only, `--filter ipc10`. */
export const IPC10_SETTING: DistillSetting = {
  ipc: 10,
  synSteps: 10,
  netWidth: 128,
};

function distillIteration(
  method: "mtt" | "mct",
  s: DistillSetting,
  suffix: string,
  counts: Partial<Record<string, [number, number]>>,
  quickCounts: Partial<Record<string, [number, number]>>,
  skipReason?: string,
): BenchCase {
  const name = method === "mtt"
    ? "MTT iteration: unrolled gradient (recomputing, the default)"
    : "MCT iteration: per-step gradient";
  return {
    id: `${method}-iteration${suffix}`,
    group: `distill-iteration${suffix}`,
    ...(suffix ? { optIn: true } : {}),
    title: `${name}, IPC ${s.ipc} × 10 classes, synSteps ${s.synSteps}, ` +
      `width ${s.netWidth}, 32×32×3, whole-set batches, DSA`,
    plan: (c, quick) => byConfig(c, quick, counts, quickCounts, skipReason),
    prepare: () => {
      const p = distillProblem(s, 5);
      let k = 0;
      return {
        fn: asAsync(() => {
          const problem = p.problem(100 + k++);
          const r = method === "mtt"
            ? unrolledGradient(problem, p.images, p.labels, 0.01)
            : perStepGradient(problem, p.images, p.labels, 0.01);
          r.gradImages.dispose();
        }),
        teardown: p.dispose,
      };
    },
  };
}

const ITERATION_COUNTS = {
  "wasm+native": [1, 4],
  wasm: [1, 2],
  "cpu+native": [1, 2],
} as const satisfies Partial<Record<string, [number, number]>>;

const IPC10_COUNTS = {
  "wasm+native": [0, 1],
  "cpu+native": [0, 1],
} as const satisfies Partial<
  Record<string, [number, number]>
>;
const IPC10_SKIP = "IPC 10 on the stock kernels would take hours";

const mixedProduct: BenchCase = {
  id: "mixed-product",
  title: "mixed second-order product d(v·∂L/∂θ)/dx, batch 10, width 128, " +
    "32×32×3",
  plan: (c, quick) =>
    byConfig(
      c,
      quick,
      {
        "wasm+native": [2, 10],
        wasm: [1, 5],
        "cpu+native": [1, 5],
        cpu: [0, 2],
      },
      { "wasm+native": [1, 3], wasm: [1, 2] },
    ),
  prepare: () => {
    const layout = paramLayout(convNetSpec(CIFAR));
    const rng = new Rng(6);
    const theta = tf.tensor1d(initParams(layout, rng)) as Tensor1D;
    const x = tf.tensor4d(rng.normalArray(10 * 32 * 32 * 3), [10, 32, 32, 3]);
    const y = oneHot(10, 10);
    const v = tf.tensor1d(rng.normalArray(layout.size));
    const product = tf.grad((xi: Tensor) =>
      tf.sum(tf.mul(v, lossAndGrad(layout, theta, xi as Tensor4D, y).grad))
    );
    return {
      fn: asAsync(() => tf.tidy(() => product(x)).dispose()),
      teardown: () => tf.dispose([theta, x, y, v]),
    };
  },
};

const evalEpoch: BenchCase = {
  id: "eval-epoch",
  title: "evaluation: train on 100 images for one pass (momentum 0.9, " +
    "DSA) + accuracy on 1000 test images, width 128, 32×32×3",
  plan: (c, quick) =>
    byConfig(
      c,
      quick,
      { "wasm+native": [1, 3], wasm: [1, 2], "cpu+native": [1, 2] },
      { "wasm+native": [1, 2] },
    ),
  prepare: () => {
    const layout = paramLayout(convNetSpec(CIFAR));
    const theta0 = initParams(layout, new Rng(7));
    const train = randomImages(CIFAR, 100, 8);
    const test = randomImages(CIFAR, 1000, 9);
    const rng = new Rng(10);
    return {
      fn: async () => {
        const theta = await trainSgd(layout, theta0, train, {
          epochs: 1,
          lr: 0.01,
          momentum: 0.9,
          weightDecay: 0.0005,
          batchSize: 256,
          rng,
          augment: (x) => dsa(x, drawsFromRng(rng)),
        });
        accuracy(layout, theta, test);
      },
    };
  },
};

const convexifyCase: BenchCase = {
  id: "convexify",
  title: "convexify (4 waypoints, cumulative β) a 51-snapshot trajectory of " +
    "320,010 parameters + 6 reconstructions",
  backendFree: true,
  plan: (
    _c,
    quick,
  ) => (quick ? { warmup: 1, iterations: 2 } : { warmup: 1, iterations: 5 }),
  prepare: () => {
    const layout = paramLayout(convNetSpec(CIFAR));
    const rng = new Rng(11);
    // A random walk, so every layer moves a different distance per epoch.
    const snapshots: Float32Array[] = [initParams(layout, rng)];
    for (let e = 1; e < 51; e++) {
      const prev = snapshots[e - 1]!;
      const step = rng.normalArray(prev.length);
      snapshots.push(prev.map((p, i) => p + 0.01 * step[i]!));
    }
    const layers = layout.tensors.map(({ offset, size }) => ({ offset, size }));
    return {
      fn: asAsync(() => {
        const conv = convexify(snapshots, layers, { waypoints: 4 });
        for (const t of [0, 0.5, 12.3, 25, 49.9, 50]) pointAt(conv, t);
      }),
    };
  },
};

const dataLoading: BenchCase = {
  id: "data-loading",
  title: "Fashion-MNIST train split (60,000 images) from " +
    `${SYSTEM_FASHION_MNIST_DIR}: gunzip + parse + normalise to float32`,
  backendFree: true,
  plan: (
    _c,
    quick,
  ) => (quick ? { warmup: 0, iterations: 1 } : { warmup: 1, iterations: 3 }),
  prepare: () => {
    const files = fashionMnistFiles("train");
    for (const f of [files.images, files.labels]) {
      try {
        Deno.statSync(path.join(SYSTEM_FASHION_MNIST_DIR, f));
      } catch {
        throw new SkipCase(
          `${path.join(SYSTEM_FASHION_MNIST_DIR, f)} not found ` +
            `(Debian package dataset-fashion-mnist)`,
        );
      }
    }
    // An empty cache folder, so the loader reads the system copy.
    const root = Deno.makeTempDirSync({ prefix: "trajbench-bench-" });
    return {
      fn: async () => {
        const set = await loadDataset("fashion-mnist", {
          split: "train",
          root,
          quiet: true,
        });
        toFloat(set);
      },
      teardown: () => Deno.removeSync(root, { recursive: true }),
    };
  },
};

/** Every case, in the order they run and are reported. */
export const CASES: readonly BenchCase[] = [
  trainStep("train-step-fmnist", FMNIST, "Fashion-MNIST 28×28×1"),
  trainStep("train-step-cifar", CIFAR, "CIFAR 32×32×3"),
  distillIteration("mtt", ITERATION_SETTING, "", ITERATION_COUNTS, {
    "wasm+native": [1, 2],
  }),
  distillIteration("mct", ITERATION_SETTING, "", ITERATION_COUNTS, {
    "wasm+native": [1, 2],
  }),
  mixedProduct,
  evalEpoch,
  convexifyCase,
  dataLoading,
  distillIteration(
    "mtt",
    IPC10_SETTING,
    "-ipc10",
    IPC10_COUNTS,
    IPC10_COUNTS,
    IPC10_SKIP,
  ),
  distillIteration(
    "mct",
    IPC10_SETTING,
    "-ipc10",
    IPC10_COUNTS,
    IPC10_COUNTS,
    IPC10_SKIP,
  ),
];

/** The setting of the memory-versus-synSteps measurement. */
export const MEMORY_SETTING = {
  ipc: 1,
  netWidth: 16,
  synSteps: [10, 20, 40],
} as const;

/** Gradient forms compared by the memory curve. */
export const MEMORY_METHODS = ["mtt-tape", "mtt", "mct"] as const;

/** One point of the memory curve. */
export interface MemoryPoint {
  /**
   * `mtt-tape`: MTT on one tape over the unroll; `mtt`: MTT recomputing one
   * step at a time (the default); `mct`: the per-step gradient.
   */
  method: typeof MEMORY_METHODS[number];
  synSteps: number;
  /** Peak tensor bytes above the inputs during one gradient evaluation. */
  peakBytes: number;
  seconds: number;
}

/**
 * Peak tensor bytes and time of one gradient evaluation for each method and
 * synSteps. Width 16 keeps the taped MTT at 40 steps inside the wasm heap;
 * tensor bytes scale with the width, so the growth rates carry over.
 */
export function memoryCurve(
  withPeak: <T>(fn: () => T) => { value: T; peak: number },
  synSteps: readonly number[] = MEMORY_SETTING.synSteps,
): MemoryPoint[] {
  const points: MemoryPoint[] = [];
  for (const method of MEMORY_METHODS) {
    for (const steps of synSteps) {
      const p = distillProblem(
        {
          ipc: MEMORY_SETTING.ipc,
          netWidth: MEMORY_SETTING.netWidth,
          synSteps: steps,
        },
        12,
      );
      const run = () => {
        const problem = p.problem(13);
        const r = method === "mct"
          ? perStepGradient(problem, p.images, p.labels, 0.01)
          : unrolledGradient(problem, p.images, p.labels, 0.01, {
            memory: method === "mtt-tape" ? "tape" : "recompute",
          });
        r.gradImages.dispose();
      };
      run(); // warm-up: first use of fresh heap pages
      const started = performance.now();
      const { peak } = withPeak(run);
      points.push({
        method,
        synSteps: steps,
        peakBytes: peak,
        seconds: (performance.now() - started) / 1000,
      });
      p.dispose();
    }
  }
  return points;
}
