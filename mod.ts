/**
 * trajbench: MTT and MCT dataset distillation side by side, in TypeScript on
 * TensorFlow.js, with the tools to reproduce the MCT paper's tables.
 *
 * The building blocks, by stage of the pipeline:
 * - backend selection ({@link initBackend}) and the seeded generator ({@link Rng});
 * - data sets, preprocessing, ZCA and DSA augmentation;
 * - the ConvNet as functions of a flat parameter vector, with an explicit,
 *   differentiable gradient;
 * - expert training, trajectory stores and MCT's convexification;
 * - the distillation loop and its two gradients, and the evaluation protocol;
 * - result files, reports and table diffs.
 *
 * @example
 * ```ts
 * import { convNetSpec, initParams, paramLayout, Rng } from "./mod.ts";
 * const layout = paramLayout(convNetSpec(
 *   { inChannels: 3, height: 32, width: 32, numClasses: 10 },
 * ));
 * const theta = initParams(layout, new Rng(0));
 * if (theta.length !== 320_010) throw new Error("CIFAR-10 ConvNet has 320,010 parameters");
 * ```
 *
 * @module
 */
export * from "./src/util/rng.ts";
export * from "./src/util/errors.ts";
export * from "./src/backend/mod.ts";
export { tf } from "./src/backend/tf.ts";

export * from "./src/data/mod.ts";
export * from "./src/data/zca.ts";
export * from "./src/augment/mod.ts";

export * from "./src/model/layout.ts";
export * from "./src/model/reference_layout.ts";
export * from "./src/model/ops.ts";
export * from "./src/model/convnet.ts";
export * from "./src/train/sgd.ts";

export * from "./src/experts/train_experts.ts";
export * from "./src/experts/accuracy.ts";
export * from "./src/trajectories/mod.ts";

export * from "./src/distill/config.ts";
export * from "./src/distill/gradient.ts";
export * from "./src/distill/expert_source.ts";
export * from "./src/distill/loop.ts";
export * from "./src/distill/step_augment.ts";
export * from "./src/eval/protocol.ts";

export * from "./src/pipeline/prepare.ts";
export * from "./src/pipeline/distilled.ts";
export * from "./src/pipeline/stages.ts";
export * from "./src/pipeline/table_spec.ts";
export * from "./src/pipeline/reproduce.ts";

export * from "./src/report/mod.ts";
