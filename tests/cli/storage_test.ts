import { strict as assert } from "node:assert";
import { initBackend } from "../../src/backend/mod.ts";
import { storageReport } from "../../src/cli/storage.ts";
import { measureStore } from "../../src/trajectories/storage.ts";
import { toyStores } from "../distill/_toy.ts";

await initBackend({ log: false });

Deno.test("storage report: measured totals of both stores, their ratio, and the reference rows", async () => {
  const root = await Deno.makeTempDir({ prefix: "trajbench-storage-" });
  const { sgd, mct } = await toyStores(root, 2, 20);
  const text = (await storageReport(sgd, mct)).join("\n");
  const a = await measureStore(sgd);
  const b = await measureStore(mct);
  assert.ok(
    text.includes(`${a.totalBytes} (`) && text.includes(`${b.totalBytes} (`),
    text,
  );
  assert.ok(
    text.includes(`**${(a.totalBytes / b.totalBytes).toFixed(2)}×**`),
    text,
  );
  assert.ok(
    a.totalBytes > b.totalBytes,
    "21 snapshots take more room than 3 waypoints",
  );
  // The published CIFAR-10 total and the formula's 12.74× for ip = 4.
  assert.match(
    text,
    /\| CIFAR10 \| 320010 \| 6528204000 \| 512312800 \| 12\.74 \| 6547733490 \| 532881660 \| 12\.29 \|/,
  );
});
