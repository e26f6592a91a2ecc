/**
 * `deno task distill`: distil a synthetic set with MTT or MCT from an expert
 * store.
 *
 * @module
 */
import { initBackend } from "../backend/mod.ts";
import {
  DISTILL_DEFAULTS,
  type DistillConfig,
  distillConfig,
  type Method,
} from "../distill/config.ts";
import { MIN_EXPERT_ACCURACY } from "../experts/accuracy.ts";
import {
  dataOfStore,
  ensureConvexified,
  ensureDistilled,
} from "../pipeline/stages.ts";
import { InputError } from "../util/errors.ts";
import { choiceFlag, numberFlag, parseFlags, runCli } from "./common.ts";

const HELP = `deno task distill --method mtt|mct --store DIR [flags]

Distil a synthetic set by matching expert trajectories. The data set and its
preprocessing are read from the store. Checkpoints every --checkpoint-every
iterations; rerunning the same command resumes.

  --method mtt|mct          preset of the three method choices below
  --store DIR               SGD expert store (deno task experts)
  --mct-store DIR           convexified store (default: made from --store with
                            --waypoints, as deno task convexify does)
  --waypoints N             for the convexified store (default 4)
  --trajectory sgd|convexified   override the method's trajectory
  --start integer|continuous     override the start-point sampling
  --gradient unrolled|per-step   override the gradient
  --ipc N --syn-steps N --expert-epochs M --max-start-epoch T --batch-syn N
  --lr-img X --lr-lr X --alpha-init X --iterations N --seed N --max-experts N
  --init real|noise  --no-dsa
  --min-expert-accuracy X   refuse experts below this test accuracy (fraction;
                            default per data set)
  --out DIR                 output folder (default: work/distill/<…>-<hash>)
  --checkpoint-every N --log-every N --backend NAME
`;

export async function main(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    method: { type: "string" },
    store: { type: "string" },
    "mct-store": { type: "string" },
    waypoints: { type: "string" },
    trajectory: { type: "string" },
    start: { type: "string" },
    gradient: { type: "string" },
    ipc: { type: "string" },
    "syn-steps": { type: "string" },
    "expert-epochs": { type: "string" },
    "max-start-epoch": { type: "string" },
    "batch-syn": { type: "string" },
    "lr-img": { type: "string" },
    "lr-lr": { type: "string" },
    "alpha-init": { type: "string" },
    iterations: { type: "string" },
    seed: { type: "string" },
    "max-experts": { type: "string" },
    init: { type: "string" },
    "no-dsa": { type: "boolean" },
    "min-expert-accuracy": { type: "string" },
    out: { type: "string" },
    "checkpoint-every": { type: "string" },
    "log-every": { type: "string" },
    "data-root": { type: "string" },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.method === undefined) {
    throw new InputError("--method", "is required: mtt or mct");
  }
  const method = choiceFlag<Method>(values, "method", ["mtt", "mct"], "mtt");
  if (typeof values.store !== "string") {
    throw new InputError("--store", "is required (an SGD expert store)");
  }
  const base = distillConfig(method);
  const d = DISTILL_DEFAULTS;
  const overrides: Partial<DistillConfig> = {
    trajectory: choiceFlag(
      values,
      "trajectory",
      ["sgd", "convexified"] as const,
      base.trajectory,
    ),
    startSampling: choiceFlag(
      values,
      "start",
      ["integer", "continuous"] as const,
      base.startSampling,
    ),
    gradient: choiceFlag(
      values,
      "gradient",
      ["unrolled", "per-step"] as const,
      base.gradient,
    ),
    ipc: numberFlag(values, "ipc", d.ipc, { integer: true, min: 1 }),
    synSteps: numberFlag(values, "syn-steps", d.synSteps, {
      integer: true,
      min: 1,
    }),
    expertEpochs: numberFlag(values, "expert-epochs", d.expertEpochs, {
      min: 0,
    }),
    maxStartEpoch: numberFlag(values, "max-start-epoch", d.maxStartEpoch, {
      min: 0,
    }),
    batchSyn: numberFlag(values, "batch-syn", d.batchSyn, {
      integer: true,
      min: 0,
    }),
    lrImg: numberFlag(values, "lr-img", d.lrImg, { min: 0 }),
    lrLr: numberFlag(values, "lr-lr", d.lrLr, { min: 0 }),
    alphaInit: numberFlag(values, "alpha-init", d.alphaInit, { min: 0 }),
    iterations: numberFlag(values, "iterations", d.iterations, {
      integer: true,
      min: 1,
    }),
    seed: numberFlag(values, "seed", d.seed, {
      integer: true,
      min: 0,
      max: 0xffffffff,
    }),
    maxExperts: numberFlag(values, "max-experts", d.maxExperts, {
      integer: true,
      min: 0,
    }),
    init: choiceFlag(values, "init", ["real", "noise"] as const, d.init),
    dsa: !values["no-dsa"],
  };
  const config = distillConfig(method, overrides);
  await initBackend(
    values.backend !== undefined ? { backend: String(values.backend) } : {},
  );
  const quiet = Boolean(values.quiet);
  const data = await dataOfStore(values.store, {
    ...(typeof values["data-root"] === "string"
      ? { root: values["data-root"] }
      : {}),
    quiet,
  });
  const convexDir = config.trajectory === "convexified"
    ? (typeof values["mct-store"] === "string"
      ? values["mct-store"]
      : await ensureConvexified(
        values.store,
        numberFlag(values, "waypoints", 4, { integer: true, min: 2 }),
        "cumulative",
        quiet,
      ))
    : undefined;
  const result = await ensureDistilled({
    config,
    data,
    storeDir: values.store,
    ...(convexDir ? { convexDir } : {}),
    minExpertAccuracy: numberFlag(
      values,
      "min-expert-accuracy",
      MIN_EXPERT_ACCURACY[data.settings.dataset] ?? 0,
      {
        min: 0,
        max: 1,
      },
    ),
    checkpointEvery: numberFlag(values, "checkpoint-every", 50, {
      integer: true,
      min: 1,
    }),
    logEvery: numberFlag(values, "log-every", 10, { integer: true, min: 1 }),
    quiet,
    ...(typeof values.out === "string" ? { outDir: values.out } : {}),
  });
  console.log(
    `distilled ${
      result.manifest.shape[0]
    } images (${config.method}, IPC ${config.ipc}, ${result.manifest.iteration} iterations, ` +
      `alpha ${result.manifest.alpha.toPrecision(5)}) -> ${result.dir}`,
  );
  return 0;
}

if (import.meta.main) await runCli(main);
