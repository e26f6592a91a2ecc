/**
 * Child process for the kill test: distils on the toy stores in
 * Deno.args[0] into Deno.args[1], checkpointing every iteration.
 */
import { initBackend } from "../../src/backend/mod.ts";
import { distillConfig } from "../../src/distill/config.ts";
import {
  convexifiedExpertSource,
  sgdExpertSource,
} from "../../src/distill/expert_source.ts";
import { runDistillation } from "../../src/distill/loop.ts";
import { Rng } from "../../src/util/rng.ts";
import { toyImages } from "./_toy.ts";

await initBackend({ log: false });
const [root, out, method] = Deno.args as [string, string, "mtt" | "mct"];
const config = distillConfig(method, {
  ipc: 2,
  synSteps: 4,
  expertEpochs: 2,
  maxStartEpoch: 3,
  lrImg: 10,
  lrLr: 1e-4,
  iterations: 40,
  seed: 3,
});
const experts = method === "mtt"
  ? await sgdExpertSource(`${root}/sgd`)
  : await convexifiedExpertSource(`${root}/mct`);
const r = await runDistillation({
  config,
  experts,
  train: toyImages(60, new Rng(100)),
  outDir: out,
  checkpointEvery: 1,
  log: () => {},
});
await Deno.writeFile(`${out}/final.f32`, new Uint8Array(r.state.images.buffer));
