/** report.md: the table, published values, provenance and citation. */
import assert from "node:assert/strict";
import {
  BEST_OVER_CHECKPOINTS_LABEL,
  NOT_TRANSCRIBED_TEXT,
  renderReport,
} from "../../src/report/markdown.ts";
import { parsePaperValues } from "../../src/report/paper_values.ts";
import type { TableResult } from "../../src/report/types.ts";
import { sampleResult } from "./_fixtures.ts";

function lineOf(md: string, start: string): string {
  const line = md.split("\n").find((l) => l.startsWith(start));
  assert.ok(line !== undefined, `no line starting with ${start}`);
  return line;
}

Deno.test("main table in the paper's layout with paper value and delta", () => {
  const md = renderReport(sampleResult());
  assert.equal(
    lineOf(md, "| Method | IPC 1 |"),
    "| Method | IPC 1 | paper | Δ | IPC 10 | paper | Δ | IPC 50 | paper | Δ " +
      "| All images | paper | Δ |",
  );
  assert.equal(
    lineOf(md, "| MTT |"),
    "| MTT | 45.75 ± 0.61 (3) | 46.3 ± 0.8 | −0.55 | 64.67 ± 0.61 (3) | " +
      "65.3 ± 0.7 | −0.63 | 70.71 ± 0.52 (3) | 71.6 ± 0.2 | −0.89 | – | – | – |",
  );
  // Rows: baseline, methods, full data set.
  const rows = md.split("\n").filter((l) =>
    /^\| (Random|MTT|MCT|Full dataset) \| \d/.test(l) ||
    /^\| (Random|MTT|MCT|Full dataset) \| – \| – \| – \| – \|/.test(l)
  ).map((l) => l.split(" | ")[0]);
  assert.deepEqual(rows.slice(0, 4), [
    "| Random",
    "| MTT",
    "| MCT",
    "| Full dataset",
  ]);
  assert.match(
    lineOf(md, "| Random |"),
    /\| 14\.41 ± 0\.64 \(3\) \| 14\.4 ± 2\.0 \| \+0\.01 \|/,
  );
  assert.match(
    lineOf(md, "| Full dataset |"),
    /\| 84\.78 ± 0\.18 \(2\) \| 84\.8 ± 0\.1 \| −0\.02 \|$/,
  );
});

Deno.test("MCT published values read 'not transcribed' unless supplied", () => {
  const md = renderReport(sampleResult());
  const mct = lineOf(md, "| MCT |");
  assert.equal(mct.split(NOT_TRANSCRIBED_TEXT).length - 1, 3);
  // One run: no std is claimed.
  assert.ok(mct.includes("72.01 ± – (1)"));
  assert.ok(md.includes("paper_values.json"));
  assert.ok(md.includes("`<dataset>/<method>/<ipc>[/<variant>]`"));

  const pv = parsePaperValues(
    { "cifar10/mct/10": { mean: 66.0, std: 0.5, source: "MCT Table 1" } },
    "results/cifar10/paper_values.json",
  );
  const md2 = renderReport(sampleResult(), { paperValues: pv });
  const mct2 = lineOf(md2, "| MCT |");
  assert.equal(mct2.split(NOT_TRANSCRIBED_TEXT).length - 1, 2);
  assert.ok(mct2.includes("| 66.16 ± 0.25 (2) | 66.0 ± 0.5 | +0.16 |"));
  assert.ok(md2.includes("`results/cifar10/paper_values.json`"));
  assert.ok(md2.includes("MCT Table 1 (results/cifar10/paper_values.json)"));
});

Deno.test("best over checkpoints is a separate, labelled table", () => {
  const md = renderReport(sampleResult());
  assert.equal(
    BEST_OVER_CHECKPOINTS_LABEL,
    "Best over checkpoints (selected on test data)",
  );
  const at = md.indexOf(`## ${BEST_OVER_CHECKPOINTS_LABEL}`);
  assert.ok(at > md.indexOf("## Test accuracy"));
  const section = md.slice(at, md.indexOf("\n## ", at + 3));
  assert.ok(section.includes("selected on test data"));
  assert.ok(section.includes("| MTT | 46.25 | 400 | 46.3 ± 0.8 | −0.05 |"));
  // Baselines have no checkpoints.
  assert.ok(!section.includes("| Random |"));
  // The main table never shows the best-over-checkpoint value.
  assert.ok(!md.slice(0, at).includes("46.25"));

  const none = sampleResult();
  none.cells = none.cells.map((c) => ({ ...c, bestOverCheckpoints: null }));
  assert.ok(
    renderReport(none).includes("No intermediate checkpoints were evaluated"),
  );
});

Deno.test("summary, deviations, and every provenance field", () => {
  const r = sampleResult();
  const md = renderReport(r);
  assert.ok(md.includes(r.summary));
  for (const d of r.deviations) assert.ok(md.includes(`- ${d}\n`), d);
  const p = r.provenance;
  assert.ok(md.includes(`| Commit | \`${p.commit}\` (**dirty`));
  assert.ok(md.includes(`| Command | \`${p.command}\` |`));
  assert.ok(md.includes(`| Deno | ${p.deno} |`));
  assert.ok(md.includes(`| TensorFlow.js | ${p.tfjs} |`));
  assert.ok(md.includes(`| Backend | ${p.backend} |`));
  assert.ok(md.includes(`| CPU | ${p.cpu} |`));
  assert.ok(md.includes(`| GPU | none |`));
  assert.ok(md.includes(`| OS | ${p.os} |`));
  for (const d of p.datasets) assert.ok(md.includes(d.sha256));
  for (const t of p.trajectories) {
    assert.ok(md.includes(t.hash) && md.includes(t.dir));
  }
  assert.ok(md.includes("| distill | 3301.0 | 0:55:01 |"));
  assert.ok(md.includes("| total | 4208.6 | 1:10:09 |"));
  assert.ok(
    md.includes(
      "<details>\n<summary>Resolved configuration (JSON)</summary>\n\n" +
        '```json\n{\n  "distill": {\n    "synSteps": 10,',
    ),
  );
  // Seeds of every cell.
  assert.ok(md.includes("| cifar10 MTT IPC 1 | 500 | 7 | 1015, 1016, 1017 |"));

  const clean = sampleResult();
  clean.provenance = { ...clean.provenance, dirty: false, gpu: "NVIDIA H200" };
  const md2 = renderReport(clean);
  assert.ok(
    md2.includes("` (clean) |") && md2.includes("| GPU | NVIDIA H200 |"),
  );
  assert.ok(!md2.includes("uncommitted"));
});

Deno.test("charts linked relatively; convergence and storage when present", () => {
  const md = renderReport(sampleResult());
  assert.ok(md.includes("](./accuracy-cifar10.svg)"));
  assert.ok(md.includes("](./convergence-cifar10.svg)"));
  assert.ok(md.includes("](./storage.svg)"));
  assert.ok(md.includes("## Convergence"));
  assert.ok(md.includes("| MCT IPC 10 | 6 | 50.00 ± 0.40 @ 0 |"));
  assert.ok(md.includes("## Storage of expert trajectories"));
  assert.ok(md.includes("| 12.29× |"));

  const bare: TableResult = { ...sampleResult(), convergence: [], storage: [] };
  const md2 = renderReport(bare);
  assert.ok(!md2.includes("## Convergence"));
  assert.ok(!md2.includes("## Storage"));
  assert.ok(!md2.includes("storage.svg"));
});

Deno.test("how to cite: both papers and the suite", () => {
  const md = renderReport(sampleResult());
  const cite = md.slice(md.indexOf("## How to cite"));
  assert.ok(cite.includes("@inproceedings{cazenavette2022distillation"));
  assert.ok(
    cite.includes("Dataset Distillation by Matching Training Trajectories"),
  );
  assert.ok(
    cite.includes(
      "Cazenavette, George and Wang, Tongzhou and Torralba, Antonio and " +
        "Efros, Alexei A. and Zhu, Jun-Yan",
    ),
  );
  assert.ok(
    cite.includes(
      "Towards Stable and Storage-efficient Dataset Distillation: Matching " +
        "Convexified Trajectory",
    ),
  );
  assert.ok(cite.includes("@software{trajbench"));
  assert.ok(cite.includes("CITATION.cff"));
  assert.ok(cite.includes(sampleResult().provenance.commit));
});

Deno.test("user text cannot break tables or code fences", () => {
  const r = sampleResult();
  r.provenance = {
    ...r.provenance,
    command: "deno task reproduce `cifar10` | tee log",
    config: { note: "```\n# not a heading" },
  };
  r.cells = r.cells.map((c) =>
    c.method === "mct" ? { ...c, variant: "a|b" } : c
  );
  const md = renderReport(r);
  assert.ok(md.includes("| MCT (a\\|b) |"));
  assert.ok(md.includes("``deno task reproduce `cifar10` \\| tee log``"));
  // The config fence is longer than any backtick run inside it.
  assert.ok(md.includes("````json\n"));
  assert.equal(renderReport(r), md, "deterministic");
});
