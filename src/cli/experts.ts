/**
 * `deno task experts`: train expert trajectories into a store.
 *
 * @module
 */
import { initBackend } from "../backend/mod.ts";
import { parseDatasetName } from "../data/datasets.ts";
import { trainExperts } from "../experts/train_experts.ts";
import { prepareData } from "../pipeline/prepare.ts";
import { EXPERT_PRESETS, expertPlan } from "../pipeline/presets.ts";
import { workDir } from "../pipeline/work.ts";
import {
  choiceFlag,
  numberFlag,
  parseExpertList,
  parseFlags,
  runCli,
} from "./common.ts";

const HELP = `deno task experts [flags]

Train expert trajectories (SGD on real data, a snapshot per epoch) into a
trajectory store. Finished experts are skipped, so a killed run resumes.

  --dataset NAME          fashion-mnist (default), cifar10, cifar100, tiny
  --preset NAME           reference (buffer.py settings, whole data set; default),
                          quick (500 img/class, 3 experts x 6 epochs, width 64),
                          smoke (tiny, for tests)
  --experts N|A..B|i,j    how many / which experts (default: the preset's)
  --epochs N  --lr X  --batch N  --width N  --depth N  --seed N
  --zca / --no-zca        ZCA whitening (default: as the reference for the data set)
  --train-per-class N     class-balanced training subset (0 = all)
  --test-per-class N      class-balanced test subset (0 = all)
  --no-dsa                train without augmentation
  --out DIR               store folder (default: work/experts/<dataset>-<settings hash>)
  --data-root DIR         data cache (default $TRAJBENCH_DATA or ~/.cache/trajbench/data)
  --no-download           never download; say where to place missing files
  --backend NAME          auto, tensorflow, wasm, cpu
`;

export async function main(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    dataset: { type: "string" },
    preset: { type: "string" },
    experts: { type: "string" },
    epochs: { type: "string" },
    lr: { type: "string" },
    batch: { type: "string" },
    width: { type: "string" },
    depth: { type: "string" },
    seed: { type: "string" },
    zca: { type: "boolean" },
    "no-zca": { type: "boolean" },
    "no-dsa": { type: "boolean" },
    "train-per-class": { type: "string" },
    "test-per-class": { type: "string" },
    out: { type: "string" },
    "data-root": { type: "string" },
    "no-download": { type: "boolean" },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const dataset = parseDatasetName(
    String(values.dataset ?? "fashion-mnist"),
    "--dataset",
  );
  const preset = choiceFlag(values, "preset", EXPERT_PRESETS, "reference");
  const plan = expertPlan(dataset, preset);
  const data = {
    ...plan.data,
    zca: values.zca ? true : values["no-zca"] ? false : plan.data.zca,
    trainPerClass: numberFlag(
      values,
      "train-per-class",
      plan.data.trainPerClass,
      { integer: true, min: 0 },
    ),
    testPerClass: numberFlag(values, "test-per-class", plan.data.testPerClass, {
      integer: true,
      min: 0,
    }),
  };
  const expert = {
    ...plan.expert,
    epochs: numberFlag(values, "epochs", plan.expert.epochs, {
      integer: true,
      min: 1,
    }),
    lr: numberFlag(values, "lr", plan.expert.lr, { min: 0 }),
    batchSize: numberFlag(values, "batch", plan.expert.batchSize, {
      integer: true,
      min: 1,
    }),
    netWidth: numberFlag(values, "width", plan.expert.netWidth, {
      integer: true,
      min: 1,
    }),
    netDepth: numberFlag(values, "depth", plan.expert.netDepth, {
      integer: true,
      min: 1,
    }),
    seed: numberFlag(values, "seed", plan.expert.seed, {
      integer: true,
      min: 0,
      max: 0xffffffff,
    }),
    dsa: !values["no-dsa"],
  };
  const experts = values.experts !== undefined
    ? parseExpertList(String(values.experts))
    : Array.from({ length: plan.experts }, (_, i) => i);
  const backend = await initBackend(
    values.backend !== undefined ? { backend: String(values.backend) } : {},
  );
  const quiet = Boolean(values.quiet);
  const storeDir = typeof values.out === "string"
    ? values.out
    : workDir("experts", dataset, { data, expert });

  console.error(
    `[experts] ${dataset} preset ${preset}: ${experts.length} experts -> ${storeDir}`,
  );
  const prepared = await prepareData(data, {
    ...(typeof values["data-root"] === "string"
      ? { root: values["data-root"] }
      : {}),
    download: !values["no-download"],
    quiet,
  });
  const entries = await trainExperts({
    data: prepared,
    settings: expert,
    experts,
    storeDir,
    quiet,
  });
  const accs = entries.map((e) =>
    `${e.index}: ${(100 * e.testAccuracy).toFixed(2)}%`
  ).join(", ");
  console.log(`store ${storeDir} (backend ${backend.name})\nexperts ${accs}`);
  return 0;
}

if (import.meta.main) await runCli(main);
