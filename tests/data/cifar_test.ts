import assert from "node:assert/strict";
import * as path from "node:path";
import { readCifar10, readCifar100 } from "../../src/data/cifar.ts";
import { datasetSpec } from "../../src/data/datasets.ts";
import { imageSetSha256 } from "../../src/data/image_set.ts";
import type { ImageSet } from "../../src/data/types.ts";
import { CorruptFileError, InputError } from "../../src/util/errors.ts";
import {
  cifar100Coarse,
  cifar100Fine,
  cifar100Tree,
  cifar10Label,
  cifar10Tree,
  cifarPixel,
  removeDir,
  tempDir,
  writeTree,
} from "./_fixtures.ts";

function assertPattern(set: ImageSet): void {
  for (let i = 0; i < set.count; i++) {
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        for (let c = 0; c < 3; c++) {
          const got = set.pixels[((i * 32 + y) * 32 + x) * 3 + c];
          if (got !== cifarPixel(i, y, x, c)) {
            assert.fail(
              `image ${i} (${y},${x}) channel ${c}: ${got} != ${
                cifarPixel(i, y, x, c)
              }`,
            );
          }
        }
      }
    }
  }
}

async function withCifar10(fn: (dir: string) => Promise<void>): Promise<void> {
  const root = await tempDir();
  try {
    await writeTree(root, cifar10Tree());
    await fn(path.join(root, "cifar-10-batches-bin"));
  } finally {
    await removeDir(root);
  }
}

async function withCifar100(fn: (dir: string) => Promise<void>): Promise<void> {
  const root = await tempDir();
  try {
    await writeTree(root, cifar100Tree());
    await fn(path.join(root, "cifar-100-binary"));
  } finally {
    await removeDir(root);
  }
}

Deno.test("cifar10: five train batches in order, CHW records turned into NHWC", async () => {
  await withCifar10(async (dir) => {
    const train = await readCifar10(dir, "train");
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
      ["cifar10", "train", 20, 32, 32, 3, 10],
    );
    assert.equal(train.pixels.length, 20 * 32 * 32 * 3);
    assert.deepEqual(
      [...train.labels],
      Array.from({ length: 20 }, (_, i) => cifar10Label(i)),
    );
    assert.deepEqual(train.classNames, [...datasetSpec("cifar10").classNames]);
    assertPattern(train);
    assert.equal(train.sha256, imageSetSha256(train.pixels, train.labels));

    const test = await readCifar10(dir, "test");
    assert.equal(test.count, 10);
    assert.deepEqual(
      [...test.labels],
      Array.from({ length: 10 }, (_, i) => cifar10Label(i)),
    );
    assertPattern(test);
    assert.notEqual(test.sha256, train.sha256);
  });
});

Deno.test("cifar10: the provenance hash covers pixels and labels", async () => {
  await withCifar10(async (dir) => {
    const a = await readCifar10(dir, "test");
    assert.match(a.sha256, /^[0-9a-f]{64}$/);
    const pixels = a.pixels.slice();
    pixels[5]! ^= 1;
    assert.notEqual(imageSetSha256(pixels, a.labels), a.sha256);
    const labels = a.labels.slice();
    labels[0] = (labels[0]! + 1) % 10;
    assert.notEqual(imageSetSha256(a.pixels, labels), a.sha256);
    assert.equal((await readCifar10(dir, "test")).sha256, a.sha256);
  });
});

Deno.test("cifar100: keeps the fine label (second byte), not the coarse one", async () => {
  await withCifar100(async (dir) => {
    const train = await readCifar100(dir, "train");
    assert.equal(train.count, 200);
    assert.equal(train.numClasses, 100);
    assert.deepEqual(
      [...train.labels],
      Array.from({ length: 200 }, (_, i) => cifar100Fine(i)),
    );
    assert.notDeepEqual(
      [...train.labels],
      Array.from({ length: 200 }, (_, i) => cifar100Coarse(i)),
    );
    assert.equal(
      train.classNames[train.labels[1]!],
      datasetSpec("cifar100").classNames[37],
    );
    assertPattern(train);
    const test = await readCifar100(dir, "test");
    assert.equal(test.count, 100);
    assertPattern(test);
  });
});

Deno.test("cifar100: class names come from fine_label_names.txt when present", async () => {
  await withCifar100(async (dir) => {
    const names = Array.from({ length: 100 }, (_, i) => `class_${i}`);
    await Deno.writeTextFile(
      path.join(dir, "fine_label_names.txt"),
      names.join("\n") + "\n",
    );
    assert.deepEqual((await readCifar100(dir, "test")).classNames, names);
  });
});

Deno.test("cifar: a missing folder or batch file is an InputError naming it", async () => {
  await withCifar10(async (dir) => {
    const gone = path.join(dir, "nope");
    await assert.rejects(readCifar10(gone, "train"), (err: unknown) => {
      assert.ok(err instanceof InputError);
      assert.ok(err.message.includes(gone));
      assert.match(err.message, /missing folder/);
      return true;
    });
    const batch = path.join(dir, "data_batch_3.bin");
    await Deno.remove(batch);
    await assert.rejects(readCifar10(dir, "train"), (err: unknown) => {
      assert.ok(err instanceof InputError);
      assert.ok(err.message.includes(batch), err.message);
      return true;
    });
  });
});

Deno.test("cifar: a file that is not whole records is a CorruptFileError naming it", async () => {
  await withCifar10(async (dir) => {
    const file = path.join(dir, "test_batch.bin");
    const bytes = await Deno.readFile(file);
    await Deno.writeFile(file, bytes.subarray(0, bytes.length - 100));
    await assert.rejects(readCifar10(dir, "test"), (err: unknown) => {
      assert.ok(err instanceof CorruptFileError);
      assert.ok(err.message.includes(file));
      assert.match(err.message, /wrong file size 30630/);
      return true;
    });
    await Deno.writeFile(file, new Uint8Array());
    await assert.rejects(readCifar10(dir, "test"), /wrong file size 0/);
  });
  // CIFAR-100 records are one byte longer: fed to the CIFAR-10 reader the
  // size is wrong rather than a silently misaligned image.
  await withCifar100(async (dir) => {
    await Deno.rename(
      path.join(dir, "test.bin"),
      path.join(dir, "test_batch.bin"),
    );
    await assert.rejects(
      readCifar10(dir, "test"),
      /test_batch\.bin: wrong file size 307400/,
    );
  });
});

Deno.test("cifar: a label out of range is a CorruptFileError naming file and record", async () => {
  await withCifar10(async (dir) => {
    const file = path.join(dir, "data_batch_2.bin");
    const bytes = await Deno.readFile(file);
    bytes[3073 * 2] = 10;
    await Deno.writeFile(file, bytes);
    await assert.rejects(readCifar10(dir, "train"), (err: unknown) => {
      assert.ok(err instanceof CorruptFileError);
      assert.ok(err.message.includes(file));
      assert.match(err.message, /record 2 has label 10/);
      return true;
    });
  });
  await withCifar100(async (dir) => {
    const file = path.join(dir, "train.bin");
    const bytes = await Deno.readFile(file);
    bytes[1] = 100; // fine label
    await Deno.writeFile(file, bytes);
    await assert.rejects(
      readCifar100(dir, "train"),
      /train\.bin: record 0 has label 100 in header byte 1/,
    );
    bytes[1] = 5;
    bytes[3074] = 20; // coarse label of record 1
    await Deno.writeFile(file, bytes);
    await assert.rejects(
      readCifar100(dir, "train"),
      /train\.bin: record 1 has label 20 in header byte 0/,
    );
  });
});

Deno.test("cifar: the published image count can be required", async () => {
  await withCifar10(async (dir) => {
    await assert.rejects(
      readCifar10(dir, "train", { expectedCount: 50000 }),
      (err: unknown) => {
        assert.ok(err instanceof CorruptFileError);
        assert.ok(err.message.includes(dir));
        assert.match(err.message, /holds 20 images .* expected 50000/);
        return true;
      },
    );
    assert.equal(
      (await readCifar10(dir, "train", { expectedCount: 20 })).count,
      20,
    );
  });
});
