/**
 * The Markdown report of a result folder (`report.md`): the table in the
 * paper's layout with published values and deltas, a separate "best over
 * checkpoints (selected on test data)" table, what was run and how it
 * deviates from the paper, convergence and storage sections, provenance and
 * how to cite.
 *
 * ## Published values and `paper_values.json`
 *
 * The MCT paper's tables are not transcribed in this suite, so MCT cells show
 * "not transcribed" unless the user supplies values. Pass them as
 * {@link ReportOptions.paperValues}, loaded with `loadPaperValues` from a JSON
 * object that maps a cell key to a value, in percent:
 *
 * ```json
 * {
 *   "$comment": "keys starting with $ are ignored",
 *   "cifar10/mct/10": { "mean": 66.0, "std": 0.5, "source": "MCT Table 1" },
 *   "cifar100/mct/50/experts=10": { "mean": null, "source": "not reported" }
 * }
 * ```
 *
 * Keys are `<dataset>/<method>/<ipc>[/<variant>]` with method `mtt`, `mct`,
 * `random` or `full` (IPC 0 for the whole training set). `mean` is required
 * (a number or null), `std` is optional, `source` is required. User values
 * override both the producer's values and the MTT Table 1 values built into
 * the suite. The report repeats this format for its readers.
 *
 * @module
 */
import { fixed, formatBytes, plainNumber, signedFixed } from "./_format.ts";
import { sortCells, sortStorage } from "./csv.ts";
import { cellKey, cellLabel, compareCells, METHOD_LABELS } from "./order.ts";
import {
  applyPaperValues,
  isNotTranscribed,
  type PaperValues,
} from "./paper_values.ts";
import { type ChartFile, renderCharts } from "./svg.ts";
import type {
  CellSummary,
  ConvergencePoint,
  PaperValue,
  RowMethod,
  RunRecord,
  TableResult,
} from "./types.ts";

/** Options of {@link renderReport}. */
export interface ReportOptions {
  /** Values from `paper_values.json`; they override all other sources. */
  paperValues?: PaperValues;
  /** Charts to link, by file name. @default renderCharts(result) */
  charts?: readonly ChartFile[];
}

/** Label of the table of best-over-checkpoint figures. */
export const BEST_OVER_CHECKPOINTS_LABEL =
  "Best over checkpoints (selected on test data)";

/** What a paper cell shows when the value exists but is not transcribed. */
export const NOT_TRANSCRIBED_TEXT = "not transcribed";

/** BibTeX of the MTT paper. */
export const MTT_BIBTEX = `@inproceedings{cazenavette2022distillation,
  title     = {Dataset Distillation by Matching Training Trajectories},
  author    = {Cazenavette, George and Wang, Tongzhou and Torralba, Antonio and Efros, Alexei A. and Zhu, Jun-Yan},
  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
  year      = {2022}
}`;

/**
 * BibTeX of the MCT paper. The author list is abbreviated to the first
 * author, as this suite's sources give it; complete it from the paper.
 */
export const MCT_BIBTEX = `@inproceedings{zhong2025mct,
  title     = {Towards Stable and Storage-efficient Dataset Distillation: Matching Convexified Trajectory},
  author    = {Zhong and others},
  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
  year      = {2025},
  note      = {arXiv:2406.19827}
}`;

/** BibTeX of this suite at a given commit (see CITATION.cff). */
export function suiteBibtex(commit: string): string {
  return `@software{trajbench,
  title   = {trajbench},
  author  = {{trajbench developers}},
  version = {0.1.0},
  year    = {2026},
  license = {MIT},
  note    = {Commit ${commit}; citation metadata in CITATION.cff}
}`;
}

/** Rows of the main table: baselines, then the methods, then the full set. */
const ROW_ORDER: readonly RowMethod[] = ["random", "mtt", "mct", "full"];

function cellText(text: string): string {
  // GFM splits cells on "|" even inside code spans unless it is escaped.
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function tableLines(
  header: readonly string[],
  align: readonly ("l" | "r")[],
  rows: readonly (readonly string[])[],
): string[] {
  const sep = align.map((a) => (a === "r" ? "---:" : "---"));
  return [
    `| ${header.map(cellText).join(" | ")} |`,
    `| ${sep.join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(cellText).join(" | ")} |`),
  ];
}

/** Inline code that survives backticks in `text`. */
function code(text: string): string {
  const runs = text.match(/`+/g) ?? [];
  const fence = "`".repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A fenced block whose fence is longer than any backtick run inside. */
function fenced(lang: string, body: string): string[] {
  const runs = body.match(/`{3,}/g) ?? [];
  const fence = "`".repeat(Math.max(3, ...runs.map((r) => r.length + 1)));
  return [`${fence}${lang}`, body, fence];
}

function measured(c: CellSummary): string {
  // One run has no spread; "± 0.00" would claim a precision it lacks.
  const std = c.n >= 2 ? fixed(c.std, 2) : "–";
  return `${fixed(c.mean, 2)} ± ${std} (${c.n})`;
}

/** A published number as printed in its paper: at least one decimal. */
function paperNumber(x: number): string {
  const s = plainNumber(x);
  return s.includes(".") ? s : fixed(x, 1);
}

function paperText(p: PaperValue | null): string {
  if (p === null) return "–";
  if (p.mean === null) {
    return isNotTranscribed(p) ? NOT_TRANSCRIBED_TEXT : "n/a";
  }
  return p.std === null
    ? paperNumber(p.mean)
    : `${paperNumber(p.mean)} ± ${paperNumber(p.std)}`;
}

function deltaText(value: number, p: PaperValue | null): string {
  if (p === null || p.mean === null) return "–";
  return signedFixed(value - p.mean, 2);
}

interface RowKey {
  method: RowMethod;
  variant: string;
}

function rowKeys(cells: readonly CellSummary[]): RowKey[] {
  const seen = new Map<string, RowKey>();
  const sorted = [...cells].sort((a, b) =>
    ROW_ORDER.indexOf(a.method) - ROW_ORDER.indexOf(b.method) ||
    (a.variant < b.variant ? -1 : a.variant > b.variant ? 1 : 0)
  );
  for (const c of sorted) {
    const k = `${c.method}\u0000${c.variant}`;
    if (!seen.has(k)) seen.set(k, { method: c.method, variant: c.variant });
  }
  return [...seen.values()];
}

function rowLabel(r: RowKey): string {
  return r.variant === ""
    ? METHOD_LABELS[r.method]
    : `${METHOD_LABELS[r.method]} (${r.variant})`;
}

function ipcHeader(ipc: number): string {
  return ipc === 0 ? "All images" : `IPC ${ipc}`;
}

function datasets(items: readonly { dataset: string }[]): string[] {
  return [...new Set(items.map((i) => i.dataset))].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0
  );
}

function ipcColumns(cells: readonly CellSummary[]): number[] {
  // The whole-set column (IPC 0) goes last, as in the paper's layout.
  const ipcs = [...new Set(cells.map((c) => c.ipc))];
  return [
    ...ipcs.filter((i) => i > 0).sort((a, b) => a - b),
    ...ipcs.filter((i) => i === 0),
  ];
}

function find(
  cells: readonly CellSummary[],
  row: RowKey,
  ipc: number,
): CellSummary | undefined {
  return cells.find((c) =>
    c.method === row.method && c.variant === row.variant && c.ipc === ipc
  );
}

function mainTable(cells: readonly CellSummary[]): string[] {
  const ipcs = ipcColumns(cells);
  const header = ["Method"];
  const align: ("l" | "r")[] = ["l"];
  for (const ipc of ipcs) {
    header.push(ipcHeader(ipc), "paper", "Δ");
    align.push("r", "r", "r");
  }
  const rows = rowKeys(cells).map((row) => {
    const out = [rowLabel(row)];
    for (const ipc of ipcs) {
      const c = find(cells, row, ipc);
      if (c === undefined) out.push("–", "–", "–");
      else {out.push(
          measured(c),
          paperText(c.paper),
          deltaText(c.mean, c.paper),
        );}
    }
    return out;
  });
  return tableLines(header, align, rows);
}

function bestTable(cells: readonly CellSummary[]): string[] {
  const withBest = cells.filter((c) => c.bestOverCheckpoints !== null);
  const ipcs = ipcColumns(withBest);
  const header = ["Method"];
  const align: ("l" | "r")[] = ["l"];
  for (const ipc of ipcs) {
    header.push(`${ipcHeader(ipc)} best`, "at iteration", "paper", "Δ");
    align.push("r", "r", "r", "r");
  }
  const rows = rowKeys(withBest).map((row) => {
    const out = [rowLabel(row)];
    for (const ipc of ipcs) {
      const c = find(withBest, row, ipc);
      const b = c?.bestOverCheckpoints ?? null;
      if (c === undefined || b === null) out.push("–", "–", "–", "–");
      else {
        out.push(
          fixed(b.mean, 2),
          String(b.iteration),
          paperText(c.paper),
          deltaText(b.mean, c.paper),
        );
      }
    }
    return out;
  });
  return tableLines(header, align, rows);
}

function ciTable(cells: readonly CellSummary[]): string[] {
  const ipcs = ipcColumns(cells);
  const rows = rowKeys(cells).map((row) => [
    rowLabel(row),
    ...ipcs.map((ipc) => {
      const c = find(cells, row, ipc);
      if (c === undefined) return "–";
      if (!Number.isFinite(c.ci95[0]) || !Number.isFinite(c.ci95[1])) {
        return `undefined (n = ${c.n})`;
      }
      return `[${fixed(c.ci95[0], 2)}, ${fixed(c.ci95[1], 2)}]`;
    }),
  ]);
  return tableLines(
    ["Method", ...ipcs.map(ipcHeader)],
    ["l", ...ipcs.map(() => "r" as const)],
    rows,
  );
}

function paperSources(cells: readonly CellSummary[]): string[] {
  const bySource = new Map<string, string[]>();
  for (const c of sortCells(cells)) {
    if (c.paper === null) continue;
    const list = bySource.get(c.paper.source) ?? [];
    list.push(cellKey(c));
    bySource.set(c.paper.source, list);
  }
  return [...bySource.entries()].map(([source, keys]) =>
    `- ${source}: ${keys.map(code).join(", ")}`
  );
}

function image(charts: readonly ChartFile[], kind: string, ds: string | null) {
  const c = charts.find((c) => c.kind === kind && c.dataset === ds);
  // Relative links, so the folder can be moved or viewed on a forge.
  return c === undefined ? [] : [`![${c.title}](./${c.file})`, ""];
}

function convergenceTable(points: readonly ConvergencePoint[]): string[] {
  const series = new Map<string, ConvergencePoint[]>();
  const sorted = [...points].sort((a, b) =>
    ROW_ORDER.indexOf(a.method) - ROW_ORDER.indexOf(b.method) ||
    a.ipc - b.ipc ||
    (a.variant < b.variant ? -1 : a.variant > b.variant ? 1 : 0) ||
    a.iteration - b.iteration
  );
  for (const p of sorted) {
    const k = `${p.method}\u0000${p.ipc}\u0000${p.variant}`;
    series.set(k, [...(series.get(k) ?? []), p]);
  }
  const rows = [...series.values()].map((pts) => {
    const first = pts[0]!;
    const last = pts[pts.length - 1]!;
    let best = first;
    for (const p of pts) if (p.mean > best.mean) best = p;
    const pt = (p: ConvergencePoint) =>
      `${fixed(p.mean, 2)} ± ${fixed(p.std, 2)} @ ${p.iteration}`;
    return [
      `${rowLabel(first)} IPC ${first.ipc}`,
      String(pts.length),
      pt(first),
      pt(last),
      pt(best),
    ];
  });
  return tableLines(
    ["Series", "points", "first", "last", "highest (test data)"],
    ["l", "r", "r", "r", "r"],
    rows,
  );
}

function seedsTable(runs: readonly RunRecord[]): string[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const k = `${cellKey(r)}\u0000${r.iteration ?? ""}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const list = (xs: (number | string | null)[]) => {
    const u = [...new Set(xs.map((x) => (x === null ? "–" : String(x))))];
    return u.join(", ");
  };
  const keys = [...groups.keys()].sort((a, b) => {
    const ra = groups.get(a)![0]!;
    const rb = groups.get(b)![0]!;
    return compareCells(ra, rb) || (ra.iteration ?? -1) - (rb.iteration ?? -1);
  });
  const rows = keys.map((k) => {
    const rs = [...groups.get(k)!].sort((a, b) => a.run - b.run);
    const r0 = rs[0]!;
    return [
      cellLabel(r0),
      r0.iteration === null ? "–" : String(r0.iteration),
      list(rs.map((r) => r.distillSeed)),
      list(rs.map((r) => r.evalSeed)),
      list(rs.map((r) => plainNumber(r.lr))),
      list(rs.map((r) => r.backend)),
    ];
  });
  return tableLines(
    [
      "Cell",
      "iteration",
      "distillation seed",
      "evaluation seeds",
      "lr (α)",
      "backend",
    ],
    ["l", "r", "r", "r", "r", "l"],
    rows,
  );
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}`;
}

/**
 * Render `report.md` for a result.
 *
 * @param result the result; its cells' paper values are resolved first
 *   (`applyPaperValues`), so MCT cells without a value read "not transcribed"
 * @param options user paper values and the charts to link
 * @returns the Markdown text, ending in a newline
 */
export function renderReport(
  result: TableResult,
  options: ReportOptions = {},
): string {
  const r = applyPaperValues(result, options.paperValues);
  const charts = options.charts ?? renderCharts(r);
  const p = r.provenance;
  const out: string[] = [];
  const cells = sortCells(r.cells);

  out.push(
    `# ${r.title}: reproduction at scale "${r.scale}"`,
    "",
    `Table ${code(r.table)}, scale ${code(r.scale)}, commit ${
      code(p.commit.slice(0, 12))
    }${
      p.dirty ? " **with uncommitted changes**" : ""
    }, finished ${p.finished}.`,
    "Accuracies are test accuracies in percent.",
    "",
    "## What was run",
    "",
    r.summary.trim() === "" ? "(no summary recorded)" : r.summary.trim(),
    "",
    "### Deviations from the paper",
    "",
    ...(r.deviations.length === 0
      ? ["- None recorded."]
      : r.deviations.map((d) => `- ${d.replace(/\r?\n/g, " ")}`)),
    "",
  );

  out.push(
    "## Test accuracy",
    "",
    "Each cell is the mean ± sample standard deviation (n − 1) of the final " +
      "test accuracy over (n) evaluation runs, at the last distillation " +
      "iteration (no selection on test data). *paper* is the published " +
      "value and Δ = measured − paper, in percentage points. " +
      `"${NOT_TRANSCRIBED_TEXT}" marks a published value this suite has not ` +
      "transcribed (see *Published values* below); – marks no value.",
    "",
  );
  const dsList = datasets(cells);
  for (const ds of dsList) {
    const mine = cells.filter((c) => c.dataset === ds);
    if (dsList.length > 1) out.push(`### ${ds}`, "");
    out.push(...mainTable(mine), "");
    out.push(...image(charts, "accuracy", ds));
    out.push(
      "95% confidence interval of the mean (Student t, n − 1 degrees of " +
        "freedom):",
      "",
      ...ciTable(mine),
      "",
    );
  }
  out.push(
    "The reference code reports the population standard deviation (divide " +
      "by n), which is smaller than the sample standard deviation shown here " +
      "by a factor √((n − 1)/n). The published values of distilled images " +
      "are best over checkpoints (next section), so for MTT and MCT the Δ " +
      "above is biased downwards.",
    "",
  );

  out.push(`## ${BEST_OVER_CHECKPOINTS_LABEL}`, "");
  if (cells.some((c) => c.bestOverCheckpoints !== null)) {
    out.push(
      "**These figures are selected on test data.** For each cell, the " +
        "highest mean test accuracy over all evaluated distillation " +
        "iterations, and the iteration it was reached at. This is what the " +
        "reference code logs as `Max_Accuracy` and what the papers report; " +
        "it is optimistically biased and is kept apart from the table above.",
      "",
    );
    for (const ds of dsList) {
      const mine = cells.filter((c) => c.dataset === ds);
      if (!mine.some((c) => c.bestOverCheckpoints !== null)) continue;
      if (dsList.length > 1) out.push(`### ${ds}`, "");
      out.push(...bestTable(mine), "");
    }
  } else {
    out.push("No intermediate checkpoints were evaluated in this run.", "");
  }

  out.push(
    "## Published values",
    "",
    "Sources of the *paper* columns:",
    "",
    ...(cells.some((c) => c.paper !== null)
      ? paperSources(cells)
      : ["- none for these cells"]),
    "",
  );
  if (options.paperValues !== undefined) {
    out.push(
      `User-supplied values were read from ${
        code(options.paperValues.source)
      }.`,
      "",
    );
  }
  if (
    cells.some((c) =>
      c.dataset === "cifar10" && c.method === "mct" && c.ipc === 1 &&
      isNotTranscribed(c.paper)
    )
  ) {
    out.push(
      "The MCT code's docstring reports 48.48 ± 0.23 for CIFAR-10 IPC 1 " +
        "(an older configuration, best over checkpoints). It is not a " +
        "paper value and is not used above.",
      "",
    );
  }
  out.push(
    "To fill in values that are not transcribed, write a `paper_values.json` " +
      "file: one JSON object mapping a cell key " +
      "`<dataset>/<method>/<ipc>[/<variant>]` (method `mtt`, `mct`, " +
      "`random` or `full`; IPC 0 for the whole training set) to " +
      '`{"mean": number | null, "std": number | null, "source": ' +
      "string}` in percent. `std` is optional, `source` is required, and " +
      "keys starting with `$` are ignored. Supplied values override all " +
      "others. Example:",
    "",
    ...fenced(
      "json",
      JSON.stringify(
        {
          "$comment": "MCT paper (CVPR 2025), Table 1",
          "cifar10/mct/10": {
            mean: 66.0,
            std: 0.5,
            source: "MCT Table 1",
          },
        },
        null,
        2,
      ),
    ),
    "",
  );

  if (r.convergence.length > 0) {
    out.push(
      "## Convergence",
      "",
      "Mean test accuracy of the images at each evaluated distillation " +
        "iteration (± sample std over evaluation runs). The *highest* column " +
        "is selected on test data. All points are in `convergence.csv`.",
      "",
    );
    const cds = datasets(r.convergence);
    for (const ds of cds) {
      if (cds.length > 1) out.push(`### ${ds}`, "");
      out.push(...image(charts, "convergence", ds));
      out.push(
        ...convergenceTable(r.convergence.filter((c) => c.dataset === ds)),
        "",
      );
    }
  }

  if (r.storage.length > 0) {
    out.push(
      "## Storage of expert trajectories",
      "",
      "Bytes of the expert trajectories each method needs: MTT keeps every " +
        "epoch's snapshot, MCT keeps waypoints and per-layer β. " +
        "*measured* is this run's files on disk, *formula* the reference's " +
        "snapshot × parameter count, *published* the totals measured by the " +
        "MCT authors. 1 MiB = 2²⁰ bytes.",
      "",
    );
    out.push(...image(charts, "storage", null));
    out.push(
      ...tableLines(
        [
          "Data set",
          "source",
          "parameters",
          "experts",
          "MTT bytes",
          "MCT bytes",
          "MTT / MCT",
          "note",
        ],
        ["l", "l", "r", "r", "r", "r", "r", "l"],
        sortStorage(r.storage).map((s) => [
          s.dataset,
          s.source,
          String(s.numParams),
          String(s.experts),
          `${s.mttBytes} (${formatBytes(s.mttBytes)})`,
          `${s.mctBytes} (${formatBytes(s.mctBytes)})`,
          `${fixed(s.ratio, 2)}×`,
          s.note,
        ]),
      ),
      "",
    );
  }

  out.push(
    "## Provenance",
    "",
    ...tableLines(["", ""], ["l", "l"], [
      [
        "Commit",
        `${code(p.commit)} (${
          p.dirty ? "**dirty: uncommitted changes present**" : "clean"
        })`,
      ],
      ["Command", code(p.command)],
      ["Table / scale", `${r.table} / ${r.scale}`],
      ["Deno", p.deno],
      ["TensorFlow.js", p.tfjs],
      ["Backend", p.backend],
      ["CPU", p.cpu],
      ["GPU", p.gpu ?? "none"],
      ["OS", p.os],
      ["Started", p.started],
      ["Finished", p.finished],
      ["Evaluation runs", String(r.runs.length)],
    ]),
    "",
    "### Data sets",
    "",
    ...(p.datasets.length === 0 ? ["- none recorded", ""] : [
      ...tableLines(
        ["Data set", "split", "SHA-256"],
        ["l", "l", "l"],
        p.datasets.map((d) => [d.name, d.split, code(d.sha256)]),
      ),
      "",
    ]),
    "### Trajectory stores",
    "",
    ...(p.trajectories.length === 0 ? ["- none recorded", ""] : [
      ...tableLines(
        ["Folder", "kind", "experts", "hash"],
        ["l", "l", "r", "l"],
        p.trajectories.map((t) => [
          code(t.dir),
          t.kind,
          String(t.experts),
          code(t.hash),
        ]),
      ),
      "",
    ]),
    "### Seeds",
    "",
    ...(r.runs.length === 0 ? ["- no runs recorded"] : seedsTable(r.runs)),
    "",
    "### Wall time per stage",
    "",
  );
  const stages = Object.entries(p.stageSeconds);
  const total = stages.reduce((s, [, v]) => s + v, 0);
  out.push(
    ...tableLines(
      ["Stage", "seconds", "h:mm:ss"],
      ["l", "r", "r"],
      [
        ...stages.map(([k, v]) => [k, fixed(v, 1), duration(v)]),
        ["total", fixed(total, 1), duration(total)],
      ],
    ),
    "",
    "<details>",
    "<summary>Resolved configuration (JSON)</summary>",
    "",
    ...fenced("json", JSON.stringify(p.config ?? null, null, 2)),
    "",
    "</details>",
    "",
  );

  out.push(
    "## Files",
    "",
    "- `runs.csv`: one row per evaluation run, with seeds and settings",
    "- `table.csv`: one row per cell, with the 95% interval and paper value",
    ...(r.convergence.length > 0
      ? ["- `convergence.csv`: accuracy at each evaluated iteration"]
      : []),
    ...(r.storage.length > 0 ? ["- `storage.csv`: trajectory bytes"] : []),
    "- `result.json`: everything above, lossless",
    ...charts.map((c) => `- ${code(c.file)}: ${c.title}`),
    "",
    "## How to cite",
    "",
    "Cite the method papers for the methods, and this suite (with the " +
      "commit above) for these numbers. The suite's citation metadata is in " +
      "`CITATION.cff` at the repository root. The MCT entry's author list " +
      "is abbreviated; complete it from the paper.",
    "",
    ...fenced(
      "bibtex",
      [MTT_BIBTEX, MCT_BIBTEX, suiteBibtex(p.commit)].join("\n\n"),
    ),
    "",
  );
  return out.join("\n");
}
