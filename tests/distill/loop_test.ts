import { strict as assert } from "node:assert";
import { initBackend } from "../../src/backend/mod.ts";
import { distillConfig, type Method } from "../../src/distill/config.ts";
import {
  convexifiedExpertSource,
  sgdExpertSource,
} from "../../src/distill/expert_source.ts";
import {
  initialState,
  loadCheckpoint,
  runDistillation,
} from "../../src/distill/loop.ts";
import { exists } from "../../src/util/fs.ts";
import { DivergenceError, InputError } from "../../src/util/errors.ts";
import { toyStores } from "./_toy.ts";

await initBackend({ log: false });
const root = await Deno.makeTempDir({ prefix: "trajbench-distill-" });
const stores = await toyStores(root);
const quiet = () => {};

function configFor(
  method: Method,
  extra: { lrLr?: number; iterations?: number } = {},
) {
  return distillConfig(method, {
    ipc: 2,
    synSteps: 3,
    expertEpochs: 2,
    maxStartEpoch: 3,
    batchSyn: 3,
    lrImg: 10,
    lrLr: extra.lrLr ?? 1e-4,
    iterations: extra.iterations ?? 6,
    seed: 5,
  });
}

async function run(
  method: Method,
  outDir: string,
  extra: { stopAfter?: number; lrLr?: number; iterations?: number } = {},
) {
  const config = configFor(method, extra);
  const experts = method === "mtt"
    ? await sgdExpertSource(stores.sgd)
    : await convexifiedExpertSource(stores.mct);
  return runDistillation({
    config,
    experts,
    train: stores.train,
    outDir,
    checkpointEvery: 2,
    log: quiet,
    ...(extra.stopAfter !== undefined ? { stopAfter: extra.stopAfter } : {}),
  });
}

for (const method of ["mtt", "mct"] as const) {
  Deno.test(`${method}: a killed and resumed run ends with the same images as an uninterrupted one`, async () => {
    const whole = await run(method, `${root}/${method}-whole`);
    assert.equal(whole.state.iteration, 6);
    assert.equal(whole.state.losses.length, 6);
    assert.ok(whole.state.losses.every(Number.isFinite));

    const part = await run(method, `${root}/${method}-part`, { stopAfter: 3 });
    assert.ok(part.stopped);
    assert.equal(part.state.iteration, 3);
    const resumed = await run(method, `${root}/${method}-part`);
    assert.equal(resumed.state.iteration, 6);
    assert.deepEqual(resumed.state.images, whole.state.images);
    assert.equal(resumed.state.alpha, whole.state.alpha);
    assert.deepEqual(resumed.state.losses, whole.state.losses);
  });

  Deno.test(`${method}: α driven negative stops the run with a diagnostic and a checkpoint`, async () => {
    const out = `${root}/${method}-diverge`;
    await assert.rejects(
      () => run(method, out, { lrLr: 1e6 }),
      (err: Error) => {
        assert.ok(err instanceof DivergenceError, String(err));
        assert.match(err.message, /α turned non-positive|α became|loss/);
        assert.match(err.message, /checkpoint\.json/);
        return true;
      },
    );
    assert.ok(
      await exists(`${out}/checkpoint.json`),
      "checkpoint of the last good state",
    );
  });
}

Deno.test("images change and the two methods take different paths from the same start", async () => {
  const a = await run("mtt", `${root}/cmp-mtt`, { iterations: 2 });
  const b = await run("mct", `${root}/cmp-mct`, { iterations: 2 });
  const initial = initialState({
    config: configFor("mtt"),
    experts: await sgdExpertSource(stores.sgd),
    train: stores.train,
    outDir: `${root}/cmp-init`,
  });
  assert.deepEqual(initial.images.length, a.state.images.length);
  assert.notDeepEqual(a.state.images, b.state.images);
  assert.notDeepEqual(a.state.images, initial.images);
});

Deno.test("a checkpoint of another run is refused with a message naming the file", async () => {
  const out = `${root}/other`;
  await run("mtt", out, { iterations: 2 });
  await assert.rejects(
    () => run("mtt", out, { iterations: 3 }),
    (err: Error) =>
      err instanceof InputError &&
      /checkpoint\.json.*different run \(config/.test(err.message),
  );
  const experts = await sgdExpertSource(stores.sgd);
  const config = configFor("mtt", { iterations: 2 });
  const state = await loadCheckpoint(out, {
    config,
    experts,
    train: stores.train,
    outDir: out,
  });
  assert.equal(state?.iteration, 2);
});

Deno.test("config validation names the field", () => {
  assert.throws(
    () => distillConfig("mtt", { startSampling: "continuous" }),
    /startSampling/,
  );
  assert.throws(() => distillConfig("mct", { ipc: 0 }), /config\.ipc/);
});

Deno.test("the trajectory and gradient choices combine freely (the 2×2 grid)", async () => {
  const results = new Map<string, Float32Array>();
  for (const trajectory of ["sgd", "convexified"] as const) {
    for (const gradient of ["unrolled", "per-step"] as const) {
      const config = distillConfig("mtt", {
        ...configFor("mtt", { iterations: 2 }),
        trajectory,
        gradient,
        startSampling: trajectory === "sgd" ? "integer" : "continuous",
      });
      const experts = trajectory === "sgd"
        ? await sgdExpertSource(stores.sgd)
        : await convexifiedExpertSource(stores.mct);
      const out = await runDistillation({
        config,
        experts,
        train: stores.train,
        outDir: `${root}/grid-${trajectory}-${gradient}`,
        log: quiet,
      });
      assert.equal(out.state.iteration, 2);
      assert.ok(out.state.losses.every(Number.isFinite));
      results.set(`${trajectory}/${gradient}`, out.state.images);
    }
  }
  // Same trajectory and start draws, different gradient: different images.
  assert.notDeepEqual(results.get("sgd/unrolled"), results.get("sgd/per-step"));
  assert.notDeepEqual(
    results.get("convexified/unrolled"),
    results.get("convexified/per-step"),
  );
});
