/**
 * Published values shown next to measured ones.
 *
 * Three sources, in order of precedence:
 *
 * 1. a user-supplied `paper_values.json` ({@link loadPaperValues});
 * 2. a value the producer of the result already set on the cell;
 * 3. the values transcribed in this suite ({@link PUBLISHED_VALUES}): the MTT
 *    paper's Table 1 rows for Random, MTT and the full data set.
 *
 * The MCT paper's own tables have not been transcribed, so an MCT cell without
 * a user-supplied value gets {@link NOT_TRANSCRIBED}, which reports print as
 * "not transcribed" rather than inventing a number.
 *
 * ## `paper_values.json`
 *
 * One JSON object. Each key names a cell as `<dataset>/<method>/<ipc>` or
 * `<dataset>/<method>/<ipc>/<variant>` (method: `mtt`, `mct`, `random` or
 * `full`; IPC 0 for the whole training set), and each value is
 * `{ "mean": number | null, "std": number | null, "source": string }` in
 * percent. `std` may be left out; `source` is required and should name the
 * paper and table. Keys starting with `$` are comments and are ignored.
 *
 * ```json
 * {
 *   "$comment": "MCT paper, Table 1, transcribed from the CVPR 2025 PDF",
 *   "cifar10/mct/1": { "mean": 48.5, "std": 0.2, "source": "MCT Table 1" },
 *   "cifar10/mct/50/experts=10": { "mean": null, "source": "not reported" }
 * }
 * ```
 *
 * @module
 */
import { InputError } from "../util/errors.ts";
import { type CellCoordinates, cellKey, isRowMethod } from "./order.ts";
import type { CellSummary, PaperValue, TableResult } from "./types.ts";

/** Published values keyed by {@link cellKey}, with where they were read. */
export interface PaperValues {
  /** The file (or other origin) the values came from; shown in reports. */
  source: string;
  /** Cell key → published value. */
  values: Record<string, PaperValue>;
}

/** The `source` of an MCT cell whose paper value nobody has transcribed. */
export const NOT_TRANSCRIBED_SOURCE =
  "not transcribed: the MCT paper's tables are not in this suite; " +
  "supply them in paper_values.json";

/** The paper value of an MCT cell without a transcribed value. */
export const NOT_TRANSCRIBED: Readonly<PaperValue> = Object.freeze({
  mean: null,
  std: null,
  source: NOT_TRANSCRIBED_SOURCE,
});

/** True when `p` marks a value that exists in the paper but is not here. */
export function isNotTranscribed(p: PaperValue | null): boolean {
  return p !== null && p.mean === null &&
    p.source.startsWith("not transcribed");
}

const MTT_TABLE1 = "MTT (Cazenavette et al., CVPR 2022), Table 1";

function table1(
  dataset: string,
  method: "mtt" | "random" | "full",
  ipc: number,
  mean: number,
  std: number,
): [string, PaperValue] {
  const row = method === "mtt"
    ? "MTT row"
    : method === "random"
    ? "Random row"
    : "Full dataset row";
  return [
    cellKey({ dataset, method, ipc, variant: "" }),
    { mean, std, source: `${MTT_TABLE1}, ${row}` },
  ];
}

/**
 * The published values transcribed in this suite (reference.md §7): MTT
 * Table 1, ConvNet, for CIFAR-10, CIFAR-100 and Tiny ImageNet (ConvNetD4).
 * Those are best-over-checkpoint figures, as the reference code reports.
 */
export const PUBLISHED_VALUES: Readonly<PaperValues> = Object.freeze({
  source: "reference.md §7 (MTT Table 1)",
  values: Object.freeze(Object.fromEntries([
    table1("cifar10", "random", 1, 14.4, 2.0),
    table1("cifar10", "random", 10, 26.0, 1.2),
    table1("cifar10", "random", 50, 43.4, 1.0),
    table1("cifar100", "random", 1, 4.2, 0.3),
    table1("cifar100", "random", 10, 14.6, 0.5),
    table1("cifar100", "random", 50, 30.0, 0.4),
    table1("tiny", "random", 1, 1.4, 0.1),
    table1("tiny", "random", 10, 5.0, 0.2),
    table1("tiny", "random", 50, 15.0, 0.4),
    table1("cifar10", "mtt", 1, 46.3, 0.8),
    table1("cifar10", "mtt", 10, 65.3, 0.7),
    table1("cifar10", "mtt", 50, 71.6, 0.2),
    table1("cifar100", "mtt", 1, 24.3, 0.3),
    table1("cifar100", "mtt", 10, 40.1, 0.4),
    table1("cifar100", "mtt", 50, 47.7, 0.2),
    table1("tiny", "mtt", 1, 8.8, 0.3),
    table1("tiny", "mtt", 10, 23.2, 0.2),
    table1("tiny", "mtt", 50, 28.0, 0.3),
    table1("cifar10", "full", 0, 84.8, 0.1),
    table1("cifar100", "full", 0, 56.2, 0.3),
    table1("tiny", "full", 0, 37.6, 0.4),
  ])),
});

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parse a cell key (`dataset/method/ipc[/variant]`) into coordinates. */
export function parseCellKey(key: string): CellCoordinates | null {
  const m = /^([^/]+)\/([^/]+)\/(0|[1-9]\d*)(?:\/(.+))?$/.exec(key);
  if (m === null || !isRowMethod(m[2])) return null;
  return {
    dataset: m[1]!,
    method: m[2],
    ipc: Number(m[3]),
    variant: m[4] ?? "",
  };
}

/**
 * Validate the parsed JSON of a `paper_values.json` file.
 *
 * @param json the parsed file
 * @param source the file name, used in errors and recorded in the result
 * @throws {InputError} naming the file and the key at fault
 */
export function parsePaperValues(json: unknown, source: string): PaperValues {
  if (!isRecord(json)) {
    throw new InputError(source, "must be a JSON object of cell → value");
  }
  const values: Record<string, PaperValue> = {};
  for (const [key, raw] of Object.entries(json)) {
    if (key.startsWith("$")) continue;
    const at = `${source}: key ${JSON.stringify(key)}`;
    const coords = parseCellKey(key);
    if (coords === null) {
      throw new InputError(
        at,
        "must be <dataset>/<method>/<ipc>[/<variant>] with method one of " +
          "mtt, mct, random, full and an integer IPC",
      );
    }
    if (!isRecord(raw)) {
      throw new InputError(at, "value must be an object {mean, std, source}");
    }
    for (const field of Object.keys(raw)) {
      if (!["mean", "std", "source"].includes(field)) {
        throw new InputError(at, `unknown field "${field}"`);
      }
    }
    const num = (field: "mean" | "std"): number | null => {
      const v = raw[field];
      if (v === undefined || v === null) return null;
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > 100) {
        throw new InputError(
          at,
          `field "${field}" must be a percentage in [0, 100] or null, got ${
            JSON.stringify(v)
          }`,
        );
      }
      return v;
    };
    const mean = num("mean");
    const std = num("std");
    if (!("mean" in raw)) {
      throw new InputError(at, `field "mean" is required (a number or null)`);
    }
    if (typeof raw.source !== "string" || raw.source.trim() === "") {
      throw new InputError(
        at,
        `field "source" must name where the value comes from`,
      );
    }
    // Normalise so `cifar10/mct/01` and `cifar10/mct/1` cannot both appear.
    values[cellKey(coords)] = { mean, std, source: raw.source.trim() };
  }
  return { source, values };
}

/**
 * Read and validate a `paper_values.json` file.
 *
 * @throws {InputError} if the file is missing, not JSON or malformed
 */
export async function loadPaperValues(file: string): Promise<PaperValues> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new InputError(file, "paper values file not found");
    }
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(file, `not valid JSON: ${(err as Error).message}`);
  }
  return parsePaperValues(json, file);
}

/** Like {@link loadPaperValues}, but `null` when the file does not exist. */
export async function loadPaperValuesIfPresent(
  file: string,
): Promise<PaperValues | null> {
  try {
    await Deno.stat(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  return await loadPaperValues(file);
}

/**
 * The paper value to show for a cell: user-supplied, else the producer's,
 * else this suite's transcription, else "not transcribed" for MCT.
 *
 * @param cell the cell (its `paper` field is the producer's value)
 * @param user values from `paper_values.json`, if any
 */
export function resolvePaperValue(
  cell: CellSummary,
  user?: PaperValues,
): PaperValue | null {
  const key = cellKey(cell);
  const supplied = user?.values[key];
  if (supplied !== undefined) {
    return { ...supplied, source: `${supplied.source} (${user!.source})` };
  }
  if (cell.paper !== null && !isNotTranscribed(cell.paper)) return cell.paper;
  const published = PUBLISHED_VALUES.values[key];
  if (published !== undefined) return { ...published };
  if (cell.method === "mct") return { ...NOT_TRANSCRIBED };
  return cell.paper;
}

/**
 * A copy of `result` whose cells carry their resolved paper values
 * ({@link resolvePaperValue}), so CSV, JSON and report agree.
 */
export function applyPaperValues(
  result: TableResult,
  user?: PaperValues,
): TableResult {
  return {
    ...result,
    cells: result.cells.map((c) => ({
      ...c,
      paper: resolvePaperValue(c, user),
    })),
  };
}
