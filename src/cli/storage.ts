/**
 * `deno task storage`: bytes on disk of an SGD store and its convexified
 * store, per expert and in total, next to the reference formula and the
 * published totals.
 *
 * @module
 */
import { openConvexifiedStore } from "../trajectories/convexified_store.ts";
import { openStore } from "../trajectories/store.ts";
import {
  compareStores,
  convexifiedExpertBytes,
  PUBLISHED_STORAGE,
  referenceStorage,
  sgdExpertBytes,
} from "../trajectories/storage.ts";
import { InputError } from "../util/errors.ts";
import { formatBytes } from "./convexify.ts";
import { parseFlags, runCli } from "./common.ts";

const HELP = `deno task storage --sgd DIR --mct DIR

Measure an SGD trajectory store and its convexified store (deno task
convexify): bytes per expert and in total, the ratio, what the formula
predicts for them, and the reference formula for CIFAR-10, CIFAR-100 and
Tiny ImageNet next to the totals the MCT code measured.
`;

function row(cells: (string | number)[]): string {
  return `| ${cells.join(" | ")} |`;
}

/** The storage report as Markdown lines. */
export async function storageReport(
  sgdDir: string,
  mctDir: string,
): Promise<string[]> {
  const cmp = await compareStores(sgdDir, mctDir);
  const sgd = await openStore(sgdDir);
  const mct = await openConvexifiedStore(mctDir);
  const P = sgd.layout.size;
  const L = sgd.layout.tensors.length;
  const snapshots = sgd.header.expert.epochs + 1;
  const out = [
    `Measured (${cmp.sgd.experts.length} experts, P = ${P}, ${snapshots} snapshots, ${mct.settings.waypoints} waypoints):`,
    "",
    row(["expert", "SGD bytes", "convexified bytes", "ratio"]),
    row(["---", "---:", "---:", "---:"]),
  ];
  for (const e of cmp.sgd.experts) {
    const c = cmp.convexified.experts.find((x) => x.index === e.index);
    out.push(
      row([
        e.index,
        e.totalBytes,
        c?.totalBytes ?? "–",
        c ? (e.totalBytes / c.totalBytes).toFixed(2) : "–",
      ]),
    );
  }
  out.push(
    row([
      "**total** (with manifests)",
      `${cmp.sgd.totalBytes} (${formatBytes(cmp.sgd.totalBytes)})`,
      `${cmp.convexified.totalBytes} (${
        formatBytes(cmp.convexified.totalBytes)
      })`,
      `**${cmp.ratio.toFixed(2)}×**`,
    ]),
    row([
      "formula per expert (data only)",
      sgdExpertBytes(P, snapshots),
      convexifiedExpertBytes(P, L, {
        snapshots,
        waypoints: mct.settings.waypoints,
      }),
      (sgdExpertBytes(P, snapshots) /
        convexifiedExpertBytes(P, L, {
          snapshots,
          waypoints: mct.settings.waypoints,
        }))
        .toFixed(2),
    ]),
    "",
    "Reference formula (51 × P × 4 B against 4 waypoints × P × 4 B + β as float32) and the MCT code's measured totals, 100 experts:",
    "",
    row([
      "data set",
      "P",
      "MTT formula",
      "MCT formula",
      "ratio",
      "MTT published",
      "MCT published",
      "ratio",
    ]),
    row(["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]),
  );
  for (const p of PUBLISHED_STORAGE) {
    const f = referenceStorage(p.numParams, p.numLayers, { waypoints: 4 });
    out.push(row([
      p.dataset,
      p.numParams,
      f.mttBytesPerExpert * 100,
      f.mctBytesPerExpert * 100,
      (f.mttBytesPerExpert / f.mctBytesPerExpert).toFixed(2),
      p.mttBytes,
      p.mctBytes,
      (p.mttBytes / p.mctBytes).toFixed(2),
    ]));
  }
  return out;
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    sgd: { type: "string" },
    mct: { type: "string" },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (typeof values.sgd !== "string") {
    throw new InputError("--sgd", "is required (an SGD trajectory store)");
  }
  if (typeof values.mct !== "string") {
    throw new InputError("--mct", "is required (its convexified store)");
  }
  console.log((await storageReport(values.sgd, values.mct)).join("\n"));
  return 0;
}

if (import.meta.main) await runCli(main);
