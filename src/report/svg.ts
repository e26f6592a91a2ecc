/**
 * Charts of a result as hand-written SVG: accuracy by IPC (grouped bars with
 * ±std error bars), convergence curves (accuracy against distillation
 * iteration with a ±std band) and storage per data set (MTT vs MCT bytes,
 * log or linear axis, ratio printed).
 *
 * Output depends only on the input: coordinates have two decimals, series
 * and colours follow a fixed order, and there are no timestamps or random
 * ids, so charts diff as cleanly as the CSV files.
 *
 * Every mark has a class (`bar`, `errorbar`, `paper-marker`, `line`, `band`,
 * `reference-line`) so tests and style sheets can find it.
 *
 * @module
 */
import { escapeXml, fixed, formatBytes } from "./_format.ts";
import { sortStorage } from "./csv.ts";
import { compareCells, METHOD_LABELS } from "./order.ts";
import type {
  CellSummary,
  ConvergencePoint,
  RowMethod,
  StorageRow,
  TableResult,
} from "./types.ts";

const WIDTH = 760;
const HEIGHT = 440;
const PLOT = { left: 72, top: 64, right: WIDTH - 196, bottom: HEIGHT - 58 };
const LEGEND_X = WIDTH - 184;

/** Colour of each method; variants of a method take the next entries. */
const METHOD_COLORS: Readonly<Record<RowMethod, string>> = {
  mtt: "#1f77b4",
  mct: "#d62728",
  random: "#7f7f7f",
  full: "#2ca02c",
};
const VARIANT_COLORS = [
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#bcbd22",
];
const DASHES = ["", "7 4", "2 3", "10 3 2 3", "4 4"];

const c2 = (x: number): string => fixed(x, 2);

function header(title: string, description: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" ` +
    `height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
    `font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="12" ` +
    `role="img" aria-labelledby="chart-title chart-desc">`,
    `<title id="chart-title">${escapeXml(title)}</title>`,
    `<desc id="chart-desc">${escapeXml(description)}</desc>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" ` +
    `font-weight="bold">${escapeXml(title)}</text>`,
  ];
}

function subtitle(text: string): string {
  return `<text x="${WIDTH / 2}" y="44" text-anchor="middle" ` +
    `font-size="11" fill="#444444">${escapeXml(text)}</text>`;
}

/** Round `x` up to 1, 2, 2.5 or 5 times a power of ten. */
function niceStep(rough: number): number {
  if (!(rough > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(rough)));
  const f = rough / p;
  const m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return m * p;
}

interface Axis {
  min: number;
  max: number;
  ticks: number[];
  step: number;
}

/** A linear axis covering [lo, hi] with about `count` round ticks. */
function linearAxis(lo: number, hi: number, count = 5): Axis {
  if (!(hi > lo)) hi = lo + 1;
  const step = niceStep((hi - lo) / count);
  const min = Math.floor(lo / step + 1e-9) * step;
  const max = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; min + i * step <= max + step * 1e-9; i++) {
    ticks.push(Number((min + i * step).toPrecision(12)));
  }
  return { min, max, ticks, step };
}

function decimalsFor(step: number): number {
  return Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
}

function yAxis(
  ticks: number[],
  y: (v: number) => number,
  label: (v: number) => string,
  title: string,
): string[] {
  const out: string[] = [`<g class="y-axis">`];
  for (const t of ticks) {
    const yy = c2(y(t));
    out.push(
      `<line x1="${PLOT.left}" y1="${yy}" x2="${PLOT.right}" y2="${yy}" ` +
        `stroke="#e0e0e0" stroke-width="1"/>`,
      `<text x="${PLOT.left - 6}" y="${yy}" text-anchor="end" ` +
        `dominant-baseline="middle">${escapeXml(label(t))}</text>`,
    );
  }
  const mid = c2((PLOT.top + PLOT.bottom) / 2);
  out.push(
    `<line x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.left}" ` +
      `y2="${PLOT.bottom}" stroke="#333333" stroke-width="1"/>`,
    `<text x="18" y="${mid}" text-anchor="middle" ` +
      `transform="rotate(-90 18 ${mid})">${escapeXml(title)}</text>`,
    `</g>`,
  );
  return out;
}

function xAxisLine(title: string): string[] {
  return [
    `<line x1="${PLOT.left}" y1="${PLOT.bottom}" x2="${PLOT.right}" ` +
    `y2="${PLOT.bottom}" stroke="#333333" stroke-width="1"/>`,
    `<text x="${c2((PLOT.left + PLOT.right) / 2)}" y="${HEIGHT - 14}" ` +
    `text-anchor="middle">${escapeXml(title)}</text>`,
  ];
}

type LegendMark =
  | { kind: "box"; color: string }
  | { kind: "line"; color: string; dash: string }
  | { kind: "diamond" }
  | { kind: "dashed-line"; color: string };

function legend(entries: { label: string; mark: LegendMark }[]): string[] {
  const out: string[] = [`<g class="legend">`];
  entries.forEach((e, i) => {
    const y = PLOT.top + 6 + i * 20;
    const x = LEGEND_X;
    const m = e.mark;
    if (m.kind === "box") {
      out.push(
        `<rect x="${x}" y="${
          y - 6
        }" width="14" height="12" fill="${m.color}"/>`,
      );
    } else if (m.kind === "diamond") {
      out.push(
        `<path d="M ${x + 7} ${y - 5} L ${x + 12} ${y} L ${x + 7} ${y + 5} ` +
          `L ${x + 2} ${y} Z" fill="#ffffff" stroke="#000000" ` +
          `stroke-width="1.5"/>`,
      );
    } else {
      const dash = m.kind === "dashed-line"
        ? ` stroke-dasharray="6 4"`
        : m.dash === ""
        ? ""
        : ` stroke-dasharray="${m.dash}"`;
      out.push(
        `<line x1="${x}" y1="${y}" x2="${x + 22}" y2="${y}" ` +
          `stroke="${m.color}" stroke-width="2.5"${dash}/>`,
      );
    }
    out.push(
      `<text x="${x + 28}" y="${y}" dominant-baseline="middle">${
        escapeXml(e.label)
      }</text>`,
    );
  });
  out.push(`</g>`);
  return out;
}

/** A bar or line series: one method (and variant) of one table. */
interface SeriesKey {
  method: RowMethod;
  variant: string;
}

function seriesLabel(s: SeriesKey): string {
  return s.variant === ""
    ? METHOD_LABELS[s.method]
    : `${METHOD_LABELS[s.method]} (${s.variant})`;
}

/** Colours by method; variants get distinct extra colours. */
function seriesColors(series: SeriesKey[]): string[] {
  let extra = 0;
  return series.map((s) =>
    s.variant === ""
      ? METHOD_COLORS[s.method]
      : VARIANT_COLORS[extra++ % VARIANT_COLORS.length]!
  );
}

function uniqueSeries<T extends SeriesKey & { dataset: string; ipc: number }>(
  items: readonly T[],
): SeriesKey[] {
  const seen = new Map<string, SeriesKey>();
  for (
    const it of [...items].sort((a, b) =>
      compareCells({ ...a, ipc: 0 }, { ...b, ipc: 0 })
    )
  ) {
    const k = `${it.method}\u0000${it.variant}`;
    if (!seen.has(k)) seen.set(k, { method: it.method, variant: it.variant });
  }
  return [...seen.values()];
}

function finish(out: string[]): string {
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

/** Options of {@link accuracyChart}. */
export interface AccuracyChartOptions {
  /** Chart title. @default "Test accuracy by IPC: <dataset>" */
  title?: string;
}

/**
 * Grouped bars of final test accuracy: one group per IPC, one bar per method
 * (and variant), whiskers at ±1 sample std (runs ≥ 2), a diamond at the
 * published mean where one is known, and the full-data-set accuracy as a
 * dashed reference line.
 *
 * @param cells cells of the table (other data sets are ignored)
 * @param dataset the data set to draw
 * @returns the SVG document text
 */
export function accuracyChart(
  cells: readonly CellSummary[],
  dataset: string,
  options: AccuracyChartOptions = {},
): string {
  const title = options.title ?? `Test accuracy by IPC: ${dataset}`;
  const mine = cells.filter((c) => c.dataset === dataset);
  const bars = mine.filter((c) => c.method !== "full" && c.ipc > 0);
  const full = mine.filter((c) => c.method === "full");
  const groups = [...new Set(bars.map((c) => c.ipc))].sort((a, b) => a - b);
  const series = uniqueSeries(bars);
  const colors = seriesColors(series);

  let top = 0;
  for (const c of mine) {
    top = Math.max(top, c.mean + c.std, c.paper?.mean ?? 0);
  }
  const axis = linearAxis(0, Math.min(100, Math.max(top * 1.08, 1)));
  const y = (v: number) =>
    PLOT.bottom - (v - axis.min) / (axis.max - axis.min) *
      (PLOT.bottom - PLOT.top);
  const decimals = decimalsFor(axis.step);

  const out = header(
    title,
    `Grouped bars: mean final test accuracy (%) per method at each IPC, ` +
      `whiskers ±1 sample standard deviation over evaluation runs.`,
  );
  out.push(
    subtitle(
      "bars: mean of final accuracies · whiskers: ±1 sample std · " +
        "diamonds: published mean",
    ),
  );
  out.push(
    ...yAxis(
      axis.ticks,
      y,
      (v) => fixed(v, decimals),
      "Test accuracy (%)",
    ),
  );

  const groupWidth = (PLOT.right - PLOT.left) / Math.max(1, groups.length);
  const barWidth = groupWidth * 0.8 / Math.max(1, series.length);
  let anyPaper = false;
  out.push(`<g class="bars">`);
  groups.forEach((ipc, gi) => {
    const gx = PLOT.left + gi * groupWidth + groupWidth * 0.1;
    out.push(
      `<text x="${c2(PLOT.left + (gi + 0.5) * groupWidth)}" ` +
        `y="${PLOT.bottom + 18}" text-anchor="middle">${ipc}</text>`,
    );
    series.forEach((s, si) => {
      const cell = bars.find((c) =>
        c.ipc === ipc && c.method === s.method && c.variant === s.variant
      );
      if (cell === undefined) return;
      const x = gx + si * barWidth;
      const cx = x + barWidth / 2;
      const yTop = y(cell.mean);
      const label = `${seriesLabel(s)}, IPC ${ipc}: ${fixed(cell.mean, 2)} ± ` +
        `${fixed(cell.std, 2)} (n=${cell.n})`;
      out.push(
        `<rect class="bar" x="${c2(x + 1)}" y="${c2(yTop)}" ` +
          `width="${c2(barWidth - 2)}" height="${c2(PLOT.bottom - yTop)}" ` +
          `fill="${colors[si]}"><title>${escapeXml(label)}</title></rect>`,
      );
      let labelY = yTop;
      if (cell.n >= 2 && cell.std > 0) {
        const y0 = y(Math.max(axis.min, cell.mean - cell.std));
        const y1 = y(Math.min(axis.max, cell.mean + cell.std));
        const cap = Math.min(6, barWidth / 4);
        out.push(
          `<path class="errorbar" d="M ${c2(cx)} ${c2(y0)} L ${c2(cx)} ` +
            `${c2(y1)} M ${c2(cx - cap)} ${c2(y0)} L ${c2(cx + cap)} ` +
            `${c2(y0)} M ${c2(cx - cap)} ${c2(y1)} L ${c2(cx + cap)} ` +
            `${c2(y1)}" stroke="#000000" stroke-width="1.2" fill="none"/>`,
        );
        labelY = y1;
      }
      if (cell.paper !== null && cell.paper.mean !== null) {
        anyPaper = true;
        const py = y(cell.paper.mean);
        out.push(
          `<path class="paper-marker" d="M ${c2(cx)} ${c2(py - 5)} L ` +
            `${c2(cx + 5)} ${c2(py)} L ${c2(cx)} ${c2(py + 5)} L ` +
            `${c2(cx - 5)} ${c2(py)} Z" fill="#ffffff" stroke="#000000" ` +
            `stroke-width="1.5"><title>${
              escapeXml(`published: ${fixed(cell.paper.mean, 2)}`)
            }</title></path>`,
        );
        labelY = Math.min(labelY, py - 5);
      }
      out.push(
        `<text x="${c2(cx)}" y="${c2(labelY - 4)}" text-anchor="middle" ` +
          `font-size="10">${fixed(cell.mean, 1)}</text>`,
      );
    });
  });
  out.push(`</g>`);

  for (const f of full) {
    const fy = c2(y(f.mean));
    const label = `Full dataset${f.variant === "" ? "" : ` (${f.variant})`}: ${
      fixed(f.mean, 2)
    }`;
    out.push(
      `<line class="reference-line" x1="${PLOT.left}" y1="${fy}" ` +
        `x2="${PLOT.right}" y2="${fy}" stroke="${METHOD_COLORS.full}" ` +
        `stroke-width="1.5" stroke-dasharray="6 4"/>`,
      `<text x="${PLOT.right - 4}" y="${c2(y(f.mean) - 5)}" ` +
        `text-anchor="end" font-size="10" fill="${METHOD_COLORS.full}">${
          escapeXml(label)
        }</text>`,
    );
  }
  out.push(...xAxisLine("Images per class (IPC)"));
  const entries: { label: string; mark: LegendMark }[] = series.map((s, i) => ({
    label: seriesLabel(s),
    mark: { kind: "box", color: colors[i]! },
  }));
  if (full.length > 0) {
    entries.push({
      label: "Full dataset",
      mark: { kind: "dashed-line", color: METHOD_COLORS.full },
    });
  }
  if (anyPaper) entries.push({ label: "published", mark: { kind: "diamond" } });
  out.push(...legend(entries));
  return finish(out);
}

/** Options of {@link convergenceChart}. */
export interface ConvergenceChartOptions {
  /** Chart title. @default "Convergence: <dataset>" */
  title?: string;
}

/**
 * Test accuracy against distillation iteration: one line per method, IPC and
 * variant, with a shaded ±1 std band where points have at least two runs.
 * Colour encodes the method, dash pattern the IPC.
 *
 * @param points convergence points (other data sets are ignored)
 * @param dataset the data set to draw
 * @returns the SVG document text
 */
export function convergenceChart(
  points: readonly ConvergencePoint[],
  dataset: string,
  options: ConvergenceChartOptions = {},
): string {
  const title = options.title ?? `Convergence: ${dataset}`;
  const mine = points.filter((p) => p.dataset === dataset);
  const keyOf = (p: ConvergencePoint) =>
    `${p.method}\u0000${p.ipc}\u0000${p.variant}`;
  const byKey = new Map<string, ConvergencePoint[]>();
  for (
    const p of [...mine].sort((a, b) =>
      compareCells(a, b) || a.iteration - b.iteration
    )
  ) {
    const list = byKey.get(keyOf(p)) ?? [];
    list.push(p);
    byKey.set(keyOf(p), list);
  }
  const lines = [...byKey.values()];
  const methodSeries = uniqueSeries(mine);
  const colors = seriesColors(methodSeries);
  const colorOf = (p: ConvergencePoint) =>
    colors[
      methodSeries.findIndex((s) =>
        s.method === p.method && s.variant === p.variant
      )
    ]!;
  const ipcs = [...new Set(mine.map((p) => p.ipc))].sort((a, b) => a - b);
  const dashOf = (ipc: number) => DASHES[ipcs.indexOf(ipc) % DASHES.length]!;

  let lo = Infinity;
  let hi = -Infinity;
  let maxIt = 0;
  for (const p of mine) {
    lo = Math.min(lo, p.mean - (p.n >= 2 ? p.std : 0));
    hi = Math.max(hi, p.mean + (p.n >= 2 ? p.std : 0));
    maxIt = Math.max(maxIt, p.iteration);
  }
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 100;
  }
  const ya = linearAxis(Math.max(0, lo - 1), Math.min(100, hi + 1));
  const xa = linearAxis(0, Math.max(maxIt, 1), 6);
  const x = (v: number) =>
    PLOT.left + (v - xa.min) / (xa.max - xa.min) * (PLOT.right - PLOT.left);
  const y = (v: number) =>
    PLOT.bottom - (v - ya.min) / (ya.max - ya.min) * (PLOT.bottom - PLOT.top);

  const out = header(
    title,
    `Lines: mean test accuracy (%) of the distilled images against ` +
      `distillation iteration; shaded bands ±1 sample std over runs.`,
  );
  out.push(subtitle("lines: mean over evaluation runs · bands: ±1 sample std"));
  out.push(
    ...yAxis(
      ya.ticks,
      y,
      (v) => fixed(v, decimalsFor(ya.step)),
      "Test accuracy (%)",
    ),
  );
  out.push(`<g class="x-axis">`);
  for (const t of xa.ticks) {
    out.push(
      `<text x="${c2(x(t))}" y="${PLOT.bottom + 18}" text-anchor="middle">${
        fixed(t, decimalsFor(xa.step))
      }</text>`,
    );
  }
  out.push(`</g>`);

  out.push(`<g class="series">`);
  const entries: { label: string; mark: LegendMark }[] = [];
  for (const pts of lines) {
    const first = pts[0]!;
    const color = colorOf(first);
    const dash = dashOf(first.ipc);
    const label = `${seriesLabel(first)} IPC ${first.ipc}`;
    if (pts.some((p) => p.n >= 2)) {
      const upper = pts.map((p) =>
        `${c2(x(p.iteration))} ${c2(y(Math.min(ya.max, p.mean + p.std)))}`
      );
      const lower = pts.map((p) =>
        `${c2(x(p.iteration))} ${c2(y(Math.max(ya.min, p.mean - p.std)))}`
      ).reverse();
      out.push(
        `<path class="band" d="M ${upper.join(" L ")} L ${
          lower.join(" L ")
        } Z" fill="${color}" fill-opacity="0.15" stroke="none"/>`,
      );
    }
    const d = pts.map((p, i) =>
      `${i === 0 ? "M" : "L"} ${c2(x(p.iteration))} ${c2(y(p.mean))}`
    ).join(" ");
    out.push(
      `<path class="line" d="${d}" fill="none" stroke="${color}" ` +
        `stroke-width="2"${
          dash === "" ? "" : ` stroke-dasharray="${dash}"`
        }><title>${escapeXml(label)}</title></path>`,
    );
    if (pts.length <= 25) {
      for (const p of pts) {
        out.push(
          `<circle cx="${c2(x(p.iteration))}" cy="${c2(y(p.mean))}" r="2.5" ` +
            `fill="${color}"/>`,
        );
      }
    }
    entries.push({ label, mark: { kind: "line", color, dash } });
  }
  out.push(`</g>`);
  out.push(...xAxisLine("Distillation iteration"));
  out.push(...legend(entries));
  return finish(out);
}

/** Options of {@link storageChart}. */
export interface StorageChartOptions {
  /** Chart title. @default "Expert trajectory storage: MTT vs MCT" */
  title?: string;
  /** Logarithmic byte axis, which keeps both bars readable. @default true */
  log?: boolean;
}

// Round values in binary units: 1, 10, 100 B/KiB/MiB/GiB/TiB.
function logTicks(lo: number, hi: number): number[] {
  const candidates: number[] = [];
  for (let u = 0; u <= 4; u++) {
    for (const m of [1, 10, 100]) candidates.push(m * Math.pow(1024, u));
  }
  const below = candidates.filter((c) => c <= lo);
  const above = candidates.filter((c) => c >= hi);
  const min = below.length > 0 ? below[below.length - 1]! : candidates[0]!;
  const max = above.length > 0 ? above[0]! : candidates[candidates.length - 1]!;
  return candidates.filter((c) => c >= min && c <= max);
}

function bytesTick(v: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number(v.toPrecision(6))} ${units[u]}`;
}

/**
 * Bars of trajectory storage per data set: MTT and MCT bytes side by side,
 * with the MTT/MCT ratio printed above each pair.
 *
 * @param rows storage rows (one pair of bars each)
 * @returns the SVG document text
 */
export function storageChart(
  rows: readonly StorageRow[],
  options: StorageChartOptions = {},
): string {
  const log = options.log ?? true;
  const title = options.title ?? "Expert trajectory storage: MTT vs MCT";
  const sorted = sortStorage(rows);
  const sourcesPerDataset = new Map<string, Set<string>>();
  for (const r of sorted) {
    const s = sourcesPerDataset.get(r.dataset) ?? new Set<string>();
    s.add(r.source);
    sourcesPerDataset.set(r.dataset, s);
  }
  const labelOf = (r: StorageRow) =>
    (sourcesPerDataset.get(r.dataset)?.size ?? 0) > 1
      ? `${r.dataset} (${r.source})`
      : r.dataset;

  const values = sorted.flatMap((r) => [r.mttBytes, r.mctBytes]).filter((
    v,
  ) => v > 0);
  const vmin = values.length > 0 ? Math.min(...values) : 1;
  const vmax = values.length > 0 ? Math.max(...values) : 1024;
  let y: (v: number) => number;
  let ticks: number[];
  if (log) {
    ticks = logTicks(vmin, vmax);
    const l0 = Math.log(ticks[0]!);
    const l1 = Math.log(ticks[ticks.length - 1]!);
    y = (v) =>
      PLOT.bottom -
      (Math.log(Math.max(v, ticks[0]!)) - l0) / (l1 - l0 || 1) *
        (PLOT.bottom - PLOT.top);
  } else {
    let unit = 1;
    while (vmax / unit >= 1024 && unit < Math.pow(1024, 4)) unit *= 1024;
    const axis = linearAxis(0, vmax / unit);
    ticks = axis.ticks.map((t) => t * unit);
    y = (v) => PLOT.bottom - v / (axis.max * unit) * (PLOT.bottom - PLOT.top);
  }
  const floor = log ? ticks[0]! : 0;

  const out = header(
    title,
    `Bars: bytes of expert trajectories per data set, MTT (all snapshots) ` +
      `and MCT (waypoints and beta), ${log ? "logarithmic" : "linear"} axis.`,
  );
  out.push(
    subtitle(
      `${log ? "logarithmic" : "linear"} axis · ` +
        "bold number above each pair: MTT bytes ÷ MCT bytes",
    ),
  );
  out.push(...yAxis(ticks, y, bytesTick, "Bytes"));

  const groupWidth = (PLOT.right - PLOT.left) / Math.max(1, sorted.length);
  const barWidth = groupWidth * 0.7 / 2;
  out.push(`<g class="bars">`);
  sorted.forEach((r, gi) => {
    const gx = PLOT.left + gi * groupWidth + groupWidth * 0.15;
    const pair: [string, number, string][] = [
      ["MTT", r.mttBytes, METHOD_COLORS.mtt],
      ["MCT", r.mctBytes, METHOD_COLORS.mct],
    ];
    const tops = pair.map(([, bytes]) => y(Math.max(bytes, floor)));
    // Labels wider than their bars would collide at similar heights: stack.
    const stacked = Math.abs(tops[0]! - tops[1]!) < 14;
    const highest = Math.min(...tops);
    pair.forEach(([name, bytes, color], bi) => {
      const x = gx + bi * barWidth;
      const yTop = tops[bi]!;
      const labelY = stacked ? highest - 4 - (1 - bi) * 13 : yTop - 4;
      out.push(
        `<rect class="bar" x="${c2(x + 1)}" y="${c2(yTop)}" ` +
          `width="${c2(barWidth - 2)}" height="${c2(PLOT.bottom - yTop)}" ` +
          `fill="${color}"><title>${
            escapeXml(`${labelOf(r)} ${name}: ${bytes} bytes`)
          }</title></rect>`,
        `<text x="${c2(x + barWidth / 2)}" y="${c2(labelY)}" ` +
          `text-anchor="middle" font-size="10">${
            escapeXml(formatBytes(bytes))
          }</text>`,
      );
    });
    const topY = highest - (stacked ? 13 : 0);
    out.push(
      `<text class="ratio" x="${c2(gx + barWidth)}" y="${c2(topY - 18)}" ` +
        `text-anchor="middle" font-weight="bold">${fixed(r.ratio, 2)}×</text>`,
      `<text x="${c2(gx + barWidth)}" y="${PLOT.bottom + 18}" ` +
        `text-anchor="middle">${escapeXml(labelOf(r))}</text>`,
    );
  });
  out.push(`</g>`);
  out.push(...xAxisLine("Data set"));
  out.push(
    ...legend([
      { label: "MTT (SGD snapshots)", mark: { kind: "box", color: "#1f77b4" } },
      { label: "MCT (convexified)", mark: { kind: "box", color: "#d62728" } },
    ]),
  );
  return finish(out);
}

/** One chart of a result folder. */
export interface ChartFile {
  /** File name inside the result folder, e.g. `accuracy-cifar10.svg`. */
  file: string;
  kind: "accuracy" | "convergence" | "storage";
  /** The data set drawn; null for the storage chart, which has all. */
  dataset: string | null;
  /** Short description used as the image's alt text. */
  title: string;
  /** SVG document text. */
  svg: string;
}

/** A data set name made safe for a file name. */
export function fileSlug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9._-]+/g, "_");
}

/**
 * Every chart of a result: accuracy by IPC and convergence for each data set
 * that has them, and the storage chart when there are storage rows.
 */
export function renderCharts(result: TableResult): ChartFile[] {
  const out: ChartFile[] = [];
  const slugs = new Map<string, string>();
  // Two names that clean to the same slug must not overwrite each other.
  const slug = (ds: string): string => {
    let name = slugs.get(ds);
    if (name === undefined) {
      const base = fileSlug(ds);
      const taken = new Set(slugs.values());
      name = base;
      for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
      slugs.set(ds, name);
    }
    return name;
  };
  const datasets = (items: readonly { dataset: string }[]) =>
    [...new Set(items.map((i) => i.dataset))].sort((a, b) =>
      a < b ? -1 : a > b ? 1 : 0
    );
  for (const ds of datasets(result.cells)) {
    const title = `Test accuracy by IPC: ${ds} (scale ${result.scale})`;
    out.push({
      file: `accuracy-${slug(ds)}.svg`,
      kind: "accuracy",
      dataset: ds,
      title,
      svg: accuracyChart(result.cells, ds, { title }),
    });
  }
  for (const ds of datasets(result.convergence)) {
    const title = `Convergence: ${ds} (scale ${result.scale})`;
    out.push({
      file: `convergence-${slug(ds)}.svg`,
      kind: "convergence",
      dataset: ds,
      title,
      svg: convergenceChart(result.convergence, ds, { title }),
    });
  }
  if (result.storage.length > 0) {
    const title = "Expert trajectory storage: MTT vs MCT";
    out.push({
      file: "storage.svg",
      kind: "storage",
      dataset: null,
      title,
      svg: storageChart(result.storage, { title }),
    });
  }
  return out;
}
