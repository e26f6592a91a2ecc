/**
 * Results: statistics of evaluation runs, the CSV files, Markdown report and
 * SVG charts of a result folder, published values, and the table diff.
 *
 * @module
 */
export * from "./types.ts";
export * from "./stats.ts";
export * from "./order.ts";
export * from "./csv.ts";
export * from "./paper_values.ts";
export * from "./svg.ts";
export * from "./markdown.ts";
export * from "./write.ts";
export * from "./diff.ts";
