/**
 * Differentiable augmentation: DSA groups, mode-S selection and the gather
 * plans they resample through.
 *
 * @module
 */
export * from "./dsa.ts";
export * from "./sampler.ts";
