/**
 * The papers' evaluation protocol (`evaluate_synset`, identical in both
 * reference repositories): a freshly initialised ConvNet is trained on the
 * image set for `epochs + 1` passes with SGD (lr = the learned α, momentum
 * 0.9, weight decay 5e-4, batch 256, DSA on every batch); after pass
 * `⌊epochs/2⌋ + 1` the learning rate drops ×0.1 and a fresh optimiser starts
 * (momentum cleared); test accuracy is measured once at the end.
 *
 * @module
 */
import type { Tensor4D } from "../backend/tf.ts";
import { drawsFromRng, dsa } from "../augment/dsa.ts";
import type { ParamLayout } from "../model/layout.ts";
import { initParams } from "../model/convnet.ts";
import { accuracy, type LabelledImages, trainSgd } from "../train/sgd.ts";
import { Rng } from "../util/rng.ts";

/** Settings of the evaluation protocol. */
export interface EvalProtocol {
  /** `epoch_eval_train`; the loop runs epochs + 1 passes. @default 1000 */
  epochs: number;
  /** @default 0.9 */
  momentum: number;
  /** @default 5e-4 */
  weightDecay: number;
  /** @default 256 */
  batchSize: number;
  /** DSA on every training batch. @default true */
  dsa: boolean;
  /** Networks trained per evaluation. @default 5 (MTT; MCT's code uses 3) */
  runs: number;
}

/** The reference protocol. */
export const EVAL_DEFAULTS: EvalProtocol = {
  epochs: 1000,
  momentum: 0.9,
  weightDecay: 5e-4,
  batchSize: 256,
  dsa: true,
  runs: 5,
};

/** Pass index after which the learning rate is multiplied by 0.1. */
export function lrDropPass(epochs: number): number {
  return Math.floor(epochs / 2) + 1;
}

/** The learning rate of pass `pass` (0-based) for base rate `lr`. */
export function evalLr(lr: number, epochs: number, pass: number): number {
  return pass <= lrDropPass(epochs) ? lr : lr * 0.1;
}

/** One evaluation run's outcome. */
export interface EvalRun {
  run: number;
  seed: number;
  accuracy: number;
  seconds: number;
}

/**
 * Train `protocol.runs` fresh networks on `train` with learning rate `lr` and
 * test each on `test`. Run r draws everything (initialisation, order,
 * augmentation) from `Rng.derive(seed, "eval", r)`.
 */
export async function evaluateImageSet(
  layout: ParamLayout,
  train: LabelledImages,
  test: LabelledImages,
  lr: number,
  seed: number,
  protocol: Partial<EvalProtocol> = {},
  onRun?: (r: EvalRun) => void,
): Promise<EvalRun[]> {
  const p = { ...EVAL_DEFAULTS, ...protocol };
  const out: EvalRun[] = [];
  for (let run = 0; run < p.runs; run++) {
    const started = performance.now();
    const rng = Rng.derive(seed, "eval", run);
    const theta0 = initParams(layout, rng);
    const draws = drawsFromRng(rng);
    const theta = await trainSgd(layout, theta0, train, {
      epochs: p.epochs + 1,
      lr: (pass) => evalLr(lr, p.epochs, pass),
      resetMomentumAt: [lrDropPass(p.epochs) + 1],
      momentum: p.momentum,
      weightDecay: p.weightDecay,
      batchSize: p.batchSize,
      rng,
      ...(p.dsa ? { augment: (x: Tensor4D) => dsa(x, draws) } : {}),
    });
    const r = {
      run,
      seed,
      accuracy: accuracy(layout, theta, test),
      seconds: (performance.now() - started) / 1000,
    };
    onRun?.(r);
    out.push(r);
  }
  return out;
}
