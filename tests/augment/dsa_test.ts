/**
 * DSA against the reference outputs in `dsa_fixed.json` (recorded draws
 * replayed through a checking {@link DrawSource}), on the cpu and wasm
 * backends, plus finite-difference, mode-S and determinism checks.
 *
 * Scale and rotate are compared with the golden `output` / `grad_input_of_...`
 * fields, i.e. the reference's own behaviour: theta rounded to float32 before
 * sampling. `scaleThetas` / `rotateThetas` round the same way; a float64
 * geometry test below shows which of the two golden variants that matches.
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { type Tensor4D, tf } from "../../src/backend/tf.ts";
import { initBackend } from "../../src/backend/mod.ts";
import { Rng } from "../../src/util/rng.ts";
import {
  drawsFromRng,
  type DrawSource,
  dsa,
  DSA_GROUP_FNS,
  DSA_GROUPS,
  dsaBrightness,
  dsaContrast,
  type DsaGroup,
  type DsaGroupFn,
  dsaRotate,
  dsaSaturation,
  dsaScale,
  rotateThetas,
  scaleThetas,
} from "../../src/augment/dsa.ts";
import {
  affineGatherPlan,
  applyGatherPlanToArray,
} from "../../src/augment/sampler.ts";
import {
  assertClose,
  type GoldenTensor,
  loadGolden,
  maxAbsDiff,
  nchwToNhwc,
  relL2,
} from "../_golden.ts";

interface GoldenDraw {
  fn: "torch.rand" | "torch.randint";
  size: number[];
  low?: number;
  high_exclusive?: number;
  values: number[];
}

interface GoldenCase {
  random_draws_in_order: GoldenDraw[];
  output: GoldenTensor;
  grad_input_of_sum_output_times_w: GoldenTensor;
  theta_used?: GoldenTensor;
  output_theta_float64?: GoldenTensor;
  grad_input_theta_float64?: GoldenTensor;
  after_each_function?: { function: string; output: GoldenTensor }[];
}

const golden = loadGolden("dsa_fixed.json");
const cases = golden.cases as Record<DsaGroup, GoldenCase>;
const SHAPE = golden.input.shape as number[]; // [2, 3, 8, 8] NCHW
const [N, C, H, W] = SHAPE as [number, number, number, number];
const NHWC: [number, number, number, number] = [N, H, W, C];

/** Outputs: relative L2 error allowed for float32 code vs float64 goldens. */
const TOL_OUT = 2e-7;
/** Gradients. */
const TOL_GRAD = 2e-7;

/**
 * Replays recorded draws and fails on any call that differs from the
 * recording in function, size or integer range: this is what pins the draw
 * order of each group to the reference.
 */
function recordedDraws(list: GoldenDraw[]): DrawSource & { rest(): number } {
  let at = 0;
  const take = (fn: GoldenDraw["fn"], n: number, range?: [number, number]) => {
    const d = list[at];
    if (d === undefined) {
      throw new Error(`draw ${at}: unexpected extra ${fn}(${n})`);
    }
    const size = d.size.reduce((a, b) => a * b, 1);
    if (d.fn !== fn || size !== n) {
      throw new Error(
        `draw ${at}: expected ${d.fn} of ${size}, got ${fn} of ${n}`,
      );
    }
    if (range && (d.low !== range[0] || d.high_exclusive !== range[1])) {
      throw new Error(
        `draw ${at}: expected randint[${d.low}, ${d.high_exclusive}), got [${range}]`,
      );
    }
    at++;
    return d.values;
  };
  return {
    rand: (n) => Float64Array.from(take("torch.rand", n)),
    randint: (low, high, n) =>
      Int32Array.from(take("torch.randint", n, [low, high])),
    rest: () => list.length - at,
  };
}

/** Draws that repeat the same fixed values on every call (for FD checks). */
function fixedDraws(values: number[]): DrawSource {
  return {
    rand: (n) =>
      Float64Array.from({ length: n }, (_, i) => values[i % values.length]!),
    randint: () => {
      throw new Error("fixedDraws: randint not expected");
    },
  };
}

function nhwc(t: GoldenTensor): Float32Array {
  return nchwToNhwc(t.data, t.shape);
}

function goldenInput(): Tensor4D {
  return tf.tensor4d(nhwc(golden.input), NHWC);
}

/** Output and d/dx Σ(f(x)·w) on the golden input. */
function runWithGrad(f: (x: Tensor4D) => Tensor4D) {
  return tf.tidy(() => {
    const x = goldenInput();
    const w = tf.tensor4d(nhwc(golden.w), NHWC);
    const out = f(x);
    const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v as Tensor4D), w)))(
      x,
    );
    return { out: out.dataSync().slice(), grad: grad.dataSync().slice() };
  });
}

const BACKENDS = ["cpu", "wasm"] as const;

async function use(backend: string): Promise<void> {
  await initBackend({ backend, log: false });
  assertEquals(tf.getBackend(), backend);
}

const testOpts = { sanitizeOps: false, sanitizeResources: false };

for (const backend of BACKENDS) {
  for (const group of DSA_GROUPS) {
    Deno.test({
      name: `dsa golden ${group} output and input gradient [${backend}]`,
      ...testOpts,
      fn: async () => {
        await use(backend);
        const gc = cases[group];
        const fn: DsaGroupFn = DSA_GROUP_FNS[group];
        // Output and gradient consume the draws once each.
        const drawsOut = recordedDraws(gc.random_draws_in_order);
        const drawsGrad = recordedDraws(gc.random_draws_in_order);
        let calls = 0;
        const { out, grad } = runWithGrad((x) =>
          fn(x, calls++ === 0 ? drawsOut : drawsGrad)
        );
        assertEquals(drawsOut.rest(), 0, "draws left unconsumed");
        assertEquals(drawsGrad.rest(), 0, "draws left unconsumed");
        assertClose(out, nhwc(gc.output), TOL_OUT, `${group} output`);
        assertClose(
          grad,
          nhwc(gc.grad_input_of_sum_output_times_w),
          TOL_GRAD,
          `${group} gradient`,
        );
      },
    });
  }

  Deno.test({
    name: `dsa golden color intermediate steps [${backend}]`,
    ...testOpts,
    fn: async () => {
      await use(backend);
      const gc = cases.color;
      const draws = recordedDraws(gc.random_draws_in_order);
      const steps = [dsaBrightness, dsaSaturation, dsaContrast];
      tf.tidy(() => {
        let x = goldenInput();
        steps.forEach((step, i) => {
          x = step(x, draws);
          const want = gc.after_each_function![i]!;
          assertClose(x.dataSync(), nhwc(want.output), TOL_OUT, want.function);
        });
      });
    },
  });

  Deno.test({
    name: `dsa mode S picks the group from the first randint [${backend}]`,
    ...testOpts,
    fn: async () => {
      await use(backend);
      // The recorded mode-S call: randint(0, 6) = 5, then the rotate draws.
      const rec = golden.diffaugment_mode_S
        .random_draws_in_order as GoldenDraw[];
      const draws = recordedDraws(rec);
      const out = tf.tidy(() => dsa(goldenInput(), draws).dataSync().slice());
      assertEquals(draws.rest(), 0);
      assertClose(out, nhwc(cases.rotate.output), TOL_OUT, "mode S, k = 5");

      // Every group index selects its group and then the group's own draws.
      DSA_GROUPS.forEach((group, k) => {
        const pick: GoldenDraw = {
          fn: "torch.randint",
          size: [1],
          low: 0,
          high_exclusive: 6,
          values: [k],
        };
        const d = recordedDraws([pick, ...cases[group].random_draws_in_order]);
        const y = tf.tidy(() => dsa(goldenInput(), d).dataSync().slice());
        assertEquals(d.rest(), 0, `mode S, k = ${k}: draws left`);
        assertClose(y, nhwc(cases[group].output), TOL_OUT, `mode S, k = ${k}`);
      });
    },
  });

  Deno.test({
    name:
      `dsa scale and rotate gradients match finite differences [${backend}]`,
    ...testOpts,
    fn: async () => {
      await use(backend);
      const rng = new Rng(11);
      const shape: [number, number, number, number] = [2, 5, 7, 2];
      const size = shape.reduce((a, b) => a * b, 1);
      const x0 = rng.normalArray(size);
      const wv = rng.normalArray(size);
      const variants: [string, (x: Tensor4D) => Tensor4D][] = [
        ["scale", (x) => dsaScale(x, fixedDraws([0.05, 0.97, 0.6]))],
        ["rotate", (x) => dsaRotate(x, fixedDraws([0.02, 0.88]))],
      ];
      for (const [name, f] of variants) {
        const objective = (x: Float32Array): number =>
          tf.tidy(() => {
            const y = f(tf.tensor4d(x, shape));
            return tf.sum(tf.mul(y, tf.tensor4d(wv, shape))).dataSync()[0]!;
          });
        const analytic = tf.tidy(() =>
          tf.grad((x: tf.Tensor) =>
            tf.sum(tf.mul(f(x as Tensor4D), tf.tensor4d(wv, shape)))
          )(tf.tensor4d(x0, shape)).dataSync().slice()
        );
        const h = 1e-2;
        const fd = new Float64Array(size);
        for (let i = 0; i < size; i++) {
          const xp = x0.slice(), xm = x0.slice();
          xp[i]! += h;
          xm[i]! -= h;
          fd[i] = (objective(xp) - objective(xm)) / (2 * h);
        }
        // The map is linear, so central differences are exact up to float32
        // rounding of the objective (|f| ~ 10, so ~1e-4 here).
        const err = maxAbsDiff(analytic, fd);
        const scale = Math.max(...Array.from(fd, Math.abs));
        assert(scale > 0.1, `${name}: degenerate gradient`);
        assert(
          err <= 2e-3 * scale,
          `${name}: FD error ${err} (max |g| ${scale})`,
        );
      }
    },
  });

  Deno.test({
    name:
      `dsa inside an inner weight gradient, differentiated by images [${backend}]`,
    ...testOpts,
    fn: async () => {
      await use(backend);
      // The distillation's shape of use: g(X) = ∂/∂w L(w, DSA(X)), and the
      // image gradient of v·g(X). With L = Σ (w ⊙ A(X))², v·g is quadratic in
      // X, so central differences are exact up to float32 rounding.
      const rng = new Rng(12);
      const shape: [number, number, number, number] = [2, 6, 5, 3];
      const size = shape.reduce((a, b) => a * b, 1);
      const pix = size / 2;
      const x0 = rng.normalArray(size);
      const w0 = tf.tensor4d(rng.normalArray(pix), [1, 6, 5, 3]);
      const v = tf.tensor4d(rng.normalArray(pix), [1, 6, 5, 3]);
      const aug = (x: Tensor4D) => dsaRotate(x, fixedDraws([0.9, 0.1]));
      const mixed = (x: tf.Tensor) => {
        const g = tf.grad((w: tf.Tensor) =>
          tf.sum(tf.square(tf.mul(w, aug(x as Tensor4D))))
        )(w0);
        return tf.sum(tf.mul(g, v));
      };
      const analytic = tf.tidy(() =>
        tf.grad(mixed)(tf.tensor4d(x0, shape)).dataSync().slice()
      );
      const value = (x: Float32Array) =>
        tf.tidy(() => mixed(tf.tensor4d(x, shape)).dataSync()[0]!);
      const h = 1e-2;
      const fd = new Float64Array(size);
      for (let i = 0; i < size; i++) {
        const xp = x0.slice(), xm = x0.slice();
        xp[i]! += h;
        xm[i]! -= h;
        fd[i] = (value(xp) - value(xm)) / (2 * h);
      }
      const scale = Math.max(...Array.from(fd, Math.abs));
      const err = maxAbsDiff(analytic, fd);
      assert(scale > 0.1, "degenerate gradient");
      assert(err <= 2e-3 * scale, `FD error ${err} (max |g| ${scale})`);
      w0.dispose();
      v.dispose();
    },
  });
}

Deno.test("dsa scale/rotate theta is the reference's float32-rounded theta", () => {
  const s = cases.scale.random_draws_in_order;
  const st = scaleThetas(s[0]!.values, s[1]!.values, golden.param.ratio_scale);
  assertEquals(Array.from(st), cases.scale.theta_used!.data);
  const r = cases.rotate.random_draws_in_order;
  const rt = rotateThetas(r[0]!.values, golden.param.ratio_rotate);
  assertEquals(Array.from(rt), cases.rotate.theta_used!.data);
});

Deno.test("dsa affine geometry in float64 matches the float32-theta reference", () => {
  // Applying the gather plan in float64 removes float32 noise, so this tells
  // the two golden variants apart (they differ by ~4e-7).
  const x = nhwc(golden.input);
  const x64 = nchwToNhwc64(golden.input);
  assertEquals(x.length, x64.length);
  for (const group of ["scale", "rotate"] as const) {
    const gc = cases[group];
    const plan = affineGatherPlan(gc.theta_used!.data, N, H, W);
    const out = applyGatherPlanToArray(plan, x64, C);
    const ref = nchwToNhwc64(gc.output);
    const alt = nchwToNhwc64(gc.output_theta_float64!);
    const err = maxAbsDiff(out, ref);
    assert(err < 1e-13, `${group}: float64 geometry off by ${err}`);
    assert(maxAbsDiff(out, alt) > 1e-9, `${group}: variants indistinguishable`);
  }
});

/** NCHW → NHWC keeping float64 precision. */
function nchwToNhwc64(t: GoldenTensor): Float64Array {
  const [n, c, h, w] = t.shape as [number, number, number, number];
  const out = new Float64Array(n * c * h * w);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          out[((b * h + y) * w + x) * c + ch] = t
            .data[((b * c + ch) * h + y) * w + x]!;
        }
      }
    }
  }
  return out;
}

Deno.test({
  name: "dsa is deterministic for a seed and varies across seeds",
  ...testOpts,
  fn: async () => {
    await use("wasm");
    const x = tf.tensor4d(new Rng(3).uniformArray(4 * 16 * 16 * 3), [
      4,
      16,
      16,
      3,
    ]);
    const run = (seed: number, calls: number): Float32Array[] => {
      const draws = drawsFromRng(new Rng(seed));
      return Array.from(
        { length: calls },
        () => tf.tidy(() => dsa(x, draws).dataSync() as Float32Array),
      );
    };
    const a = run(1234, 12);
    const b = run(1234, 12);
    const c = run(4321, 12);
    a.forEach((v, i) =>
      assertEquals(v, b[i], `call ${i} differs for one seed`)
    );
    assert(
      a.some((v, i) => relL2(v, c[i]!) > 1e-3),
      "two seeds gave identical augmentations",
    );
    x.dispose();
  },
});

Deno.test("drawsFromRng stays in range and is reproducible", () => {
  const a = drawsFromRng(new Rng(5));
  const b = drawsFromRng(new Rng(5));
  const u = a.rand(1000);
  assertEquals(u, b.rand(1000));
  assert(u.every((v) => v >= 0 && v < 1));
  const k = a.randint(-4, 5, 2000);
  assertEquals(k, b.randint(-4, 5, 2000));
  assert(k.every((v) => v >= -4 && v < 5));
  assert(new Set(k).size === 9, "not every value of [-4, 5) occurred");
});
