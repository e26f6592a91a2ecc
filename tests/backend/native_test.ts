/**
 * The native kernels (native/, registered by src/backend/native.ts) against
 * the stock TensorFlow.js kernels, on random inputs, on both backends they
 * serve: the suite's own conv / pooling kernels through ops.ts, the replaced
 * Sum / Mean / BatchMatMul, and a whole ConvNet gradient and mixed product.
 * Skipped, with the reason, when the library is not built.
 */
import { strict as assert } from "node:assert";
import { initBackend } from "../../src/backend/mod.ts";
import {
  enableNativeKernels,
  hasKernel,
  NATIVE_KERNELS,
  nativeKernelsInfo,
  setNativeThreads,
} from "../../src/backend/native.ts";
import {
  type Tensor,
  type Tensor1D,
  type Tensor2D,
  type Tensor4D,
  tf,
} from "../../src/backend/tf.ts";
import {
  avgPool2,
  avgPool2Back,
  conv,
  convBackFilter,
  convBackInput,
} from "../../src/model/ops.ts";
import { convNetSpec, paramLayout } from "../../src/model/layout.ts";
import { initParams, lossAndGrad } from "../../src/model/convnet.ts";
import { Rng } from "../../src/util/rng.ts";

await initBackend({ log: false });
const probe = enableNativeKernels();
const skip = !probe.active;
if (skip) {
  console.warn(
    `native kernel tests skipped: ${probe.reason} ` +
      `(build the library with: deno task native)`,
  );
}

const BACKENDS = ["wasm", "cpu"] as const;

/** Values of `f()` with the stock kernels and with the native ones. */
async function both(
  backend: string,
  f: () => Tensor | Tensor[],
): Promise<{ stock: Float32Array[]; native: Float32Array[] }> {
  const run = () =>
    tf.tidy(() => {
      const out = f();
      return (Array.isArray(out) ? out : [out]).map((t) =>
        t.dataSync().slice() as Float32Array
      );
    });
  await initBackend({ backend, native: "off", log: false });
  assert.ok(!hasKernel(NATIVE_KERNELS.conv), "stock path still has natives");
  const stock = run();
  await initBackend({ backend, native: "on", log: false });
  assert.ok(hasKernel(NATIVE_KERNELS.conv), "native path not registered");
  const native = run();
  return { stock, native };
}

/** max |a − b| ≤ tol · (max |a| + 1e-3), element by element in lockstep. */
function assertClose(
  a: Float32Array,
  b: Float32Array,
  what: string,
  tol = 1e-5,
): void {
  assert.equal(a.length, b.length, `${what}: length`);
  let scale = 1e-3;
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]!));
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
  }
  assert.ok(
    err <= tol * scale,
    `${what}: max difference ${err.toExponential(2)} against scale ${
      scale.toExponential(2)
    }`,
  );
}

/**
 * The same values element by element (Object.is: −0 differs from 0, NaN
 * equals NaN whatever its payload bits, which hardware and engines choose
 * differently).
 */
function assertSame(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) {
      assert.fail(`${what}: element ${i} is ${a[i]}, expected ${b[i]}`);
    }
  }
}

for (const backend of BACKENDS) {
  Deno.test({
    name: `[${backend}] conv, convBackInput, convBackFilter: native = stock`,
    ignore: skip,
    fn: async () => {
      const rng = new Rng(11);
      const cases: [number, number, number, number, number][] = [
        // [batch, size, cin, cout, pad]
        [3, 7, 3, 5, 1],
        [2, 28, 1, 8, 3],
        [2, 8, 16, 16, 1],
        [1, 9, 4, 3, 0],
        [5, 32, 3, 32, 1],
      ];
      for (const [b, s, ci, co, pad] of cases) {
        const so = s + 2 * pad - 2;
        const x = rng.normalArray(b * s * s * ci);
        const w = rng.normalArray(9 * ci * co);
        const dy = rng.normalArray(b * so * so * co);
        const { stock, native } = await both(backend, () => {
          const xt = tf.tensor4d(x, [b, s, s, ci]);
          const wt = tf.tensor4d(w, [3, 3, ci, co]);
          const dyt = tf.tensor4d(dy, [b, so, so, co]);
          return [
            conv(xt, wt, pad),
            convBackInput(dyt, wt, pad),
            convBackFilter(xt, dyt, pad),
          ];
        });
        ["conv", "convBackInput", "convBackFilter"].forEach((name, i) =>
          assertClose(
            stock[i]!,
            native[i]!,
            `${name} b${b} ${s}x${s} ${ci}->${co} pad ${pad}`,
          )
        );
      }
    },
  });

  Deno.test({
    name: `[${backend}] avgPool2 and its gradient: native = stock`,
    ignore: skip,
    fn: async () => {
      const rng = new Rng(12);
      for (const s of [6, 7, 32]) {
        const h = Math.floor(s / 2);
        const x = rng.normalArray(2 * s * s * 5);
        const dy = rng.normalArray(2 * h * h * 5);
        const { stock, native } = await both(backend, () => [
          avgPool2(tf.tensor4d(x, [2, s, s, 5])),
          avgPool2Back(tf.tensor4d(dy, [2, h, h, 5]), s, s),
        ]);
        assertClose(stock[0]!, native[0]!, `avgPool2 ${s}x${s}`);
        assertClose(stock[1]!, native[1]!, `avgPool2Back ${s}x${s}`);
      }
    },
  });

  Deno.test({
    name: `[${backend}] Sum and Mean over every axis set: native = stock`,
    ignore: skip,
    fn: async () => {
      const rng = new Rng(13);
      const shape = [4, 6, 5, 7];
      const x = rng.normalArray(4 * 6 * 5 * 7);
      const axesSets: (number | number[] | undefined)[] = [
        undefined,
        [0, 1, 2],
        [1, 2],
        3,
        -1,
        1,
        [0, 2],
        [2, 1],
        [0, 1, 2, 3],
      ];
      for (const axes of axesSets) {
        for (const keepDims of [false, true]) {
          const { stock, native } = await both(backend, () => {
            const t = tf.tensor(x, shape);
            return [tf.sum(t, axes, keepDims), tf.mean(t, axes, keepDims)];
          });
          const what = `axes ${JSON.stringify(axes)} keepDims ${keepDims}`;
          assertClose(stock[0]!, native[0]!, `sum ${what}`);
          assertClose(stock[1]!, native[1]!, `mean ${what}`);
        }
      }
      // Integer input stays with the stock kernel.
      const { stock, native } = await both(
        backend,
        () => tf.sum(tf.tensor([1, 2, 3, 4], [2, 2], "int32"), 0),
      );
      assert.deepEqual([...native[0]!], [...stock[0]!]);
    },
  });

  Deno.test({
    name: `[${backend}] matMul with transposes and batches: native = stock`,
    ignore: skip,
    fn: async () => {
      const rng = new Rng(14);
      const cases: [number[], number[], boolean, boolean][] = [
        [[7, 5], [5, 3], false, false],
        [[5, 7], [5, 3], true, false],
        [[7, 5], [3, 5], false, true],
        [[5, 7], [3, 5], true, true],
        [[4, 7, 5], [4, 5, 3], false, false],
        [[4, 7, 5], [5, 3], false, false],
        [[1, 7, 5], [4, 5, 3], false, false],
        [[600, 64], [64, 9], false, false],
      ];
      for (const [sa, sb, ta, tb] of cases) {
        const a = rng.normalArray(sa.reduce((p, d) => p * d, 1));
        const b = rng.normalArray(sb.reduce((p, d) => p * d, 1));
        const { stock, native } = await both(
          backend,
          () => tf.matMul(tf.tensor(a, sa), tf.tensor(b, sb), ta, tb),
        );
        assertClose(
          stock[0]!,
          native[0]!,
          `matMul [${sa}]${ta ? "ᵀ" : ""} × [${sb}]${tb ? "ᵀ" : ""}`,
        );
      }
    },
  });

  Deno.test({
    name: `[${backend}] elementwise ops with broadcasting: native = stock`,
    ignore: skip,
    fn: async () => {
      const rng = new Rng(17);
      const big = [4, 16, 16, 32];
      const x = rng.normalArray(4 * 16 * 16 * 32);
      const shapes = [big, [4, 1, 1, 32], [32], [1], [4, 16, 16, 1], [16, 1]];
      const others = shapes.map((sh) =>
        rng.normalArray(sh.reduce((p, d) => p * d, 1))
      );
      const ops = [tf.add, tf.sub, tf.mul, tf.div] as const;
      for (const [k, sh] of shapes.entries()) {
        const { stock, native } = await both(backend, () => {
          const a = tf.tensor(x, big);
          const b = tf.tensor(others[k]!, sh);
          return [
            ...ops.map((op) => op(a, b)),
            ...ops.map((op) => op(b, a)),
          ];
        });
        stock.forEach((v, i) =>
          assertSame(native[i]!, v, `op ${i} with [${sh}]`)
        );
      }
      x[5] = NaN;
      x[6] = -0;
      const { stock, native } = await both(backend, () => {
        const a = tf.tensor(x, big);
        return [
          tf.relu(a),
          tf.step(a, 0.25),
          tf.square(a),
          tf.cast(a, "float32"),
          tf.clone(a),
        ];
      });
      stock.forEach((v, i) => assertSame(native[i]!, v, `unary op ${i}`));
    },
  });

  Deno.test({
    name:
      `[${backend}] ConvNet loss, gradient and mixed product: native = stock`,
    ignore: skip,
    fn: async () => {
      for (const [inChannels, size] of [[1, 28], [3, 32]] as const) {
        const rng = new Rng(15 + inChannels);
        const layout = paramLayout(
          convNetSpec(
            { inChannels, height: size, width: size, numClasses: 10 },
            {
              netWidth: 16,
            },
          ),
        );
        const theta = initParams(layout, rng);
        const x = rng.normalArray(4 * size * size * inChannels);
        const v = rng.normalArray(layout.size);
        const labels = [0, 3, 9, 3];
        const { stock, native } = await both(backend, () => {
          const th = tf.tensor1d(theta) as Tensor1D;
          const xt = tf.tensor4d(x, [4, size, size, inChannels]);
          const y = tf.oneHot(tf.tensor1d(labels, "int32"), 10)
            .toFloat() as Tensor2D;
          const r = lossAndGrad(layout, th, xt, y);
          const vt = tf.tensor1d(v);
          const mixed = tf.grad((xi: Tensor) =>
            tf.sum(tf.mul(vt, lossAndGrad(layout, th, xi as Tensor4D, y).grad))
          )(xt);
          return [r.loss, r.grad, mixed];
        });
        const what = `${inChannels}x${size}x${size}`;
        assertClose(stock[0]!, native[0]!, `loss ${what}`);
        assertClose(stock[1]!, native[1]!, `∂L/∂θ ${what}`, 1e-4);
        assertClose(stock[2]!, native[2]!, `d(v·∂L/∂θ)/dx ${what}`, 1e-4);
      }
    },
  });
}

Deno.test({
  name: "native results do not depend on the thread count",
  ignore: skip,
  fn: async () => {
    await initBackend({ backend: "wasm", native: "on", log: false });
    const rng = new Rng(16);
    const x = rng.normalArray(64 * 16 * 16 * 32);
    const dy = rng.normalArray(64 * 16 * 16 * 32);
    const w = rng.normalArray(9 * 32 * 32);
    const run = () =>
      tf.tidy(() => {
        const xt = tf.tensor4d(x, [64, 16, 16, 32]);
        const dyt = tf.tensor4d(dy, [64, 16, 16, 32]);
        const wt = tf.tensor4d(w, [3, 3, 32, 32]);
        return [
          conv(xt, wt, 1),
          convBackInput(dyt, wt, 1),
          convBackFilter(xt, dyt, 1),
          tf.sum(xt, [0, 1, 2]),
          tf.matMul(
            tf.reshape(xt, [1024, 512]),
            tf.reshape(dyt, [1024, 512]),
            true,
          ),
        ].map((t) => t.dataSync().slice());
      });
    const before = nativeKernelsInfo().threads ?? 0;
    try {
      setNativeThreads(1);
      const one = run();
      setNativeThreads(3);
      const three = run();
      one.forEach((a, i) =>
        assert.deepEqual(
          a,
          three[i],
          `output ${i} differs between 1 and 3 threads`,
        )
      );
    } finally {
      setNativeThreads(before);
    }
  },
});

Deno.test("switching the native path off restores the stock kernels", async () => {
  await initBackend({ backend: "wasm", native: "off", log: false });
  assert.ok(!hasKernel(NATIVE_KERNELS.conv));
  assert.equal(nativeKernelsInfo().active, false);
  const info = await initBackend({
    backend: "wasm",
    native: "auto",
    log: false,
  });
  assert.equal(info.native?.active, !skip);
});
