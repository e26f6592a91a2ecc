/**
 * Child process for the atomicity test: writes experts in a loop until it is
 * killed. Usage: `deno run --allow-read --allow-write _write_child.ts DIR`.
 */
import { createStore, writeExpert } from "../../src/trajectories/store.ts";
import { header } from "./_fixtures.ts";

const dir = Deno.args[0]!;
// A CIFAR-sized model so that each write takes long enough to be cut short.
const store = await createStore(
  dir,
  header({
    inChannels: 3,
    height: 32,
    width: 32,
    numClasses: 10,
    netWidth: 128,
    netDepth: 3,
  }),
);
const P = store.layout.size;
const base = new Float32Array(P).map((_, i) => Math.sin(i));
console.log("ready");
for (let index = 0;; index++) {
  const snaps = Array.from(
    { length: 11 },
    (_, e) => base.map((v) => v + e * 1e-3 + index),
  );
  await writeExpert(store, index, snaps, {
    seed: index,
    testAccuracy: 0.5,
    wallSeconds: 0,
  });
}
