/**
 * Finite-difference checks of TensorFlow.js gradients, shared by the op,
 * model and native-kernel tests.
 */
import { strict as assert } from "node:assert";
import { type Tensor, tf } from "../src/backend/tf.ts";
import { Rng } from "../src/util/rng.ts";

/** Options of {@link checkGradients}. */
export interface FdOptions {
  /** Difference step. @default 1e-2 */
  eps?: number;
  /** Largest accepted relative error. @default 2e-3 */
  tol?: number;
  /**
   * Direction of the difference: a random one, or the gradient itself
   * (scaled to unit RMS per element). Along a random direction the
   * derivative of a small quantity can drown in float32 noise; along ĝ it is
   * |g|·√n, and it can only match when g is right.
   * @default "random"
   */
  along?: "random" | "gradient";
  /** Generator of the random directions. @default new Rng(7) */
  rng?: Rng;
}

/**
 * Compare ⟨∇f(args), u⟩ from autodiff with a fourth-order central difference
 * of f along u, for each argument in turn.
 */
export function checkGradients(
  name: string,
  f: (...args: Tensor[]) => Tensor,
  args: Tensor[],
  { eps = 1e-2, tol = 2e-3, along = "random", rng = new Rng(7) }: FdOptions =
    {},
): void {
  const grads = tf.grads((...a: Tensor[]) => f(...a) as tf.Scalar)(args);
  args.forEach((arg, i) => {
    const g = grads[i]!;
    let u: Tensor;
    if (along === "gradient") {
      u = tf.mul(g, Math.sqrt(g.size) / tf.norm(g).dataSync()[0]!);
    } else {
      u = tf.tensor(rng.normalArray(arg.size), arg.shape);
    }
    const at = (step: number) => {
      const a = args.slice();
      a[i] = tf.add(arg, tf.mul(u, step));
      return f(...a).dataSync()[0]!;
    };
    const fd = (8 * (at(eps) - at(-eps)) - (at(2 * eps) - at(-2 * eps))) /
      (12 * eps);
    const ad = tf.sum(tf.mul(g, u)).dataSync()[0]!;
    const rel = Math.abs(fd - ad) / Math.max(Math.abs(fd), 1e-2);
    assert.ok(
      rel < tol,
      `${name}, argument ${i}: autodiff ${ad} vs finite difference ${fd} (rel ${
        rel.toExponential(2)
      })`,
    );
  });
}
