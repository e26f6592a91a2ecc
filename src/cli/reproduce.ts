/**
 * `deno task reproduce [table] [--scale paper|quick|smoke]`.
 *
 * @module
 */
import { initBackend } from "../backend/mod.ts";
import { reproduce } from "../pipeline/reproduce.ts";
import type { TableSpec } from "../pipeline/table_spec.ts";
import type { Scale } from "../report/types.ts";
import { InputError } from "../util/errors.ts";
import { choiceFlag, parseFlags, runCli } from "./common.ts";

/** Table name → configuration module under reproduce/. */
export const TABLES: Record<string, string> = {
  "fashion-mnist": "../../reproduce/fashion_mnist.ts",
  "cifar10": "../../reproduce/cifar10.ts",
  "cifar100": "../../reproduce/cifar100.ts",
  "tiny": "../../reproduce/tiny.ts",
  "experts": "../../reproduce/experts.ts",
  "convergence": "../../reproduce/convergence.ts",
  "storage": "../../reproduce/storage.ts",
};

const HELP = `deno task reproduce [table] [flags]

Run a paper table end to end and write results/<table>/<scale>/ (runs.csv,
table.csv, report.md, charts). Finished stages are reused; a killed run
resumes.

  table             ${Object.keys(TABLES).join(", ")}
                    (default: fashion-mnist at --scale quick)
                    cifar10, cifar100, tiny: MTT vs MCT at IPC 1, 10, 50
                    experts: CIFAR-10 accuracy by number of experts
                    convergence: CIFAR-10 accuracy by distillation iteration
                    storage: bytes of MTT's and MCT's expert stores
  --scale NAME      paper (default for a named table), quick, smoke
  --yes             start even when the estimate is long or the backend slow
  --plan            print the plan and the time estimate, then stop
  --results DIR     results root (default results)
  --data-root DIR   data cache (default $TRAJBENCH_DATA or ~/.cache/trajbench/data)
  --no-download     never download; say where to place missing files
  --backend NAME    auto, tensorflow, wasm, cpu
`;

/** Load a table's configuration module. */
export async function loadTable(name: string): Promise<TableSpec> {
  const file = TABLES[name];
  if (!file) {
    throw new InputError(
      "table",
      `unknown table "${name}"; expected one of ${
        Object.keys(TABLES).join(", ")
      }`,
    );
  }
  return ((await import(file)) as { table: TableSpec }).table;
}

export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    scale: { type: "string" },
    yes: { type: "boolean", short: "y" },
    plan: { type: "boolean" },
    results: { type: "string" },
    "data-root": { type: "string" },
    "no-download": { type: "boolean" },
  }, true);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length > 1) {
    throw new InputError(
      "table",
      `expected one table name, got ${positionals.join(" ")}`,
    );
  }
  const name = positionals[0] ?? "fashion-mnist";
  const scale = choiceFlag<Scale>(
    values,
    "scale",
    ["paper", "quick", "smoke"],
    positionals[0] ? "paper" : "quick",
  );
  const spec = await loadTable(name);
  const backend = await initBackend(
    values.backend !== undefined ? { backend: String(values.backend) } : {},
  );
  if (backend.native && !backend.native.active) {
    console.error(
      `[reproduce] warning: the native kernels are off (${backend.native.reason}); training runs about 8× ` +
        "slower. Build them with `deno task native` (needs gcc, make and libopenblas-dev).",
    );
  }
  const { dir, result } = await reproduce({
    spec,
    scale,
    command: ["deno task reproduce", ...args].join(" "),
    yes: Boolean(values.yes),
    planOnly: Boolean(values.plan),
    download: !values["no-download"],
    quiet: Boolean(values.quiet),
    ...(typeof values.results === "string"
      ? { resultsRoot: values.results }
      : {}),
    ...(typeof values["data-root"] === "string"
      ? { dataRoot: values["data-root"] }
      : {}),
  });
  if (result && result.storage.length > 0) {
    console.log("data set | source | experts | MTT bytes | MCT bytes | ratio");
    for (const r of result.storage) {
      console.log(
        `${r.dataset} | ${r.source} | ${r.experts} | ${r.mttBytes} | ${r.mctBytes} | ${
          r.ratio.toFixed(2)
        }×`,
      );
    }
  }
  if (!values.plan) console.log(`results: ${dir}/report.md`);
  return 0;
}

if (import.meta.main) await runCli(main);
