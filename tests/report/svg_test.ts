/** SVG charts: well-formed, deterministic, with the expected marks. */
import assert from "node:assert/strict";
import { applyPaperValues } from "../../src/report/paper_values.ts";
import {
  accuracyChart,
  convergenceChart,
  renderCharts,
  storageChart,
} from "../../src/report/svg.ts";
import type { CellSummary } from "../../src/report/types.ts";
import { sampleConvergence, sampleResult, sampleStorage } from "./_fixtures.ts";
import { assertWellFormedXml, countClass } from "./_xml.ts";

Deno.test("the XML check itself rejects broken documents", () => {
  assertWellFormedXml(`<svg><g><text>a &amp; b</text></g><rect x="1"/></svg>`);
  assert.throws(() => assertWellFormedXml(`<svg><g></svg>`), /closes/);
  assert.throws(() => assertWellFormedXml(`<svg><g>`), /unclosed/);
  assert.throws(() => assertWellFormedXml(`<svg>a & b</svg>`), /unescaped &/);
  assert.throws(() => assertWellFormedXml(`<svg x=1></svg>`), /malformed/);
  assert.throws(() => assertWellFormedXml(`<a/><b/>`), /one root/);
});

function cells(): CellSummary[] {
  return applyPaperValues(sampleResult()).cells;
}

Deno.test("accuracy chart: one bar per cell, error bars where n ≥ 2", () => {
  const svg = accuracyChart(cells(), "cifar10");
  assertWellFormedXml(svg);
  // 3 methods × 3 IPCs; the full data set is a reference line, not a bar.
  assert.equal(countClass(svg, "rect", "bar"), 9);
  // MCT IPC 50 has one run: no whisker.
  assert.equal(countClass(svg, "path", "errorbar"), 8);
  // Published values: MTT and Random at 3 IPCs (MCT is not transcribed).
  assert.equal(countClass(svg, "path", "paper-marker"), 6);
  assert.equal(countClass(svg, "line", "reference-line"), 1);
  for (const label of ["MTT", "MCT", "Random", "Full dataset", "published"]) {
    assert.ok(svg.includes(`>${label}</text>`), `legend ${label}`);
  }
  assert.ok(svg.includes(">Images per class (IPC)</text>"));
  assert.ok(svg.includes(">Test accuracy (%)</text>"));
  assert.ok(svg.includes("MTT, IPC 1: 45.75 ± 0.61 (n=3)"));
  assert.equal(accuracyChart(cells(), "cifar10"), svg, "deterministic");
});

Deno.test("accuracy chart: bar heights follow the means", () => {
  const svg = accuracyChart(cells(), "cifar10");
  const bars = [...svg.matchAll(/class="bar"[^>]*height="([\d.]+)"/g)].map(
    (m) => Number(m[1]),
  );
  // Group IPC 1 in series order MTT, MCT, Random: 45.75 < 47.69, Random last.
  assert.ok(bars[0]! < bars[1]! && bars[2]! < bars[0]!, bars.join(" "));
  // Proportional: MTT IPC 1 / MTT IPC 10 = 45.75 / 64.67.
  assert.ok(Math.abs(bars[0]! / bars[3]! - 45.75 / 64.67) < 0.01);
});

Deno.test("convergence chart: one line and one band per series", () => {
  const svg = convergenceChart(sampleConvergence(), "cifar10");
  assertWellFormedXml(svg);
  assert.equal(countClass(svg, "path", "line"), 4);
  assert.equal(countClass(svg, "path", "band"), 4);
  for (const l of ["MTT IPC 1", "MTT IPC 10", "MCT IPC 1", "MCT IPC 10"]) {
    assert.ok(svg.includes(`>${l}</text>`), l);
  }
  // Six points per line.
  const line = /class="line" d="([^"]+)"/.exec(svg)![1]!;
  assert.equal(line.split(/[ML]/).filter((s) => s.trim() !== "").length, 6);
  // No band when every point has a single run.
  const single = sampleConvergence().map((p) => ({ ...p, n: 1, std: 0 }));
  assert.equal(
    countClass(convergenceChart(single, "cifar10"), "path", "band"),
    0,
  );
});

Deno.test("storage chart: two bars per row, ratios printed, log or linear", () => {
  const rows = sampleStorage();
  const log = storageChart(rows);
  assertWellFormedXml(log);
  assert.equal(countClass(log, "rect", "bar"), 8);
  for (const r of ["12.29×", "12.45×", "12.67×", "12.74×"]) {
    assert.ok(log.includes(`>${r}</text>`), r);
  }
  assert.ok(log.includes(">100 MiB</text>") && log.includes(">10 GiB</text>"));
  assert.ok(log.includes("logarithmic axis"));
  const lin = storageChart(rows, { log: false });
  assertWellFormedXml(lin);
  assert.equal(countClass(lin, "rect", "bar"), 8);
  assert.ok(lin.includes("linear axis") && lin.includes(">0 B</text>"));
  assert.notEqual(lin, log);
  // Same dataset, two sources: bars are labelled by source.
  assert.ok(log.includes(">cifar10 (measured)</text>"));
});

Deno.test("names are escaped and empty inputs still make valid SVG", () => {
  const odd = cells().map((c) => ({
    ...c,
    dataset: "a&b<c>",
    variant: c.method === "mct" ? `ip="2" & <x>` : "",
  }));
  const svg = accuracyChart(odd, "a&b<c>");
  assertWellFormedXml(svg);
  assert.ok(svg.includes("a&amp;b&lt;c&gt;"));
  for (
    const empty of [
      accuracyChart([], "none"),
      convergenceChart([], "none"),
      storageChart([]),
      storageChart([], { log: false }),
    ]
  ) {
    assertWellFormedXml(empty);
    assert.ok(!/NaN|Infinity/.test(empty), "no NaN coordinates");
  }
});

Deno.test("renderCharts: one file per chart, file names from data sets", () => {
  const charts = renderCharts(applyPaperValues(sampleResult()));
  assert.deepEqual(charts.map((c) => c.file), [
    "accuracy-cifar10.svg",
    "convergence-cifar10.svg",
    "storage.svg",
  ]);
  const r = sampleResult();
  const twoNames = {
    ...r,
    cells: [
      ...r.cells,
      ...r.cells.map((c) => ({ ...c, dataset: "CIFAR10" })),
    ],
    convergence: [],
    storage: [],
  };
  assert.deepEqual(renderCharts(twoNames).map((c) => c.file), [
    "accuracy-cifar10.svg",
    "accuracy-cifar10-2.svg",
  ]);
});
