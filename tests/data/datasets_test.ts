import assert from "node:assert/strict";
import * as path from "node:path";
import {
  CIFAR100_DC_STATS,
  DATASET_NAMES,
  datasetSpec,
  isDatasetName,
  normalizationStats,
  parseDatasetName,
} from "../../src/data/datasets.ts";
import { archiveUrl, defaultDataRoot } from "../../src/data/paths.ts";
import { InputError } from "../../src/util/errors.ts";

/** Run `fn` with environment variables set (undefined deletes), then restore. */
function withEnv(vars: Record<string, string | undefined>, fn: () => void) {
  const saved = Object.fromEntries(
    Object.keys(vars).map((k) => [k, Deno.env.get(k)]),
  );
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) Deno.env.delete(k);
      else Deno.env.set(k, val);
    }
  };
  apply(vars);
  try {
    fn();
  } finally {
    apply(saved);
  }
}

Deno.test("registry: unknown name is an InputError listing the valid names", () => {
  assert.throws(() => datasetSpec("mnist"), (err: unknown) => {
    assert.ok(err instanceof InputError);
    assert.match(err.message, /unknown data set "mnist"/);
    for (const n of DATASET_NAMES) assert.ok(err.message.includes(n), n);
    return true;
  });
  assert.throws(() => parseDatasetName("CIFAR10", "--dataset"), /--dataset/);
  assert.equal(isDatasetName("tiny"), true);
  assert.equal(isDatasetName("toString"), false);
});

Deno.test("registry: shapes, classes and published sizes", () => {
  const shapes = DATASET_NAMES.map((n) => {
    const s = datasetSpec(n);
    return [
      n,
      s.height,
      s.width,
      s.channels,
      s.numClasses,
      s.counts.train,
      s.counts.test,
    ];
  });
  assert.deepEqual(shapes, [
    ["cifar10", 32, 32, 3, 10, 50000, 10000],
    ["cifar100", 32, 32, 3, 100, 50000, 10000],
    ["tiny", 64, 64, 3, 200, 100000, 10000],
    ["fashion-mnist", 28, 28, 1, 10, 60000, 10000],
  ]);
  for (const n of ["cifar10", "cifar100", "fashion-mnist"]) {
    const s = datasetSpec(n);
    assert.equal(s.classNames.length, s.numClasses, n);
    assert.equal(new Set(s.classNames).size, s.numClasses, `${n} names unique`);
  }
  const fine = datasetSpec("cifar100").classNames;
  assert.deepEqual(
    [...fine],
    [...fine].sort(),
    "CIFAR-100 fine names are alphabetical",
  );
  assert.equal(fine[0], "apple");
  assert.equal(fine[99], "worm");
  assert.equal(datasetSpec("fashion-mnist").classNames[9], "Ankle boot");
});

Deno.test("registry: reference normalisation, with CIFAR-100's quirk", () => {
  assert.deepEqual(normalizationStats("cifar10"), {
    mean: [0.4914, 0.4822, 0.4465],
    std: [0.2023, 0.1994, 0.2010],
  });
  assert.deepEqual(
    normalizationStats("cifar100"),
    normalizationStats("cifar10"),
  );
  assert.deepEqual(
    normalizationStats("cifar100", { cifar100Stats: "reference" }),
    normalizationStats("cifar10"),
  );
  assert.deepEqual(normalizationStats("cifar100", { cifar100Stats: "dc" }), {
    mean: [0.5071, 0.4866, 0.4409],
    std: [0.2673, 0.2564, 0.2762],
  });
  assert.equal(
    normalizationStats("cifar100", { cifar100Stats: "dc" }),
    CIFAR100_DC_STATS,
  );
  // The option only concerns CIFAR-100.
  assert.deepEqual(
    normalizationStats("cifar10", { cifar100Stats: "dc" }),
    normalizationStats("cifar10"),
  );
  assert.deepEqual(normalizationStats("tiny").mean, [0.485, 0.456, 0.406]);
  assert.deepEqual(normalizationStats("tiny").std, [0.229, 0.224, 0.225]);
  assert.deepEqual(normalizationStats("fashion-mnist"), {
    mean: [0.2861],
    std: [0.3530],
  });
  assert.throws(
    // @ts-expect-error: checking the run-time guard
    () => normalizationStats("cifar100", { cifar100Stats: "own" }),
    /cifar100Stats/,
  );
});

Deno.test("registry: official archives and their published MD5s", () => {
  const md5s = Object.fromEntries(
    DATASET_NAMES.flatMap((n) =>
      datasetSpec(n).archives.map((a) => [a.fileName, a.md5])
    ),
  );
  assert.deepEqual(md5s, {
    "cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530",
    "cifar-100-binary.tar.gz": "03b5dce01913d631647c71ecec9e9cb8",
    "tiny-imagenet-200.zip": "90528d7ca1a48142e341f4ef8d21d0de",
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
  });
  const cifar = datasetSpec("cifar10").archives[0]!;
  assert.equal(
    archiveUrl(cifar, ""),
    `${cifar.baseUrl}/cifar-10-binary.tar.gz`,
  );
});

Deno.test("paths: cache folder from TRAJBENCH_DATA, XDG_CACHE_HOME, then HOME", () => {
  withEnv({
    TRAJBENCH_DATA: "/srv/data",
    XDG_CACHE_HOME: "/xdg",
    HOME: "/home/u",
  }, () => {
    assert.equal(defaultDataRoot(), "/srv/data");
  });
  withEnv({
    TRAJBENCH_DATA: undefined,
    XDG_CACHE_HOME: "/xdg",
    HOME: "/home/u",
  }, () => {
    assert.equal(defaultDataRoot(), path.join("/xdg", "trajbench", "data"));
  });
  withEnv({
    TRAJBENCH_DATA: undefined,
    XDG_CACHE_HOME: undefined,
    HOME: "/home/u",
  }, () => {
    assert.equal(defaultDataRoot(), "/home/u/.cache/trajbench/data");
  });
});

Deno.test("paths: the mirror option beats TRAJBENCH_MIRROR, which beats the official URL", () => {
  const tiny = datasetSpec("tiny").archives[0]!;
  withEnv({ TRAJBENCH_MIRROR: "http://127.0.0.1:9/env/" }, () => {
    assert.equal(
      archiveUrl(tiny),
      "http://127.0.0.1:9/env/tiny-imagenet-200.zip",
    );
    assert.equal(
      archiveUrl(tiny, "http://127.0.0.1:9/opt"),
      "http://127.0.0.1:9/opt/tiny-imagenet-200.zip",
    );
  });
  withEnv({ TRAJBENCH_MIRROR: undefined }, () => {
    assert.equal(
      archiveUrl(tiny),
      "http://cs231n.stanford.edu/tiny-imagenet-200.zip",
    );
  });
});
