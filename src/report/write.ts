/**
 * Writing a result folder, and reading its `result.json` back.
 *
 * A folder holds `result.json` (the whole {@link TableResult}, lossless, with
 * rows in the same order as the CSV files),
 * `runs.csv`, `table.csv`, `convergence.csv` and `storage.csv` when there is
 * such data, one SVG per chart, and `report.md`. Each file is written
 * atomically. `result.json` goes first, so a failure later on never loses
 * the measurements, and `report.md` goes last, so the charts it links exist.
 * Files a previous write left behind that this result does not produce
 * (a convergence chart of a data set no longer in the table, say) are
 * removed, so the folder never mixes two results.
 *
 * @module
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { InputError } from "../util/errors.ts";
import { writeFileAtomic } from "../util/fs.ts";
import {
  convergenceCsv,
  runsCsv,
  sortCells,
  sortConvergence,
  sortRuns,
  sortStorage,
  storageCsv,
  tableCsv,
} from "./csv.ts";
import { renderReport } from "./markdown.ts";
import { isRowMethod } from "./order.ts";
import { applyPaperValues, type PaperValues } from "./paper_values.ts";
import { renderCharts } from "./svg.ts";
import type {
  CellSummary,
  ConvergencePoint,
  PaperValue,
  Provenance,
  RunRecord,
  Scale,
  StorageRow,
  TableResult,
} from "./types.ts";

/** File names inside a result folder. */
export const RESULT_FILES = {
  json: "result.json",
  runs: "runs.csv",
  table: "table.csv",
  convergence: "convergence.csv",
  storage: "storage.csv",
  report: "report.md",
} as const;

/** Options of {@link writeResults}. */
export interface WriteOptions {
  /**
   * Values from `paper_values.json`. They are applied to the cells before
   * anything is written, so `table.csv`, `result.json` and the report agree.
   */
  paperValues?: PaperValues;
}

/** What {@link writeResults} did. */
export interface WrittenResults {
  /** Files written, relative to the folder, in the order written. */
  files: string[];
  /** Stale generated files removed, relative to the folder. */
  removed: string[];
}

// Generated names this module owns; anything else in the folder is left be.
const OWNED =
  /^(?:convergence\.csv|storage\.csv|storage\.svg|(?:accuracy|convergence)-.+\.svg)$/;

/**
 * Write every file of a result folder.
 *
 * @param dir the folder, created if missing
 * @param result the result to write
 * @param options user-supplied paper values
 * @returns the files written and the stale files removed
 * @throws {RangeError} if the result cannot be written as CSV (a settings
 *   key named like a fixed column); `result.json` has been written by then
 */
export async function writeResults(
  dir: string,
  result: TableResult,
  options: WriteOptions = {},
): Promise<WrittenResults> {
  const applied = applyPaperValues(result, options.paperValues);
  // result.json lists rows in file order too, so it diffs as cleanly as CSV.
  const r: TableResult = {
    ...applied,
    runs: sortRuns(applied.runs),
    cells: sortCells(applied.cells),
    convergence: sortConvergence(applied.convergence),
    storage: sortStorage(applied.storage),
  };
  const files: string[] = [];
  const put = async (name: string, text: string) => {
    await writeFileAtomic(path.join(dir, name), text);
    files.push(name);
  };

  await put(RESULT_FILES.json, JSON.stringify(r, null, 2) + "\n");
  await put(RESULT_FILES.runs, runsCsv(r.runs));
  await put(RESULT_FILES.table, tableCsv(r.cells));
  if (r.convergence.length > 0) {
    await put(RESULT_FILES.convergence, convergenceCsv(r.convergence));
  }
  if (r.storage.length > 0) {
    await put(RESULT_FILES.storage, storageCsv(r.storage));
  }
  const charts = renderCharts(r);
  for (const c of charts) await put(c.file, c.svg);

  const removed: string[] = [];
  const keep = new Set(files);
  for (const name of (await fsp.readdir(dir)).sort()) {
    if (OWNED.test(name) && !keep.has(name)) {
      await fsp.rm(path.join(dir, name), { force: true });
      removed.push(name);
    }
  }

  const reportOptions = options.paperValues === undefined
    ? { charts }
    : { charts, paperValues: options.paperValues };
  await put(RESULT_FILES.report, renderReport(r, reportOptions));
  return { files, removed };
}

/**
 * Read `result.json` of a result folder, checking every field.
 *
 * @param dir the folder (or the `result.json` file itself)
 * @throws {InputError} naming the file and field at fault
 */
export async function readResults(dir: string): Promise<TableResult> {
  const file = dir.endsWith(".json") ? dir : path.join(dir, RESULT_FILES.json);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new InputError(file, "file not found");
    }
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(file, `not valid JSON: ${(err as Error).message}`);
  }
  return validateTableResult(json, file);
}

// ---------------------------------------------------------------------------
// Validation

const SCALES: readonly Scale[] = ["paper", "quick", "smoke"];
const STORAGE_SOURCES: readonly StorageRow["source"][] = [
  "measured",
  "formula",
  "published",
];

function join(at: string, k: string): string {
  return at === "" ? k : `${at}.${k}`;
}

/** Walks parsed JSON; each failure names the file and the field path. */
class Reader {
  constructor(readonly file: string) {}

  fail(at: string, problem: string): never {
    throw new InputError(`${this.file}: field ${at}`, problem);
  }

  private got(v: unknown): string {
    return v === undefined ? "nothing" : JSON.stringify(v);
  }

  obj(v: unknown, at: string): Record<string, unknown> {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      this.fail(at, `expected an object, got ${this.got(v)}`);
    }
    return v as Record<string, unknown>;
  }

  arr(v: unknown, at: string): unknown[] {
    if (!Array.isArray(v)) {
      this.fail(at, `expected an array, got ${this.got(v)}`);
    }
    return v;
  }

  str(o: Record<string, unknown>, k: string, at: string): string {
    const v = o[k];
    if (typeof v !== "string") {
      this.fail(join(at, k), `expected a string, got ${this.got(v)}`);
    }
    return v;
  }

  bool(o: Record<string, unknown>, k: string, at: string): boolean {
    const v = o[k];
    if (typeof v !== "boolean") {
      this.fail(join(at, k), `expected true or false, got ${this.got(v)}`);
    }
    return v;
  }

  num(
    o: Record<string, unknown>,
    k: string,
    at: string,
    opts: { int?: boolean; min?: number; max?: number } = {},
  ): number {
    const v = o[k];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      this.fail(join(at, k), `expected a finite number, got ${this.got(v)}`);
    }
    if (opts.int === true && !Number.isInteger(v)) {
      this.fail(join(at, k), `expected an integer, got ${v}`);
    }
    if (opts.min !== undefined && v < opts.min) {
      this.fail(join(at, k), `expected >= ${opts.min}, got ${v}`);
    }
    if (opts.max !== undefined && v > opts.max) {
      this.fail(join(at, k), `expected <= ${opts.max}, got ${v}`);
    }
    return v;
  }

  optNum(
    o: Record<string, unknown>,
    k: string,
    at: string,
    opts: { int?: boolean; min?: number } = {},
  ): number | null {
    return o[k] === null ? null : this.num(o, k, at, opts);
  }

  oneOf<T extends string>(
    o: Record<string, unknown>,
    k: string,
    at: string,
    allowed: readonly T[],
  ): T {
    const v = o[k];
    if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
      this.fail(
        join(at, k),
        `expected one of ${allowed.join(", ")}, got ${this.got(v)}`,
      );
    }
    return v as T;
  }

  method(o: Record<string, unknown>, at: string): RunRecord["method"] {
    const v = o.method;
    if (!isRowMethod(v)) {
      this.fail(
        join(at, "method"),
        `expected one of mtt, mct, random, full, got ${this.got(v)}`,
      );
    }
    return v;
  }

  list<T>(
    o: Record<string, unknown>,
    k: string,
    at: string,
    each: (v: unknown, at: string) => T,
  ): T[] {
    return this.arr(o[k], join(at, k)).map((v, i) =>
      each(v, `${join(at, k)}[${i}]`)
    );
  }
}

function readRun(R: Reader, v: unknown, at: string): RunRecord {
  const o = R.obj(v, at);
  const settingsObj = R.obj(o.settings, join(at, "settings"));
  const settings: Record<string, string | number | boolean> = {};
  for (const [k, s] of Object.entries(settingsObj)) {
    if (
      typeof s !== "string" && typeof s !== "boolean" &&
      !(typeof s === "number" && Number.isFinite(s))
    ) {
      R.fail(
        join(at, `settings.${k}`),
        `expected a string, finite number or boolean, got ${JSON.stringify(s)}`,
      );
    }
    settings[k] = s;
  }
  return {
    table: R.str(o, "table", at),
    scale: R.oneOf(o, "scale", at, SCALES),
    dataset: R.str(o, "dataset", at),
    method: R.method(o, at),
    ipc: R.num(o, "ipc", at, { int: true, min: 0 }),
    variant: R.str(o, "variant", at),
    run: R.num(o, "run", at, { int: true, min: 0 }),
    evalSeed: R.num(o, "evalSeed", at, { int: true }),
    distillSeed: R.optNum(o, "distillSeed", at, { int: true }),
    iteration: R.optNum(o, "iteration", at, { int: true, min: 0 }),
    lr: R.num(o, "lr", at),
    settings,
    backend: R.str(o, "backend", at),
    accuracy: R.num(o, "accuracy", at, { min: 0, max: 1 }),
    seconds: R.num(o, "seconds", at, { min: 0 }),
  };
}

function readPaper(R: Reader, v: unknown, at: string): PaperValue | null {
  if (v === null) return null;
  const o = R.obj(v, at);
  return {
    mean: R.optNum(o, "mean", at),
    std: R.optNum(o, "std", at),
    source: R.str(o, "source", at),
  };
}

function readCell(R: Reader, v: unknown, at: string): CellSummary {
  const o = R.obj(v, at);
  const ci = R.arr(o.ci95, join(at, "ci95"));
  if (ci.length !== 2) {
    R.fail(join(at, "ci95"), `expected [low, high], got ${ci.length} values`);
  }
  // JSON has no NaN: an undefined interval (one run) is written as null.
  const bound = (i: 0 | 1): number => {
    const b = ci[i];
    if (b === null) return NaN;
    if (typeof b !== "number" || !Number.isFinite(b)) {
      R.fail(join(at, `ci95[${i}]`), `expected a number or null, got ${b}`);
    }
    return b;
  };
  let best: CellSummary["bestOverCheckpoints"] = null;
  if (o.bestOverCheckpoints !== null) {
    const b = R.obj(o.bestOverCheckpoints, join(at, "bestOverCheckpoints"));
    best = {
      iteration: R.num(b, "iteration", join(at, "bestOverCheckpoints"), {
        int: true,
        min: 0,
      }),
      mean: R.num(b, "mean", join(at, "bestOverCheckpoints")),
    };
  }
  return {
    dataset: R.str(o, "dataset", at),
    method: R.method(o, at),
    ipc: R.num(o, "ipc", at, { int: true, min: 0 }),
    variant: R.str(o, "variant", at),
    n: R.num(o, "n", at, { int: true, min: 1 }),
    mean: R.num(o, "mean", at),
    std: R.num(o, "std", at, { min: 0 }),
    ci95: [bound(0), bound(1)],
    bestOverCheckpoints: best,
    paper: readPaper(R, o.paper, join(at, "paper")),
  };
}

function readPoint(R: Reader, v: unknown, at: string): ConvergencePoint {
  const o = R.obj(v, at);
  return {
    dataset: R.str(o, "dataset", at),
    method: R.method(o, at),
    ipc: R.num(o, "ipc", at, { int: true, min: 0 }),
    variant: R.str(o, "variant", at),
    iteration: R.num(o, "iteration", at, { int: true, min: 0 }),
    mean: R.num(o, "mean", at),
    std: R.num(o, "std", at, { min: 0 }),
    n: R.num(o, "n", at, { int: true, min: 1 }),
  };
}

function readStorage(R: Reader, v: unknown, at: string): StorageRow {
  const o = R.obj(v, at);
  return {
    dataset: R.str(o, "dataset", at),
    source: R.oneOf(o, "source", at, STORAGE_SOURCES),
    numParams: R.num(o, "numParams", at, { int: true, min: 0 }),
    experts: R.num(o, "experts", at, { int: true, min: 0 }),
    mttBytes: R.num(o, "mttBytes", at, { int: true, min: 0 }),
    mctBytes: R.num(o, "mctBytes", at, { int: true, min: 0 }),
    ratio: R.num(o, "ratio", at),
    note: R.str(o, "note", at),
  };
}

function readProvenance(R: Reader, v: unknown, at: string): Provenance {
  const o = R.obj(v, at);
  const stage = R.obj(o.stageSeconds, join(at, "stageSeconds"));
  const stageSeconds: Record<string, number> = {};
  for (const k of Object.keys(stage)) {
    stageSeconds[k] = R.num(stage, k, join(at, "stageSeconds"), { min: 0 });
  }
  return {
    commit: R.str(o, "commit", at),
    dirty: R.bool(o, "dirty", at),
    command: R.str(o, "command", at),
    deno: R.str(o, "deno", at),
    tfjs: R.str(o, "tfjs", at),
    backend: R.str(o, "backend", at),
    cpu: R.str(o, "cpu", at),
    gpu: o.gpu === null ? null : R.str(o, "gpu", at),
    os: R.str(o, "os", at),
    datasets: R.list(o, "datasets", at, (d, a) => {
      const x = R.obj(d, a);
      return {
        name: R.str(x, "name", a),
        split: R.str(x, "split", a),
        sha256: R.str(x, "sha256", a),
      };
    }),
    trajectories: R.list(o, "trajectories", at, (d, a) => {
      const x = R.obj(d, a);
      return {
        dir: R.str(x, "dir", a),
        kind: R.str(x, "kind", a),
        hash: R.str(x, "hash", a),
        experts: R.num(x, "experts", a, { int: true, min: 0 }),
      };
    }),
    config: o.config ?? null,
    stageSeconds,
    started: R.str(o, "started", at),
    finished: R.str(o, "finished", at),
  };
}

/**
 * Check parsed JSON against the {@link TableResult} model.
 *
 * @param json the parsed `result.json`
 * @param file the file name used in errors
 * @throws {InputError} naming the file and the first field at fault
 */
export function validateTableResult(json: unknown, file: string): TableResult {
  const R: Reader = new Reader(file);
  const o = R.obj(json, "(top level)");
  const at = "";
  const deviations = R.list(o, "deviations", at, (d, a): string => {
    if (typeof d !== "string") R.fail(a, `expected a string, got ${d}`);
    return d;
  });
  return {
    table: R.str(o, "table", at),
    scale: R.oneOf(o, "scale", at, SCALES),
    title: R.str(o, "title", at),
    summary: R.str(o, "summary", at),
    deviations,
    runs: R.list(o, "runs", at, (v, a) => readRun(R, v, a)),
    cells: R.list(o, "cells", at, (v, a) => readCell(R, v, a)),
    convergence: R.list(o, "convergence", at, (v, a) => readPoint(R, v, a)),
    storage: R.list(o, "storage", at, (v, a) => readStorage(R, v, a)),
    provenance: readProvenance(R, o.provenance, "provenance"),
  };
}
