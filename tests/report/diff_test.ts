/** Table diff: cell matching, tolerance, folders, commits and the CLI. */
import assert from "node:assert/strict";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { main, runDiff } from "../../src/cli/diff.ts";
import { diffTables, renderDiff } from "../../src/report/diff.ts";
import type { CellSummary, TableResult } from "../../src/report/types.ts";
import { writeResults } from "../../src/report/write.ts";
import { sampleResult } from "./_fixtures.ts";

const REPO = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../..",
);

/** The sample result with one cell's mean shifted by `by` points. */
function shifted(by: number, method = "mtt", ipc = 10): TableResult {
  const r = sampleResult();
  r.cells = r.cells.map((c) =>
    c.method === method && c.ipc === ipc ? { ...c, mean: c.mean + by } : c
  );
  return r;
}

interface Captured {
  code: number;
  out: string;
  err: string;
}

async function run(args: string[], cwd: string): Promise<Captured> {
  let out = "";
  let err = "";
  const code = await runDiff(args, {
    cwd,
    print: (t) => (out += t + "\n"),
    printError: (t) => (err += t + "\n"),
  });
  return { code, out, err };
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "trajbench-diff-" }),
  );
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function movedRows(out: string): string[] {
  return out.split("\n").filter((l) => l.includes("**moved**"));
}

Deno.test("diffTables: moved beyond tolerance, exactly at it, one side only", () => {
  const a = sampleResult().cells;
  const d = diffTables(a, shifted(2).cells);
  assert.equal(d.changed, true);
  assert.deepEqual(d.matched.filter((m) => m.moved).map((m) => m.key), [
    "cifar10/mtt/10",
  ]);
  assert.ok(Math.abs(d.matched.find((m) => m.moved)!.delta - 2) < 1e-9);

  // Two-decimal values exactly 1.00 apart are within a tolerance of 1.0.
  const at = (mean: number): CellSummary[] => [{ ...a[0]!, mean }];
  assert.equal(diffTables(at(65.3), at(64.3)).changed, false);
  assert.equal(diffTables(at(65.3), at(64.29)).changed, true);
  assert.equal(diffTables(at(65.3), at(64.8), { tol: 0.25 }).changed, true);

  const fewer = diffTables(a, a.slice(1));
  assert.equal(fewer.changed, true);
  assert.equal(fewer.onlyInA.length, 1);
  assert.equal(fewer.onlyInB.length, 0);
  assert.throws(() => diffTables([a[0]!, a[0]!], a), /appears twice/);
  assert.throws(() => diffTables(a, a, { tol: -1 }), RangeError);

  const md = renderDiff(diffTables(a, shifted(2).cells), {
    labelA: "HEAD",
    labelB: "working tree",
  });
  assert.ok(md.includes("| cell | a | b | Δ | flag |"));
  assert.ok(
    md.includes(
      "| cifar10 MTT IPC 10 | 64.67 ± 0.61 (3) | 66.67 ± 0.61 (3) | +2.00 | **moved** |",
    ),
  );
  assert.ok(md.includes("**Changed**: 1 of 10 matched cells"));
});

Deno.test("folders differing in one cell: the diff names it and exits 1", async () => {
  await withTemp(async (dir) => {
    const a = path.join(dir, "a");
    const b = path.join(dir, "b");
    await writeResults(a, sampleResult());
    await writeResults(b, shifted(2));
    const res = await run(["--a", a, "--b", b], dir);
    assert.equal(res.code, 1, res.out + res.err);
    const moved = movedRows(res.out);
    assert.equal(moved.length, 1);
    assert.ok(moved[0]!.startsWith("| cifar10 MTT IPC 10 |"));
    assert.ok(moved[0]!.includes("+2.00"));

    // Relative paths and --flag=value work too.
    const rel = await run(["--a=a", "--b=b/table.csv"], dir);
    assert.equal(rel.code, 1);

    // A tighter or looser tolerance decides.
    assert.equal(
      (await run(["--a", a, "--b", b, "--tol", "2.5"], dir)).code,
      0,
    );
  });
});

Deno.test("folders within tolerance exit 0; appeared cells exit 1", async () => {
  await withTemp(async (dir) => {
    const a = path.join(dir, "a");
    const b = path.join(dir, "b");
    await writeResults(a, sampleResult());
    await writeResults(b, shifted(0.5));
    const res = await run(["--a", a, "--b", b], dir);
    assert.equal(res.code, 0, res.out);
    assert.equal(movedRows(res.out).length, 0);
    assert.ok(res.out.includes("No change beyond tolerance"));
    assert.equal(
      (await run(["--a", a, "--b", b, "--tol", "0.1"], dir)).code,
      1,
    );

    const fewer = sampleResult();
    fewer.cells = fewer.cells.filter((c) => c.method !== "random");
    await writeResults(b, fewer);
    const gone = await run(["--a", a, "--b", b], dir);
    assert.equal(gone.code, 1);
    assert.ok(gone.out.includes("Only in a"));
    assert.ok(gone.out.includes("- cifar10 Random IPC 50: 43.67 ± 0.50 (3)"));
  });
});

Deno.test("usage errors exit 2 and say what is wrong", async () => {
  await withTemp(async (dir) => {
    const unknown = await run(["--tolerance", "1"], dir);
    assert.equal(unknown.code, 2);
    assert.ok(unknown.err.includes("--tolerance: unknown flag"));
    assert.ok(unknown.err.includes("Usage:"));

    const missing = await run(["--a", "nope", "--b", "nope2"], dir);
    assert.equal(missing.code, 2);
    assert.ok(missing.err.includes(path.join(dir, "nope", "table.csv")));
    assert.ok(missing.err.includes("file not found"));

    assert.match(
      (await run(["--tol", "x"], dir)).err,
      /--tol: must be a number/,
    );
    assert.match((await run(["--a", "x"], dir)).err, /needs --a and --b/);
    assert.match((await run(["--tol"], dir)).err, /--tol: needs a value/);
    assert.match((await run(["a", "b", "c"], dir)).err, /at most two commits/);
    // Not a git repository.
    assert.match((await run([], dir)).err, /not inside a git repository/);
    assert.equal((await run(["--help"], dir)).code, 0);
  });
});

async function git(cwd: string, ...args: string[]): Promise<string> {
  const res = await new Deno.Command("git", {
    args: [
      "-c",
      "user.name=trajbench test",
      "-c",
      "user.email=test@example.invalid",
      "-c",
      "commit.gpgsign=false",
      ...args,
    ],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(res.stdout);
  if (!res.success) {
    throw new Error(
      `git ${args.join(" ")}: ${new TextDecoder().decode(res.stderr)}`,
    );
  }
  return text;
}

Deno.test("git: commit vs working tree, two commits, bad commit, missing file", async () => {
  await withTemp(async (dir) => {
    await git(dir, "init", "-q");
    const results = path.join(dir, "results", "cifar10", "smoke");
    await writeResults(results, sampleResult());
    await git(dir, "add", "results");
    await git(dir, "commit", "-q", "-m", "first results");

    // Clean tree: nothing moved.
    const clean = await run([], dir);
    assert.equal(clean.code, 0, clean.out + clean.err);
    assert.ok(clean.out.includes("## results/cifar10/smoke/table.csv"));

    // Change one cell in the working tree.
    await writeResults(results, shifted(-3, "mct", 1));
    for (const args of [[], ["HEAD"], ["--results", "results/cifar10/smoke"]]) {
      const res = await run(args, dir);
      assert.equal(res.code, 1, `${args.join(" ")}: ${res.out}${res.err}`);
      const moved = movedRows(res.out);
      assert.equal(moved.length, 1);
      assert.ok(moved[0]!.startsWith("| cifar10 MCT IPC 1 |"), moved[0]);
      assert.ok(moved[0]!.includes("−3.00"));
      assert.ok(res.out.includes("working tree"));
    }
    // Relative to a subfolder, as typed there.
    const sub = await run(
      ["--results", "smoke"],
      path.join(dir, "results", "cifar10"),
    );
    assert.equal(sub.code, 1, sub.err);

    await git(dir, "commit", "-q", "-am", "second results");
    const two = await run(["HEAD~1", "HEAD"], dir);
    assert.equal(two.code, 1, two.err);
    assert.equal(movedRows(two.out).length, 1);
    assert.equal((await run(["HEAD"], dir)).code, 0);
    assert.equal((await run(["HEAD~1", "HEAD~1"], dir)).code, 0);

    const bad = await run(["no-such-commit"], dir);
    assert.equal(bad.code, 2);
    assert.ok(bad.err.includes("no-such-commit: not a commit"));

    const missing = await run(["--results", "results/cifar100/smoke"], dir);
    assert.equal(missing.code, 2);
    assert.ok(
      missing.err.includes(
        "results/cifar100/smoke/table.csv: missing at commit HEAD",
      ),
      missing.err,
    );

    // A new table in the working tree: its cells appeared.
    await writeResults(path.join(dir, "results", "cifar100", "smoke"), {
      ...sampleResult(),
      cells: sampleResult().cells.map((c) => ({ ...c, dataset: "cifar100" })),
    });
    const appeared = await run([], dir);
    assert.equal(appeared.code, 1);
    assert.ok(appeared.out.includes("results/cifar100/smoke/table.csv (new"));
    assert.ok(appeared.out.includes("Only in b"));
  });
});

Deno.test("the diff entry point runs as a program with the task's permissions", async () => {
  await withTemp(async (dir) => {
    await git(dir, "init", "-q");
    const results = path.join(dir, "results", "cifar10", "smoke");
    await writeResults(results, sampleResult());
    await git(dir, "add", "results");
    await git(dir, "commit", "-q", "-m", "results");
    await writeResults(results, shifted(1.5, "random", 50));
    const res = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--config",
        path.join(REPO, "deno.json"),
        "--allow-read",
        "--allow-run=git",
        "--allow-env=INIT_CWD",
        path.join(REPO, "src", "cli", "diff.ts"),
      ],
      cwd: dir,
      // `deno task test` sets INIT_CWD to the checkout; the program must
      // look where it is started, as `deno task diff` would there.
      env: { INIT_CWD: dir },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(res.stdout);
    assert.equal(res.code, 1, new TextDecoder().decode(res.stderr));
    assert.ok(movedRows(out)[0]!.startsWith("| cifar10 Random IPC 50 |"));
    // main() is the same function the program calls.
    assert.equal(typeof main, "function");
  });
});
