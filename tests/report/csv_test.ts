/** CSV files: round trips, stable bytes, fixed formats, helpful errors. */
import assert from "node:assert/strict";
import { plainNumber } from "../../src/report/_format.ts";
import {
  CONVERGENCE_COLUMNS,
  convergenceCsv,
  parseConvergenceCsv,
  parseRunsCsv,
  parseStorageCsv,
  parseTableCsv,
  RUNS_COLUMNS,
  runsCsv,
  sortConvergence,
  sortRuns,
  STORAGE_COLUMNS,
  storageCsv,
  TABLE_COLUMNS,
  tableCsv,
} from "../../src/report/csv.ts";
import type { CellSummary } from "../../src/report/types.ts";
import { InputError } from "../../src/util/errors.ts";
import {
  sampleCells,
  sampleConvergence,
  sampleRuns,
  sampleStorage,
} from "./_fixtures.ts";

function reversed<T>(xs: T[]): T[] {
  return [...xs].reverse();
}

Deno.test("runs.csv: fixed columns, then sorted settings keys", () => {
  const text = runsCsv(sampleRuns());
  const header = text.split("\n")[0]!.split(",");
  assert.deepEqual(header.slice(0, RUNS_COLUMNS.length), [
    "table",
    "scale",
    "dataset",
    "method",
    "ipc",
    "variant",
    "run",
    "eval_seed",
    "distill_seed",
    "iteration",
    "lr",
    "backend",
    "accuracy",
    "seconds",
  ]);
  assert.deepEqual(header.slice(RUNS_COLUMNS.length), [
    "expertEpochs",
    "lrImg",
    "lrLr",
    "synSteps",
    "waypoints",
    "zca",
  ]);
});

Deno.test("runs.csv: rows ordered by dataset, method order, ipc, run", () => {
  const rows = runsCsv(sampleRuns()).trim().split("\n").slice(1);
  const keys = rows.map((r) => r.split(",").slice(3, 7).join("/"));
  assert.deepEqual(keys.slice(0, 4), [
    "mtt/1//0",
    "mtt/1//1",
    "mtt/1//2",
    "mtt/10//0",
  ]);
  const methods = [...new Set(rows.map((r) => r.split(",")[3]))];
  assert.deepEqual(methods, ["mtt", "mct", "random", "full"]);
});

Deno.test("runs.csv: fixed number formats, no exponent notation", () => {
  const text = runsCsv(sampleRuns());
  const first = text.split("\n")[1]!;
  assert.equal(
    first,
    "cifar10,smoke,cifar10,mtt,1,,0,1015,7,500,0.0123456789,cpu,0.4512,12.50," +
      "2,1000,0.0000001,10,,true",
  );
  assert.ok(!/\de[+-]?\d/i.test(text), "no exponent notation");
  // Baseline rows leave distill_seed and iteration empty.
  const random = text.split("\n").find((l) => l.includes(",random,"))!;
  assert.match(random, /,random,1,,0,\d+,,,0.01,cpu,0\.\d{4},\d+\.\d{2},/);
  assert.equal(plainNumber(1e-7), "0.0000001");
  assert.equal(plainNumber(-2.5e-8), "-0.000000025");
  assert.equal(plainNumber(1.5e21), "1500000000000000000000");
  assert.equal(plainNumber(0.1), "0.1");
  assert.equal(plainNumber(-0), "0");
});

Deno.test("runs.csv: write → parse gives the runs back, in file order", () => {
  const runs = sampleRuns();
  const parsed = parseRunsCsv(runsCsv(runs));
  assert.deepEqual(parsed, sortRuns(runs));
});

Deno.test("runs.csv: same result, same bytes, whatever the input order", () => {
  const runs = sampleRuns();
  const a = runsCsv(runs);
  assert.equal(runsCsv(runs), a);
  assert.equal(runsCsv(reversed(runs)), a);
  assert.ok(a.endsWith("\n") && !a.includes("\r"));
});

Deno.test("runs.csv: quoting survives commas, quotes and newlines", () => {
  const [r] = sampleRuns();
  const odd = {
    ...r!,
    variant: 'beta="uniform", ip=2',
    settings: { note: "line one\nline two", tag: "a,b" },
  };
  assert.deepEqual(parseRunsCsv(runsCsv([odd])), [odd]);
});

Deno.test("runs.csv: a settings key named like a column is refused", () => {
  const [r] = sampleRuns();
  assert.throws(
    () => runsCsv([{ ...r!, settings: { lr: 1 } }]),
    /settings key "lr"/,
  );
});

Deno.test("runs.csv: parse errors name the file, row and column", () => {
  const text = runsCsv(sampleRuns());
  const lines = text.split("\n");
  lines[2] = lines[2]!.replace(",0.4633,", ",abc,");
  assert.throws(
    () => parseRunsCsv(lines.join("\n"), "results/x/runs.csv"),
    (err: unknown) =>
      err instanceof InputError &&
      err.message.includes('results/x/runs.csv row 2, column "accuracy"') &&
      err.message.includes('"abc"'),
  );
  const bad = text.replace(",0.4512,", ",1.4512,");
  assert.throws(() => parseRunsCsv(bad), /fraction in \[0, 1\]/);
  assert.throws(
    () => parseRunsCsv("table,scale\nx,y\n"),
    /header must start with table,scale,dataset/,
  );
  const method = text.replace(",mtt,1,,0,", ",dc,1,,0,");
  assert.throws(() => parseRunsCsv(method), /column "method"/);
});

function rounded(c: CellSummary): CellSummary {
  // The file's format is toFixed(2); round the same way.
  const r = (x: number) => Number.isFinite(x) ? Number(x.toFixed(2)) : x;
  return {
    ...c,
    mean: r(c.mean),
    std: r(c.std),
    ci95: [r(c.ci95[0]), r(c.ci95[1])],
    bestOverCheckpoints: c.bestOverCheckpoints === null ? null : {
      iteration: c.bestOverCheckpoints.iteration,
      mean: r(c.bestOverCheckpoints.mean),
    },
  };
}

Deno.test("table.csv: columns, two-decimal percentages, round trip", () => {
  const cells = sampleCells();
  const text = tableCsv(cells);
  assert.equal(text.split("\n")[0], TABLE_COLUMNS.join(","));
  assert.deepEqual(TABLE_COLUMNS, [
    "dataset",
    "method",
    "ipc",
    "variant",
    "n",
    "mean",
    "std",
    "ci95_low",
    "ci95_high",
    "best_ckpt_iteration",
    "best_ckpt_mean",
    "paper_mean",
    "paper_std",
    "paper_source",
  ]);
  // MTT IPC 1: runs 45.12, 46.33, 45.81.
  assert.equal(
    text.split("\n")[1],
    "cifar10,mtt,1,,3,45.75,0.61,44.25,47.26,400,46.25,,,",
  );
  // One run: no interval.
  assert.match(text, /\ncifar10,mct,50,,1,72\.01,0\.00,,,400,72\.51,,,\n/);

  const parsed = parseTableCsv(text);
  const expected = [...cells].map(rounded);
  const order = (c: CellSummary) => `${c.method}/${c.ipc}`;
  assert.deepEqual(
    parsed.map(order),
    [
      "mtt/1",
      "mtt/10",
      "mtt/50",
      "mct/1",
      "mct/10",
      "mct/50",
      "random/1",
      "random/10",
      "random/50",
      "full/0",
    ],
  );
  for (const p of parsed) {
    assert.deepEqual(p, expected.find((e) => order(e) === order(p)));
  }
  // Parsed values re-serialise to the same bytes.
  assert.equal(tableCsv(parsed), text);
  assert.equal(tableCsv(reversed(cells)), text);
});

Deno.test("table.csv: paper values, including not-transcribed ones", () => {
  const cells = sampleCells().filter((c) => c.method === "mtt").slice(0, 2);
  assert.equal(cells.length, 2);
  cells[0] = {
    ...cells[0]!,
    variant: "experts=10",
    paper: { mean: 46.3, std: 0.8, source: "MTT Table 1, CVPR 2022" },
  };
  cells[1] = {
    ...cells[1]!,
    paper: { mean: null, std: null, source: "not transcribed" },
  };
  const text = tableCsv(cells);
  assert.match(text, /,46\.30,0\.80,"MTT Table 1, CVPR 2022"\n/);
  const parsed = parseTableCsv(text);
  const byVariant = parsed.find((c) => c.variant === "experts=10")!;
  assert.deepEqual(byVariant.paper, {
    mean: 46.3,
    std: 0.8,
    source: "MTT Table 1, CVPR 2022",
  });
  const nt = parsed.find((c) => c.variant === "")!;
  assert.deepEqual(nt.paper, {
    mean: null,
    std: null,
    source: "not transcribed",
  });
  assert.throws(
    () => parseTableCsv(text.replace(",400,", ",,")),
    /best_ckpt_iteration and best_ckpt_mean/,
  );
  assert.throws(
    () => parseTableCsv(text + "cifar10,mtt,1\n"),
    /not valid CSV/,
  );
});

Deno.test("convergence.csv and storage.csv round trip with stable bytes", () => {
  const points = sampleConvergence();
  const ctext = convergenceCsv(points);
  assert.equal(ctext.split("\n")[0], CONVERGENCE_COLUMNS.join(","));
  assert.equal(convergenceCsv(reversed(points)), ctext);
  assert.deepEqual(parseConvergenceCsv(ctext), sortConvergence(points));

  const rows = sampleStorage();
  const stext = storageCsv(rows);
  assert.equal(stext.split("\n")[0], STORAGE_COLUMNS.join(","));
  assert.equal(storageCsv(reversed(rows)), stext);
  assert.match(
    stext,
    /\ncifar10,published,320010,100,6547733490,532881660,12\.29,"exps\/storage_compare\.py, ip=4"\n/,
  );
  const parsed = parseStorageCsv(stext);
  assert.deepEqual(parsed.map((r) => `${r.dataset}/${r.source}`), [
    "cifar10/measured",
    "cifar10/published",
    "cifar100/published",
    "tiny/published",
  ]);
  assert.equal(parsed[1]!.mttBytes, 6547733490);
  assert.equal(parsed[1]!.ratio, 12.29);
  assert.equal(storageCsv(parsed), stext);
});
