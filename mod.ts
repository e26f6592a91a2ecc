/**
 * trajbench: MTT and MCT dataset distillation side by side, in TypeScript on
 * TensorFlow.js, with the tools to reproduce the MCT paper's tables.
 *
 * @module
 */
export * from "./src/util/rng.ts";
export * from "./src/util/errors.ts";
export * from "./src/backend/mod.ts";
export * from "./src/model/layout.ts";
