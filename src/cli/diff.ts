/**
 * `deno task diff`: compare the `table.csv` files of two commits, of a commit
 * and the working tree, or of two folders, cell by cell.
 *
 * ```sh
 * deno task diff                      # HEAD vs working tree, every table
 * deno task diff v0.1.0               # v0.1.0 vs working tree
 * deno task diff v0.1.0 main --results results/cifar10/paper --tol 0.5
 * deno task diff --a old/results --b new/results
 * ```
 *
 * Without `--results`, every `table.csv` under `results/` on either side is
 * compared. Exit status: 0 when no mean moved beyond the tolerance and no
 * cell appeared or disappeared, 1 when something did, 2 for a usage error, a
 * bad commit or a missing file.
 *
 * @module
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { parseTableCsv } from "../report/csv.ts";
import {
  DEFAULT_TOLERANCE,
  diffTables,
  renderDiff,
  type TableDiff,
} from "../report/diff.ts";
import type { CellSummary } from "../report/types.ts";
import { InputError } from "../util/errors.ts";

/** Usage text printed by `--help` and after a usage error. */
export const USAGE = `Usage:
  deno task diff [<commit-a>] [<commit-b>] [--results DIR] [--tol PP]
  deno task diff --a DIR --b DIR [--tol PP]

Compares table.csv cell by cell (dataset, method, ipc, variant).
  no commit          HEAD vs the working tree
  one commit         that commit vs the working tree
  two commits        commit-a vs commit-b
  --results DIR      one result folder (or table.csv file); default: every
                     table.csv under results/
  --a DIR --b DIR    two folders (or table.csv files) instead of git
  --tol PP           tolerance on |Δ mean| in percentage points (default 1.0)
Exit status: 0 no change, 1 a mean moved beyond --tol or cells appeared or
disappeared, 2 error.`;

/** Where {@link runDiff} works and writes. */
export interface DiffIo {
  /** Folder that relative paths and git run in. */
  cwd: string;
  /** Standard output, one call per line block. */
  print: (text: string) => void;
  /** Standard error. */
  printError: (text: string) => void;
}

interface Args {
  commits: string[];
  results: string | null;
  tol: number;
  a: string | null;
  b: string | null;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const out: Args = {
    commits: [],
    results: null,
    tol: DEFAULT_TOLERANCE,
    a: null,
    b: null,
    help: false,
  };
  const flags = new Set(["--results", "--tol", "--a", "--b"]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      out.help = true;
      continue;
    }
    if (!arg.startsWith("-")) {
      out.commits.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (!flags.has(name)) throw new InputError(name, "unknown flag");
    let val: string;
    if (eq !== -1) val = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) {
        throw new InputError(name, "needs a value");
      }
      val = next;
      i++;
    }
    if (val === "") throw new InputError(name, "needs a value");
    if (name === "--tol") {
      const t = Number(val);
      if (!Number.isFinite(t) || t < 0) {
        throw new InputError(
          "--tol",
          `must be a number >= 0 (percentage points), got ${
            JSON.stringify(val)
          }`,
        );
      }
      out.tol = t;
    } else if (name === "--results") out.results = val;
    else if (name === "--a") out.a = val;
    else out.b = val;
  }
  if (out.commits.length > 2) {
    throw new InputError(
      out.commits.slice(2).join(" "),
      "at most two commits can be compared",
    );
  }
  if ((out.a === null) !== (out.b === null)) {
    throw new InputError(out.a === null ? "--b" : "--a", "needs --a and --b");
  }
  if (out.a !== null && (out.commits.length > 0 || out.results !== null)) {
    throw new InputError(
      "--a/--b",
      "compare two folders or commits, not both; drop the commits/--results",
    );
  }
  return out;
}

async function git(
  cwd: string,
  args: string[],
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  let res: Deno.CommandOutput;
  try {
    res = await new Deno.Command("git", {
      args,
      cwd,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new InputError("git", "not found on PATH");
    }
    throw err;
  }
  const dec = new TextDecoder();
  return {
    ok: res.success,
    stdout: dec.decode(res.stdout),
    stderr: dec.decode(res.stderr).trim(),
  };
}

/** One side of the comparison: a commit or the file system. */
interface Side {
  label: string;
  /** Read a file by repository-relative path; null when it does not exist. */
  read(rel: string): Promise<string | null>;
  /** Repository-relative paths of every `table.csv` under `results/`. */
  tables(): Promise<string[]>;
  /** How a missing file is described. */
  where: string;
}

async function commitSide(top: string, commit: string): Promise<Side> {
  const verify = await git(top, [
    "rev-parse",
    "--verify",
    "--quiet",
    `${commit}^{commit}`,
  ]);
  if (!verify.ok) {
    throw new InputError(commit, "not a commit in this repository");
  }
  const sha = verify.stdout.trim();
  return {
    label: `${commit} (${sha.slice(0, 10)})`,
    where: `at commit ${commit}`,
    async read(rel) {
      const res = await git(top, ["show", `${sha}:${rel}`]);
      return res.ok ? res.stdout : null;
    },
    async tables() {
      const res = await git(top, [
        "ls-tree",
        "-r",
        "--name-only",
        sha,
        "--",
        "results",
      ]);
      if (!res.ok) throw new InputError(commit, res.stderr);
      return res.stdout.split("\n").filter((p) =>
        p === "results/table.csv" || p.endsWith("/table.csv")
      );
    },
  };
}

async function walkTables(root: string, rel: string): Promise<string[]> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await fsp.readdir(path.join(root, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const child = `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...await walkTables(root, child));
    else if (e.name === "table.csv") out.push(child);
  }
  return out;
}

function workTreeSide(top: string): Side {
  return {
    label: "working tree",
    where: "in the working tree",
    async read(rel) {
      try {
        return await Deno.readTextFile(path.join(top, rel));
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return null;
        throw err;
      }
    },
    tables: () => walkTables(top, "results"),
  };
}

function tableFileOf(p: string): string {
  return p.endsWith(".csv") ? p : path.join(p, "table.csv");
}

async function readFolderTable(cwd: string, dir: string): Promise<{
  file: string;
  cells: CellSummary[];
}> {
  const file = tableFileOf(path.resolve(cwd, dir));
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new InputError(file, "file not found");
    }
    throw err;
  }
  return { file, cells: parseTableCsv(text, file) };
}

/**
 * Run the diff command with explicit I/O (used by tests and {@link main}).
 *
 * @param argv command-line arguments, without the program name
 * @param io working folder and output streams
 * @returns the exit status: 0 no change, 1 changed, 2 error
 */
export async function runDiff(
  argv: readonly string[],
  io: DiffIo,
): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (args.help) {
      io.print(USAGE);
      return 0;
    }
    const diffs: { title: string; diff: TableDiff; a: string; b: string }[] =
      [];

    if (args.a !== null && args.b !== null) {
      const a = await readFolderTable(io.cwd, args.a);
      const b = await readFolderTable(io.cwd, args.b);
      diffs.push({
        title: `${a.file} → ${b.file}`,
        diff: diffTables(a.cells, b.cells, { tol: args.tol }),
        a: a.file,
        b: b.file,
      });
    } else {
      const topRes = await git(io.cwd, ["rev-parse", "--show-toplevel"]);
      if (!topRes.ok) {
        throw new InputError(io.cwd, "not inside a git repository");
      }
      const top = topRes.stdout.trim();
      const sideA = await commitSide(top, args.commits[0] ?? "HEAD");
      const sideB = args.commits[1] === undefined
        ? workTreeSide(top)
        : await commitSide(top, args.commits[1]);

      let files: string[];
      const explicit = args.results !== null;
      if (args.results !== null) {
        const abs = tableFileOf(path.resolve(io.cwd, args.results));
        const rel = path.relative(top, abs).split(path.sep).join("/");
        if (rel.startsWith("..") || path.isAbsolute(rel)) {
          throw new InputError(
            args.results,
            `is outside the repository ${top}`,
          );
        }
        files = [rel];
      } else {
        const all = new Set([
          ...await sideA.tables(),
          ...await sideB.tables(),
        ]);
        files = [...all].sort();
        if (files.length === 0) {
          throw new InputError(
            "results/",
            `no table.csv ${sideA.where} or ${sideB.where}`,
          );
        }
      }
      for (const rel of files) {
        const ta = await sideA.read(rel);
        const tb = await sideB.read(rel);
        if (explicit) {
          if (ta === null) throw new InputError(rel, `missing ${sideA.where}`);
          if (tb === null) throw new InputError(rel, `missing ${sideB.where}`);
        }
        const ca = ta === null
          ? []
          : parseTableCsv(ta, `${sideA.label}:${rel}`);
        const cb = tb === null
          ? []
          : parseTableCsv(tb, `${sideB.label}:${rel}`);
        const title = ta === null
          ? `${rel} (new: missing ${sideA.where})`
          : tb === null
          ? `${rel} (removed: missing ${sideB.where})`
          : rel;
        diffs.push({
          title,
          diff: diffTables(ca, cb, { tol: args.tol }),
          a: sideA.label,
          b: sideB.label,
        });
      }
    }

    for (const d of diffs) {
      io.print(
        renderDiff(d.diff, { labelA: d.a, labelB: d.b, title: d.title }),
      );
    }
    return diffs.some((d) => d.diff.changed) ? 1 : 0;
  } catch (err) {
    if (err instanceof InputError || err instanceof RangeError) {
      io.printError(`diff: ${err.message}`);
      if (err instanceof InputError && err.subject.startsWith("-")) {
        io.printError(USAGE);
      }
      return 2;
    }
    throw err;
  }
}

function startDir(): string {
  // `deno task` runs in the folder of deno.json; INIT_CWD is where the user
  // typed the command, which is what relative paths are relative to.
  try {
    return Deno.env.get("INIT_CWD") ?? Deno.cwd();
  } catch {
    return Deno.cwd();
  }
}

/**
 * Entry point of `deno task diff`.
 *
 * @param args command-line arguments, without the program name
 * @returns the exit status: 0 no change, 1 changed, 2 error
 */
export function main(args: string[]): Promise<number> {
  return runDiff(args, {
    cwd: startDir(),
    print: (t) => console.log(t),
    printError: (t) => console.error(t),
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
