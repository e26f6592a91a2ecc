/**
 * The benchmark record (bench.json) and its Markdown summary (bench.md).
 *
 * Every ratio in the summary compares figures of one run, measured close in
 * time (each case runs on all configurations before the next case starts),
 * because the machine is shared and its load changes by the minute.
 *
 * @module
 */
import type { MemoryPoint } from "./cases.ts";
import type { MachineInfo, Summary } from "./measure.ts";

/** The result of one case on one configuration. */
export interface CaseResult {
  case: string;
  title: string;
  /** Configuration id, or `js` for backend-free cases. */
  config: string;
  status: "ok" | "skipped" | "error";
  /** Why it was skipped or failed. */
  reason?: string;
  warmup: number;
  iterations: number;
  /** Milliseconds per timed iteration. */
  samplesMs: number[];
  /** Order statistics of `samplesMs`. */
  ms?: Summary;
  /** Resident-set high-water mark during the case, bytes. */
  peakRssBytes?: number;
  /** Peak tensor bytes above those held before the case. */
  peakTensorBytes?: number;
  /** Process CPU seconds per wall second over the timed iterations. */
  cpuPerWall?: number;
  /** 1-minute load average before and after the case. */
  load?: [number, number];
}

/** A configuration as run, with what its backend reported. */
export interface ConfigRecord {
  id: string;
  backend: string;
  native: boolean;
  /** The backend's own description (package, SIMD, native kernel state). */
  info: unknown;
}

/** Everything one `deno task bench` run measured. */
export interface BenchRecord {
  schema: 1;
  date: string;
  machine: MachineInfo;
  tfjs: string;
  settings: { quick: boolean; filter: string[] };
  configs: ConfigRecord[];
  results: CaseResult[];
  memory: {
    setting: { ipc: number; netWidth: number; config: string };
    points: MemoryPoint[];
  } | null;
  /** Wall-clock seconds of the whole run. */
  seconds: number;
}

/** PyTorch 1.13 on this CPU (2 threads, oneDNN): seconds per batch-256 step. */
export const PYTORCH_STEP_SECONDS: readonly [number, number] = [1.0, 1.1];

const METHOD_NAMES: Record<MemoryPoint["method"], string> = {
  "mtt-tape": "MTT (tape)",
  mtt: "MTT",
  mct: "MCT",
};

const fmtMs = (ms: number): string =>
  !Number.isFinite(ms)
    ? "–"
    : ms >= 10_000
    ? `${(ms / 1000).toFixed(1)} s`
    : ms >= 1000
    ? `${(ms / 1000).toFixed(2)} s`
    : `${ms.toFixed(ms >= 100 ? 0 : 1)} ms`;

const fmtBytes = (b: number | undefined): string =>
  b === undefined || !Number.isFinite(b)
    ? "–"
    : b >= 2 ** 30
    ? `${(b / 2 ** 30).toFixed(2)} GiB`
    : `${(b / 2 ** 20).toFixed(0)} MiB`;

const fmtRatio = (r: number | undefined): string =>
  r === undefined || !Number.isFinite(r) ? "–" : `${r.toFixed(2)}×`;

/** Median of an ok result, or undefined. */
export function medianOf(
  record: Pick<BenchRecord, "results">,
  caseId: string,
  config: string,
): number | undefined {
  const r = record.results.find((x) =>
    x.case === caseId && x.config === config && x.status === "ok"
  );
  return r?.ms?.median;
}

/** Ratios the summary reports, also stored in bench.json. */
export interface Ratios {
  /** MCT time / MTT time per configuration (and case suffix, e.g. -ipc10). */
  mctOverMtt: Record<string, number>;
  /** Each configuration's median over the primary configuration's, per case. */
  vsPrimary: Record<string, Record<string, number>>;
  /** Primary Fashion-MNIST step over PyTorch's quoted range [low, high]. */
  vsPytorch?: [number, number];
  /** Median over the committed baseline's median, per case and configuration. */
  vsBaseline?: Record<string, Record<string, number>>;
  /** Peak bytes at the largest synSteps over the smallest, per method. */
  memoryGrowth?: { stepsRatio: number; byMethod: Record<string, number> };
}

/** Compute the {@link Ratios} of a record. */
export function ratios(
  record: BenchRecord,
  primary: string,
  baseline?: BenchRecord,
): Ratios {
  const out: Ratios = { mctOverMtt: {}, vsPrimary: {} };
  // Pairs mct-iteration<suffix> / mtt-iteration<suffix>, keyed by config
  // and suffix.
  for (const r of record.results) {
    if (!r.case.startsWith("mct-iteration")) continue;
    const suffix = r.case.slice("mct-iteration".length);
    const mtt = medianOf(record, `mtt-iteration${suffix}`, r.config);
    const mct = medianOf(record, r.case, r.config);
    if (mtt && mct) out.mctOverMtt[`${r.config}${suffix}`] = mct / mtt;
  }
  for (const r of record.results) {
    if (r.status !== "ok" || r.config === "js") continue;
    const base = medianOf(record, r.case, primary);
    if (!base || !r.ms) continue;
    (out.vsPrimary[r.case] ??= {})[r.config] = r.ms.median / base;
  }
  const step = medianOf(record, "train-step-fmnist", primary);
  if (step) {
    out.vsPytorch = [
      step / 1000 / PYTORCH_STEP_SECONDS[1],
      step / 1000 / PYTORCH_STEP_SECONDS[0],
    ];
  }
  if (baseline) {
    out.vsBaseline = {};
    for (const r of record.results) {
      const b = medianOf(baseline, r.case, r.config);
      if (!b || r.status !== "ok" || !r.ms) continue;
      (out.vsBaseline[r.case] ??= {})[r.config] = r.ms.median / b;
    }
  }
  const pts = record.memory?.points ?? [];
  const growth = (m: string) => {
    const p = pts.filter((x) => x.method === m).sort((a, b) =>
      a.synSteps - b.synSteps
    );
    return p.length >= 2 ? p[p.length - 1]!.peakBytes / p[0]!.peakBytes : NaN;
  };
  const steps = pts.map((p) => p.synSteps);
  if (steps.length >= 2) {
    out.memoryGrowth = {
      stepsRatio: Math.max(...steps) / Math.min(...steps),
      byMethod: Object.fromEntries(
        [...new Set(pts.map((p) => p.method))].map((m) => [m, growth(m)]),
      ),
    };
  }
  return out;
}

/** Render the Markdown summary. */
export function renderMarkdown(
  record: BenchRecord,
  r: Ratios,
  primary: string,
  hasBaseline: boolean,
): string {
  const lines: string[] = [];
  const m = record.machine;
  lines.push("# trajbench benchmarks", "");
  lines.push(
    `Run ${record.date.slice(0, 10)} on ${m.cpuModel} (${m.cpus} CPUs, ` +
      `${m.memoryGiB} GiB), ${m.os}; Deno ${m.deno}, TensorFlow.js ` +
      `${record.tfjs}. ${record.settings.quick ? "Quick run. " : ""}` +
      (record.settings.filter.length
        ? `Filter: ${record.settings.filter.join(", ")}. `
        : "") +
      `Total ${(record.seconds / 60).toFixed(1)} min.`,
    "",
  );
  lines.push("Configurations:", "");
  for (const c of record.configs) {
    const info = c.info as { package?: string; native?: { blas?: string } };
    lines.push(
      `- \`${c.id}\`: ${c.backend} backend, ` +
        (c.native
          ? `native kernels on (${info.native?.blas ?? "BLAS"})`
          : "stock TensorFlow.js kernels"),
    );
  }
  lines.push(
    "",
    "The machine is shared: `cpu/wall` is this process's CPU seconds per " +
      "wall second (2.0 = both cores), `load` the 1-minute load average " +
      "before → after. Compare figures by their ratios, all measured in this " +
      "one run; absolute times move with the load.",
    "",
    "Iterations differ by configuration (column `n`, after 1–2 warm-ups): " +
      "the stock-kernel configurations, many times slower, get fewer, and " +
      "the stock `cpu` backend runs only the small mixed product (twice, no " +
      "warm-up); skipped rows say why.",
    "",
  );

  lines.push("## Time per iteration", "");
  const header = [
    "case",
    "config",
    "median",
    "IQR",
    "min – max",
    "n",
    `vs \`${primary}\``,
    ...(hasBaseline ? ["vs baseline"] : []),
    "peak tensors",
    "peak RSS",
    "cpu/wall",
    "load",
  ];
  lines.push(`| ${header.join(" | ")} |`);
  lines.push(`|${header.map(() => "---").join("|")}|`);
  for (const x of record.results) {
    if (x.status !== "ok" || !x.ms) {
      const cells = [x.case, x.config, `${x.status}: ${x.reason ?? ""}`];
      while (cells.length < header.length) cells.push("");
      lines.push(`| ${cells.join(" | ")} |`);
      continue;
    }
    const s = x.ms;
    lines.push(
      `| ${
        [
          x.case,
          x.config,
          fmtMs(s.median),
          `${fmtMs(s.p25)} – ${fmtMs(s.p75)}`,
          `${fmtMs(s.min)} – ${fmtMs(s.max)}`,
          String(s.n),
          x.config === "js" ? "–" : fmtRatio(r.vsPrimary[x.case]?.[x.config]),
          ...(hasBaseline
            ? [fmtRatio(r.vsBaseline?.[x.case]?.[x.config])]
            : []),
          fmtBytes(x.peakTensorBytes),
          fmtBytes(x.peakRssBytes),
          x.cpuPerWall === undefined ? "–" : x.cpuPerWall.toFixed(2),
          x.load ? `${x.load[0].toFixed(1)} → ${x.load[1].toFixed(1)}` : "–",
        ].join(" | ")
      } |`,
    );
  }
  lines.push("", "Cases:", "");
  const seen = new Set<string>();
  for (const x of record.results) {
    if (seen.has(x.case)) continue;
    seen.add(x.case);
    lines.push(`- \`${x.case}\`: ${x.title}`);
  }

  lines.push("", "## Ratios", "");
  if (r.vsPytorch) {
    lines.push(
      `- Fashion-MNIST training step on \`${primary}\` against PyTorch 1.13 ` +
        `(${PYTORCH_STEP_SECONDS[0]}–${PYTORCH_STEP_SECONDS[1]} s per step ` +
        `on this CPU, quoted, not measured here): ` +
        `${r.vsPytorch[0].toFixed(2)}–${r.vsPytorch[1].toFixed(2)}× its time.`,
    );
  }
  for (const [key, v] of Object.entries(r.mctOverMtt)) {
    const [config, suffix] = key.split(/(?=-)/);
    const setting = suffix ? ` (${suffix.slice(1)})` : "";
    lines.push(
      `- MCT / MTT time per iteration${setting} on \`${config}\`: ` +
        `${v.toFixed(2)}×.`,
    );
  }
  for (const [caseId, byConfig] of Object.entries(r.vsPrimary)) {
    const others = Object.entries(byConfig).filter(([c]) => c !== primary);
    if (others.length === 0) continue;
    lines.push(
      `- \`${caseId}\`: ` +
        others.map(([c, v]) => `\`${c}\` ${fmtRatio(v)}`).join(", ") +
        ` the time of \`${primary}\`.`,
    );
  }

  if (record.memory) {
    const { setting, points } = record.memory;
    lines.push(
      "",
      "## Memory against synSteps",
      "",
      `Peak tensor bytes (tf.memory) during one gradient evaluation, IPC ` +
        `${setting.ipc} × 10 classes, width ${setting.netWidth}, 32×32×3, ` +
        `whole-set batches, DSA, on \`${setting.config}\`. Tensor bytes scale ` +
        `with the width and the number of images.`,
      "",
      "`MTT (tape)` keeps the whole unroll on one tape; `MTT` recomputes one " +
        "step's graph at a time in its backward pass (the default); `MCT` is " +
        "the per-step gradient.",
      "",
      "| method | synSteps | peak tensors | per step | time | time per step |",
      "|---|---|---|---|---|---|",
    );
    for (const p of points) {
      lines.push(
        `| ${METHOD_NAMES[p.method]} | ${p.synSteps} | ${
          fmtBytes(p.peakBytes)
        } |` +
          ` ${fmtBytes(p.peakBytes / p.synSteps)} | ${
            fmtMs(p.seconds * 1000)
          } |` +
          ` ${fmtMs((p.seconds * 1000) / p.synSteps)} |`,
      );
    }
    const at = (m: string, n: number) =>
      points.find((p) => p.method === m && p.synSteps === n);
    const steps = [...new Set(points.map((p) => p.synSteps))];
    const rows = steps.map((n) => {
      const mct = at("mct", n)?.seconds;
      const tape = at("mtt-tape", n)?.seconds;
      const mtt = at("mtt", n)?.seconds;
      return `${n} steps: MCT / MTT (tape) ${fmtRatio(mct! / tape!)}, ` +
        `MCT / MTT ${fmtRatio(mct! / mtt!)}`;
    });
    lines.push("", `Time ratios: ${rows.join("; ")}.`);
    if (r.memoryGrowth) {
      const g = r.memoryGrowth;
      lines.push(
        "",
        `From the fewest to the most steps (${g.stepsRatio}× the steps) the ` +
          `peak grew: ` +
          Object.entries(g.byMethod).map(([m, v]) =>
            `${METHOD_NAMES[m as MemoryPoint["method"]] ?? m} ${v.toFixed(2)}×`
          ).join(", ") + ".",
      );
    }
  }
  lines.push("");
  return lines.join("\n");
}
