import { strict as assert } from "node:assert";
import { initBackend } from "../../src/backend/mod.ts";
import {
  evalLr,
  evaluateImageSet,
  lrDropPass,
} from "../../src/eval/protocol.ts";
import { paramLayout } from "../../src/model/layout.ts";
import { Rng } from "../../src/util/rng.ts";
import { loadGolden } from "../_golden.ts";
import { TOY, toyImages } from "../distill/_toy.ts";

await initBackend({ log: false });

Deno.test("learning-rate schedule matches eval_schedule.json", () => {
  const g = loadGolden("eval_schedule.json");
  const E = g.Epoch;
  const passes = Array.from({ length: E + 1 }, (_, p) => evalLr(1, E, p));
  assert.equal(passes.length, g.num_passes);
  const atLr = passes.filter((v) => v === 1).length;
  assert.equal(atLr, g.epochs_at_lr.count);
  assert.equal(
    passes.indexOf(0.1),
    g["epochs_at_lr_times_0.1"].first,
  );
  assert.equal(lrDropPass(E), g.lr_schedule[0]);
});

Deno.test("evaluation trains fresh networks that beat chance, deterministically per seed", async () => {
  const layout = paramLayout(TOY);
  const rng = new Rng(1);
  const train = toyImages(30, rng);
  const test = toyImages(60, rng);
  const proto = { epochs: 6, runs: 2, batchSize: 16 };
  const a = await evaluateImageSet(layout, train, test, 0.05, 9, proto);
  assert.equal(a.length, 2);
  for (const r of a) assert.ok(r.accuracy > 0.6, `accuracy ${r.accuracy}`);
  const b = await evaluateImageSet(layout, train, test, 0.05, 9, proto);
  assert.deepEqual(a.map((r) => r.accuracy), b.map((r) => r.accuracy));
});
