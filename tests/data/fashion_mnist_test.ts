import assert from "node:assert/strict";
import * as path from "node:path";
import { loadDataset } from "../../src/data/load.ts";
import {
  fashionMnistFiles,
  parseIdx,
  readFashionMnist,
} from "../../src/data/fashion_mnist.ts";
import { SYSTEM_FASHION_MNIST_DIR } from "../../src/data/paths.ts";
import { CorruptFileError, InputError } from "../../src/util/errors.ts";
import {
  fashionIdx,
  fashionLabel,
  fashionPixel,
  fashionTree,
  gzip,
  idxBytes,
  removeDir,
  tempDir,
  writeTree,
} from "./_fixtures.ts";

async function withFashion(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir();
  try {
    await writeTree(dir, fashionTree());
    await fn(dir);
  } finally {
    await removeDir(dir);
  }
}

Deno.test("fashion-mnist: idx gzip files load as 28x28x1 with their labels", async () => {
  await withFashion(async (dir) => {
    const train = await readFashionMnist(dir, "train");
    assert.deepEqual(
      [
        train.name,
        train.split,
        train.count,
        train.height,
        train.width,
        train.channels,
        train.numClasses,
      ],
      ["fashion-mnist", "train", 20, 28, 28, 1, 10],
    );
    assert.deepEqual(
      [...train.labels],
      Array.from({ length: 20 }, (_, i) => fashionLabel(i)),
    );
    for (let i = 0; i < train.count; i++) {
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          if (train.pixels[(i * 28 + y) * 28 + x] !== fashionPixel(i, y, x)) {
            assert.fail(`image ${i} pixel (${y},${x})`);
          }
        }
      }
    }
    const test = await readFashionMnist(dir, "test");
    assert.equal(test.count, 10);
    assert.equal(test.split, "test");
    assert.equal(test.classNames[0], "T-shirt/top");
  });
});

Deno.test("fashion-mnist: an already-unpacked file under the .gz name still loads", async () => {
  await withFashion(async (dir) => {
    const raw = fashionIdx(10);
    await Deno.writeFile(
      path.join(dir, "t10k-images-idx3-ubyte.gz"),
      raw.images,
    );
    const set = await readFashionMnist(dir, "test");
    assert.equal(set.count, 10);
    assert.equal(set.pixels[28 * 28 + 1], fashionPixel(1, 0, 1));
  });
});

Deno.test("parseIdx: magic number, dimensions and size are checked", () => {
  const ok = idxBytes([2, 1, 3], Uint8Array.of(1, 2, 3, 4, 5, 6));
  assert.deepEqual(parseIdx(ok, "f", 3).dims, [2, 1, 3]);
  assert.throws(
    () => parseIdx(ok, "f", 1),
    /f: bad idx magic number 0x00000803, expected 0x00000801/,
  );
  assert.throws(
    () => parseIdx(ok.subarray(0, 17), "f", 3),
    /f: wrong file size 17/,
  );
  assert.throws(
    () => parseIdx(ok.subarray(0, 9), "f", 3),
    /f: idx header truncated/,
  );
  assert.throws(() => parseIdx(Uint8Array.of(0, 0), "f", 1), CorruptFileError);
});

Deno.test("fashion-mnist: every damaged file gives an error naming it", async () => {
  const { images: imageName, labels: labelName } = fashionMnistFiles("test");
  const cases: [string, (dir: string) => Promise<void>, string, RegExp][] = [
    [
      "bad magic",
      async (dir) => {
        const raw = fashionIdx(10).images;
        raw[3] = 1;
        await Deno.writeFile(path.join(dir, imageName), gzip(raw));
      },
      imageName,
      /bad idx magic number 0x00000801/,
    ],
    [
      "wrong size",
      async (dir) => {
        const raw = fashionIdx(10).images;
        await Deno.writeFile(
          path.join(dir, imageName),
          gzip(raw.subarray(0, raw.length - 28)),
        );
      },
      imageName,
      /wrong file size 7828 for idx dimensions 10x28x28/,
    ],
    [
      "truncated gzip",
      async (dir) => {
        const gz = gzip(fashionIdx(10).images);
        await Deno.writeFile(
          path.join(dir, imageName),
          gz.subarray(0, gz.length >> 1),
        );
      },
      imageName,
      /gzip data is damaged or truncated/,
    ],
    [
      "count mismatch",
      async (dir) => {
        await Deno.writeFile(
          path.join(dir, labelName),
          gzip(fashionIdx(9).labels),
        );
      },
      labelName,
      /image\/label count mismatch: 9 labels for 10 images/,
    ],
    [
      "label out of range",
      async (dir) => {
        const raw = fashionIdx(10).labels;
        raw[8 + 4] = 10;
        await Deno.writeFile(path.join(dir, labelName), gzip(raw));
      },
      labelName,
      /label 10 of image 4 is outside \[0, 10\)/,
    ],
    [
      "not 28x28",
      async (dir) => {
        await Deno.writeFile(
          path.join(dir, imageName),
          gzip(idxBytes([10, 28, 27], new Uint8Array(10 * 28 * 27))),
        );
      },
      imageName,
      /images are 28x27, expected 28x28/,
    ],
    [
      "missing",
      async (dir) => {
        await Deno.remove(path.join(dir, labelName));
      },
      labelName,
      /file not found/,
    ],
  ];
  for (const [what, damage, file, pattern] of cases) {
    await withFashion(async (dir) => {
      await damage(dir);
      await assert.rejects(readFashionMnist(dir, "test"), (err: unknown) => {
        assert.ok(err instanceof InputError, what);
        assert.ok(
          err.message.includes(path.join(dir, file)),
          `${what}: ${err.message}`,
        );
        assert.match(err.message, pattern, what);
        return true;
      });
    });
  }
});

const hasDebian = await Deno.stat(SYSTEM_FASHION_MNIST_DIR).then(
  () => true,
  () => false,
);
if (!hasDebian) {
  console.warn(
    `skipping the real Fashion-MNIST test: ${SYSTEM_FASHION_MNIST_DIR} is absent ` +
      `(apt-get install dataset-fashion-mnist)`,
  );
}

Deno.test({
  name: "fashion-mnist: Debian's real files (60k/10k, 10 balanced classes)",
  ignore: !hasDebian,
  fn: async () => {
    const emptyCache = await tempDir();
    try {
      for (
        const [split, count] of [["train", 60000], ["test", 10000]] as const
      ) {
        // The cache is empty, so this must find the system copy.
        const set = await loadDataset("fashion-mnist", {
          split,
          root: emptyCache,
          quiet: true,
        });
        assert.deepEqual(
          [set.count, set.height, set.width, set.channels, set.numClasses],
          [count, 28, 28, 1, 10],
        );
        assert.equal(set.pixels.length, count * 784);
        const perClass = new Array(10).fill(0);
        for (const y of set.labels) perClass[y]++;
        assert.deepEqual(perClass, new Array(10).fill(count / 10));
        let min = 255;
        let max = 0;
        let sum = 0;
        for (const v of set.pixels) {
          if (v < min) min = v;
          if (v > max) max = v;
          sum += v;
        }
        assert.deepEqual([min, max], [0, 255]);
        // DC's normalisation mean is 0.2861 (train); the test split is close.
        assert.ok(
          Math.abs(sum / set.pixels.length / 255 - 0.2861) < 0.005,
          `mean ${sum / set.pixels.length / 255}`,
        );
      }
    } finally {
      await removeDir(emptyCache);
    }
  },
});
