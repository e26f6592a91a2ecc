/**
 * ZCA against `zca.json` (fitted in float64 on (C, H, W)-flattened images).
 * The suite flattens NHWC images in (H, W, C) order, so the golden images,
 * mean and matrices are permuted into that order before comparing; the
 * whitened images then match up to the same permutation.
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import { Rng } from "../../src/util/rng.ts";
import { CorruptFileError, InputError } from "../../src/util/errors.ts";
import {
  applyZca,
  defaultZcaMemoryLimit,
  deserializeZca,
  fitZca,
  loadZca,
  saveZca,
  serializeZca,
  symmetricEigen,
  unapplyZca,
  zcaMemoryBytes,
} from "../../src/data/zca.ts";
import { assertClose, loadGolden, nchwToNhwc } from "../_golden.ts";

const golden = loadGolden("zca.json");
const [N, C, H, W] = golden.train_images.shape as [
  number,
  number,
  number,
  number,
];
const D = C * H * W;

/** perm[q] = the (C, H, W) index of NHWC-flat coordinate q. */
function chwIndexOfHwc(): Int32Array {
  const perm = new Int32Array(D);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) {
        perm[(y * W + x) * C + c] = (c * H + y) * W + x;
      }
    }
  }
  return perm;
}

function permuteMatrix(m: number[], perm: Int32Array): Float64Array {
  const out = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < D; j++) out[i * D + j] = m[perm[i]! * D + perm[j]!]!;
  }
  return out;
}

/** Float32 inputs against float64 goldens, through an N < D fit. */
const TOL = 1e-6;

function fitted() {
  const train = nchwToNhwc(golden.train_images.data, golden.train_images.shape);
  return { train, t: fitZca(train, N, D, { eps: golden.eps }) };
}

Deno.test("zca matches the reference mean, matrices and whitened images", () => {
  const perm = chwIndexOfHwc();
  const { train, t } = fitted();
  assertEquals(t.d, D);
  const mean = Float64Array.from(perm, (p) => golden.mean.data[p]);
  assertClose(t.mean, mean, TOL, "mean");
  assertClose(
    t.transform,
    permuteMatrix(golden.transform_matrix.data, perm),
    TOL,
    "transform (permuted to HWC)",
  );
  assertClose(
    t.inverse,
    permuteMatrix(golden.inverse_transform_matrix.data, perm),
    TOL,
    "inverse (permuted to HWC)",
  );
  const wantTrain = nchwToNhwc(
    golden.whitened_train.data,
    golden.whitened_train.shape,
  );
  assertClose(applyZca(t, train), wantTrain, TOL, "whitened_train");
  const test = nchwToNhwc(golden.test_images.data, golden.test_images.shape);
  const wantTest = nchwToNhwc(
    golden.whitened_test.data,
    golden.whitened_test.shape,
  );
  assertClose(applyZca(t, test), wantTest, TOL, "whitened_test");
  // The permutation matters: the unpermuted golden matrix is far off.
  assert(
    !(Math.hypot(
      ...t.transform.map((v, i) => v - golden.transform_matrix.data[i]),
    ) < 1e-3),
    "layout permutation had no effect",
  );
});

Deno.test("zca inverse undoes the whitening", () => {
  const { train, t } = fitted();
  assertClose(unapplyZca(t, applyZca(t, train)), train, 1e-6, "round trip");
});

Deno.test("eigensolver on random symmetric matrices: A·U = U·S, UᵀU = I", () => {
  const rng = new Rng(31);
  const cases: [string, number, (i: number, j: number) => number][] = [
    ["random 1", 1, () => rng.normal()],
    ["random 2", 2, () => rng.normal()],
    ["random 3", 3, () => rng.normal()],
    ["random 97", 97, () => rng.normal()],
    [
      "diagonal with repeats",
      12,
      (i, j) => (i === j ? [3, 1, 3, 0][i % 4]! : 0),
    ],
    ["zero", 5, () => 0],
  ];
  for (const [name, d, entry] of cases) {
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) a[i * d + j] = a[j * d + i] = entry(i, j);
    }
    const { values, vectors: u } = symmetricEigen(a, d);
    const norm = Math.max(1, Math.sqrt(a.reduce((s, v) => s + v * v, 0)));
    let resid = 0, orth = 0;
    for (let i = 0; i < d; i++) {
      for (let r = 0; r < d; r++) {
        let au = 0, utu = 0;
        for (let k = 0; k < d; k++) {
          au += a[i * d + k]! * u[k * d + r]!;
          utu += u[k * d + i]! * u[k * d + r]!;
        }
        resid = Math.max(resid, Math.abs(au - u[i * d + r]! * values[r]!));
        orth = Math.max(orth, Math.abs(utu - (i === r ? 1 : 0)));
      }
    }
    assert(resid <= 1e-13 * norm * d, `${name}: ‖AU − US‖ = ${resid}`);
    assert(orth <= 1e-13 * d, `${name}: ‖UᵀU − I‖ = ${orth}`);
    for (let r = 1; r < d; r++) {
      assert(values[r - 1]! >= values[r]!, `${name}: not sorted`);
    }
  }
});

Deno.test("eigensolver on a rank-deficient covariance", () => {
  const rng = new Rng(32);
  const d = 64, k = 20;
  const x = Float64Array.from({ length: k * d }, () => rng.normal());
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      for (let s = 0; s < k; s++) {
        a[i * d + j]! += x[s * d + i]! * x[s * d + j]!;
      }
    }
  }
  const { values, vectors: u } = symmetricEigen(a, d);
  const top = values[0]!;
  assert(
    values.slice(k).every((v) => Math.abs(v) < 1e-12 * top),
    "null space not found",
  );
  let resid = 0;
  for (let i = 0; i < d; i++) {
    for (let r = 0; r < d; r++) {
      let au = 0;
      for (let q = 0; q < d; q++) au += a[i * d + q]! * u[q * d + r]!;
      resid = Math.max(resid, Math.abs(au - u[i * d + r]! * values[r]!));
    }
  }
  assert(resid <= 1e-12 * top, `residual ${resid}`);
});

Deno.test("zca refuses a Tiny ImageNet-sized fit with a clear message", () => {
  const d = 64 * 64 * 3;
  const limit = 1024 ** 3;
  const need = zcaMemoryBytes(d);
  assert(need > 2 * 8 * d * d, "estimate misses the D×D matrices");
  let message = "";
  // NaN images: were the memory check ever lost, the fit would stop at the
  // non-finite covariance instead of spending minutes on D³ products.
  assertThrows(
    () =>
      fitZca(new Float32Array(2 * d).fill(NaN), 2, d, {
        memoryLimitBytes: limit,
        imageShape: [64, 64, 3],
        subject: "tiny --zca",
      }),
    (err: unknown) => {
      message = (err as Error).message;
      return err instanceof InputError;
    },
  );
  for (
    const part of [
      "tiny --zca",
      "64×64×3",
      "12288",
      `${need} bytes`,
      `${limit} bytes`,
    ]
  ) {
    assert(message.includes(part), `message lacks "${part}": ${message}`);
  }
  const dflt = defaultZcaMemoryLimit();
  const avail = Deno.systemMemoryInfo().available;
  assert(
    dflt > 0 && dflt <= avail,
    `default limit ${dflt} vs available ${avail}`,
  );
});

Deno.test("zca serialisation round-trips and detects damage", async () => {
  const { t } = fitted();
  const bytes = serializeZca(t);
  const back = deserializeZca(bytes);
  assertEquals(back.sha256, t.sha256);
  assertEquals(back.mean, t.mean);
  assertEquals(back.transform, t.transform);
  assertEquals(back.inverse, t.inverse);
  assertEquals([back.eps, back.d], [t.eps, t.d]);

  const damaged = bytes.slice();
  damaged[100]! ^= 1;
  assertThrows(() => deserializeZca(damaged, "x.zca"), CorruptFileError);
  assertThrows(
    () => deserializeZca(bytes.subarray(0, bytes.length - 1)),
    CorruptFileError,
  );
  assertThrows(() => deserializeZca(new Uint8Array(64)), CorruptFileError);

  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/cifar.zca`;
    await saveZca(file, t);
    assertEquals((await loadZca(file)).sha256, t.sha256);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // A different fit gets a different identity.
  const other = fitZca(new Rng(4).uniformArray(10 * 6), 10, 6);
  assert(other.sha256 !== t.sha256);
});
