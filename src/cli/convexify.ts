/**
 * `deno task convexify`: build MCT's convexified store from an SGD store, and
 * print the measured storage of both.
 *
 * @module
 */
import { convexifyStore } from "../trajectories/convexified_store.ts";
import { BETA_METHODS, type BetaMethod } from "../trajectories/convexify.ts";
import { compareStores } from "../trajectories/storage.ts";
import { InputError } from "../util/errors.ts";
import { choiceFlag, numberFlag, parseFlags, runCli } from "./common.ts";

const HELP = `deno task convexify --store DIR [flags]

Convexify every expert of an SGD trajectory store (MCT) into a new store,
then print the measured bytes on disk of both and their ratio.

  --store DIR        the SGD store (from deno task experts)
  --out DIR          the convexified store (default: DIR-mct-ip<W>[-<beta>])
  --waypoints N      MCT's num_interpolation (default 4, the released code's)
  --beta NAME        cumulative (default), uniform, decreasing, projected
                     (the ablations need --waypoints 2)
`;

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(2)} ${units[u]}`;
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    store: { type: "string" },
    out: { type: "string" },
    waypoints: { type: "string" },
    beta: { type: "string" },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (typeof values.store !== "string") {
    throw new InputError("--store", "is required (the SGD store folder)");
  }
  const waypoints = numberFlag(values, "waypoints", 4, {
    integer: true,
    min: 2,
  });
  const beta = choiceFlag<BetaMethod>(
    values,
    "beta",
    BETA_METHODS,
    "cumulative",
  );
  const out = typeof values.out === "string"
    ? values.out
    : `${values.store.replace(/\/+$/, "")}-mct-ip${waypoints}${
      beta === "cumulative" ? "" : `-${beta}`
    }`;
  await convexifyStore(values.store, out, {
    waypoints,
    beta,
    quiet: Boolean(values.quiet),
  });
  const cmp = await compareStores(values.store, out);
  console.log(
    `SGD store          ${values.store}: ${
      formatBytes(cmp.sgd.totalBytes)
    } (${cmp.sgd.totalBytes} B)\n` +
      `convexified store ${out}: ${
        formatBytes(cmp.convexified.totalBytes)
      } (${cmp.convexified.totalBytes} B)\n` +
      `measured ratio    ${cmp.ratio.toFixed(2)}x (data files only ${
        cmp.dataRatio.toFixed(2)
      }x)`,
  );
  return 0;
}

if (import.meta.main) await runCli(main);
