/**
 * The one ordering and cell key every writer and the diff share, so two
 * result folders list the same cells in the same order and `git diff` shows
 * only what changed.
 *
 * @module
 */
import type { RowMethod } from "./types.ts";

/** Row order of methods in every CSV: the two methods, then the baselines. */
export const METHOD_ORDER: readonly RowMethod[] = [
  "mtt",
  "mct",
  "random",
  "full",
];

/** How a method is named in reports and charts. */
export const METHOD_LABELS: Readonly<Record<RowMethod, string>> = {
  mtt: "MTT",
  mct: "MCT",
  random: "Random",
  full: "Full dataset",
};

/** True when `value` is one of {@link METHOD_ORDER}. */
export function isRowMethod(value: unknown): value is RowMethod {
  return typeof value === "string" &&
    (METHOD_ORDER as readonly string[]).includes(value);
}

/** The coordinates that identify a cell of a table. */
export interface CellCoordinates {
  dataset: string;
  method: RowMethod;
  ipc: number;
  variant: string;
}

// Plain code-unit order: localeCompare would depend on the machine's locale.
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Order cells by dataset, method ({@link METHOD_ORDER}), IPC, then variant.
 *
 * @returns negative, zero or positive, as for `Array.prototype.sort`
 */
export function compareCells(a: CellCoordinates, b: CellCoordinates): number {
  return compareText(a.dataset, b.dataset) ||
    METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method) ||
    a.ipc - b.ipc ||
    compareText(a.variant, b.variant);
}

/**
 * A stable text key of a cell, e.g. `cifar10/mct/10` or
 * `cifar10/mct/50/experts=10`. The same form names cells in
 * `paper_values.json` and in diff output.
 */
export function cellKey(c: CellCoordinates): string {
  const base = `${c.dataset}/${c.method}/${c.ipc}`;
  return c.variant === "" ? base : `${base}/${c.variant}`;
}

/** A cell named for people: `cifar10 MCT IPC 10 (experts=10)`. */
export function cellLabel(c: CellCoordinates): string {
  const ipc = c.ipc === 0 ? "all images" : `IPC ${c.ipc}`;
  const variant = c.variant === "" ? "" : ` (${c.variant})`;
  return `${c.dataset} ${METHOD_LABELS[c.method]} ${ipc}${variant}`;
}
