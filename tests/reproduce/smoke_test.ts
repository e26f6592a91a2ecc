/**
 * Every table of `deno task reproduce` at smoke scale, end to end: fixture
 * files in the official formats in a temporary data root, the runner, then
 * the result folder read back with the report parsers. Also: a missing data
 * set stops with the data layer's placement message, not a stack trace.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { initBackend } from "../../src/backend/mod.ts";
import { loadTable, TABLES } from "../../src/cli/reproduce.ts";
import { reproduce } from "../../src/pipeline/reproduce.ts";
import type { ScaleSpec, TableSpec } from "../../src/pipeline/table_spec.ts";
import {
  parseConvergenceCsv,
  parseRunsCsv,
  parseStorageCsv,
  parseTableCsv,
} from "../../src/report/csv.ts";
import type { CellSummary, RunRecord } from "../../src/report/types.ts";
import { readResults } from "../../src/report/write.ts";
import { exists } from "../../src/util/fs.ts";
import { MissingDataError } from "../../src/util/errors.ts";
import {
  cifar100Tree,
  cifar10Tree,
  fashionTree,
  tinyFixture,
  writeTree,
} from "../data/_fixtures.ts";

await initBackend({ log: false });

const root = await Deno.makeTempDir({ prefix: "trajbench-reproduce-" });
globalThis.addEventListener("unload", () => {
  Deno.removeSync(root, { recursive: true });
});
// Stages cache under $TRAJBENCH_WORK, read at each call: keep them here.
Deno.env.set("TRAJBENCH_WORK", path.join(root, "work"));

// Fixtures sized for the smoke subsets: CIFAR-10 10 train / 5 test images per
// class, CIFAR-100 2 / 1 (its fixture's size), Tiny ImageNet 3 classes × 2 / 2,
// Fashion-MNIST 12 / 6 (the loader reads the cache folder before Debian's).
const fixtures = path.join(root, "data");
await writeTree(fixtures, cifar10Tree(20, 50));
await writeTree(fixtures, cifar100Tree());
await writeTree(fixtures, tinyFixture().tree);
await writeTree(path.join(fixtures, "fashion-mnist"), fashionTree(120, 60));

// The Fashion-MNIST table's smoke settings are made for the real images: on
// the fixture's synthetic pattern its learned lr diverges. It runs on
// Debian's copy, found through an empty data root.
const debian = await exists(
  "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
);
const emptyRoot = path.join(root, "empty");
await Deno.mkdir(emptyRoot);

const results = path.join(root, "results");

/** The evaluation protocol the runner applies at an IPC. */
function evalAt(s: ScaleSpec, ipc: number): { runs: number; epochs: number } {
  return { ...s.eval, ...s.evalByIpc?.[ipc] };
}

/** Cells the smoke scale of `spec` must produce, with their run counts. */
function expectedCells(
  spec: TableSpec,
): { key: string; n: number }[] {
  const s = spec.scales.smoke;
  return [
    ...s.cells.map((c) => ({
      key: `${c.method}/${c.ipc}/${c.variant}`,
      n: evalAt(s, c.ipc).runs,
    })),
    ...s.random.map((r) => ({
      key: `random/${r.ipc}/`,
      n: evalAt(s, r.ipc).runs,
    })),
    ...(s.full ? [{ key: "full/0/", n: s.full.runs }] : []),
  ].sort((a, b) => a.key.localeCompare(b.key));
}

const keyOf = (
  c: Pick<RunRecord | CellSummary, "method" | "ipc" | "variant">,
) => `${c.method}/${c.ipc}/${c.variant}`;

async function runSmoke(name: string, dataRoot: string): Promise<void> {
  const spec = await loadTable(name);
  const s = spec.scales.smoke;
  const { dir, result } = await reproduce({
    spec,
    scale: "smoke",
    resultsRoot: results,
    dataRoot,
    download: false,
    quiet: true,
    command: "test",
    yes: true,
    log: () => {},
  });
  assert.equal(dir, path.join(results, spec.name, "smoke"));
  assert.ok(result);
  for (const f of ["runs.csv", "table.csv", "report.md", "result.json"]) {
    assert.ok(await exists(path.join(dir, f)), `${name}: ${f} missing`);
  }
  const read = (f: string) => Deno.readTextFile(path.join(dir, f));
  const runs = parseRunsCsv(await read("runs.csv"));
  const cells = parseTableCsv(await read("table.csv"));
  const back = await readResults(dir);
  const report = await read("report.md");

  // Cells: exactly the configured ones, each with its number of runs.
  const expected = expectedCells(spec);
  assert.deepEqual(
    cells.map((c) => ({ key: keyOf(c), n: c.n })).sort((a, b) =>
      a.key.localeCompare(b.key)
    ),
    expected,
    name,
  );
  for (const { key, n } of expected) {
    const mine = runs.filter((r) => keyOf(r) === key);
    assert.equal(mine.length, n, `${name} ${key}: runs`);
    for (const r of mine) {
      assert.ok(r.accuracy >= 0 && r.accuracy <= 1, `${key}: ${r.accuracy}`);
      assert.equal(r.dataset, spec.dataset);
      assert.equal(r.scale, "smoke");
    }
  }
  for (const c of cells) {
    assert.ok(c.mean >= 0 && c.mean <= 100, `${keyOf(c)}: mean ${c.mean}`);
  }
  // Distilled cells carry their source into runs.csv.
  for (
    const r of runs.filter((r) => r.method === "mtt" || r.method === "mct")
  ) {
    assert.equal(typeof r.settings["source"], "string");
  }
  assert.equal(back.runs.length, runs.length);
  // A line about stage outputs from other code states may follow.
  assert.deepEqual(back.deviations.slice(0, s.deviations.length), s.deviations);

  // Provenance names the commit and the backend.
  const p = back.provenance;
  assert.match(p.commit, /^([0-9a-f]{40}|unknown)$/);
  assert.ok(report.includes(p.commit.slice(0, 12)), "commit in report.md");
  assert.ok(p.backend.length > 0);
  assert.ok(report.includes(p.backend), "backend in report.md");
  assert.equal(p.command, "test");
  assert.ok(report.includes(s.summary), "summary in report.md");

  // Every chart the report links exists and is an SVG document.
  const charts = [...report.matchAll(/\]\(\.\/([^)]+\.svg)\)/g)].map((m) =>
    m[1]!
  );
  assert.ok(charts.length > 0, `${name}: no chart linked`);
  for (const c of charts) {
    assert.match(await read(c), /^<svg[\s>]/, c);
  }

  if (spec.kind === "storage") {
    const rows = parseStorageCsv(await read("storage.csv"));
    const by = (src: string) => rows.filter((r) => r.source === src);
    assert.equal(by("measured").length, 1);
    assert.equal(by("measured")[0]!.experts, s.experts);
    assert.ok(by("measured")[0]!.numParams > 0);
    assert.equal(by("formula").length, 3);
    assert.equal(by("published").length, 3);
    for (const r of rows) assert.ok(r.ratio > 1, `${r.dataset} ${r.source}`);
    assert.ok(charts.includes("storage.svg"));
  } else {
    assert.ok(charts.includes(`accuracy-${spec.dataset}.svg`));
  }

  if (s.evalEvery > 0) {
    const points = parseConvergenceCsv(await read("convergence.csv"));
    const iterations = spec.scales.smoke.distill.iterations!;
    for (const c of s.cells) {
      const curve = points.filter((pt) => keyOf(pt) === keyOf(c))
        .sort((a, b) => a.iteration - b.iteration);
      const at: number[] = [];
      for (let it = 0; it < iterations; it += s.evalEvery) at.push(it);
      assert.deepEqual(curve.map((pt) => pt.iteration), [...at, iterations]);
      assert.deepEqual(
        curve.map((pt) => pt.n),
        [...at.map(() => s.evalEveryRuns), evalAt(s, c.ipc).runs],
      );
      const cell = back.cells.find((x) => keyOf(x) === keyOf(c));
      assert.ok(
        cell?.bestOverCheckpoints,
        `${keyOf(c)}: best over checkpoints`,
      );
    }
    assert.ok(charts.includes(`convergence-${spec.dataset}.svg`));
  } else {
    assert.ok(!(await exists(path.join(dir, "convergence.csv"))));
  }
}

for (const name of Object.keys(TABLES)) {
  const onDebian = name === "fashion-mnist";
  Deno.test({
    name: `reproduce ${name} at smoke scale writes a complete result folder`,
    ignore: onDebian && !debian,
    fn: () => runSmoke(name, onDebian ? emptyRoot : fixtures),
  });
}

Deno.test("reproduce: a missing data set stops with where to place it", async () => {
  const spec = await loadTable("cifar10");
  const archive = path.join(emptyRoot, "cifar-10-binary.tar.gz");
  const out = path.join(root, "missing-results");
  await assert.rejects(
    reproduce({
      spec,
      scale: "smoke",
      resultsRoot: out,
      dataRoot: emptyRoot,
      download: false,
      quiet: true,
      command: "test",
      yes: true,
      log: () => {},
    }),
    (err: unknown) => {
      assert.ok(err instanceof MissingDataError, String(err));
      assert.ok(err.message.includes(archive), err.message);
      assert.match(err.message, /by hand and place it at/);
      return true;
    },
  );
  assert.ok(!(await exists(out)), "no result folder for a failed run");

  // The command line prints that message alone and exits with status 2.
  const cli = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net",
      "--allow-sys",
      "--allow-ffi",
      "--allow-run",
      new URL("../../src/cli/reproduce.ts", import.meta.url).pathname,
      "cifar10",
      "--scale",
      "smoke",
      "--data-root",
      emptyRoot,
      "--results",
      out,
      "--no-download",
    ],
    env: { TRAJBENCH_WORK: path.join(root, "work") },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(cli.stderr);
  assert.equal(cli.code, 2, stderr);
  assert.match(stderr, /^error: .*cifar-10-binary\.tar\.gz/m);
  assert.ok(stderr.includes(archive), stderr);
  assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
});
