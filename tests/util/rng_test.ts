import { strict as assert } from "node:assert";
import { Rng } from "../../src/util/rng.ts";

Deno.test("same seed, same stream; a saved state resumes it exactly", () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const xs = Array.from({ length: 100 }, () => a.nextU32());
  assert.deepEqual(xs, Array.from({ length: 100 }, () => b.nextU32()));
  const state = a.getState();
  const next = Array.from({ length: 10 }, () => a.uniform());
  const c = new Rng(0);
  c.setState(state);
  assert.deepEqual(Array.from({ length: 10 }, () => c.uniform()), next);
  assert.notDeepEqual(new Rng(43).nextU32(), new Rng(42).nextU32());
});

Deno.test("draws stay in range and are roughly uniform", () => {
  const rng = new Rng(7);
  const counts = new Array(6).fill(0);
  let sum = 0;
  for (let i = 0; i < 60000; i++) {
    const u = rng.uniform();
    assert.ok(u >= 0 && u < 1);
    sum += u;
    counts[rng.int(6)]++;
  }
  assert.ok(Math.abs(sum / 60000 - 0.5) < 0.01);
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 400, `bucket ${c}`);
  const z = rng.normalArray(20000);
  const mean = z.reduce((a, x) => a + x, 0) / z.length;
  const variance = z.reduce((a, x) => a + (x - mean) ** 2, 0) / z.length;
  assert.ok(
    Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05,
    `${mean} ${variance}`,
  );
});

Deno.test("permutations are permutations; derived streams are independent and stable", () => {
  const p = new Rng(3).permutation(1000);
  assert.deepEqual(
    [...p].sort((a, b) => a - b),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.equal(
    Rng.derive(5, "expert", 1).nextU32(),
    Rng.derive(5, "expert", 1).nextU32(),
  );
  assert.notEqual(
    Rng.derive(5, "expert", 1).nextU32(),
    Rng.derive(5, "expert", 2).nextU32(),
  );
});

Deno.test("bad seeds, bounds and states are refused with the value named", () => {
  assert.throws(() => new Rng(-1), /seed must be an integer.*-1/);
  assert.throws(() => new Rng(1.5), /seed/);
  assert.throws(() => new Rng(1).int(0), /int\(n\)/);
  assert.throws(
    () =>
      new Rng(1).setState(
        [1, 2, 3] as unknown as [number, number, number, number],
      ),
    /invalid RNG state/,
  );
});
