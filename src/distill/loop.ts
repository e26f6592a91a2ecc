/**
 * The one distillation loop shared by MTT and MCT.
 *
 * Per iteration: take the next expert of a shuffled cycle, draw a start time,
 * read θ*_start and θ*_{start+M} from the expert's path, run the student on
 * the synthetic images and form the gradient, then update the images and α by
 * SGD with momentum 0.5. The three method choices (trajectory, start sampling,
 * gradient) are the only places the methods differ; see config.ts.
 *
 * All randomness — initial images, expert order, start times, minibatches,
 * augmentation — comes from one generator seeded from the config, and its
 * state is part of every checkpoint, so a resumed run continues bit-identically
 * on the same backend.
 *
 * @module
 */
import * as path from "node:path";
import {
  type Tensor1D,
  type Tensor2D,
  type Tensor4D,
  tf,
} from "../backend/tf.ts";
import { sampleBalanced } from "../data/sampler.ts";
import type { LabelledImages } from "../train/sgd.ts";
import {
  DivergenceError,
  explainBackendFailure,
  InputError,
} from "../util/errors.ts";
import {
  bytesToFloat32,
  exists,
  float32ToBytes,
  sha256,
  writeFileAtomic,
  writeJsonAtomic,
} from "../util/fs.ts";
import { formatDuration } from "../util/progress.ts";
import { Rng, type RngState } from "../util/rng.ts";
import type { DistillConfig } from "./config.ts";
import type { ExpertSource } from "./expert_source.ts";
import {
  type DistillGradient,
  perStepGradient,
  type StudentProblem,
  unrolledGradient,
} from "./gradient.ts";
import { replayableDsa } from "./step_augment.ts";

/** Momentum of both distillation optimisers (the reference's value). */
export const DISTILL_MOMENTUM = 0.5;

/** The loop's complete state: what a checkpoint holds. */
export interface DistillState {
  /** Iterations completed. */
  iteration: number;
  /** Synthetic images, NHWC float32, class-major (IPC per class). */
  images: Float32Array;
  /** Momentum buffer of the images; null before the first update. */
  imageMomentum: Float32Array | null;
  alpha: number;
  alphaMomentum: number | null;
  rng: RngState;
  /** Current expert cycle and the position in it. */
  expertOrder: number[];
  expertPos: number;
  /** Minibatches of the current permutation not yet used. */
  pendingBatches: number[][];
  /** Matching loss of every completed iteration. */
  losses: number[];
  /** α after every completed iteration. */
  alphas: number[];
}

/** What the loop needs besides the config. */
export interface DistillInputs {
  config: DistillConfig;
  experts: ExpertSource;
  /** Real training images, preprocessed as the experts saw them. */
  train: LabelledImages;
  /** Folder for the checkpoint and the result. */
  outDir: string;
  /** Iterations between checkpoints. @default 50 */
  checkpointEvery?: number;
  /** Iterations between log lines. @default 10 */
  logEvery?: number;
  /** Continue from the checkpoint in outDir if there is one. @default true */
  resume?: boolean;
  /** Stop (after checkpointing) once this many iterations are done. */
  stopAfter?: number;
  /** Called at iteration 0, every `evalEvery` iterations and at the end. */
  onEval?: (
    iteration: number,
    images: Float32Array,
    alpha: number,
  ) => Promise<void>;
  /** @default 0 (never, except at the end) */
  evalEvery?: number;
  /** Log sink. @default console.error */
  log?: (line: string) => void;
}

/** Labels of the class-major synthetic set. */
export function syntheticLabels(numClasses: number, ipc: number): Int32Array {
  return Int32Array.from(
    { length: numClasses * ipc },
    (_, i) => Math.floor(i / ipc),
  );
}

/** The initial state, before any iteration. */
export function initialState(inputs: DistillInputs): DistillState {
  const { config, train, experts } = inputs;
  const rng = Rng.derive(config.seed, "distill");
  const stride = train.height * train.width * train.channels;
  const n = train.numClasses * config.ipc;
  let images: Float32Array;
  if (config.init === "real") {
    const idx = sampleBalanced(train.labels, train.numClasses, config.ipc, rng);
    images = new Float32Array(n * stride);
    idx.forEach((r, i) =>
      images.set(
        train.images.subarray(r * stride, (r + 1) * stride),
        i * stride,
      )
    );
  } else {
    images = rng.normalArray(n * stride);
  }
  return {
    iteration: 0,
    images,
    imageMomentum: null,
    alpha: config.alphaInit,
    alphaMomentum: null,
    rng: rng.getState(),
    expertOrder: [],
    expertPos: experts.indices.length,
    pendingBatches: [],
    losses: [],
    alphas: [],
  };
}

const CHECKPOINT_JSON = "checkpoint.json";
const CHECKPOINT_DATA = "checkpoint.f32";

/** The identity of a run: a checkpoint is only resumed by the same run. */
function runKey(inputs: DistillInputs): Record<string, unknown> {
  return {
    config: inputs.config,
    expertStore: inputs.experts.contentHash,
    expertIndices: inputs.experts.indices,
    trainShape: [
      inputs.train.count,
      inputs.train.height,
      inputs.train.width,
      inputs.train.channels,
    ],
  };
}

/** Save the state atomically: data file first, then the JSON that names its hash. */
export async function saveCheckpoint(
  outDir: string,
  inputs: DistillInputs,
  state: DistillState,
): Promise<void> {
  const n = state.images.length;
  const data = new Float32Array(state.imageMomentum ? 2 * n : n);
  data.set(state.images);
  if (state.imageMomentum) data.set(state.imageMomentum, n);
  const bytes = float32ToBytes(data);
  await writeFileAtomic(path.join(outDir, CHECKPOINT_DATA), bytes);
  const { images: _i, imageMomentum: _m, ...rest } = state;
  await writeJsonAtomic(path.join(outDir, CHECKPOINT_JSON), {
    run: runKey(inputs),
    dataSha256: sha256(bytes),
    hasImageMomentum: state.imageMomentum !== null,
    state: rest,
  });
}

/** Load a checkpoint of this run, or null when there is none. */
export async function loadCheckpoint(
  outDir: string,
  inputs: DistillInputs,
): Promise<DistillState | null> {
  const jsonFile = path.join(outDir, CHECKPOINT_JSON);
  if (!(await exists(jsonFile))) return null;
  // deno-lint-ignore no-explicit-any
  let meta: any;
  try {
    meta = JSON.parse(await Deno.readTextFile(jsonFile));
  } catch (err) {
    throw new InputError(
      jsonFile,
      `is not valid JSON (${(err as Error).message}); delete it to start over`,
    );
  }
  const want = runKey(inputs);
  for (const key of Object.keys(want)) {
    if (JSON.stringify(meta.run?.[key]) !== JSON.stringify(want[key])) {
      throw new InputError(
        jsonFile,
        `belongs to a different run (${key} differs); use another output folder or delete the checkpoint`,
      );
    }
  }
  const dataFile = path.join(outDir, CHECKPOINT_DATA);
  const bytes = await Deno.readFile(dataFile);
  if (sha256(bytes) !== meta.dataSha256) {
    throw new InputError(
      dataFile,
      "does not match the checksum in checkpoint.json; the checkpoint is damaged",
    );
  }
  const data = bytesToFloat32(bytes);
  const n = meta.hasImageMomentum ? data.length / 2 : data.length;
  return {
    ...meta.state,
    images: data.slice(0, n),
    imageMomentum: meta.hasImageMomentum ? data.slice(n) : null,
  };
}

function nextExpert(
  state: DistillState,
  experts: ExpertSource,
  rng: Rng,
): number {
  if (state.expertPos >= state.expertOrder.length) {
    state.expertOrder = Array.from(
      rng.permutation(experts.indices.length),
      (i) => experts.indices[i]!,
    );
    state.expertPos = 0;
  }
  return state.expertOrder[state.expertPos++]!;
}

/** N minibatches; a permutation is split into chunks of batchSyn and used up before the next. */
function studentBatches(
  state: DistillState,
  n: number,
  cfg: DistillConfig,
  rng: Rng,
): Int32Array[] {
  const size = cfg.batchSyn === 0 ? n : Math.min(cfg.batchSyn, n);
  const out: Int32Array[] = [];
  for (let s = 0; s < cfg.synSteps; s++) {
    if (state.pendingBatches.length === 0) {
      const perm = rng.permutation(n);
      for (let i = 0; i < n; i += size) {
        state.pendingBatches.push(Array.from(perm.subarray(i, i + size)));
      }
    }
    out.push(Int32Array.from(state.pendingBatches.shift()!));
  }
  return out;
}

function drawStart(
  cfg: DistillConfig,
  lastEpoch: number,
  rng: Rng,
): { start: number; target: number } {
  const upper = Math.min(cfg.maxStartEpoch, lastEpoch);
  const start = cfg.startSampling === "integer"
    ? rng.int(Math.max(1, Math.floor(upper)))
    : rng.uniform() * upper;
  return { start, target: Math.min(start + cfg.expertEpochs, lastEpoch) };
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

/** Check the start/target window fits the experts before any work. */
export function checkWindow(cfg: DistillConfig, experts: ExpertSource): void {
  if (
    cfg.startSampling === "integer" &&
    cfg.maxStartEpoch - 1 + cfg.expertEpochs > experts.lastEpoch
  ) {
    throw new InputError(
      "maxStartEpoch",
      `start epochs up to ${
        cfg.maxStartEpoch - 1
      } plus expertEpochs ${cfg.expertEpochs} run past the experts' last epoch ${experts.lastEpoch}`,
    );
  }
  if (cfg.expertEpochs >= experts.lastEpoch + 1) {
    throw new InputError(
      "expertEpochs",
      `${cfg.expertEpochs} is not shorter than the experts' ${experts.lastEpoch} epochs`,
    );
  }
}

/** Result of {@link runDistillation}. */
export interface DistillOutcome {
  state: DistillState;
  labels: Int32Array;
  /** True when the run stopped early at `stopAfter`. */
  stopped: boolean;
  seconds: number;
}

/**
 * Run (or resume) a distillation to `config.iterations`.
 *
 * @throws DivergenceError after saving a checkpoint of the last good state,
 *   when the loss, α or an image stops being finite or α turns negative
 */
export async function runDistillation(
  inputs: DistillInputs,
): Promise<DistillOutcome> {
  const { config: cfg, experts, train, outDir } = inputs;
  const log = inputs.log ?? ((line: string) => console.error(line));
  const checkpointEvery = inputs.checkpointEvery ?? 50;
  const logEvery = inputs.logEvery ?? 10;
  checkWindow(cfg, experts);
  if (experts.layout.spec.numClasses !== train.numClasses) {
    throw new InputError(
      experts.dir,
      `experts have ${experts.layout.spec.numClasses} classes, the data set ${train.numClasses}`,
    );
  }

  let state = (inputs.resume ?? true)
    ? await loadCheckpoint(outDir, inputs)
    : null;
  if (state) {
    log(
      `[distill] resuming ${cfg.method} from iteration ${state.iteration} (${outDir})`,
    );
  }
  state ??= initialState(inputs);
  const rng = new Rng(0);
  rng.setState(state.rng);

  const labels = syntheticLabels(train.numClasses, cfg.ipc);
  const n = labels.length;
  const shape: [number, number, number, number] = [
    n,
    train.height,
    train.width,
    train.channels,
  ];
  const onehot = tf.oneHot(tf.tensor1d(labels, "int32"), train.numClasses)
    .toFloat() as Tensor2D;
  const started = performance.now();
  const startIteration = state.iteration;
  const evalEvery = inputs.evalEvery ?? 0;

  if (state.iteration === 0 && inputs.onEval) {
    await inputs.onEval(0, state.images, state.alpha);
  }
  let stopped = false;
  try {
    while (state.iteration < cfg.iterations) {
      const expert = nextExpert(state, experts, rng);
      const pathOf = await experts.load(expert);
      const { start, target } = drawStart(cfg, experts.lastEpoch, rng);
      const batches = studentBatches(state, n, cfg, rng);
      const thetaStart = tf.tensor1d(pathOf.at(start)) as Tensor1D;
      const thetaTarget = tf.tensor1d(pathOf.at(target)) as Tensor1D;
      const images = tf.tensor4d(state.images, shape) as Tensor4D;
      const problem: StudentProblem = {
        layout: experts.layout,
        thetaStart,
        thetaTarget,
        batches,
        ...(cfg.dsa ? { augment: replayableDsa(rng) } : {}),
      };
      let g: DistillGradient;
      try {
        g = cfg.gradient === "unrolled"
          ? unrolledGradient(problem, images, onehot, state.alpha)
          : perStepGradient(problem, images, onehot, state.alpha);
      } catch (err) {
        throw explainBackendFailure(
          err,
          `distillation iteration ${state.iteration + 1}`,
        );
      } finally {
        thetaStart.dispose();
        thetaTarget.dispose();
        images.dispose();
      }
      const grad = g.gradImages.dataSync() as Float32Array;
      g.gradImages.dispose();

      // SGD with momentum 0.5, as torch.optim.SGD (first buffer = gradient).
      const imgBuf = state.imageMomentum ?? new Float32Array(grad.length);
      const nextImages = new Float32Array(state.images.length);
      for (let i = 0; i < grad.length; i++) {
        imgBuf[i] = state.imageMomentum
          ? DISTILL_MOMENTUM * imgBuf[i]! + grad[i]!
          : grad[i]!;
        nextImages[i] = state.images[i]! - cfg.lrImg * imgBuf[i]!;
      }
      const alphaBuf = state.alphaMomentum === null
        ? g.gradAlpha
        : DISTILL_MOMENTUM * state.alphaMomentum + g.gradAlpha;
      const nextAlpha = state.alpha - cfg.lrLr * alphaBuf;

      const problemText = !Number.isFinite(g.loss)
        ? `the matching loss is ${g.loss}`
        : !Number.isFinite(nextAlpha)
        ? `α became ${nextAlpha}`
        : nextAlpha <= 0
        ? `α turned non-positive (${nextAlpha})`
        : !allFinite(nextImages)
        ? "an image became NaN or infinite"
        : "";
      if (problemText) {
        await saveCheckpoint(outDir, inputs, state);
        throw new DivergenceError(
          `distillation diverged at iteration ${
            state.iteration + 1
          } (expert ${expert}, start ${start.toFixed(3)}, ` +
            `target ${
              target.toFixed(3)
            }): ${problemText}. α was ${state.alpha}, loss ${g.loss}. ` +
            `The last good state is saved in ${
              path.join(outDir, CHECKPOINT_JSON)
            }; ` +
            `lower lrImg or lrLr and start a new run.`,
        );
      }

      state.images = nextImages;
      state.imageMomentum = imgBuf;
      state.alpha = nextAlpha;
      state.alphaMomentum = alphaBuf;
      state.iteration++;
      state.losses.push(g.loss);
      state.alphas.push(nextAlpha);
      state.rng = rng.getState();

      const it = state.iteration;
      if (it % logEvery === 0 || it === cfg.iterations) {
        const secs = (performance.now() - started) / 1000 /
          (it - startIteration);
        const recent = state.losses.slice(-logEvery);
        log(
          `[distill ${cfg.method}] it ${it}/${cfg.iterations} loss ${
            (recent.reduce((a, b) => a + b, 0) / recent.length).toFixed(4)
          } ` +
            `alpha ${state.alpha.toPrecision(5)} ${secs.toFixed(2)} s/it ETA ${
              formatDuration(secs * (cfg.iterations - it))
            }`,
        );
      }
      if (it % checkpointEvery === 0 || it === cfg.iterations) {
        await saveCheckpoint(outDir, inputs, state);
      }
      if (
        inputs.onEval && evalEvery > 0 && it % evalEvery === 0 &&
        it !== cfg.iterations
      ) {
        await inputs.onEval(it, state.images, state.alpha);
      }
      if (
        inputs.stopAfter !== undefined && it >= inputs.stopAfter &&
        it < cfg.iterations
      ) {
        await saveCheckpoint(outDir, inputs, state);
        stopped = true;
        break;
      }
    }
  } finally {
    onehot.dispose();
  }
  if (!stopped && inputs.onEval) {
    await inputs.onEval(state.iteration, state.images, state.alpha);
  }
  return {
    state,
    labels,
    stopped,
    seconds: (performance.now() - started) / 1000,
  };
}
