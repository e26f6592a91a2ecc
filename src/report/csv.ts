/**
 * CSV files of a result folder, and parsers that read them back.
 *
 * Every file has a fixed column order, rows in a fixed order
 * ({@link compareCells}) and fixed number formats, so writing the same result
 * twice gives the same bytes and `git diff` of two result folders shows only
 * real changes:
 *
 * - `runs.csv`: accuracies as fractions with 4 decimals (exact for test sets
 *   of 10,000 images), seconds with 2 decimals, learning rates and settings
 *   as the shortest decimal that reads back exactly, never in exponent form;
 * - `table.csv`, `convergence.csv`: percentages with 2 decimals;
 * - `storage.csv`: bytes as integers, ratios with 2 decimals.
 *
 * Missing values (`null`, or an interval that is undefined for one run) are
 * empty fields. Lines end in `\n`; fields are quoted only when they must be.
 *
 * `runs.csv` is lossy in one documented way: a setting whose string value
 * looks like a number or `true`/`false` reads back as a number or boolean,
 * and an empty string setting reads back as absent. `result.json` is the
 * lossless record.
 *
 * @module
 */
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { InputError } from "../util/errors.ts";
import { fixed, plainNumber } from "./_format.ts";
import { compareCells, METHOD_ORDER } from "./order.ts";
import type {
  CellSummary,
  ConvergencePoint,
  RunRecord,
  Scale,
  StorageRow,
} from "./types.ts";

/** Fixed leading columns of `runs.csv`; sorted `settings` keys follow. */
export const RUNS_COLUMNS = [
  "table",
  "scale",
  "dataset",
  "method",
  "ipc",
  "variant",
  "run",
  "eval_seed",
  "distill_seed",
  "iteration",
  "lr",
  "backend",
  "accuracy",
  "seconds",
] as const;

/** Columns of `table.csv`. */
export const TABLE_COLUMNS = [
  "dataset",
  "method",
  "ipc",
  "variant",
  "n",
  "mean",
  "std",
  "ci95_low",
  "ci95_high",
  "best_ckpt_iteration",
  "best_ckpt_mean",
  "paper_mean",
  "paper_std",
  "paper_source",
] as const;

/** Columns of `convergence.csv`. */
export const CONVERGENCE_COLUMNS = [
  "dataset",
  "method",
  "ipc",
  "variant",
  "iteration",
  "n",
  "mean",
  "std",
] as const;

/** Columns of `storage.csv`. */
export const STORAGE_COLUMNS = [
  "dataset",
  "source",
  "num_params",
  "experts",
  "mtt_bytes",
  "mct_bytes",
  "ratio",
  "note",
] as const;

const SCALES: readonly Scale[] = ["paper", "quick", "smoke"];
const STORAGE_SOURCES: readonly StorageRow["source"][] = [
  "measured",
  "formula",
  "published",
];

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// null sorts before any number, as a baseline before its checkpoints.
function compareNullable(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a - b;
}

/** Runs in file order: cell, then iteration, run, evaluation seed. */
export function sortRuns(runs: readonly RunRecord[]): RunRecord[] {
  return [...runs].sort((a, b) =>
    compareCells(a, b) || compareNullable(a.iteration, b.iteration) ||
    a.run - b.run || a.evalSeed - b.evalSeed ||
    compareText(a.table, b.table) || compareText(a.scale, b.scale)
  );
}

/** Cells in file order ({@link compareCells}). */
export function sortCells(cells: readonly CellSummary[]): CellSummary[] {
  return [...cells].sort(compareCells);
}

/** Convergence points in file order: cell, then iteration. */
export function sortConvergence(
  points: readonly ConvergencePoint[],
): ConvergencePoint[] {
  return [...points].sort((a, b) =>
    compareCells(a, b) || a.iteration - b.iteration
  );
}

/** Storage rows in file order: dataset, source, experts, note. */
export function sortStorage(rows: readonly StorageRow[]): StorageRow[] {
  return [...rows].sort((a, b) =>
    compareText(a.dataset, b.dataset) ||
    STORAGE_SOURCES.indexOf(a.source) - STORAGE_SOURCES.indexOf(b.source) ||
    a.experts - b.experts || compareText(a.note, b.note)
  );
}

function toCsv(header: readonly string[], rows: string[][]): string {
  return stringify([[...header], ...rows], { record_delimiter: "\n" });
}

const pct = (x: number): string => Number.isFinite(x) ? fixed(x, 2) : "";
const opt = (x: number | null, f: (v: number) => string): string =>
  x === null ? "" : f(x);

function settingText(v: string | number | boolean | undefined): string {
  if (v === undefined) return "";
  if (typeof v === "number") return plainNumber(v);
  return String(v);
}

/** Every `settings` key of `runs`, sorted; these follow the fixed columns. */
export function settingsColumns(runs: readonly RunRecord[]): string[] {
  const keys = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.settings)) keys.add(k);
  const fixedNames = new Set<string>(RUNS_COLUMNS);
  for (const k of keys) {
    if (fixedNames.has(k)) {
      throw new RangeError(
        `settings key "${k}" has the name of a fixed runs.csv column`,
      );
    }
  }
  return [...keys].sort(compareText);
}

/**
 * Text of `runs.csv`: one row per run, columns {@link RUNS_COLUMNS} then
 * every `settings` key in sorted order.
 *
 * @throws {RangeError} if a settings key is named like a fixed column
 */
export function runsCsv(runs: readonly RunRecord[]): string {
  const keys = settingsColumns(runs);
  const rows = sortRuns(runs).map((r) => [
    r.table,
    r.scale,
    r.dataset,
    r.method,
    String(r.ipc),
    r.variant,
    String(r.run),
    plainNumber(r.evalSeed),
    opt(r.distillSeed, plainNumber),
    opt(r.iteration, String),
    plainNumber(r.lr),
    r.backend,
    fixed(r.accuracy, 4),
    fixed(r.seconds, 2),
    ...keys.map((k) => settingText(r.settings[k])),
  ]);
  return toCsv([...RUNS_COLUMNS, ...keys], rows);
}

/** Text of `table.csv`: one row per cell, columns {@link TABLE_COLUMNS}. */
export function tableCsv(cells: readonly CellSummary[]): string {
  const rows = sortCells(cells).map((c) => [
    c.dataset,
    c.method,
    String(c.ipc),
    c.variant,
    String(c.n),
    pct(c.mean),
    pct(c.std),
    pct(c.ci95[0]),
    pct(c.ci95[1]),
    c.bestOverCheckpoints === null
      ? ""
      : String(c.bestOverCheckpoints.iteration),
    c.bestOverCheckpoints === null ? "" : pct(c.bestOverCheckpoints.mean),
    c.paper === null ? "" : opt(c.paper.mean, pct),
    c.paper === null ? "" : opt(c.paper.std, pct),
    c.paper === null ? "" : c.paper.source,
  ]);
  return toCsv(TABLE_COLUMNS, rows);
}

/**
 * Text of `convergence.csv`: one row per point, columns
 * {@link CONVERGENCE_COLUMNS}.
 */
export function convergenceCsv(points: readonly ConvergencePoint[]): string {
  const rows = sortConvergence(points).map((p) => [
    p.dataset,
    p.method,
    String(p.ipc),
    p.variant,
    String(p.iteration),
    String(p.n),
    pct(p.mean),
    pct(p.std),
  ]);
  return toCsv(CONVERGENCE_COLUMNS, rows);
}

/** Text of `storage.csv`: one row per row, columns {@link STORAGE_COLUMNS}. */
export function storageCsv(rows: readonly StorageRow[]): string {
  const out = sortStorage(rows).map((r) => [
    r.dataset,
    r.source,
    String(r.numParams),
    String(r.experts),
    plainNumber(r.mttBytes),
    plainNumber(r.mctBytes),
    fixed(r.ratio, 2),
    r.note,
  ]);
  return toCsv(STORAGE_COLUMNS, out);
}

// ---------------------------------------------------------------------------
// Parsing

/** Reads typed fields of one data row, naming file, row and column on error. */
class Row {
  constructor(
    private readonly source: string,
    private readonly index: number,
    private readonly fields: Map<string, string>,
  ) {}

  fail(column: string, problem: string): never {
    throw new InputError(
      `${this.source} row ${this.index}, column "${column}"`,
      problem,
    );
  }

  text(column: string): string {
    const v = this.fields.get(column);
    if (v === undefined) this.fail(column, "missing");
    return v;
  }

  number(column: string): number {
    const t = this.text(column);
    const v = Number(t);
    if (t.trim() === "" || !Number.isFinite(v)) {
      this.fail(column, `expected a number, got ${JSON.stringify(t)}`);
    }
    return v;
  }

  int(column: string, min = 0): number {
    const v = this.number(column);
    if (!Number.isInteger(v) || v < min) {
      this.fail(column, `expected an integer >= ${min}, got ${v}`);
    }
    return v;
  }

  fraction(column: string): number {
    const v = this.number(column);
    if (v < 0 || v > 1) {
      this.fail(column, `expected a fraction in [0, 1], got ${v}`);
    }
    return v;
  }

  optNumber(column: string): number | null {
    return this.text(column) === "" ? null : this.number(column);
  }

  optInt(column: string): number | null {
    return this.text(column) === "" ? null : this.int(column);
  }

  /** An empty field is an undefined value (NaN), e.g. a one-run interval. */
  nanNumber(column: string): number {
    return this.text(column) === "" ? NaN : this.number(column);
  }

  oneOf<T extends string>(column: string, allowed: readonly T[]): T {
    const t = this.text(column);
    if (!(allowed as readonly string[]).includes(t)) {
      this.fail(
        column,
        `expected one of ${allowed.join(", ")}, got ${JSON.stringify(t)}`,
      );
    }
    return t as T;
  }
}

function parseRows(
  text: string,
  source: string,
  expected: readonly string[],
  allowExtra: boolean,
): { header: string[]; rows: Row[] } {
  let records: string[][];
  try {
    records = parse(text, { relax_column_count: false }) as string[][];
  } catch (err) {
    throw new InputError(source, `not valid CSV: ${(err as Error).message}`);
  }
  const header = records[0];
  if (header === undefined) throw new InputError(source, "empty file");
  const lead = header.slice(0, expected.length);
  if (
    lead.length !== expected.length || lead.some((h, i) => h !== expected[i]) ||
    (!allowExtra && header.length !== expected.length)
  ) {
    throw new InputError(
      source,
      `header must ${allowExtra ? "start with" : "be"} ${
        expected.join(",")
      }; got ${header.join(",")}`,
    );
  }
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h)) throw new InputError(source, `column "${h}" repeated`);
    seen.add(h);
  }
  const rows = records.slice(1).map((rec, i) =>
    new Row(source, i + 1, new Map(header.map((h, j) => [h, rec[j] ?? ""])))
  );
  return { header, rows };
}

function settingValue(t: string): string | number | boolean {
  if (t === "true") return true;
  if (t === "false") return false;
  if (/^-?(0|[1-9]\d*)(\.\d+)?$/.test(t)) return Number(t);
  return t;
}

/**
 * Read `runs.csv` back into run records.
 *
 * @param text the file's text
 * @param source the file name used in error messages
 * @throws {InputError} naming the file, row and column of the first problem
 */
export function parseRunsCsv(text: string, source = "runs.csv"): RunRecord[] {
  const { header, rows } = parseRows(text, source, RUNS_COLUMNS, true);
  const keys = header.slice(RUNS_COLUMNS.length);
  return rows.map((r) => {
    const settings: Record<string, string | number | boolean> = {};
    for (const k of keys) {
      const t = r.text(k);
      if (t !== "") settings[k] = settingValue(t);
    }
    return {
      table: r.text("table"),
      scale: r.oneOf("scale", SCALES),
      dataset: r.text("dataset"),
      method: r.oneOf("method", METHOD_ORDER),
      ipc: r.int("ipc"),
      variant: r.text("variant"),
      run: r.int("run"),
      evalSeed: r.int("eval_seed", Number.MIN_SAFE_INTEGER),
      distillSeed: r.text("distill_seed") === ""
        ? null
        : r.int("distill_seed", Number.MIN_SAFE_INTEGER),
      iteration: r.optInt("iteration"),
      lr: r.number("lr"),
      settings,
      backend: r.text("backend"),
      accuracy: r.fraction("accuracy"),
      seconds: r.number("seconds"),
    };
  });
}

/**
 * Read `table.csv` back into cell summaries. Values carry the file's
 * precision (2 decimals); an empty interval reads as `[NaN, NaN]`.
 *
 * @param text the file's text
 * @param source the file name used in error messages
 * @throws {InputError} naming the file, row and column of the first problem
 */
export function parseTableCsv(
  text: string,
  source = "table.csv",
): CellSummary[] {
  const { rows } = parseRows(text, source, TABLE_COLUMNS, false);
  return rows.map((r) => {
    const bestIt = r.optInt("best_ckpt_iteration");
    const bestMean = r.optNumber("best_ckpt_mean");
    if ((bestIt === null) !== (bestMean === null)) {
      r.fail(
        "best_ckpt_mean",
        "best_ckpt_iteration and best_ckpt_mean must both be set or both empty",
      );
    }
    const paperMean = r.optNumber("paper_mean");
    const paperStd = r.optNumber("paper_std");
    const paperSource = r.text("paper_source");
    const method = r.oneOf("method", METHOD_ORDER);
    return {
      dataset: r.text("dataset"),
      method,
      ipc: r.int("ipc"),
      variant: r.text("variant"),
      n: r.int("n", 1),
      mean: r.number("mean"),
      std: r.number("std"),
      ci95: [r.nanNumber("ci95_low"), r.nanNumber("ci95_high")],
      bestOverCheckpoints: bestIt === null || bestMean === null
        ? null
        : { iteration: bestIt, mean: bestMean },
      paper: paperMean === null && paperStd === null && paperSource === ""
        ? null
        : { mean: paperMean, std: paperStd, source: paperSource },
    };
  });
}

/**
 * Read `convergence.csv` back into convergence points.
 *
 * @throws {InputError} naming the file, row and column of the first problem
 */
export function parseConvergenceCsv(
  text: string,
  source = "convergence.csv",
): ConvergencePoint[] {
  const { rows } = parseRows(text, source, CONVERGENCE_COLUMNS, false);
  return rows.map((r) => ({
    dataset: r.text("dataset"),
    method: r.oneOf("method", METHOD_ORDER),
    ipc: r.int("ipc"),
    variant: r.text("variant"),
    iteration: r.int("iteration"),
    mean: r.number("mean"),
    std: r.number("std"),
    n: r.int("n", 1),
  }));
}

/**
 * Read `storage.csv` back into storage rows (ratio to 2 decimals).
 *
 * @throws {InputError} naming the file, row and column of the first problem
 */
export function parseStorageCsv(
  text: string,
  source = "storage.csv",
): StorageRow[] {
  const { rows } = parseRows(text, source, STORAGE_COLUMNS, false);
  return rows.map((r) => ({
    dataset: r.text("dataset"),
    source: r.oneOf("source", STORAGE_SOURCES),
    numParams: r.int("num_params"),
    experts: r.int("experts"),
    mttBytes: r.int("mtt_bytes"),
    mctBytes: r.int("mct_bytes"),
    ratio: r.number("ratio"),
    note: r.text("note"),
  }));
}
