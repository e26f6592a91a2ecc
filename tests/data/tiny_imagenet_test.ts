import assert from "node:assert/strict";
import * as path from "node:path";
import {
  detectTinyValLayout,
  readTinyImageNet,
} from "../../src/data/tiny_imagenet.ts";
import type { ImageSet } from "../../src/data/types.ts";
import { CorruptFileError, InputError } from "../../src/util/errors.ts";
import {
  encodeColourJpeg,
  removeDir,
  tempDir,
  TINY_SORTED,
  tinyFixture,
  type TinyFixtureLayout,
  type TinyImage,
  tinyPixel,
  writeTree,
} from "./_fixtures.ts";

async function withTiny(
  layout: TinyFixtureLayout,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const root = await tempDir();
  try {
    await writeTree(root, tinyFixture(layout).tree);
    await fn(path.join(root, "tiny-imagenet-200"));
  } finally {
    await removeDir(root);
  }
}

/** Colour JPEGs are lossy: allow 3 levels; greyscale ones decode exactly. */
function assertImages(set: ImageSet, expected: TinyImage[]): void {
  assert.equal(set.count, expected.length);
  assert.deepEqual([...set.labels], expected.map((e) => e.label));
  for (const [i, img] of expected.entries()) {
    const tol = img.grey ? 0 : 3;
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) {
        for (let c = 0; c < 3; c++) {
          const got = set.pixels[((i * 64 + y) * 64 + x) * 3 + c]!;
          const want = tinyPixel(img, y, x, c);
          if (Math.abs(got - want) > tol) {
            assert.fail(
              `image ${i} (${y},${x}) channel ${c}: ${got}, expected ${want}`,
            );
          }
        }
      }
    }
  }
}

Deno.test("tiny: train images in sorted-wnid class order, NHWC, names from words.txt", async () => {
  await withTiny("flat", async (dir) => {
    const train = await readTinyImageNet(dir, "train", { quiet: true });
    assert.deepEqual(
      [
        train.name,
        train.split,
        train.height,
        train.width,
        train.channels,
        train.numClasses,
      ],
      ["tiny", "train", 64, 64, 3, 3],
    );
    assertImages(train, tinyFixture().train);
    assert.deepEqual(train.classNames, [
      "goldfish, Carassius auratus",
      "fire salamander",
      "bullfrog",
    ]);
  });
});

Deno.test("tiny: a greyscale JPEG becomes three equal channels", async () => {
  const fixture = tinyFixture();
  const greyIndex = fixture.train.findIndex((t) => t.grey);
  assert.ok(greyIndex >= 0);
  const jpegBytes = fixture.tree[
    `tiny-imagenet-200/train/${TINY_SORTED[1]}/images/${TINY_SORTED[1]}_0.JPEG`
  ]!;
  // The fixture really is one-component: SOF0 at a known offset after DQT.
  const sof = jpegBytes.indexOf(0xc0, 2);
  assert.equal(jpegBytes[sof - 1], 0xff);
  assert.equal(jpegBytes[sof + 8], 1, "SOF0 component count");
  await withTiny("flat", async (dir) => {
    const train = await readTinyImageNet(dir, "train", { quiet: true });
    const base = greyIndex * 64 * 64 * 3;
    const img = train.pixels.subarray(base, base + 64 * 64 * 3);
    for (let p = 0; p < 64 * 64; p++) {
      assert.equal(img[p * 3], img[p * 3 + 1]);
      assert.equal(img[p * 3], img[p * 3 + 2]);
    }
    assert.equal(
      img[(9 * 64 + 17) * 3],
      tinyPixel(fixture.train[greyIndex]!, 9, 17, 0),
    );
  });
});

Deno.test("tiny: all three validation layouts load identically, class-major", async () => {
  const results: ImageSet[] = [];
  for (
    const layout of ["flat", "class-folders", "images-class-folders"] as const
  ) {
    await withTiny(layout, async (dir) => {
      assert.equal(await detectTinyValLayout(dir), layout);
      const test = await readTinyImageNet(dir, "test", { quiet: true });
      assert.equal(test.split, "test");
      assertImages(test, tinyFixture(layout).test);
      assert.deepEqual([...test.labels], [0, 0, 1, 1, 2, 2]);
      results.push(test);
    });
  }
  assert.equal(results[1]!.sha256, results[0]!.sha256);
  assert.equal(results[2]!.sha256, results[0]!.sha256);
});

Deno.test("tiny: without words.txt the class names are the wnids", async () => {
  await withTiny("flat", async (dir) => {
    await Deno.remove(path.join(dir, "words.txt"));
    const test = await readTinyImageNet(dir, "test", { quiet: true });
    assert.deepEqual(test.classNames, TINY_SORTED);
  });
});

/** Expect `promise` to reject with `type`, a message naming `subject`, and `pattern`. */
async function rejectsNaming(
  promise: Promise<unknown>,
  type: typeof InputError,
  subject: string,
  pattern: RegExp,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof type, `${err}`);
    assert.ok(
      err.message.includes(subject),
      `"${err.message}" should name ${subject}`,
    );
    assert.match(err.message, pattern);
    return true;
  });
}

Deno.test("tiny: missing folders and files are InputErrors naming them", async () => {
  await withTiny("flat", async (dir) => {
    const cls = path.join(dir, "train", TINY_SORTED[2]!);
    await Deno.remove(cls, { recursive: true });
    await rejectsNaming(
      readTinyImageNet(dir, "train", { quiet: true }),
      InputError,
      path.join(cls, "images"),
      /missing folder \(class n03000003 from wnids\.txt\)/,
    );
  });
  await withTiny("class-folders", async (dir) => {
    const cls = path.join(dir, "val", TINY_SORTED[0]!);
    await Deno.remove(cls, { recursive: true });
    await rejectsNaming(
      readTinyImageNet(dir, "test", { quiet: true }),
      InputError,
      path.join(cls, "images"),
      /missing folder/,
    );
  });
  await withTiny("flat", async (dir) => {
    await Deno.remove(path.join(dir, "wnids.txt"));
    await rejectsNaming(
      readTinyImageNet(dir, "train", { quiet: true }),
      InputError,
      path.join(dir, "wnids.txt"),
      /file not found/,
    );
  });
  await withTiny("flat", async (dir) => {
    await Deno.remove(path.join(dir, "val", "val_annotations.txt"));
    await rejectsNaming(
      readTinyImageNet(dir, "test", { quiet: true }),
      InputError,
      path.join(dir, "val", "val_annotations.txt"),
      /file not found/,
    );
  });
  await rejectsNaming(
    readTinyImageNet("/nonexistent/tiny-imagenet-200", "train"),
    InputError,
    "/nonexistent/tiny-imagenet-200",
    /missing folder/,
  );
});

Deno.test("tiny: a class folder that wnids.txt does not list is an error", async () => {
  await withTiny("flat", async (dir) => {
    const stray = path.join(dir, "train", "n09999999");
    await Deno.mkdir(path.join(stray, "images"), { recursive: true });
    await rejectsNaming(
      readTinyImageNet(dir, "train", { quiet: true }),
      InputError,
      stray,
      /not a class listed in wnids\.txt/,
    );
  });
});

Deno.test("tiny: validation image/label count mismatch and bad annotations", async () => {
  const annotations = (dir: string) =>
    path.join(dir, "val", "val_annotations.txt");
  await withTiny("flat", async (dir) => {
    await Deno.remove(path.join(dir, "val", "images", "val_3.JPEG"));
    await rejectsNaming(
      readTinyImageNet(dir, "test", { quiet: true }),
      CorruptFileError,
      annotations(dir),
      /image\/label count mismatch: 6 labels but 5 JPEG images/,
    );
  });
  await withTiny("flat", async (dir) => {
    const text = await Deno.readTextFile(annotations(dir));
    await Deno.writeTextFile(
      annotations(dir),
      text.replace("n02000002", "n07777777"),
    );
    await rejectsNaming(
      readTinyImageNet(dir, "test", { quiet: true }),
      CorruptFileError,
      annotations(dir),
      /line 3 .* does not name an image and a class from wnids\.txt/,
    );
  });
  await withTiny("flat", async (dir) => {
    const text = await Deno.readTextFile(annotations(dir));
    await Deno.writeTextFile(
      annotations(dir),
      text.replace("val_5.JPEG", "val_9.JPEG"),
    );
    await rejectsNaming(
      readTinyImageNet(dir, "test", { quiet: true }),
      CorruptFileError,
      annotations(dir),
      /has no label for .*val_5\.JPEG/,
    );
  });
});

Deno.test("tiny: undecodable or wrongly sized JPEGs are CorruptFileErrors naming the file", async () => {
  await withTiny("flat", async (dir) => {
    const file = path.join(
      dir,
      "train",
      TINY_SORTED[0]!,
      "images",
      `${TINY_SORTED[0]}_1.JPEG`,
    );
    await Deno.writeFile(file, encodeColourJpeg(32, 32, () => [1, 2, 3]));
    await rejectsNaming(
      readTinyImageNet(dir, "train", { quiet: true }),
      CorruptFileError,
      file,
      /image is 32x32, expected 64x64/,
    );
    const good = await Deno.readFile(
      path.join(
        dir,
        "train",
        TINY_SORTED[0]!,
        "images",
        `${TINY_SORTED[0]}_0.JPEG`,
      ),
    );
    await Deno.writeFile(file, good.subarray(0, 200));
    await rejectsNaming(
      readTinyImageNet(dir, "train", { quiet: true }),
      CorruptFileError,
      file,
      /cannot decode JPEG/,
    );
  });
});

Deno.test("tiny: the published image count can be required", async () => {
  await withTiny("flat", async (dir) => {
    await rejectsNaming(
      readTinyImageNet(dir, "train", { quiet: true, expectedCount: 100000 }),
      CorruptFileError,
      dir,
      /train\/ holds 6 images, expected 100000/,
    );
  });
});
