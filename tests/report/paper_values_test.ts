/** Published values: the file format, precedence and "not transcribed". */
import assert from "node:assert/strict";
import * as path from "node:path";
import {
  applyPaperValues,
  loadPaperValues,
  loadPaperValuesIfPresent,
  NOT_TRANSCRIBED_SOURCE,
  parseCellKey,
  parsePaperValues,
  PUBLISHED_VALUES,
  resolvePaperValue,
} from "../../src/report/paper_values.ts";
import { InputError } from "../../src/util/errors.ts";
import { sampleResult } from "./_fixtures.ts";

Deno.test("cell keys: dataset/method/ipc[/variant]", () => {
  assert.deepEqual(parseCellKey("cifar10/mct/10"), {
    dataset: "cifar10",
    method: "mct",
    ipc: 10,
    variant: "",
  });
  assert.deepEqual(parseCellKey("tiny/mtt/50/beta=a/b")?.variant, "beta=a/b");
  assert.equal(parseCellKey("cifar10/dc/10"), null);
  assert.equal(parseCellKey("cifar10/mct/ten"), null);
  assert.equal(parseCellKey("cifar10/mct"), null);
});

Deno.test("built-in values: MTT Table 1 rows as in reference.md §7", () => {
  const v = PUBLISHED_VALUES.values;
  assert.deepEqual(
    [v["cifar10/mtt/1"]?.mean, v["cifar10/mtt/1"]?.std],
    [46.3, 0.8],
  );
  assert.equal(v["cifar100/mtt/50"]?.mean, 47.7);
  assert.equal(v["tiny/random/10"]?.mean, 5.0);
  assert.equal(v["cifar10/full/0"]?.mean, 84.8);
  assert.equal(Object.keys(v).length, 21);
  assert.ok(!Object.keys(v).some((k) => k.includes("/mct/")));
});

Deno.test("MCT cells default to not transcribed; others to Table 1 or nothing", () => {
  const r = applyPaperValues(sampleResult());
  const mct = r.cells.find((c) => c.method === "mct" && c.ipc === 1)!;
  assert.deepEqual(mct.paper, {
    mean: null,
    std: null,
    source: NOT_TRANSCRIBED_SOURCE,
  });
  const mtt = r.cells.find((c) => c.method === "mtt" && c.ipc === 10)!;
  assert.equal(mtt.paper?.mean, 65.3);
  // No published value for a data set outside the table.
  const fm = resolvePaperValue({
    ...mtt,
    dataset: "fashion-mnist",
    paper: null,
  });
  assert.equal(fm, null);
});

Deno.test("precedence: user file > producer's value > built-in", () => {
  const r = sampleResult();
  const mtt = r.cells.find((c) => c.method === "mtt" && c.ipc === 1)!;
  const producer = { mean: 46.2, std: null, source: "FTD's rerun of MTT" };
  assert.deepEqual(resolvePaperValue({ ...mtt, paper: producer }), producer);
  const user = parsePaperValues(
    { "cifar10/mtt/1": { mean: 46.0, std: 0.1, source: "my copy" } },
    "paper_values.json",
  );
  assert.deepEqual(resolvePaperValue({ ...mtt, paper: producer }, user), {
    mean: 46.0,
    std: 0.1,
    source: "my copy (paper_values.json)",
  });
  // Applying twice changes nothing.
  const once = applyPaperValues(r, user);
  assert.deepEqual(applyPaperValues(once, user), once);
});

Deno.test("paper_values.json: validation names the file and key", () => {
  const ok = parsePaperValues({
    "$comment": "ignored",
    "cifar10/mct/1": { mean: 48.5, std: 0.2, source: "MCT Table 1" },
    "cifar10/mct/50/experts=10": { mean: null, source: "not reported" },
  }, "pv.json");
  assert.deepEqual(Object.keys(ok.values), [
    "cifar10/mct/1",
    "cifar10/mct/50/experts=10",
  ]);
  assert.equal(ok.values["cifar10/mct/50/experts=10"]?.std, null);

  const bad = (json: unknown, re: RegExp) =>
    assert.throws(
      () => parsePaperValues(json, "pv.json"),
      (e: unknown) =>
        e instanceof InputError && e.message.startsWith("pv.json") &&
        re.test(e.message),
    );
  bad([], /JSON object/);
  bad({ "cifar10/dc/1": { mean: 1, source: "x" } }, /key "cifar10\/dc\/1"/);
  bad({ "cifar10/mct/1": { mean: 48.5 } }, /field "source"/);
  bad({ "cifar10/mct/1": { mean: "48.5", source: "x" } }, /field "mean"/);
  bad({ "cifar10/mct/1": { mean: 148.5, source: "x" } }, /\[0, 100\]/);
  bad({ "cifar10/mct/1": { std: 1, source: "x" } }, /"mean" is required/);
  bad({ "cifar10/mct/1": { mean: 1, source: "x", stdev: 1 } }, /"stdev"/);
});

Deno.test("paper_values.json: load from disk, optional when absent", async () => {
  const dir = await Deno.makeTempDir({ prefix: "trajbench-pv-" });
  try {
    const file = path.join(dir, "paper_values.json");
    assert.equal(await loadPaperValuesIfPresent(file), null);
    await assert.rejects(() => loadPaperValues(file), /not found/);
    await Deno.writeTextFile(file, "{ not json");
    await assert.rejects(() => loadPaperValues(file), /not valid JSON/);
    await Deno.writeTextFile(
      file,
      JSON.stringify({ "cifar10/mct/10": { mean: 66, source: "Table 1" } }),
    );
    const pv = await loadPaperValuesIfPresent(file);
    assert.equal(pv?.source, file);
    assert.equal(pv?.values["cifar10/mct/10"]?.mean, 66);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
