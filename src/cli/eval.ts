/**
 * `deno task eval`: the papers' evaluation protocol on a distilled set, or on
 * the random-real baseline of the same size.
 *
 * @module
 */
import { initBackend } from "../backend/mod.ts";
import { EVAL_DEFAULTS } from "../eval/protocol.ts";
import { EXPERT_DEFAULTS } from "../experts/train_experts.ts";
import { loadDistilled } from "../pipeline/distilled.ts";
import {
  dataOfStore,
  distilledImages,
  ensureEvaluation,
  randomReal,
} from "../pipeline/stages.ts";
import { ci95, mean, sampleStd } from "../report/stats.ts";
import { InputError } from "../util/errors.ts";
import { numberFlag, parseFlags, runCli } from "./common.ts";
import { openStore } from "../trajectories/store.ts";

const HELP =
  `deno task eval (--distilled DIR | --random --ipc N --store DIR) [flags]

Train fresh ConvNets on an image set (SGD, lr = the learned alpha, momentum
0.9, weight decay 5e-4, batch 256, lr x0.1 after pass epochs/2+1, DSA) and
report test accuracy per run with mean, sample std and 95% CI.

  --distilled DIR    output of deno task distill
  --random           random real images instead (the papers' "Random" row)
  --ipc N            images per class for --random
  --store DIR        expert store whose data and architecture to use
                     (default for --distilled: the one it was made from)
  --lr X             learning rate for --random (default 0.01, the expert lr)
  --runs N           networks to train (default 5)
  --epochs N         epoch_eval_train (default 1000)
  --seed N           evaluation seed (default 0)
  --no-dsa           train without augmentation
`;

export async function main(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    distilled: { type: "string" },
    random: { type: "boolean" },
    ipc: { type: "string" },
    store: { type: "string" },
    lr: { type: "string" },
    runs: { type: "string" },
    epochs: { type: "string" },
    seed: { type: "string" },
    "no-dsa": { type: "boolean" },
    "data-root": { type: "string" },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const protocol = {
    runs: numberFlag(values, "runs", EVAL_DEFAULTS.runs, {
      integer: true,
      min: 1,
    }),
    epochs: numberFlag(values, "epochs", EVAL_DEFAULTS.epochs, {
      integer: true,
      min: 1,
    }),
    dsa: !values["no-dsa"],
  };
  const seed = numberFlag(values, "seed", 0, { integer: true, min: 0 });
  await initBackend(
    values.backend !== undefined ? { backend: String(values.backend) } : {},
  );
  const location = typeof values["data-root"] === "string"
    ? { root: values["data-root"] }
    : {};

  let label: string;
  let key: unknown;
  let storeDir: string;
  let lr: number;
  let setOf: (
    data: Awaited<ReturnType<typeof dataOfStore>>,
  ) => ReturnType<typeof randomReal>;
  if (typeof values.distilled === "string") {
    const d = await loadDistilled(values.distilled);
    storeDir = typeof values.store === "string"
      ? values.store
      : d.manifest.experts.dir.replace(/-mct-ip\d+(-\w+)?$/, "");
    lr = d.manifest.alpha;
    label = `${d.manifest.config.method}-ipc${d.manifest.config.ipc}`;
    key = { images: d.manifest.imagesSha256 };
    setOf = () => distilledImages(d);
  } else if (values.random) {
    if (typeof values.store !== "string") {
      throw new InputError("--store", "is required with --random");
    }
    const ipc = numberFlag(values, "ipc", 0, { integer: true, min: 1 });
    storeDir = values.store;
    lr = numberFlag(values, "lr", EXPERT_DEFAULTS.lr, { min: 0 });
    label = `random-ipc${ipc}`;
    key = { random: ipc, seed };
    setOf = (data) => randomReal(data.train, ipc, seed);
  } else {
    throw new InputError(
      "--distilled",
      "give --distilled DIR or --random --ipc N --store DIR",
    );
  }
  const store = await openStore(storeDir);
  const data = await dataOfStore(storeDir, location);
  const expert = {
    ...EXPERT_DEFAULTS,
    netWidth: store.header.model.spec.netWidth,
    netDepth: store.header.model.spec.netDepth,
  };
  const runs = await ensureEvaluation(
    { label, key },
    data,
    expert,
    setOf(data),
    lr,
    seed,
    protocol,
    (r) =>
      console.error(
        `[eval] run ${r.run}: ${(100 * r.accuracy).toFixed(2)}% (${
          r.seconds.toFixed(1)
        } s)`,
      ),
  );
  const pct = runs.map((r) => 100 * r.accuracy);
  const s = {
    n: pct.length,
    mean: mean(pct),
    std: sampleStd(pct),
    ci95: (pct.length > 1 ? ci95(pct) : [NaN, NaN]) as [number, number],
  };
  console.log(
    runs.map((r) => `run ${r.run}: ${(100 * r.accuracy).toFixed(2)}%`).join(
      "\n",
    ) +
      `\nmean ${s.mean.toFixed(2)}% std ${
        s.std.toFixed(2)
      } (n=${s.n}, sample std) 95% CI [${s.ci95[0].toFixed(2)}, ${
        s.ci95[1].toFixed(2)
      }]`,
  );
  return 0;
}

if (import.meta.main) await runCli(main);
