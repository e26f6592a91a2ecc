/**
 * DSA for the student steps of one distillation iteration, drawn once per step
 * and replayed on every later call for the same step. The per-step gradient
 * visits each step twice and must see the same augmentation both times (the
 * reference stores the augmented batch for the same reason).
 *
 * @module
 */
import {
  drawsFromRng,
  type DrawSource,
  dsa,
  type DsaParams,
} from "../augment/dsa.ts";
import type { Tensor4D } from "../backend/tf.ts";
import type { Rng } from "../util/rng.ts";
import type { StepAugment } from "./gradient.ts";

type Draw =
  | { kind: "rand"; n: number; values: Float64Array }
  | {
    kind: "randint";
    low: number;
    high: number;
    n: number;
    values: Int32Array;
  };

/** Records every draw it passes through from `source`. */
function recorder(source: DrawSource, log: Draw[]): DrawSource {
  return {
    rand(n) {
      const values = source.rand(n);
      log.push({ kind: "rand", n, values });
      return values;
    },
    randint(low, high, n) {
      const values = source.randint(low, high, n);
      log.push({ kind: "randint", low, high, n, values });
      return values;
    },
  };
}

/** Replays a recorded log, refusing any call that differs from it. */
function replayer(log: Draw[]): DrawSource {
  let i = 0;
  const next = (what: string): Draw => {
    const d = log[i++];
    if (!d) {
      throw new Error(`augmentation replay: no recorded draw for ${what}`);
    }
    return d;
  };
  return {
    rand(n) {
      const d = next(`rand(${n})`);
      if (d.kind !== "rand" || d.n !== n) {
        throw new Error(
          `augmentation replay: expected ${d.kind}, got rand(${n})`,
        );
      }
      return d.values;
    },
    randint(low, high, n) {
      const d = next(`randint(${low}, ${high}, ${n})`);
      if (
        d.kind !== "randint" || d.n !== n || d.low !== low || d.high !== high
      ) {
        throw new Error(
          `augmentation replay: draw mismatch at randint(${low}, ${high}, ${n})`,
        );
      }
      return d.values;
    },
  };
}

/**
 * A {@link StepAugment} that draws step `s`'s DSA parameters from `rng` the
 * first time step `s` is augmented and replays them afterwards.
 */
export function replayableDsa(
  rng: Rng,
  params?: Partial<DsaParams>,
): StepAugment {
  const logs = new Map<number, Draw[]>();
  const source = drawsFromRng(rng);
  return (x: Tensor4D, step: number): Tensor4D => {
    const log = logs.get(step);
    if (log) return dsa(x, replayer(log), params);
    const fresh: Draw[] = [];
    logs.set(step, fresh);
    return dsa(x, recorder(source, fresh), params);
  };
}
