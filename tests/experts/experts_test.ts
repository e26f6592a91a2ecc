import { strict as assert } from "node:assert";
import * as path from "node:path";
import { initBackend } from "../../src/backend/mod.ts";
import {
  EXPERT_DEFAULTS,
  trainExperts,
} from "../../src/experts/train_experts.ts";
import { checkExpertAccuracy } from "../../src/experts/accuracy.ts";
import { prepareData } from "../../src/pipeline/prepare.ts";
import { openStore, readExpert } from "../../src/trajectories/store.ts";
import { exists } from "../../src/util/fs.ts";
import { InputError } from "../../src/util/errors.ts";

await initBackend({ log: false });
const hasDebianData = await exists(
  "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
);
const settings = { ...EXPERT_DEFAULTS, epochs: 2, netWidth: 4, batchSize: 32 };

Deno.test({
  name:
    "experts: a rerun skips finished experts and trains only the missing ones",
  ignore: !hasDebianData,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "trajbench-experts-" });
    const data = await prepareData({
      dataset: "fashion-mnist",
      zca: false,
      trainPerClass: 8,
      testPerClass: 4,
      subsetSeed: 0,
    }, {
      quiet: true,
    });
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    await trainExperts({
      data,
      settings,
      experts: [0, 1],
      storeDir: dir,
      quiet: true,
      log,
    });
    lines.length = 0;
    const entries = await trainExperts({
      data,
      settings,
      experts: [0, 1, 2],
      storeDir: dir,
      quiet: true,
      log,
    });
    assert.deepEqual(entries.map((e) => e.index), [0, 1, 2]);
    assert.equal(
      lines.filter((l) => l.includes("skipped")).length,
      2,
      lines.join("\n"),
    );
    const store = await openStore(dir);
    const traj = await readExpert(store, 2);
    assert.equal(traj.numSnapshots, settings.epochs + 1);
    const p = traj.numParams;
    assert.notDeepEqual(
      traj.data.subarray(0, p),
      traj.data.subarray(p, 2 * p),
      "snapshot 0 and 1 must differ",
    );
  },
});

Deno.test("the accuracy gate names each expert below the threshold", () => {
  assert.deepEqual(
    checkExpertAccuracy([{ index: 0, testAccuracy: 0.8 }], 0.5, "store"),
    [0],
  );
  assert.throws(
    () =>
      checkExpertAccuracy(
        [{ index: 0, testAccuracy: 0.8 }, { index: 3, testAccuracy: 0.12 }],
        0.5,
        "store",
      ),
    (err: Error) =>
      err instanceof InputError &&
      /expert 3 reached 12\.00%/.test(err.message) &&
      !/expert 0/.test(err.message),
  );
});

Deno.test({
  name:
    "deno task experts: killed mid-run, a rerun keeps the finished expert and completes",
  ignore: !hasDebianData,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "trajbench-experts-kill-" });
    const store = path.join(dir, "store");
    const cli = new URL("../../src/cli/experts.ts", import.meta.url).pathname;
    const args = [
      "run",
      "-A",
      cli,
      "--preset",
      "smoke",
      "--experts",
      "2",
      "--epochs",
      "30",
      "--width",
      "4",
      "--out",
      store,
      "--no-download",
      "--quiet",
    ];
    const child = new Deno.Command(Deno.execPath(), {
      args,
      stdout: "null",
      stderr: "null",
    }).spawn();
    const first = path.join(store, "expert_000.json");
    const deadline = Date.now() + 60_000;
    while (!(await exists(first)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGKILL");
    await child.status;
    assert.ok(await exists(first), "expert 0 finished before the kill");
    const finished = (await Array.fromAsync(Deno.readDir(store))).map((e) =>
      e.name
    );
    assert.ok(
      !finished.includes("expert_001.json"),
      `expert 1 should have been in progress: ${finished}`,
    );

    const rerun = await new Deno.Command(Deno.execPath(), {
      args,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(rerun.stderr);
    assert.ok(rerun.success, err);
    assert.match(err, /expert 0 already in .* skipped/);
    const s = await openStore(store);
    await readExpert(s, 0);
    await readExpert(s, 1);
  },
});
