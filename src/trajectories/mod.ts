/**
 * Expert trajectories: the SGD store, MCT's convexified form and its store,
 * and storage accounting.
 *
 * @module
 */
export * from "./store.ts";
export * from "./convexify.ts";
export * from "./convexified_store.ts";
export * from "./storage.ts";
