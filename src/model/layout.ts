/**
 * Shapes and the flat parameter layout of the reference ConvNet.
 *
 * Parameters live in one flat float32 vector so that a trajectory snapshot is a
 * plain vector. The tensor order is the reference's (conv weight, conv bias,
 * norm weight, norm bias per block, then classifier weight and bias), which is
 * also MCT's list of "layers". Inside the vector each tensor is stored in the
 * layout TensorFlow.js computes with: conv weights HWIO, the classifier weight
 * `[features, classes]` with features in (H, W, C) order. `reference_layout.ts`
 * converts to and from the reference's OIHW / `[classes, C·H·W]` layout.
 *
 * @module
 */

/** Architecture of a ConvNet. */
export interface ConvNetSpec {
  /** Input channels (1 for Fashion-MNIST, 3 for CIFAR and Tiny ImageNet). */
  inChannels: number;
  /** Input height in pixels. */
  height: number;
  /** Input width in pixels. */
  width: number;
  /** Number of classes. */
  numClasses: number;
  /** Channels of every conv layer. @default 128 in {@link convNetSpec} */
  netWidth: number;
  /** Number of conv blocks. @default 3 in {@link convNetSpec} */
  netDepth: number;
}

/** Role of a parameter tensor. */
export type ParamRole =
  | "conv_weight"
  | "conv_bias"
  | "norm_weight"
  | "norm_bias"
  | "fc_weight"
  | "fc_bias";

/** One tensor inside the flat parameter vector. */
export interface ParamTensor {
  /** Name used by this suite, e.g. `conv1.weight`. */
  name: string;
  /** The reference (PyTorch `ReparamModule`) name, e.g. `features.0.weight`. */
  refName: string;
  role: ParamRole;
  /** Shape in this suite's layout (HWIO convs, `[in, out]` classifier). */
  shape: number[];
  /** Shape in the reference layout (OIHW convs, `[out, in]` classifier). */
  refShape: number[];
  /** Offset of the first element in the flat vector. */
  offset: number;
  /** Number of elements. */
  size: number;
  /** Fan-in used by PyTorch's default initialisation (0 for norm layers). */
  fanIn: number;
}

/** The full parameter layout of one architecture. */
export interface ParamLayout {
  spec: ConvNetSpec;
  tensors: ParamTensor[];
  /** Total number of parameters. */
  size: number;
  /** Spatial size entering each block: `[h, w]` after the first conv's padding. */
  blockInput: [number, number][];
  /** Padding of each block's conv (3 on the first conv of 1-channel input). */
  padding: number[];
  /** Spatial size of the last block's output. */
  featureHW: [number, number];
  /** Classifier input features: netWidth · h · w. */
  features: number;
}

/** Build a spec with the reference defaults (width 128, depth 3). */
export function convNetSpec(
  shape: Pick<ConvNetSpec, "inChannels" | "height" | "width" | "numClasses">,
  options: Partial<Pick<ConvNetSpec, "netWidth" | "netDepth">> = {},
): ConvNetSpec {
  return { netWidth: 128, netDepth: 3, ...shape, ...options };
}

/** Compute the flat layout of a ConvNet. */
export function paramLayout(spec: ConvNetSpec): ParamLayout {
  const { inChannels, height, width, numClasses, netWidth, netDepth } = spec;
  for (const [k, v] of Object.entries(spec)) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new RangeError(
        `ConvNetSpec.${k} must be a positive integer, got ${v}`,
      );
    }
  }
  const tensors: ParamTensor[] = [];
  let offset = 0;
  const add = (
    t: Omit<ParamTensor, "offset" | "size">,
  ): void => {
    const size = t.shape.reduce((a, b) => a * b, 1);
    tensors.push({ ...t, offset, size });
    offset += size;
  };

  const blockInput: [number, number][] = [];
  const padding: number[] = [];
  let h = height;
  let w = width;
  let cin = inChannels;
  for (let d = 0; d < netDepth; d++) {
    // The reference pads the first conv by 3 for single-channel input, which
    // turns 28x28 into a 32x32 feature map.
    const pad = d === 0 && inChannels === 1 ? 3 : 1;
    padding.push(pad);
    blockInput.push([h, w]);
    h = h + 2 * pad - 2;
    w = w + 2 * pad - 2;
    const base = 4 * d;
    const fanIn = 9 * cin;
    add({
      name: `conv${d + 1}.weight`,
      refName: `features.${base}.weight`,
      role: "conv_weight",
      shape: [3, 3, cin, netWidth],
      refShape: [netWidth, cin, 3, 3],
      fanIn,
    });
    add({
      name: `conv${d + 1}.bias`,
      refName: `features.${base}.bias`,
      role: "conv_bias",
      shape: [netWidth],
      refShape: [netWidth],
      fanIn,
    });
    add({
      name: `norm${d + 1}.weight`,
      refName: `features.${base + 1}.weight`,
      role: "norm_weight",
      shape: [netWidth],
      refShape: [netWidth],
      fanIn: 0,
    });
    add({
      name: `norm${d + 1}.bias`,
      refName: `features.${base + 1}.bias`,
      role: "norm_bias",
      shape: [netWidth],
      refShape: [netWidth],
      fanIn: 0,
    });
    if (h < 2 || w < 2) {
      throw new RangeError(
        `ConvNet depth ${netDepth} is too deep for ${height}x${width} input`,
      );
    }
    h = Math.floor(h / 2);
    w = Math.floor(w / 2);
    cin = netWidth;
  }
  const features = netWidth * h * w;
  add({
    name: "classifier.weight",
    refName: "classifier.weight",
    role: "fc_weight",
    shape: [features, numClasses],
    refShape: [numClasses, features],
    fanIn: features,
  });
  add({
    name: "classifier.bias",
    refName: "classifier.bias",
    role: "fc_bias",
    shape: [numClasses],
    refShape: [numClasses],
    fanIn: features,
  });
  return {
    spec,
    tensors,
    size: offset,
    blockInput,
    padding,
    featureHW: [h, w],
    features,
  };
}
