/**
 * The benchmark harness's own arithmetic: order statistics, the tensor-peak
 * meter, opt-in filtering inputs and the summary's ratios.
 */
import { strict as assert } from "node:assert";
import { initBackend } from "../../src/backend/mod.ts";
import { tf } from "../../src/backend/tf.ts";
import { summarize, TensorPeak, withTensorPeak } from "../../bench/measure.ts";
import {
  type BenchRecord,
  ratios,
  renderMarkdown,
} from "../../bench/report.ts";
import { CASES } from "../../bench/cases.ts";

await initBackend({ log: false });

Deno.test("summarize: median, quartiles and range", () => {
  const s = summarize([5, 1, 4, 2, 3]);
  assert.deepEqual(s, { n: 5, median: 3, min: 1, max: 5, p25: 2, p75: 4 });
  const even = summarize([1, 2, 3, 4]);
  assert.equal(even.median, 2.5);
  assert.equal(even.p25, 1.75);
  assert.ok(Number.isNaN(summarize([]).median));
});

Deno.test("TensorPeak sees a transient allocation and restores the counter", () => {
  const before = tf.memory().numBytes;
  const { peak } = withTensorPeak(() => {
    tf.tidy(() => {
      const a = tf.zeros([1000]); // 4000 bytes
      const b = tf.add(a, 1); // 4000 more, both alive here
      return b.sum();
    }).dispose();
  });
  assert.ok(peak >= 8000, `peak ${peak}`);
  assert.equal(tf.memory().numBytes, before);
  // The engine's counter is a plain property again.
  const meter = new TensorPeak();
  meter.start();
  meter.stop();
  const t = tf.ones([10]);
  assert.equal(tf.memory().numBytes, before + 40);
  t.dispose();
});

Deno.test("every case id is unique and groups hold cases of one kind", () => {
  const ids = CASES.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const c of CASES) {
    if (!c.group) continue;
    const members = CASES.filter((x) => x.group === c.group);
    assert.ok(members.every((m) => Boolean(m.optIn) === Boolean(c.optIn)));
  }
});

Deno.test("ratios and Markdown of a small record", () => {
  const ok = (caseId: string, config: string, median: number) => ({
    case: caseId,
    title: caseId,
    config,
    status: "ok" as const,
    warmup: 1,
    iterations: 3,
    samplesMs: [median, median, median],
    ms: { n: 3, median, min: median, max: median, p25: median, p75: median },
  });
  const record: BenchRecord = {
    schema: 1,
    date: "2026-12-04T00:00:00.000Z",
    machine: {
      cpuModel: "test",
      cpus: 2,
      memoryGiB: 8,
      os: "linux",
      deno: "2",
      v8: "15",
    },
    tfjs: "4.22.0",
    settings: { quick: false, filter: [] },
    configs: [
      { id: "wasm+native", backend: "wasm", native: true, info: {} },
      { id: "wasm", backend: "wasm", native: false, info: {} },
    ],
    results: [
      ok("train-step-fmnist", "wasm+native", 1100),
      ok("train-step-fmnist", "wasm", 8800),
      ok("mtt-iteration", "wasm+native", 2000),
      ok("mct-iteration", "wasm+native", 2400),
      {
        ...ok("mixed-product", "cpu", 0),
        status: "skipped",
        reason: "slow",
        ms: undefined as never,
      },
    ],
    memory: {
      setting: { ipc: 1, netWidth: 16, config: "wasm+native" },
      points: [
        { method: "mtt-tape", synSteps: 10, peakBytes: 100, seconds: 1 },
        { method: "mtt-tape", synSteps: 40, peakBytes: 400, seconds: 4 },
        { method: "mct", synSteps: 10, peakBytes: 50, seconds: 1 },
        { method: "mct", synSteps: 40, peakBytes: 50, seconds: 4 },
      ],
    },
    seconds: 60,
  };
  const baseline = structuredClone(record);
  baseline.results[0]!.ms!.median = 2200;
  const r = ratios(record, "wasm+native", baseline);
  assert.equal(r.vsPrimary["train-step-fmnist"]!["wasm"], 8);
  assert.equal(r.mctOverMtt["wasm+native"], 1.2);
  assert.deepEqual(r.vsPytorch, [1, 1.1]);
  assert.equal(r.vsBaseline!["train-step-fmnist"]!["wasm+native"], 0.5);
  assert.deepEqual(r.memoryGrowth, {
    stepsRatio: 4,
    byMethod: { "mtt-tape": 4, mct: 1 },
  });
  const md = renderMarkdown(record, r, "wasm+native", true);
  assert.match(md, /\| train-step-fmnist \| wasm \| 8\.80 s \|/);
  assert.match(md, /skipped: slow/);
  assert.match(md, /MCT \/ MTT time per iteration on `wasm\+native`: 1\.20×/);
  assert.match(md, /MTT \(tape\) 4\.00×, MCT 1\.00×/);
});
