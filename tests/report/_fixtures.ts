/** A small but complete TableResult shared by the report tests. */
import { summarizeCell } from "../../src/report/stats.ts";
import type {
  CellSummary,
  ConvergencePoint,
  RowMethod,
  RunRecord,
  StorageRow,
  TableResult,
} from "../../src/report/types.ts";

/** Final accuracies (fractions, 4 decimals) of each cell, by run. */
export const ACCURACIES: Record<string, number[]> = {
  "mtt/1": [0.4512, 0.4633, 0.4581],
  "mtt/10": [0.6401, 0.6522, 0.6478],
  "mtt/50": [0.7011, 0.7104, 0.7099],
  "mct/1": [0.4705, 0.4811, 0.4790],
  "mct/10": [0.6633, 0.6598],
  "mct/50": [0.7201],
  "random/1": [0.1423, 0.1512, 0.1388],
  "random/10": [0.2577, 0.2644, 0.2601],
  "random/50": [0.4310, 0.4402, 0.4388],
  "full/0": [0.8466, 0.8491],
};

/** Build the run records of {@link ACCURACIES}. */
export function sampleRuns(): RunRecord[] {
  const runs: RunRecord[] = [];
  let seed = 1000;
  // Insertion order deliberately differs from file order (random first).
  const keys = Object.keys(ACCURACIES).sort().reverse();
  for (const key of keys) {
    const [method, ipcText] = key.split("/") as [RowMethod, string];
    const ipc = Number(ipcText);
    const distilled = method === "mtt" || method === "mct";
    ACCURACIES[key]!.forEach((accuracy, run) => {
      runs.push({
        table: "cifar10",
        scale: "smoke",
        dataset: "cifar10",
        method,
        ipc,
        variant: "",
        run,
        evalSeed: seed++,
        distillSeed: distilled ? 7 : null,
        iteration: distilled ? 500 : null,
        lr: distilled ? 0.0123456789 : 0.01,
        settings: distilled
          ? {
            synSteps: 10,
            expertEpochs: 2,
            lrImg: 1000,
            lrLr: 1e-7,
            zca: true,
            ...(method === "mct" ? { waypoints: 4 } : {}),
          }
          : { zca: false },
        backend: "cpu",
        accuracy,
        seconds: 12.5 + run,
      });
    });
  }
  return runs;
}

/** Cells of {@link sampleRuns}, with best-over-checkpoints for distilled ones. */
export function sampleCells(runs = sampleRuns()): CellSummary[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const k = `${r.method}/${r.ipc}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((rs) => {
    const s = summarizeCell(rs);
    const r0 = rs[0]!;
    const distilled = r0.method === "mtt" || r0.method === "mct";
    return {
      dataset: r0.dataset,
      method: r0.method,
      ipc: r0.ipc,
      variant: r0.variant,
      ...s,
      bestOverCheckpoints: distilled
        ? { iteration: 400, mean: s.mean + 0.5 }
        : null,
      paper: null,
    };
  });
}

/** Convergence curves for MTT and MCT at IPC 1 and 10, iterations 0..500. */
export function sampleConvergence(): ConvergencePoint[] {
  const out: ConvergencePoint[] = [];
  for (const method of ["mtt", "mct"] as const) {
    for (const ipc of [1, 10]) {
      for (let it = 0; it <= 500; it += 100) {
        const base = ipc === 1 ? 30 : 50;
        const gain = (method === "mct" ? 18 : 15) * (1 - Math.exp(-it / 150));
        out.push({
          dataset: "cifar10",
          method,
          ipc,
          variant: "",
          iteration: it,
          mean: Math.round((base + gain) * 100) / 100,
          std: method === "mct" ? 0.4 : 0.9,
          n: 3,
        });
      }
    }
  }
  return out;
}

/** The published storage rows and one measured toy row. */
export function sampleStorage(): StorageRow[] {
  return [
    {
      dataset: "cifar10",
      source: "published",
      numParams: 320010,
      experts: 100,
      mttBytes: 6547733490,
      mctBytes: 532881660,
      ratio: 6547733490 / 532881660,
      note: "exps/storage_compare.py, ip=4",
    },
    {
      dataset: "cifar100",
      source: "published",
      numParams: 504420,
      experts: 100,
      mttBytes: 10309830130,
      mctBytes: 827948540,
      ratio: 10309830130 / 827948540,
      note: "exps/storage_compare.py, ip=4",
    },
    {
      dataset: "tiny",
      source: "published",
      numParams: 1938120,
      experts: 100,
      mttBytes: 39557228530,
      mctBytes: 3121862140,
      ratio: 39557228530 / 3121862140,
      note: "exps/storage_compare.py, ip=4, depth 3",
    },
    {
      dataset: "cifar10",
      source: "measured",
      numParams: 320010,
      experts: 2,
      mttBytes: 130563490,
      mctBytes: 10246522,
      ratio: 130563490 / 10246522,
      note: "this run, 2 experts, ip=4",
    },
  ];
}

/** A complete result of a smoke-scale CIFAR-10 table. */
export function sampleResult(): TableResult {
  const runs = sampleRuns();
  return {
    table: "cifar10",
    scale: "smoke",
    title: "CIFAR-10, ConvNet",
    summary:
      "MTT and MCT at IPC 1, 10 and 50 on CIFAR-10 with 2 experts of 3 " +
      "epochs, 500 distillation iterations and 3 evaluation runs per cell.",
    deviations: [
      "2 experts of 3 epochs instead of 100 of 50",
      "500 distillation iterations instead of 5000",
      "evaluation networks trained 300 epochs instead of 1000",
    ],
    runs,
    cells: sampleCells(runs),
    convergence: sampleConvergence(),
    storage: sampleStorage(),
    provenance: {
      commit: "0123456789abcdef0123456789abcdef01234567",
      dirty: true,
      command: "deno task reproduce cifar10 --scale smoke",
      deno: "2.9.6",
      tfjs: "4.22.0",
      backend: "cpu (@tensorflow/tfjs-backend-cpu 4.22.0)",
      cpu: "2 × Example CPU @ 2.0GHz",
      gpu: null,
      os: "linux x86_64",
      datasets: [
        { name: "cifar10", split: "train", sha256: "aa".repeat(32) },
        { name: "cifar10", split: "test", sha256: "bb".repeat(32) },
      ],
      trajectories: [
        {
          dir: "cache/experts/cifar10",
          kind: "sgd",
          hash: "cc".repeat(32),
          experts: 2,
        },
        {
          dir: "cache/experts/cifar10-ip4",
          kind: "convexified",
          hash: "dd".repeat(32),
          experts: 2,
        },
      ],
      config: { distill: { synSteps: 10, iterations: 500 }, evalRuns: 3 },
      stageSeconds: { experts: 812.4, distill: 3301, evaluate: 95.25 },
      started: "2026-01-02T03:04:05.000Z",
      finished: "2026-01-02T04:20:00.000Z",
    },
  };
}
