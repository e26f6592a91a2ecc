/**
 * Differentiable building blocks whose gradients are built from the same
 * blocks.
 *
 * The ConvNet's parameter gradient is written out explicitly (convnet.ts) with
 * these ops; distillation then differentiates that explicit gradient once more
 * with TensorFlow.js's first-order autodiff. Second-order quantities therefore
 * never depend on TensorFlow.js's own second-order support, which is missing
 * for the conv and pooling backprop kernels and silently wrong for ops whose
 * gradient reuses a saved output (tfjs-notes.md). The ops are custom-gradient
 * functions, and TensorFlow.js does not record a custom gradient's own ops on
 * an outer tape: nesting `tf.grad` over them is not supported, and nothing in
 * the suite does it.
 *
 * Convolutions are 3×3, stride 1, with symmetric zero padding `pad`, in NHWC
 * with HWIO filters. The three conv ops are adjoints of each other:
 *   conv(x, w)            y = A_w x
 *   convBackInput(dy, w)  A_wᵀ dy            (the input gradient of conv)
 *   convBackFilter(x, dy) the filter gradient of conv
 * and each one's gradient is a combination of the three.
 *
 * @module
 */
import { type Tensor4D, tf } from "../backend/tf.ts";
import { hasKernel, NATIVE_KERNELS } from "../backend/native.ts";

const K = 3;

function outSize(inSize: number, pad: number): number {
  return inSize + 2 * pad - (K - 1);
}

/** Zero-pad (pad > 0) or crop (pad < 0) the two spatial axes symmetrically. */
function padSpatial(x: Tensor4D, pad: number): Tensor4D {
  if (pad === 0) return x;
  if (pad > 0) {
    return tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]);
  }
  const [b, h, w, c] = x.shape;
  return tf.slice(x, [0, -pad, -pad, 0], [b, h + 2 * pad, w + 2 * pad, c]);
}

function convRaw(x: Tensor4D, w: Tensor4D, pad: number): Tensor4D {
  if (hasKernel(NATIVE_KERNELS.conv)) {
    return tf.engine().runKernel(NATIVE_KERNELS.conv, { x, filter: w }, {
      pad,
    }) as Tensor4D;
  }
  // Explicit pad + "valid" keeps every backend on its plain conv kernel.
  return tf.conv2d(padSpatial(x, pad), w, 1, "valid");
}

/** Rotate a HWIO filter by 180° and swap in/out channels: the adjoint filter. */
function adjointFilter(w: Tensor4D): Tensor4D {
  return tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]);
}

function convBackInputRaw(dy: Tensor4D, w: Tensor4D, pad: number): Tensor4D {
  if (hasKernel(NATIVE_KERNELS.convBackInput)) {
    return tf.engine().runKernel(
      NATIVE_KERNELS.convBackInput,
      { dy, filter: w },
      { pad },
    ) as Tensor4D;
  }
  // For stride 1 the input gradient is a conv of dy with the adjoint filter,
  // padded by K-1-pad (a crop when pad exceeds K-1, as for 28x28 input).
  return convRaw(dy, adjointFilter(w), K - 1 - pad);
}

function convBackFilterRaw(
  x: Tensor4D,
  dy: Tensor4D,
  pad: number,
): Tensor4D {
  if (hasKernel(NATIVE_KERNELS.convBackFilter)) {
    return tf.engine().runKernel(NATIVE_KERNELS.convBackFilter, { x, dy }, {
      pad,
    }) as Tensor4D;
  }
  const [b, , , cin] = x.shape;
  const [, ho, wo, cout] = dy.shape;
  const xp = padSpatial(x, pad);
  // im2col with (kh, kw, cin) column order, which is HWIO's flattening order.
  const cols: Tensor4D[] = [];
  for (let kh = 0; kh < K; kh++) {
    for (let kw = 0; kw < K; kw++) {
      cols.push(tf.slice(xp, [0, kh, kw, 0], [b, ho, wo, cin]));
    }
  }
  const patches = tf.reshape(tf.concat(cols, 3), [b * ho * wo, K * K * cin]);
  // An explicit transpose beats matMul's transposeA flag on wasm by ~10x.
  const dw = tf.matMul(
    tf.transpose(patches),
    tf.reshape(dy, [b * ho * wo, cout]),
  );
  return tf.reshape(dw, [K, K, cin, cout]);
}

const convOp = new Map<number, (x: Tensor4D, w: Tensor4D) => Tensor4D>();
const backInputOp = new Map<number, (dy: Tensor4D, w: Tensor4D) => Tensor4D>();
const backFilterOp = new Map<
  number,
  (x: Tensor4D, dy: Tensor4D) => Tensor4D
>();

function makeOps(pad: number): void {
  convOp.set(
    pad,
    tf.customGrad((x, w, save) => {
      (save as tf.GradSaveFunc)([x as Tensor4D, w as Tensor4D]);
      return {
        value: convRaw(x as Tensor4D, w as Tensor4D, pad),
        gradFunc: (dy, saved) => {
          const [xs, ws] = saved as Tensor4D[];
          return [
            convBackInput(dy as Tensor4D, ws!, pad),
            convBackFilter(xs!, dy as Tensor4D, pad),
          ];
        },
      };
    }) as (x: Tensor4D, w: Tensor4D) => Tensor4D,
  );
  backInputOp.set(
    pad,
    tf.customGrad((dy, w, save) => {
      (save as tf.GradSaveFunc)([dy as Tensor4D, w as Tensor4D]);
      return {
        value: convBackInputRaw(dy as Tensor4D, w as Tensor4D, pad),
        gradFunc: (g, saved) => {
          const [dys, ws] = saved as Tensor4D[];
          return [
            conv(g as Tensor4D, ws!, pad),
            convBackFilter(g as Tensor4D, dys!, pad),
          ];
        },
      };
    }) as (dy: Tensor4D, w: Tensor4D) => Tensor4D,
  );
  backFilterOp.set(
    pad,
    tf.customGrad((x, dy, save) => {
      (save as tf.GradSaveFunc)([x as Tensor4D, dy as Tensor4D]);
      return {
        value: convBackFilterRaw(x as Tensor4D, dy as Tensor4D, pad),
        gradFunc: (g, saved) => {
          const [xs, dys] = saved as Tensor4D[];
          return [
            convBackInput(dys!, g as Tensor4D, pad),
            conv(xs!, g as Tensor4D, pad),
          ];
        },
      };
    }) as (x: Tensor4D, dy: Tensor4D) => Tensor4D,
  );
}

function ensure(pad: number): void {
  if (!convOp.has(pad)) makeOps(pad);
}

/** 3×3 stride-1 convolution with zero padding `pad` (NHWC input, HWIO filter). */
export function conv(x: Tensor4D, w: Tensor4D, pad: number): Tensor4D {
  ensure(pad);
  return convOp.get(pad)!(x, w);
}

/** Input gradient of {@link conv}: Aᵀ·dy, shaped like conv's input. */
export function convBackInput(
  dy: Tensor4D,
  w: Tensor4D,
  pad: number,
): Tensor4D {
  ensure(pad);
  return backInputOp.get(pad)!(dy, w);
}

/** Filter gradient of {@link conv}, shaped HWIO `[3, 3, cin, cout]`. */
export function convBackFilter(
  x: Tensor4D,
  dy: Tensor4D,
  pad: number,
): Tensor4D {
  ensure(pad);
  return backFilterOp.get(pad)!(x, dy);
}

/** Spatial size after {@link conv}. */
export function convOutSize(inSize: number, pad: number): number {
  return outSize(inSize, pad);
}

function avgPoolRaw(x: Tensor4D): Tensor4D {
  if (hasKernel(NATIVE_KERNELS.avgPool2)) {
    return tf.engine().runKernel(NATIVE_KERNELS.avgPool2, { x }) as Tensor4D;
  }
  return tf.avgPool(x, 2, 2, "valid");
}

function avgPoolBackRaw(dy: Tensor4D, inH: number, inW: number): Tensor4D {
  if (hasKernel(NATIVE_KERNELS.avgPool2Back)) {
    return tf.engine().runKernel(NATIVE_KERNELS.avgPool2Back, { dy }, {
      inHeight: inH,
      inWidth: inW,
    }) as Tensor4D;
  }
  const [b, h, w, c] = dy.shape;
  const up = tf.reshape(
    tf.tile(tf.reshape(tf.mul(dy, 0.25), [b, h, 1, w, 1, c]), [
      1,
      1,
      2,
      1,
      2,
      1,
    ]),
    [b, 2 * h, 2 * w, c],
  ) as Tensor4D;
  // Odd sizes: the last row/column took no part in the pooling.
  if (inH === 2 * h && inW === 2 * w) return up;
  return tf.pad(up, [[0, 0], [0, inH - 2 * h], [0, inW - 2 * w], [0, 0]]);
}

const poolOps = new Map<string, {
  fwd: (x: Tensor4D) => Tensor4D;
  back: (dy: Tensor4D) => Tensor4D;
}>();

function poolPair(inH: number, inW: number) {
  const key = `${inH}x${inW}`;
  let pair = poolOps.get(key);
  if (!pair) {
    const fwd = tf.customGrad((x) => ({
      value: avgPoolRaw(x as Tensor4D),
      gradFunc: (dy) => back(dy as Tensor4D),
    })) as (x: Tensor4D) => Tensor4D;
    const back = tf.customGrad((dy) => ({
      value: avgPoolBackRaw(dy as Tensor4D, inH, inW),
      gradFunc: (g) => fwd(g as Tensor4D),
    })) as (dy: Tensor4D) => Tensor4D;
    pair = { fwd, back };
    poolOps.set(key, pair);
  }
  return pair;
}

/** 2×2 average pooling, stride 2 (floor on odd sizes). */
export function avgPool2(x: Tensor4D): Tensor4D {
  return poolPair(x.shape[1], x.shape[2]).fwd(x);
}

/** Gradient of {@link avgPool2} for an input of spatial size inH × inW. */
export function avgPool2Back(
  dy: Tensor4D,
  inH: number,
  inW: number,
): Tensor4D {
  return poolPair(inH, inW).back(dy);
}
