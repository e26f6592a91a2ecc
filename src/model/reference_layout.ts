/**
 * Conversion between this suite's flat parameter vector and the reference's.
 *
 * Both vectors hold the same tensors in the same order at the same offsets
 * (see {@link ParamLayout}); only the element order inside two kinds of tensor
 * differs:
 *
 * | tensor            | native (this suite)                   | reference (PyTorch)                   |
 * |-------------------|---------------------------------------|---------------------------------------|
 * | conv weight       | HWIO `[3, 3, in, out]`                | OIHW `[out, in, 3, 3]`                |
 * | classifier weight | `[features, classes]`, features (H,W,C) | `[classes, features]`, features (C,H,W) |
 *
 * Biases and norm parameters are identical in both. The classifier needs the
 * feature permutation as well as the transpose because the reference flattens
 * an NCHW feature map while this suite flattens NHWC.
 *
 * @module
 */
import type { ParamLayout, ParamTensor } from "./layout.ts";

/** A flat parameter vector in either precision. */
export type FlatParams = Float32Array | Float64Array;

/** One entry of the reference's parameter list, as in the golden files. */
export interface ReferenceParamEntry {
  /** The `ReparamModule` name, e.g. `features.0.weight`. */
  name: string;
  /** The role, in the suite's vocabulary. */
  role: ParamTensor["role"];
  /** Shape in the reference layout. */
  shape: number[];
  /** Axis labels: `OIHW`, `OI`, `O` or `C`. */
  layout: string;
  /** Offset of the first element in the reference flat vector. */
  offset: number;
  /** Number of elements. */
  numel: number;
}

const AXES: Record<ParamTensor["role"], string> = {
  conv_weight: "OIHW",
  conv_bias: "O",
  norm_weight: "C",
  norm_bias: "C",
  fc_weight: "OI",
  fc_bias: "O",
};

/**
 * The reference's parameter list for a layout, in the golden files' format
 * (`param_layout`): names, reference shapes, offsets.
 *
 * @example
 * ```ts
 * import { convNetSpec, paramLayout } from "./layout.ts";
 * import { referenceParamLayout } from "./reference_layout.ts";
 * const layout = paramLayout(convNetSpec(
 *   { inChannels: 3, height: 32, width: 32, numClasses: 10 },
 * ));
 * const first = referenceParamLayout(layout)[0]!;
 * if (first.layout !== "OIHW" || first.shape[0] !== 128) throw new Error();
 * ```
 */
export function referenceParamLayout(
  layout: ParamLayout,
): ReferenceParamEntry[] {
  return layout.tensors.map((t) => ({
    name: t.refName,
    role: t.role,
    shape: [...t.refShape],
    layout: AXES[t.role],
    offset: t.offset,
    numel: t.size,
  }));
}

function checkLength(layout: ParamLayout, flat: FlatParams, what: string) {
  if (flat.length !== layout.size) {
    throw new RangeError(
      `${what} has ${flat.length} values but the layout has ${layout.size} parameters`,
    );
  }
}

function emptyLike<T extends FlatParams>(flat: T): T {
  return (flat instanceof Float64Array
    ? new Float64Array(flat.length)
    : new Float32Array(flat.length)) as T;
}

/**
 * Copy one tensor between layouts. `toRef` picks the direction; the index
 * arithmetic is written once so both directions are exact inverses.
 */
function permuteTensor(
  layout: ParamLayout,
  t: ParamTensor,
  src: FlatParams,
  dst: FlatParams,
  toRef: boolean,
): void {
  const base = t.offset;
  if (t.role === "conv_weight") {
    // native [kh, kw, cin, cout]  <->  reference [cout, cin, kh, kw]
    const [kh, kw, cin, cout] = t.shape as [number, number, number, number];
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        for (let i = 0; i < cin; i++) {
          for (let o = 0; o < cout; o++) {
            const nat = base + ((y * kw + x) * cin + i) * cout + o;
            const ref = base + ((o * cin + i) * kh + y) * kw + x;
            if (toRef) dst[ref] = src[nat]!;
            else dst[nat] = src[ref]!;
          }
        }
      }
    }
  } else if (t.role === "fc_weight") {
    // native [(h, w, c), k]  <->  reference [k, (c, h, w)]
    const [fh, fw] = layout.featureHW;
    const channels = layout.spec.netWidth;
    const classes = layout.spec.numClasses;
    const features = layout.features;
    for (let y = 0; y < fh; y++) {
      for (let x = 0; x < fw; x++) {
        for (let c = 0; c < channels; c++) {
          const fNat = (y * fw + x) * channels + c;
          const fRef = (c * fh + y) * fw + x;
          for (let k = 0; k < classes; k++) {
            const nat = base + fNat * classes + k;
            const ref = base + k * features + fRef;
            if (toRef) dst[ref] = src[nat]!;
            else dst[nat] = src[ref]!;
          }
        }
      }
    }
  } else {
    dst.set(src.subarray(base, base + t.size), base);
  }
}

/**
 * Convert a native flat vector (HWIO convs, classifier `[features(H,W,C),
 * classes]`) to the reference's flat vector (OIHW convs, classifier
 * `[classes, features(C,H,W)]`). The result has the input's precision.
 *
 * @param layout the architecture's layout
 * @param flat a native flat vector of `layout.size` values
 * @returns a new vector in the reference order
 * @throws {RangeError} if the length does not match the layout
 *
 * @example
 * ```ts
 * import { convNetSpec, paramLayout } from "./layout.ts";
 * import { fromReferenceFlat, toReferenceFlat } from "./reference_layout.ts";
 * const layout = paramLayout(convNetSpec(
 *   { inChannels: 1, height: 8, width: 8, numClasses: 2 },
 *   { netWidth: 2, netDepth: 1 },
 * ));
 * const flat = Float32Array.from({ length: layout.size }, (_, i) => i);
 * const back = fromReferenceFlat(layout, toReferenceFlat(layout, flat));
 * if (!back.every((v, i) => v === flat[i])) throw new Error("not inverse");
 * ```
 */
export function toReferenceFlat<T extends FlatParams>(
  layout: ParamLayout,
  flat: T,
): T {
  checkLength(layout, flat, "native parameter vector");
  const out = emptyLike(flat);
  for (const t of layout.tensors) permuteTensor(layout, t, flat, out, true);
  return out;
}

/**
 * Convert a reference flat vector (OIHW convs, classifier `[classes,
 * features(C,H,W)]`) to this suite's native order. Inverse of
 * {@link toReferenceFlat}; the result has the input's precision.
 *
 * @param layout the architecture's layout
 * @param refFlat a reference flat vector of `layout.size` values
 * @returns a new vector in the native order
 * @throws {RangeError} if the length does not match the layout
 */
export function fromReferenceFlat<T extends FlatParams>(
  layout: ParamLayout,
  refFlat: T,
): T {
  checkLength(layout, refFlat, "reference parameter vector");
  const out = emptyLike(refFlat);
  for (const t of layout.tensors) permuteTensor(layout, t, refFlat, out, false);
  return out;
}
