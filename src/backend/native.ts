/**
 * Optional native kernels: a small C library (native/, built by
 * `deno task native`) called through Deno's FFI, registered as TensorFlow.js
 * kernels of the `wasm` and `cpu` backends.
 *
 * The kernels work on the tensors' own storage, so nothing is copied or
 * transposed on the way: a wasm tensor's bytes are a view of the wasm heap, a
 * cpu tensor's a Float32Array, and both are handed to C as they are. Outputs
 * are allocated by the backend itself and stay ordinary tensors, tracked and
 * disposed by the engine.
 *
 * Two kinds of kernel are registered:
 * - the suite's own kernels ({@link NATIVE_KERNELS}), the raw compute behind
 *   src/model/ops.ts, which that module runs when {@link hasKernel} says they
 *   exist and otherwise composes from stock ops;
 * - replacements of stock kernels (`Sum`, `Mean`, `BatchMatMul`) that handle
 *   the float32 cases the ConvNet produces and pass anything else to the
 *   backend's own kernel, so every caller gains without changing.
 *
 * Gradients are untouched: TensorFlow.js keys them by kernel name, and the
 * suite's kernels only ever run inside the custom-gradient functions of
 * ops.ts, whose gradients are built from the same ops.
 *
 * When the library is missing, was built for another ABI, or `--allow-ffi`
 * is not granted, nothing is registered and the suite runs on the stock
 * kernels; {@link NativeKernelsInfo.reason} says why.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { isAbsolute, relative } from "node:path";
import { tf } from "./tf.ts";

/** Names of the suite's own kernels. */
export const NATIVE_KERNELS = {
  /** Stride-1 convolution with symmetric zero padding `pad` (NHWC, HWIO). */
  conv: "TrajbenchConv2D",
  /** Input gradient of {@link NATIVE_KERNELS.conv}. */
  convBackInput: "TrajbenchConv2DBackpropInput",
  /** Filter gradient of {@link NATIVE_KERNELS.conv}. */
  convBackFilter: "TrajbenchConv2DBackpropFilter",
  /** 2×2 mean pooling, stride 2. */
  avgPool2: "TrajbenchAvgPool2",
  /** Gradient of {@link NATIVE_KERNELS.avgPool2}. */
  avgPool2Back: "TrajbenchAvgPool2Grad",
} as const;

/** Stock kernels replaced for the float32 cases the suite produces. */
const REPLACED = [
  "Sum",
  "Mean",
  "BatchMatMul",
  "Add",
  "Sub",
  "Multiply",
  "RealDiv",
  "Relu",
  "Step",
  "Square",
  "Cast",
  "Identity",
] as const;

/**
 * Below this many output elements an elementwise op stays on the stock
 * kernel: the call costs more than the work, and both give the same bits.
 */
const ELEMENTWISE_MIN = 4096;

/** Backends the kernels are registered for. */
const BACKENDS = ["wasm", "cpu"] as const;

/** The library interface version this module expects (`tb_abi_version`). */
const ABI_VERSION = 2;

/** Settings of the native kernel path: `--native` / `TRAJBENCH_NATIVE`. */
export const NATIVE_CHOICES = ["auto", "on", "off"] as const;
/** One of {@link NATIVE_CHOICES}. */
export type NativeChoice = typeof NATIVE_CHOICES[number];

/** What the native kernel path is doing, recorded in the backend info. */
export interface NativeKernelsInfo {
  /** Whether the native kernels are registered and in use. */
  active: boolean;
  /** The shared library, when one was found. */
  library?: string;
  /** Worker threads the library uses. */
  threads?: number;
  /** The BLAS the library is linked against, as it describes itself. */
  blas?: string;
  /** Kernel names served natively. */
  kernels?: string[];
  /** Why the path is off, when it is. */
  reason?: string;
}

const symbols = {
  tb_abi_version: { parameters: [], result: "i32" },
  tb_init: { parameters: ["i32"], result: "i32" },
  tb_blas_info: { parameters: ["buffer", "i32"], result: "void" },
  tb_conv2d: {
    parameters: [
      ...["buffer", "buffer", "buffer"],
      ...["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"],
      ...["i32", "i32"],
    ],
    result: "void",
  },
  tb_conv2d_back_input: {
    parameters: [
      ...["buffer", "buffer", "buffer"],
      ...["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"],
      ...["i32", "i32"],
    ],
    result: "void",
  },
  tb_conv2d_back_filter: {
    parameters: [
      ...["buffer", "buffer", "buffer"],
      ...["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"],
      ...["i32", "i32"],
    ],
    result: "void",
  },
  tb_batch_matmul: {
    parameters: [
      ...["buffer", "buffer", "buffer"],
      ...["i32", "i32", "i32", "i32", "i32", "i32", "i64", "i64"],
    ],
    result: "void",
  },
  tb_reduce_sum_mid: {
    parameters: ["buffer", "buffer", "i64", "i64", "i64", "f64"],
    result: "void",
  },
  tb_avgpool2: {
    parameters: ["buffer", "buffer", "i32", "i32", "i32", "i32"],
    result: "void",
  },
  tb_avgpool2_back: {
    parameters: ["buffer", "buffer", "i32", "i32", "i32", "i32"],
    result: "void",
  },
  tb_binary: {
    parameters: [
      ...["i32", "buffer", "buffer", "buffer", "i32"],
      ...["buffer", "buffer", "buffer"],
    ],
    result: "void",
  },
  tb_unary: {
    parameters: ["i32", "buffer", "buffer", "i64", "f32"],
    result: "void",
  },
} as const satisfies Deno.ForeignLibraryInterface;

type Lib = Deno.DynamicLibrary<typeof symbols>["symbols"];
type TensorInfo = tf.TensorInfo;
type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Reads and allocates float32 tensor storage of one backend. */
interface Storage {
  /** A view of a tensor's values, or undefined when it is not float32. */
  view(t: TensorInfo): Float32Array | undefined;
  /** A new float32 output of the backend. */
  alloc(shape: number[]): TensorInfo;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: "float32"): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): ArrayBufferView;
}

interface RefCounted {
  incRef(id: tf.DataId): void;
}

interface CpuBackendLike {
  data: { get(id: tf.DataId): { values?: unknown } | undefined };
  makeTensorInfo(
    shape: number[],
    dtype: "float32",
    values: Float32Array,
  ): TensorInfo;
}

function storageOf(backendName: string, backend: unknown): Storage {
  if (backendName === "wasm") {
    const b = backend as WasmBackendLike;
    // A view is taken per call: an allocation may grow the wasm memory and
    // detach every earlier view, so views are made after all allocations.
    return {
      view: (t) => {
        if (t.dtype !== "float32") return undefined;
        const v = b.typedArrayFromHeap(t);
        return v instanceof Float32Array ? v : undefined;
      },
      alloc: (shape) => b.makeOutput(shape, "float32"),
    };
  }
  const b = backend as CpuBackendLike;
  return {
    view: (t) => {
      if (t.dtype !== "float32") return undefined;
      const v = b.data.get(t.dataId)?.values;
      return v instanceof Float32Array ? v : undefined;
    },
    alloc: (shape) =>
      b.makeTensorInfo(
        shape,
        "float32",
        new Float32Array(shape.reduce((a, d) => a * d, 1)),
      ),
  };
}

let lib: Lib | undefined;
let info: NativeKernelsInfo = { active: false, reason: "not initialised" };
/** Stock kernel configs displaced by a replacement, to restore them. */
const displaced = new Map<string, tf.KernelConfig>();

/** Parse a native-path setting from a flag or environment variable. */
export function parseNativeChoice(
  value: string | undefined,
): NativeChoice | undefined {
  const v = (value ?? "auto").trim().toLowerCase();
  if (v === "1" || v === "true" || v === "yes") return "on";
  if (v === "0" || v === "false" || v === "no") return "off";
  return (NATIVE_CHOICES as readonly string[]).includes(v)
    ? v as NativeChoice
    : undefined;
}

/**
 * The library path as recorded in outputs: relative to the working folder
 * when inside it, so committed results do not name one machine's folders.
 */
function displayPath(file: string): string {
  const rel = relative(Deno.cwd(), file);
  return rel.startsWith("..") || isAbsolute(rel) ? file : rel;
}

/** Default library location: native/build/libtrajbench.so of this checkout. */
export function defaultNativeLibrary(): string {
  return fileURLToPath(
    new URL("../../native/build/libtrajbench.so", import.meta.url),
  );
}

function open(path: string): Lib | string {
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return "needs --allow-ffi";
  }
  let dl: Deno.DynamicLibrary<typeof symbols>;
  try {
    dl = Deno.dlopen(path, symbols);
  } catch (err) {
    const msg = (err as Error).message.split("\n")[0] ?? "";
    return /no such file|cannot open/i.test(msg)
      ? `${path} not built (run: deno task native)`
      : `${path} failed to load: ${msg}`;
  }
  const abi = dl.symbols.tb_abi_version();
  if (abi !== ABI_VERSION) {
    dl.close();
    return `${path} has ABI ${abi}, expected ${ABI_VERSION}; rebuild it ` +
      `(deno task native)`;
  }
  return dl.symbols;
}

function blasInfo(l: Lib): string {
  const buf = new Uint8Array(256);
  l.tb_blas_info(buf, buf.length);
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end))
    .trim();
}

/** Options of {@link enableNativeKernels}. */
export interface NativeKernelsOptions {
  /** Library file. @default $TRAJBENCH_NATIVE_LIB, then {@link defaultNativeLibrary} */
  library?: string;
  /**
   * Worker threads; 0 means every CPU the process may use.
   * @default $TRAJBENCH_THREADS, then 0
   */
  threads?: number;
}

/**
 * Load the library (once per process) and register its kernels.
 *
 * @returns what is active; `active: false` with a `reason` when the library
 *   cannot be used, in which case the stock kernels stay registered
 */
export function enableNativeKernels(
  options: NativeKernelsOptions = {},
): NativeKernelsInfo {
  if (!lib) {
    const path = options.library ?? Deno.env.get("TRAJBENCH_NATIVE_LIB") ??
      defaultNativeLibrary();
    const threads = options.threads ??
      Number(Deno.env.get("TRAJBENCH_THREADS") ?? 0);
    const opened = open(path);
    if (typeof opened === "string") {
      info = { active: false, reason: opened };
      return info;
    }
    lib = opened;
    info = {
      active: false,
      library: displayPath(path),
      threads: opened.tb_init(Number.isInteger(threads) ? threads : 0),
      blas: blasInfo(opened),
    };
  }
  register(lib);
  info = {
    ...info,
    active: true,
    kernels: [...Object.values(NATIVE_KERNELS), ...REPLACED],
  };
  delete info.reason;
  return { ...info };
}

/**
 * Unregister the native kernels and restore the stock ones (the library stays
 * loaded). Used to compare both paths in one process.
 */
export function disableNativeKernels(reason = "switched off"): void {
  for (const backendName of BACKENDS) {
    for (const name of Object.values(NATIVE_KERNELS)) {
      if (tf.getKernel(name, backendName)) {
        tf.unregisterKernel(name, backendName);
      }
    }
    for (const name of REPLACED) {
      const stock = displaced.get(`${backendName}/${name}`);
      if (!stock) continue;
      tf.unregisterKernel(name, backendName);
      tf.registerKernel(stock);
      displaced.delete(`${backendName}/${name}`);
    }
  }
  const { active: _, kernels: __, ...rest } = info;
  info = { ...rest, active: false, reason };
}

/**
 * Change the library's worker count (0: every CPU this process may use).
 * Results do not depend on it; tests use it to show that.
 *
 * @returns the count now in use, or undefined when no library is loaded
 */
export function setNativeThreads(threads: number): number | undefined {
  if (!lib) return undefined;
  const n = lib.tb_init(Math.max(0, Math.floor(threads)));
  info = { ...info, threads: n };
  return n;
}

/** The current state of the native kernel path. */
export function nativeKernelsInfo(): NativeKernelsInfo {
  return { ...info };
}

/**
 * Whether the engine's current backend has a kernel of this name (one of
 * {@link NATIVE_KERNELS}); ops.ts composes stock ops when it has not.
 */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

// ---------------------------------------------------------------------------
// Registration

function register(l: Lib): void {
  for (const backendName of BACKENDS) {
    const own: Record<string, (a: KernelArgs, s: Storage) => TensorInfo> = {
      [NATIVE_KERNELS.conv]: (a, s) => conv(l, a, s),
      [NATIVE_KERNELS.convBackInput]: (a, s) => convBackInput(l, a, s),
      [NATIVE_KERNELS.convBackFilter]: (a, s) => convBackFilter(l, a, s),
      [NATIVE_KERNELS.avgPool2]: (a, s) => avgPool2(l, a, s),
      [NATIVE_KERNELS.avgPool2Back]: (a, s) => avgPool2Back(l, a, s),
    };
    for (const [name, impl] of Object.entries(own)) {
      if (tf.getKernel(name, backendName)) continue;
      tf.registerKernel({
        kernelName: name,
        backendName,
        kernelFunc: (args) =>
          impl(args, storageOf(backendName, args.backend)) as TensorInfo,
      });
    }

    const replacements: Record<
      typeof REPLACED[number],
      (a: KernelArgs, s: Storage) => TensorInfo | undefined
    > = {
      Sum: (a, s) => reduce(l, a, s, false),
      Mean: (a, s) => reduce(l, a, s, true),
      BatchMatMul: (a, s) => batchMatMul(l, a, s),
      Add: (a, s) => binary(l, a, s, 0),
      Sub: (a, s) => binary(l, a, s, 1),
      Multiply: (a, s) => binary(l, a, s, 2),
      RealDiv: (a, s) => binary(l, a, s, 3),
      Relu: (a, s) => unary(l, a, s, 0),
      Step: (a, s) => unary(l, a, s, 1),
      Square: (a, s) => unary(l, a, s, 2),
      Cast: (a) => sameTypeCast(a),
      Identity: (a) => shareStorage(a),
    };
    for (const name of REPLACED) {
      const key = `${backendName}/${name}`;
      if (displaced.has(key)) continue;
      const stock = tf.getKernel(name, backendName);
      if (!stock) continue;
      const impl = replacements[name];
      tf.unregisterKernel(name, backendName);
      // The stock setup / dispose functions travel along: the wasm kernels
      // bind their wasm functions in setupFunc when a backend starts.
      tf.registerKernel({
        ...stock,
        kernelFunc: (args) =>
          impl(args, storageOf(backendName, args.backend)) ??
            stock.kernelFunc(args),
      });
      displaced.set(key, stock);
    }
  }
}

// ---------------------------------------------------------------------------
// Kernels

function need(v: Float32Array | undefined, what: string): Float32Array {
  if (!v) throw new TypeError(`native kernel: ${what} must be float32`);
  return v;
}

function conv(l: Lib, { inputs, attrs }: KernelArgs, s: Storage): TensorInfo {
  const x = inputs.x!;
  const w = inputs.filter!;
  const pad = attrs!.pad as number;
  const [b, h, wd, ci] = x.shape as [number, number, number, number];
  const [kh, kw, , co] = w.shape as [number, number, number, number];
  const ho = h + 2 * pad - kh + 1;
  const wo = wd + 2 * pad - kw + 1;
  const out = s.alloc([b, ho, wo, co]);
  l.tb_conv2d(
    need(s.view(x), "x"),
    need(s.view(w), "filter"),
    need(s.view(out), "output"),
    ...[b, h, wd, ci, kh, kw, co, ho, wo, pad, pad],
  );
  return out;
}

function convBackInput(
  l: Lib,
  { inputs, attrs }: KernelArgs,
  s: Storage,
): TensorInfo {
  const dy = inputs.dy!;
  const w = inputs.filter!;
  const pad = attrs!.pad as number;
  const [b, ho, wo, co] = dy.shape as [number, number, number, number];
  const [kh, kw, ci] = w.shape as [number, number, number, number];
  const h = ho - 2 * pad + kh - 1;
  const wd = wo - 2 * pad + kw - 1;
  const out = s.alloc([b, h, wd, ci]);
  l.tb_conv2d_back_input(
    need(s.view(dy), "dy"),
    need(s.view(w), "filter"),
    need(s.view(out), "output"),
    ...[b, ho, wo, co, kh, kw, ci, h, wd, pad, pad],
  );
  return out;
}

function convBackFilter(
  l: Lib,
  { inputs, attrs }: KernelArgs,
  s: Storage,
): TensorInfo {
  const x = inputs.x!;
  const dy = inputs.dy!;
  const pad = attrs!.pad as number;
  const [b, h, wd, ci] = x.shape as [number, number, number, number];
  const [, ho, wo, co] = dy.shape as [number, number, number, number];
  const kh = h + 2 * pad - ho + 1;
  const kw = wd + 2 * pad - wo + 1;
  const out = s.alloc([kh, kw, ci, co]);
  l.tb_conv2d_back_filter(
    need(s.view(x), "x"),
    need(s.view(dy), "dy"),
    need(s.view(out), "output"),
    ...[b, h, wd, ci, kh, kw, co, ho, wo, pad, pad],
  );
  return out;
}

function avgPool2(l: Lib, { inputs }: KernelArgs, s: Storage): TensorInfo {
  const x = inputs.x!;
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const out = s.alloc([b, Math.floor(h / 2), Math.floor(w / 2), c]);
  l.tb_avgpool2(need(s.view(x), "x"), need(s.view(out), "output"), b, h, w, c);
  return out;
}

function avgPool2Back(
  l: Lib,
  { inputs, attrs }: KernelArgs,
  s: Storage,
): TensorInfo {
  const dy = inputs.dy!;
  const [b, , , c] = dy.shape as [number, number, number, number];
  const h = attrs!.inHeight as number;
  const w = attrs!.inWidth as number;
  const out = s.alloc([b, h, w, c]);
  l.tb_avgpool2_back(
    need(s.view(dy), "dy"),
    need(s.view(out), "output"),
    ...[b, h, w, c],
  );
  return out;
}

/**
 * Sum / Mean over one contiguous run of axes, viewed as [A, R, C] reduced
 * over R. Other axis sets, and non-float32 input, go to the stock kernel.
 */
function reduce(
  l: Lib,
  { inputs, attrs }: KernelArgs,
  s: Storage,
  mean: boolean,
): TensorInfo | undefined {
  const x = inputs.x!;
  if (x.dtype !== "float32") return undefined;
  const rank = x.shape.length;
  // parseAxisParam also turns a missing axis into "every axis".
  const axes = [
    ...new Set(
      tf.util.parseAxisParam(attrs!.axis as number | number[], x.shape),
    ),
  ].sort((a, b) => a - b);
  if (axes.length === 0 || rank === 0) return undefined;
  const first = axes[0]!;
  const last = axes[axes.length - 1]!;
  if (last - first + 1 !== axes.length || first < 0 || last >= rank) {
    return undefined;
  }
  const prod = (from: number, to: number) =>
    x.shape.slice(from, to).reduce((p, d) => p * d, 1);
  const a = prod(0, first);
  const r = prod(first, last + 1);
  const c = prod(last + 1, rank);
  if (r === 0) return undefined;
  if (!s.view(x)) return undefined;
  const shape = attrs!.keepDims
    ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d))
    : x.shape.filter((_, i) => i < first || i > last);
  const out = s.alloc(shape);
  l.tb_reduce_sum_mid(
    need(s.view(x), "x"),
    need(s.view(out), "output"),
    BigInt(a),
    BigInt(r),
    BigInt(c),
    mean ? r : 1,
  );
  return out;
}

/**
 * Batched matrix product with optional transposes, on float32 operands whose
 * batch dimensions are equal or one side's is a single matrix.
 */
function batchMatMul(
  l: Lib,
  { inputs, attrs }: KernelArgs,
  s: Storage,
): TensorInfo | undefined {
  const a = inputs.a!;
  const b = inputs.b!;
  if (a.dtype !== "float32" || b.dtype !== "float32") return undefined;
  if (a.shape.length < 2 || b.shape.length < 2) return undefined;
  const ta = Boolean(attrs!.transposeA);
  const tb = Boolean(attrs!.transposeB);
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [a0, a1] = [a.shape[ra - 2]!, a.shape[ra - 1]!];
  const [b0, b1] = [b.shape[rb - 2]!, b.shape[rb - 1]!];
  const m = ta ? a1 : a0;
  const k = ta ? a0 : a1;
  const n = tb ? b0 : b1;
  if ((tb ? b1 : b0) !== k) return undefined;
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const na = batchA.reduce((p, d) => p * d, 1);
  const nb = batchB.reduce((p, d) => p * d, 1);
  const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(
    batchA,
    batchB,
  );
  const batch = batchShape.reduce((p, d) => p * d, 1);
  // Each side either has every batch matrix or one shared matrix.
  if ((na !== batch && na !== 1) || (nb !== batch && nb !== 1)) {
    return undefined;
  }
  if (!s.view(a) || !s.view(b)) return undefined;
  const out = s.alloc([...batchShape, m, n]);
  l.tb_batch_matmul(
    need(s.view(a), "a"),
    need(s.view(b), "b"),
    need(s.view(out), "output"),
    ...[batch, m, n, k, ta ? 1 : 0, tb ? 1 : 0],
    BigInt(na === 1 ? 0 : m * k),
    BigInt(nb === 1 ? 0 : k * n),
  );
  return out;
}

/** Element strides of `shape` aligned to the right of `out`, 0 where broadcast. */
function broadcastStrides(shape: number[], out: number[]): Int32Array {
  const strides = new Int32Array(out.length);
  let step = 1;
  for (let i = out.length - 1, j = shape.length - 1; i >= 0; i--, j--) {
    const d = j >= 0 ? shape[j]! : 1;
    strides[i] = d === 1 ? 0 : step;
    step *= d;
  }
  return strides;
}

/** Add / Sub / Multiply / RealDiv of two float32 tensors with broadcasting. */
function binary(
  l: Lib,
  { inputs }: KernelArgs,
  s: Storage,
  op: number,
): TensorInfo | undefined {
  const a = inputs.a!;
  const b = inputs.b!;
  if (a.dtype !== "float32" || b.dtype !== "float32") return undefined;
  const shape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
  if (shape.length > 8) return undefined;
  if (shape.reduce((p, d) => p * d, 1) < ELEMENTWISE_MIN) return undefined;
  if (!s.view(a) || !s.view(b)) return undefined;
  const out = s.alloc(shape);
  l.tb_binary(
    op,
    need(s.view(a), "a"),
    need(s.view(b), "b"),
    need(s.view(out), "output"),
    shape.length,
    Int32Array.from(shape),
    broadcastStrides(a.shape, shape),
    broadcastStrides(b.shape, shape),
  );
  return out;
}

/** Relu / Step / Square of a float32 tensor. */
function unary(
  l: Lib,
  { inputs, attrs }: KernelArgs,
  s: Storage,
  op: number,
): TensorInfo | undefined {
  const x = inputs.x!;
  const size = x.shape.reduce((p, d) => p * d, 1);
  if (size < ELEMENTWISE_MIN || !s.view(x)) return undefined;
  const out = s.alloc(x.shape);
  l.tb_unary(
    op,
    need(s.view(x), "x"),
    need(s.view(out), "output"),
    BigInt(size),
    op === 1 ? (attrs?.alpha as number | undefined) ?? 0 : 0,
  );
  return out;
}

/**
 * A float32 → float32 cast shares the input's storage instead of copying it
 * (the wasm backend copies; tf.moments casts its input every call).
 */
function sameTypeCast(args: KernelArgs): TensorInfo | undefined {
  const x = args.inputs.x!;
  if (x.dtype !== "float32" || args.attrs?.dtype !== "float32") {
    return undefined;
  }
  return shareStorage(args);
}

/**
 * Identity (tf.clone, and the gradients of cast and several other ops) as a
 * new tensor over the input's storage, as the cpu backend does; the wasm
 * backend copies. Tensors are immutable, so sharing is safe.
 */
function shareStorage({ inputs, backend }: KernelArgs): TensorInfo | undefined {
  const x = inputs.x!;
  if (x.dtype === "string") return undefined;
  (backend as RefCounted).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}
