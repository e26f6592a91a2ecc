/**
 * Cell-by-cell comparison of two `table.csv` files: which means moved by more
 * than a tolerance, and which cells exist on one side only. The command line
 * around it (`deno task diff`) is `src/cli/diff.ts`.
 *
 * @module
 */
import { InputError } from "../util/errors.ts";
import { fixed, signedFixed } from "./_format.ts";
import { cellKey, cellLabel, compareCells } from "./order.ts";
import type { CellSummary } from "./types.ts";

/** The default tolerance of {@link diffTables}, in percentage points. */
export const DEFAULT_TOLERANCE = 1.0;

/** One cell present on both sides. */
export interface CellChange {
  /** {@link cellKey} of the cell. */
  key: string;
  /** The cell named for people. */
  label: string;
  a: CellSummary;
  b: CellSummary;
  /** b.mean − a.mean, percentage points. */
  delta: number;
  /** |delta| is beyond the tolerance. */
  moved: boolean;
  /** Changes that do not fail the diff on their own (run count, paper). */
  notes: string[];
}

/** The comparison of two tables. */
export interface TableDiff {
  /** Tolerance used, percentage points. */
  tol: number;
  /** Cells on both sides, in table order. */
  matched: CellChange[];
  /** Cells only in a, in table order. */
  onlyInA: CellSummary[];
  /** Cells only in b, in table order. */
  onlyInB: CellSummary[];
  /** A mean moved beyond the tolerance, or a cell appeared or disappeared. */
  changed: boolean;
}

/** Options of {@link diffTables}. */
export interface DiffOptions {
  /** Largest |Δ mean| that is not a change, percentage points. @default 1.0 */
  tol?: number;
}

function index(
  cells: readonly CellSummary[],
  side: string,
): Map<string, CellSummary> {
  const out = new Map<string, CellSummary>();
  for (const c of cells) {
    const k = cellKey(c);
    if (out.has(k)) {
      throw new InputError(side, `cell ${k} appears twice`);
    }
    out.set(k, c);
  }
  return out;
}

/**
 * Compare two tables cell by cell, matching on dataset, method, IPC and
 * variant.
 *
 * A mean "moved" when |b − a| exceeds `tol`; a difference of exactly `tol`
 * (to 1e-9, so that two-decimal values compare as written) does not.
 *
 * @example
 * ```ts
 * import { diffTables } from "./diff.ts";
 * const cell = (mean: number) => ({
 *   dataset: "cifar10", method: "mtt" as const, ipc: 1, variant: "", n: 3,
 *   mean, std: 0.5, ci95: [0, 0] as [number, number],
 *   bestOverCheckpoints: null, paper: null,
 * });
 * diffTables([cell(46.0)], [cell(47.5)]).changed; // true
 * ```
 * @param a the old table
 * @param b the new table
 * @throws {InputError} if a side lists the same cell twice
 */
export function diffTables(
  a: readonly CellSummary[],
  b: readonly CellSummary[],
  options: DiffOptions = {},
): TableDiff {
  const tol = options.tol ?? DEFAULT_TOLERANCE;
  if (!(tol >= 0) || !Number.isFinite(tol)) {
    throw new RangeError(`tolerance must be a finite number >= 0, got ${tol}`);
  }
  const ia = index(a, "side a");
  const ib = index(b, "side b");
  const matched: CellChange[] = [];
  const onlyInA: CellSummary[] = [];
  const onlyInB: CellSummary[] = [];
  for (const [k, ca] of ia) {
    const cb = ib.get(k);
    if (cb === undefined) {
      onlyInA.push(ca);
      continue;
    }
    const delta = cb.mean - ca.mean;
    const notes: string[] = [];
    if (ca.n !== cb.n) notes.push(`n ${ca.n} → ${cb.n}`);
    const pa = ca.paper?.mean ?? null;
    const pb = cb.paper?.mean ?? null;
    if (pa !== pb) {
      notes.push(`paper ${pa ?? "–"} → ${pb ?? "–"}`);
    }
    matched.push({
      key: k,
      label: cellLabel(ca),
      a: ca,
      b: cb,
      delta,
      moved: Math.abs(delta) > tol + 1e-9,
      notes,
    });
  }
  for (const [k, cb] of ib) if (!ia.has(k)) onlyInB.push(cb);
  matched.sort((x, y) => compareCells(x.a, y.a));
  onlyInA.sort(compareCells);
  onlyInB.sort(compareCells);
  return {
    tol,
    matched,
    onlyInA,
    onlyInB,
    changed: matched.some((m) => m.moved) || onlyInA.length > 0 ||
      onlyInB.length > 0,
  };
}

function md(text: string): string {
  return text.replace(/\|/g, "\\|");
}

function value(c: CellSummary): string {
  const std = c.n >= 2 ? fixed(c.std, 2) : "–";
  return `${fixed(c.mean, 2)} ± ${std} (${c.n})`;
}

/** Options of {@link renderDiff}. */
export interface RenderDiffOptions {
  /** What side a is, e.g. `HEAD (1a2b3c4)`. */
  labelA: string;
  /** What side b is, e.g. `working tree`. */
  labelB: string;
  /** Heading, e.g. the compared file. */
  title?: string;
}

/**
 * A diff as Markdown: a table of every matched cell (a, b, Δ, flag), the
 * cells on one side only, and a one-line verdict.
 */
export function renderDiff(
  diff: TableDiff,
  options: RenderDiffOptions,
): string {
  const out: string[] = [];
  if (options.title !== undefined) out.push(`## ${md(options.title)}`, "");
  out.push(
    `a = ${md(options.labelA)}, b = ${md(options.labelB)}; means in percent, ` +
      `Δ = b − a in percentage points, tolerance ±${fixed(diff.tol, 2)}.`,
    "",
  );
  if (diff.matched.length > 0) {
    out.push(
      "| cell | a | b | Δ | flag |",
      "| --- | ---: | ---: | ---: | --- |",
    );
    for (const m of diff.matched) {
      const flag = [m.moved ? "**moved**" : "", ...m.notes].filter((s) =>
        s !== ""
      ).join("; ");
      out.push(
        `| ${md(m.label)} | ${value(m.a)} | ${value(m.b)} | ${
          signedFixed(m.delta, 2)
        } | ${md(flag)} |`,
      );
    }
    out.push("");
  }
  const only = (side: string, cells: CellSummary[]) => {
    if (cells.length === 0) return;
    out.push(`Only in ${side}:`, "");
    for (const c of cells) out.push(`- ${md(cellLabel(c))}: ${value(c)}`);
    out.push("");
  };
  only(`a (${options.labelA})`, diff.onlyInA);
  only(`b (${options.labelB})`, diff.onlyInB);
  const moved = diff.matched.filter((m) => m.moved).length;
  out.push(
    `${
      diff.changed ? "**Changed**" : "No change beyond tolerance"
    }: ${moved} of ${diff.matched.length} matched cells moved by more than ` +
      `${fixed(diff.tol, 2)}; ${diff.onlyInA.length} only in a, ` +
      `${diff.onlyInB.length} only in b.`,
    "",
  );
  return out.join("\n");
}
