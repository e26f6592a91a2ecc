/** Result folders: every file written, stable bytes, validated read-back. */
import assert from "node:assert/strict";
import * as path from "node:path";
import {
  parseRunsCsv,
  parseTableCsv,
  sortCells,
  sortConvergence,
  sortRuns,
  sortStorage,
} from "../../src/report/csv.ts";
import {
  applyPaperValues,
  parsePaperValues,
} from "../../src/report/paper_values.ts";
import type { TableResult } from "../../src/report/types.ts";
import {
  readResults,
  validateTableResult,
  writeResults,
} from "../../src/report/write.ts";
import { InputError } from "../../src/util/errors.ts";
import { sampleResult } from "./_fixtures.ts";
import { assertWellFormedXml } from "./_xml.ts";

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "trajbench-report-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("writeResults writes every file, report last", async () => {
  await withTemp(async (dir) => {
    const res = await writeResults(dir, sampleResult());
    assert.deepEqual(res.files, [
      "result.json",
      "runs.csv",
      "table.csv",
      "convergence.csv",
      "storage.csv",
      "accuracy-cifar10.svg",
      "convergence-cifar10.svg",
      "storage.svg",
      "report.md",
    ]);
    assert.deepEqual(await listing(dir), [...res.files].sort());
    for (const f of res.files.filter((f) => f.endsWith(".svg"))) {
      assertWellFormedXml(await Deno.readTextFile(path.join(dir, f)));
    }
    const runs = parseRunsCsv(
      await Deno.readTextFile(path.join(dir, "runs.csv")),
    );
    assert.deepEqual(runs, sortRuns(sampleResult().runs));
    const report = await Deno.readTextFile(path.join(dir, "report.md"));
    for (const f of res.files.filter((f) => f.endsWith(".svg"))) {
      assert.ok(report.includes(`](./${f})`), f);
    }
  });
});

Deno.test("two writes of the same result are byte-identical", async () => {
  await withTemp(async (dir) => {
    const a = path.join(dir, "a");
    const b = path.join(dir, "b");
    const r = sampleResult();
    await writeResults(a, r);
    await writeResults(b, { ...r, runs: [...r.runs].reverse() });
    const files = await listing(a);
    assert.deepEqual(await listing(b), files);
    for (const f of files) {
      assert.equal(
        await Deno.readTextFile(path.join(b, f)),
        await Deno.readTextFile(path.join(a, f)),
        f,
      );
    }
  });
});

Deno.test("readResults returns what was written (paper values applied)", async () => {
  await withTemp(async (dir) => {
    const r = sampleResult();
    await writeResults(dir, r);
    const back = await readResults(dir);
    // The one-run cell's interval is undefined: written null, read NaN.
    const single = back.cells.find((c) => c.n === 1)!;
    assert.ok(Number.isNaN(single.ci95[0]) && Number.isNaN(single.ci95[1]));
    const applied = applyPaperValues(r);
    assert.deepEqual(back, {
      ...applied,
      runs: sortRuns(applied.runs),
      cells: sortCells(applied.cells),
      convergence: sortConvergence(applied.convergence),
      storage: sortStorage(applied.storage),
    });
    assert.deepEqual(await readResults(path.join(dir, "result.json")), back);
  });
});

Deno.test("user paper values reach table.csv, result.json and report.md", async () => {
  await withTemp(async (dir) => {
    const paperValues = parsePaperValues(
      { "cifar10/mct/1": { mean: 48.9, std: 0.3, source: "MCT Table 1" } },
      "paper_values.json",
    );
    await writeResults(dir, sampleResult(), { paperValues });
    const table = parseTableCsv(
      await Deno.readTextFile(path.join(dir, "table.csv")),
    );
    const cell = table.find((c) => c.method === "mct" && c.ipc === 1)!;
    assert.deepEqual(cell.paper, {
      mean: 48.9,
      std: 0.3,
      source: "MCT Table 1 (paper_values.json)",
    });
    const back = await readResults(dir);
    assert.equal(
      back.cells.find((c) => c.method === "mct" && c.ipc === 1)!.paper?.mean,
      48.9,
    );
    const md = await Deno.readTextFile(path.join(dir, "report.md"));
    assert.ok(md.includes("| 47.69 ± 0.56 (3) | 48.9 ± 0.3 | −1.21 |"));
  });
});

Deno.test("stale generated files are removed, others kept", async () => {
  await withTemp(async (dir) => {
    await writeResults(dir, sampleResult());
    await Deno.writeTextFile(path.join(dir, "notes.txt"), "mine");
    const bare: TableResult = {
      ...sampleResult(),
      convergence: [],
      storage: [],
    };
    const res = await writeResults(dir, bare);
    assert.deepEqual(res.removed, [
      "convergence-cifar10.svg",
      "convergence.csv",
      "storage.csv",
      "storage.svg",
    ]);
    assert.deepEqual(await listing(dir), [
      "accuracy-cifar10.svg",
      "notes.txt",
      "report.md",
      "result.json",
      "runs.csv",
      "table.csv",
    ]);
  });
});

Deno.test("readResults: errors name the file and the field", async () => {
  await withTemp(async (dir) => {
    const missing = path.join(dir, "nothing");
    await assert.rejects(
      () => readResults(missing),
      (e: unknown) =>
        e instanceof InputError &&
        e.message.includes(path.join(missing, "result.json")) &&
        e.message.includes("not found"),
    );
    await writeResults(dir, sampleResult());
    const file = path.join(dir, "result.json");
    const json = JSON.parse(await Deno.readTextFile(file));

    const broken = structuredClone(json);
    broken.runs[1].accuracy = "0.5";
    await Deno.writeTextFile(file, JSON.stringify(broken));
    await assert.rejects(
      () => readResults(dir),
      (e: unknown) =>
        e instanceof InputError && e.message.includes(file) &&
        e.message.includes("field runs[1].accuracy") &&
        e.message.includes('"0.5"'),
    );

    await Deno.writeTextFile(file, "{");
    await assert.rejects(() => readResults(dir), /not valid JSON/);
  });
});

Deno.test("validateTableResult checks nested fields", () => {
  const good = JSON.parse(JSON.stringify(applyPaperValues(sampleResult())));
  validateTableResult(good, "r.json");
  // deno-lint-ignore no-explicit-any
  type Json = any;
  const cases: [(j: Json) => void, RegExp][] = [
    [
      (j) => delete j.provenance.commit,
      /field provenance\.commit: expected a string, got nothing/,
    ],
    [
      (j) => (j.scale = "huge"),
      /field scale: expected one of paper, quick, smoke/,
    ],
    [(j) => (j.cells[2].method = "dc"), /field cells\[2\]\.method/],
    [(j) => (j.cells[0].ci95 = [1]), /field cells\[0\]\.ci95/],
    [(j) => (j.cells[0].n = 0), /field cells\[0\]\.n: expected >= 1/],
    [
      (j) => (j.runs[0].accuracy = 1.5),
      /field runs\[0\]\.accuracy: expected <= 1/,
    ],
    [(j) => (j.runs[0].settings.x = [1]), /field runs\[0\]\.settings\.x/],
    [(j) => (j.storage[0].source = "guess"), /field storage\[0\]\.source/],
    [(j) => (j.convergence = {}), /field convergence: expected an array/],
    [(j) => (j.provenance.stageSeconds.distill = -1), /stageSeconds\.distill/],
    [(j) => (j.deviations = [3]), /field deviations\[0\]/],
  ];
  for (const [mutate, re] of cases) {
    const j = structuredClone(good);
    mutate(j);
    assert.throws(() => validateTableResult(j, "r.json"), re, String(re));
  }
});
