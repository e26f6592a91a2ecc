/**
 * `deno task bench`: time the suite's hot paths on every available backend
 * configuration and write results/bench/bench.json and bench.md.
 *
 * ```sh
 * deno task bench                 # everything (~5–10 min on 2 cores)
 * deno task bench --quick         # fewer iterations, main configuration only
 * deno task bench --filter step   # cases whose id contains "step"
 * ```
 *
 * Configurations: `wasm+native` (wasm backend with the native kernels of
 * native/, when built), `wasm` (stock kernels), `cpu+native`, `cpu`. Each case
 * runs on every configuration before the next case starts, so ratios between
 * configurations are measured close in time on a machine whose load moves.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as path from "node:path";
import { Bench } from "tinybench";
import { initBackend } from "../src/backend/mod.ts";
import { tf } from "../src/backend/tf.ts";
import {
  type BenchCase,
  type BenchConfig,
  CASES,
  MEMORY_SETTING,
  memoryCurve,
  type Prepared,
  SkipCase,
} from "./cases.ts";
import {
  cpuSeconds,
  loadAverage,
  machineInfo,
  RssPeak,
  summarize,
  TensorPeak,
  withTensorPeak,
} from "./measure.ts";
import {
  type BenchRecord,
  type CaseResult,
  type ConfigRecord,
  ratios,
  renderMarkdown,
} from "./report.ts";

const USAGE = `usage: deno task bench [--quick] [--filter NAME]... [--out DIR]

  --quick        fewer iterations, the main configuration only (plus one
                 stock-kernel step for the speed-up ratio)
  --filter NAME  run only cases whose id contains NAME (repeatable;
                 "memory" selects the memory-against-synSteps curve;
                 "ipc10" the IPC 10 iterations on cpu+native, which are
                 not in the default run: ~2 minutes)
  --out DIR      output folder (default results/bench)

Cases: ${CASES.map((c) => c.id).join(", ")}, memory`;

function log(msg: string): void {
  console.error(`[bench] ${msg}`);
}

async function useConfig(c: BenchConfig): Promise<unknown> {
  return await initBackend({
    backend: c.backend,
    native: c.native ? "on" : "off",
    log: false,
  });
}

/** Which configurations exist here: native ones only when the library loads. */
async function availableConfigs(): Promise<ConfigRecord[]> {
  const out: ConfigRecord[] = [];
  for (const backend of ["wasm", "cpu"] as const) {
    const auto = await initBackend({ backend, native: "auto", log: false });
    if (auto.name !== backend) continue;
    if (auto.native?.active) {
      out.push({ id: `${backend}+native`, backend, native: true, info: auto });
    } else if (backend === "wasm") {
      log(`native kernels unavailable: ${auto.native?.reason ?? "unknown"}`);
    }
    const stock = await initBackend({ backend, native: "off", log: false });
    out.push({ id: backend, backend, native: false, info: stock });
  }
  return out;
}

/**
 * Run a group of cases on one configuration: each case's warm-up, then rounds
 * of one timed iteration per case. A group of one is a plain case.
 */
async function runGroup(
  group: readonly BenchCase[],
  config: BenchConfig,
  reportAs: string,
  quick: boolean,
): Promise<CaseResult[]> {
  const results = new Map<string, CaseResult>();
  const live: {
    bc: BenchCase;
    prepared: Prepared;
    warmup: number;
    iterations: number;
    rss: RssPeak;
    tensorPeak: number;
  }[] = [];
  for (const bc of group) {
    const base: CaseResult = {
      case: bc.id,
      title: bc.title,
      config: reportAs,
      status: "ok",
      warmup: 0,
      iterations: 0,
      samplesMs: [],
    };
    results.set(bc.id, base);
    const plan = bc.plan(config, quick);
    if ("skip" in plan) {
      results.set(bc.id, { ...base, status: "skipped", reason: plan.skip });
      continue;
    }
    await useConfig(config);
    try {
      const prepared = await bc.prepare(config);
      live.push({
        bc,
        prepared,
        warmup: plan.warmup,
        iterations: plan.iterations,
        rss: new RssPeak(),
        tensorPeak: 0,
      });
    } catch (err) {
      if (!(err instanceof SkipCase)) throw err;
      results.set(bc.id, { ...base, status: "skipped", reason: err.message });
    }
  }
  if (live.length === 0) return group.map((bc) => results.get(bc.id)!);

  const loadBefore = loadAverage();
  const samples = new Map<string, number[]>(live.map((l) => [l.bc.id, []]));
  const cpu = new Map<string, number>(live.map((l) => [l.bc.id, 0]));
  const failed = new Map<string, string>();
  const meter = new TensorPeak();
  const bench = (l: (typeof live)[number], warm: boolean) => {
    const b = new Bench({
      time: 0,
      iterations: 1,
      warmupTime: 0,
      warmupIterations: warm ? l.warmup : 0,
      throws: true,
    });
    b.add(l.bc.id, l.prepared.fn, {
      beforeEach: () => meter.start(),
      afterEach: () => {
        l.tensorPeak = Math.max(l.tensorPeak, meter.stop());
        l.rss.sample();
      },
    });
    return b;
  };
  const rounds = Math.max(...live.map((l) => l.iterations));
  try {
    for (const l of live) if (l.warmup > 0) await bench(l, true).warmup();
    for (let round = 0; round < rounds; round++) {
      for (const l of live) {
        if (round >= l.iterations || failed.has(l.bc.id)) continue;
        const b = bench(l, false);
        const c0 = cpuSeconds();
        try {
          await b.run();
        } catch (err) {
          failed.set(l.bc.id, (err as Error).message.split("\n")[0] ?? "");
          continue;
        }
        cpu.set(l.bc.id, cpu.get(l.bc.id)! + cpuSeconds() - c0);
        samples.get(l.bc.id)!.push(...(b.tasks[0]?.result?.samples ?? []));
      }
    }
  } finally {
    meter.stop();
    for (const l of live) l.prepared.teardown?.();
  }
  const load: [number, number] = [loadBefore, loadAverage()];
  for (const l of live) {
    const base = results.get(l.bc.id)!;
    const why = failed.get(l.bc.id);
    if (why !== undefined) {
      results.set(l.bc.id, { ...base, status: "error", reason: why });
      continue;
    }
    const ms = samples.get(l.bc.id)!;
    const wall = ms.reduce((a, b) => a + b, 0) / 1000;
    results.set(l.bc.id, {
      ...base,
      warmup: l.warmup,
      iterations: ms.length,
      samplesMs: ms.map((v) => Math.round(v * 100) / 100),
      ms: summarize(ms),
      peakRssBytes: l.rss.peak(),
      peakTensorBytes: l.tensorPeak,
      cpuPerWall: Math.round((cpu.get(l.bc.id)! / wall) * 100) / 100,
      load,
    });
  }
  return group.map((bc) => results.get(bc.id)!);
}

function readBaseline(file: string): BenchRecord | undefined {
  try {
    const b = JSON.parse(Deno.readTextFileSync(file)) as BenchRecord;
    return b.schema === 1 ? b : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      filter: { type: "string", multiple: true },
      out: { type: "string", default: "results/bench" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const quick = Boolean(values.quick);
  const filter = (values.filter ?? []).flatMap((f) => f.split(","))
    .map((f) => f.trim()).filter((f) => f.length > 0);
  // An opt-in case needs a filter that names it and no default case.
  const defaults = CASES.filter((c) => !c.optIn).map((c) => c.id);
  const wanted = (id: string, optIn = false) =>
    optIn
      ? filter.some((f) =>
        id.includes(f) && !defaults.some((d) => d.includes(f))
      )
      : filter.length === 0 || filter.some((f) => id.includes(f));
  const outDir = values.out!;
  const started = performance.now();

  const configs = await availableConfigs();
  const primary = configs[0]!;
  log(`configurations: ${configs.map((c) => c.id).join(", ")}`);

  // Cases in the order listed, a group where its first member is.
  const groups: BenchCase[][] = [];
  for (const bc of CASES.filter((c) => wanted(c.id, c.optIn))) {
    const g = bc.group && groups.find((x) => x[0]!.group === bc.group);
    if (g) g.push(bc);
    else groups.push([bc]);
  }
  const results: CaseResult[] = [];
  for (const group of groups) {
    const backendFree = group.every((bc) => bc.backendFree);
    for (const c of backendFree ? [primary] : configs) {
      const config: BenchConfig = {
        id: c.id,
        backend: c.backend as BenchConfig["backend"],
        native: c.native,
        primary: c === primary,
      };
      const out = await runGroup(
        group,
        config,
        backendFree ? "js" : c.id,
        quick,
      );
      for (const res of out) {
        results.push(res);
        log(
          `${res.case} [${res.config}] ` +
            (res.status === "ok"
              ? `median ${(res.ms!.median / 1000).toFixed(3)} s over ` +
                `${res.iterations}, peak tensors ` +
                `${((res.peakTensorBytes ?? 0) / 2 ** 20).toFixed(0)} MiB`
              : `${res.status}: ${res.reason}`),
        );
      }
    }
  }
  // Report each case's configurations together.
  const order = (id: string) => CASES.findIndex((c) => c.id === id);
  results.sort((x, y) => order(x.case) - order(y.case));

  let memory: BenchRecord["memory"] = null;
  if (wanted("memory")) {
    await useConfig({
      id: primary.id,
      backend: primary.backend as BenchConfig["backend"],
      native: primary.native,
    });
    log(`memory against synSteps on ${primary.id}`);
    const points = memoryCurve(withTensorPeak);
    for (const p of points) {
      log(
        `  ${p.method} synSteps ${p.synSteps}: ` +
          `${(p.peakBytes / 2 ** 20).toFixed(0)} MiB, ${
            p.seconds.toFixed(2)
          } s`,
      );
    }
    memory = {
      setting: {
        ipc: MEMORY_SETTING.ipc,
        netWidth: MEMORY_SETTING.netWidth,
        config: primary.id,
      },
      points,
    };
  }

  const record: BenchRecord = {
    schema: 1,
    date: new Date().toISOString(),
    machine: machineInfo(),
    tfjs: tf.version.tfjs,
    settings: { quick, filter },
    configs,
    results,
    memory,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  const baseline = readBaseline(path.join(outDir, "baseline.json"));
  const r = ratios(record, primary.id, baseline);
  Deno.mkdirSync(outDir, { recursive: true });
  Deno.writeTextFileSync(
    path.join(outDir, "bench.json"),
    JSON.stringify({ ...record, ratios: r }, null, 1) + "\n",
  );
  Deno.writeTextFileSync(
    path.join(outDir, "bench.md"),
    renderMarkdown(record, r, primary.id, baseline !== undefined),
  );
  log(
    `wrote ${path.join(outDir, "bench.json")} and bench.md ` +
      `(${(record.seconds / 60).toFixed(1)} min)`,
  );
}

if (import.meta.main) await main();
