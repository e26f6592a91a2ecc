import assert from "node:assert/strict";
import * as path from "node:path";
import { downloadFile, extractArchive } from "../../src/data/download.ts";
import { loadDataset } from "../../src/data/load.ts";
import {
  CorruptFileError,
  InputError,
  MissingDataError,
} from "../../src/util/errors.ts";
import {
  cifar10Label,
  cifar10Tree,
  cifarPixel,
  closedPortUrl,
  fashionTree,
  gzip,
  md5,
  removeDir,
  type Route,
  tarBytes,
  tarGz,
  TestServer,
  tinyFixture,
  zipBytes,
} from "./_fixtures.ts";

const CIFAR_ARCHIVE = "cifar-10-binary.tar.gz";
const cifarArchive = tarGz(cifar10Tree());
const cifarMd5 = await md5(cifarArchive);
/** Where the test server cuts a dropped connection. */
const CUT = cifarArchive.length >> 2;

/** Run `fn` with a fresh cache folder and a server for `routes`. */
async function withServer(
  routes: Record<string, Route>,
  fn: (server: TestServer, root: string) => Promise<void>,
): Promise<void> {
  const server = new TestServer(routes);
  const root = await Deno.makeTempDir({ prefix: "trajbench-dl-test-" });
  try {
    await fn(server, root);
  } finally {
    await server.close();
    await removeDir(root);
  }
}

async function listing(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("download: CIFAR-10 tar.gz from the mirror, checked, unpacked, loaded, then reused", async () => {
  await withServer(
    { [`/${CIFAR_ARCHIVE}`]: { body: cifarArchive } },
    async (server, root) => {
      const options = {
        split: "train" as const,
        root,
        download: true,
        mirror: server.url,
        md5: { [CIFAR_ARCHIVE]: cifarMd5 },
        verifyCount: false,
        quiet: true,
      };
      const train = await loadDataset("cifar10", options);
      assert.equal(train.count, 20);
      assert.equal(train.labels[7], cifar10Label(7));
      assert.equal(
        train.pixels[((7 * 32 + 5) * 32 + 9) * 3 + 2],
        cifarPixel(7, 5, 9, 2),
      );
      assert.deepEqual(server.requests, [{
        path: `/${CIFAR_ARCHIVE}`,
        range: undefined,
      }]);
      // The archive is kept, nothing half-done is left beside it.
      assert.deepEqual(await listing(root), [
        "cifar-10-batches-bin",
        CIFAR_ARCHIVE,
      ]);
      assert.deepEqual(
        await Deno.readFile(path.join(root, CIFAR_ARCHIVE)),
        cifarArchive,
      );

      const test = await loadDataset("cifar10", { ...options, split: "test" });
      assert.equal(test.count, 10);
      assert.equal(server.requests.length, 1, "the unpacked folder is reused");
    },
  );
});

Deno.test("download: Tiny ImageNet zip from the mirror", async () => {
  const fixture = tinyFixture("flat");
  const zip = zipBytes(fixture.tree);
  await withServer(
    { "/tiny-imagenet-200.zip": { body: zip } },
    async (server, root) => {
      const test = await loadDataset("tiny", {
        split: "test",
        root,
        download: true,
        mirror: server.url,
        md5: { "tiny-imagenet-200.zip": await md5(zip) },
        verifyCount: false,
        quiet: true,
      });
      assert.equal(test.count, 6);
      assert.deepEqual([...test.labels], [0, 0, 1, 1, 2, 2]);
      assert.equal(server.requests.length, 1);
    },
  );
});

Deno.test("download: Fashion-MNIST files from TRAJBENCH_MIRROR when no system copy is used", async () => {
  const tree = fashionTree();
  const routes: Record<string, Route> = {};
  const sums: Record<string, string> = {};
  for (const [name, body] of Object.entries(tree)) {
    routes[`/fm/${name}`] = { body };
    sums[name] = await md5(body);
  }
  await withServer(routes, async (server, root) => {
    const saved = Deno.env.get("TRAJBENCH_MIRROR");
    Deno.env.set("TRAJBENCH_MIRROR", `${server.url}/fm`);
    try {
      const test = await loadDataset("fashion-mnist", {
        split: "test",
        root,
        download: true,
        md5: sums,
        systemDir: null,
        verifyCount: false,
        quiet: true,
      });
      assert.equal(test.count, 10);
    } finally {
      if (saved === undefined) Deno.env.delete("TRAJBENCH_MIRROR");
      else Deno.env.set("TRAJBENCH_MIRROR", saved);
    }
    assert.deepEqual(server.requests.map((r) => r.path).sort(), [
      "/fm/t10k-images-idx3-ubyte.gz",
      "/fm/t10k-labels-idx1-ubyte.gz",
    ]);
    assert.deepEqual(await listing(path.join(root, "fashion-mnist")), [
      "t10k-images-idx3-ubyte.gz",
      "t10k-labels-idx1-ubyte.gz",
    ]);
  });
});

Deno.test("download: a partial .part file is resumed with a Range request", async () => {
  await withServer(
    { "/a.tar.gz": { body: cifarArchive } },
    async (server, root) => {
      const dest = path.join(root, "a.tar.gz");
      const half = cifarArchive.length >> 1;
      await Deno.writeFile(`${dest}.part`, cifarArchive.subarray(0, half));
      await downloadFile(`${server.url}/a.tar.gz`, dest, {
        md5: cifarMd5,
        quiet: true,
      });
      assert.deepEqual(server.requests, [{
        path: "/a.tar.gz",
        range: `bytes=${half}-`,
      }]);
      assert.deepEqual(await Deno.readFile(dest), cifarArchive);
      assert.deepEqual(await listing(root), ["a.tar.gz"]);
    },
  );
});

Deno.test("download: a server that ignores Range gets a clean download", async () => {
  await withServer(
    { "/a.tar.gz": { body: cifarArchive, honourRange: false } },
    async (server, root) => {
      const dest = path.join(root, "a.tar.gz");
      await Deno.writeFile(`${dest}.part`, cifarArchive.subarray(0, 1000));
      await downloadFile(`${server.url}/a.tar.gz`, dest, {
        md5: cifarMd5,
        quiet: true,
      });
      assert.equal(server.requests.length, 1);
      assert.equal(server.requests[0]!.range, "bytes=1000-");
      assert.deepEqual(await Deno.readFile(dest), cifarArchive);
    },
  );
});

Deno.test("download: a stale partial that resumes into a wrong MD5 is retried from scratch", async () => {
  await withServer(
    { "/a.tar.gz": { body: cifarArchive } },
    async (server, root) => {
      const dest = path.join(root, "a.tar.gz");
      await Deno.writeFile(`${dest}.part`, new Uint8Array(1000).fill(7));
      await downloadFile(`${server.url}/a.tar.gz`, dest, {
        md5: cifarMd5,
        quiet: true,
      });
      assert.deepEqual(server.requests.map((r) => r.range), [
        "bytes=1000-",
        undefined,
      ]);
      assert.deepEqual(await Deno.readFile(dest), cifarArchive);
    },
  );
});

Deno.test("download: a dropped connection resumes where it stopped", async () => {
  await withServer(
    { "/a.tar.gz": { body: cifarArchive, cutTimes: 1, cutAfter: CUT } },
    async (server, root) => {
      const dest = path.join(root, "a.tar.gz");
      await downloadFile(`${server.url}/a.tar.gz`, dest, {
        md5: cifarMd5,
        quiet: true,
      });
      assert.deepEqual(server.requests.map((r) => r.range), [
        undefined,
        `bytes=${CUT}-`,
      ]);
      assert.deepEqual(await Deno.readFile(dest), cifarArchive);
    },
  );
});

Deno.test("download: a connection that always drops ends in a MissingDataError keeping the .part", async () => {
  await withServer(
    { "/a.tar.gz": { body: cifarArchive, cutTimes: 99, cutAfter: 100 } },
    async (server, root) => {
      const dest = path.join(root, "a.tar.gz");
      await assert.rejects(
        downloadFile(`${server.url}/a.tar.gz`, dest, {
          md5: cifarMd5,
          quiet: true,
          attempts: 3,
        }),
        (err: unknown) => {
          assert.ok(err instanceof MissingDataError);
          assert.match(
            err.message,
            /failed after 3 attempts \(connection dropped/,
          );
          assert.ok(err.message.includes(`place it at ${dest}`), err.message);
          return true;
        },
      );
      assert.equal(server.requests.length, 3);
      assert.deepEqual(await listing(root), ["a.tar.gz.part"]);
    },
  );
});

Deno.test("download: wrong bytes give an MD5 mismatch after one clean retry", async () => {
  const wrong = cifarArchive.slice();
  wrong[wrong.length >> 1]! ^= 0xff;
  const wrongMd5 = await md5(wrong);
  await withServer(
    { [`/${CIFAR_ARCHIVE}`]: { body: wrong } },
    async (server, root) => {
      const dest = path.join(root, CIFAR_ARCHIVE);
      await assert.rejects(
        loadDataset("cifar10", {
          split: "train",
          root,
          download: true,
          mirror: server.url,
          md5: { [CIFAR_ARCHIVE]: cifarMd5 },
          quiet: true,
        }),
        (err: unknown) => {
          assert.ok(err instanceof CorruptFileError);
          assert.ok(err.message.startsWith(dest), err.message);
          assert.ok(
            err.message.includes(
              `MD5 mismatch: expected ${cifarMd5}, got ${wrongMd5}`,
            ),
            err.message,
          );
          assert.ok(err.message.includes(`${server.url}/${CIFAR_ARCHIVE}`));
          return true;
        },
      );
      assert.deepEqual(server.requests.map((r) => r.range), [
        undefined,
        undefined,
      ]);
      assert.deepEqual(
        await listing(root),
        [],
        "no corrupt file is left behind",
      );
    },
  );
});

Deno.test("download: truncated archives fail at extraction, naming the archive", async () => {
  const cases: [string, string, Uint8Array, RegExp][] = [
    [
      "cifar10",
      CIFAR_ARCHIVE,
      cifarArchive.subarray(0, cifarArchive.length >> 1),
      /gzip data is damaged or truncated/,
    ],
    [
      "cifar10",
      CIFAR_ARCHIVE,
      // Cut inside data_batch_1.bin, after the folder and file headers.
      gzip(tarBytes(cifar10Tree()).subarray(0, 1024 + 6000)),
      /member "cifar-10-batches-bin\/data_batch_1\.bin" needs 12292 bytes but the archive ends after 6000 \(truncated archive\)/,
    ],
    [
      "cifar10",
      CIFAR_ARCHIVE,
      gzip(
        tarBytes(cifar10Tree()).subarray(
          0,
          tarBytes(cifar10Tree()).length - 1024,
        ),
      ),
      /without the end-of-archive marker \(truncated archive\)/,
    ],
    [
      "tiny",
      "tiny-imagenet-200.zip",
      zipBytes(tinyFixture().tree).subarray(0, 5000),
      /zip data is damaged or truncated/,
    ],
  ];
  for (const [name, file, body, pattern] of cases) {
    await withServer({ [`/${file}`]: { body } }, async (server, root) => {
      await assert.rejects(
        loadDataset(name, {
          split: "train",
          root,
          download: true,
          mirror: server.url,
          md5: { [file]: await md5(body) },
          quiet: true,
        }),
        (err: unknown) => {
          assert.ok(err instanceof CorruptFileError, String(err));
          assert.ok(err.message.startsWith(path.join(root, file)), err.message);
          assert.match(err.message, pattern);
          return true;
        },
      );
      assert.deepEqual(await listing(root), [file], "no half-extracted folder");
    });
  }
});

Deno.test("download: an unreachable server says which file to put where", async () => {
  const root = await Deno.makeTempDir({ prefix: "trajbench-dl-test-" });
  try {
    const mirror = closedPortUrl();
    await assert.rejects(
      loadDataset("cifar10", {
        split: "train",
        root,
        download: true,
        mirror,
        quiet: true,
      }),
      (err: unknown) => {
        assert.ok(err instanceof MissingDataError);
        assert.match(err.message, /cannot reach/);
        assert.ok(
          err.message.includes(
            `download ${mirror}/${CIFAR_ARCHIVE} (md5 c32a1d4ab5d03f1284b67883e8d87530) by hand ` +
              `and place it at ${path.join(root, CIFAR_ARCHIVE)}`,
          ),
          err.message,
        );
        return true;
      },
    );
  } finally {
    await removeDir(root);
  }
});

Deno.test("download: with downloading off, a missing data set names the official URL and path", async () => {
  const root = await Deno.makeTempDir({ prefix: "trajbench-dl-test-" });
  try {
    await assert.rejects(
      loadDataset("tiny", { split: "train", root, mirror: "" }),
      (err: unknown) => {
        assert.ok(err instanceof MissingDataError);
        assert.ok(
          err.message.includes(
            "http://cs231n.stanford.edu/tiny-imagenet-200.zip",
          ),
        );
        assert.ok(
          err.message.includes(
            `place it at ${path.join(root, "tiny-imagenet-200.zip")}`,
          ),
        );
        assert.match(err.message, /download: true/);
        return true;
      },
    );
    await assert.rejects(
      loadDataset("fashion-mnist", {
        split: "train",
        root,
        systemDir: null,
        mirror: "",
      }),
      (err: unknown) => {
        assert.ok(err instanceof MissingDataError);
        for (
          const f of [
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
          ]
        ) {
          assert.ok(
            err.message.includes(
              `place it at ${path.join(root, "fashion-mnist", f)}`,
            ),
            f,
          );
          assert.ok(err.message.includes(`amazonaws.com/${f}`), f);
        }
        assert.match(err.message, /dataset-fashion-mnist/);
        return true;
      },
    );
    await assert.rejects(
      loadDataset("svhn", { split: "train", root }),
      /valid names are/,
    );
  } finally {
    await removeDir(root);
  }
});

Deno.test("download: an HTTP error is a MissingDataError with the status", async () => {
  await withServer({}, async (server, root) => {
    await assert.rejects(
      loadDataset("cifar100", {
        split: "test",
        root,
        download: true,
        mirror: server.url,
        quiet: true,
      }),
      (err: unknown) => {
        assert.ok(err instanceof MissingDataError);
        assert.match(
          err.message,
          /cifar-100-binary\.tar\.gz answered HTTP 404/,
        );
        return true;
      },
    );
  });
});

Deno.test("download: an archive placed by hand is MD5-checked before unpacking", async () => {
  const root = await Deno.makeTempDir({ prefix: "trajbench-dl-test-" });
  try {
    const archive = path.join(root, CIFAR_ARCHIVE);
    await Deno.writeFile(archive, cifarArchive);
    // Against the published MD5 (of the real archive) the fixture is wrong.
    await assert.rejects(
      loadDataset("cifar10", { split: "test", root }),
      (err: unknown) => {
        assert.ok(err instanceof CorruptFileError);
        assert.ok(err.message.startsWith(archive));
        assert.ok(
          err.message.includes(
            `MD5 ${cifarMd5} does not match the expected c32a1d4ab5d03f1284b67883e8d87530`,
          ),
        );
        return true;
      },
    );
    const set = await loadDataset("cifar10", {
      split: "test",
      root,
      md5: { [CIFAR_ARCHIVE]: cifarMd5 },
      verifyCount: false,
    });
    assert.equal(set.count, 10);
    // The published count is enforced unless turned off.
    await assert.rejects(
      loadDataset("cifar10", { split: "test", root }),
      /holds 10 images in test_batch\.bin, expected 10000/,
    );
  } finally {
    await removeDir(root);
  }
});

Deno.test("extract: members escaping the folder, or no top folder, are rejected", async () => {
  const root = await Deno.makeTempDir({ prefix: "trajbench-dl-test-" });
  try {
    const evil = path.join(root, "evil.zip");
    await Deno.writeFile(
      evil,
      zipBytes({ "top/../../escape.txt": Uint8Array.of(1) }),
    );
    await assert.rejects(
      extractArchive(evil, root, "top"),
      /evil\.zip: member "top\/\.\.\/\.\.\/escape\.txt" would be written outside/,
    );
    const other = path.join(root, "other.tar.gz");
    await Deno.writeFile(other, tarGz({ "elsewhere/a.bin": Uint8Array.of(1) }));
    await assert.rejects(
      extractArchive(other, root, "top"),
      /other\.tar\.gz: archive has no top folder "top\/"/,
    );
    const badSum = tarBytes({ "top/a.bin": Uint8Array.of(1) });
    badSum[10]! ^= 1;
    const bad = path.join(root, "bad.tar.gz");
    await Deno.writeFile(bad, gzip(badSum));
    await assert.rejects(extractArchive(bad, root, "top"), (err: unknown) => {
      assert.ok(err instanceof InputError);
      assert.match(
        err.message,
        /bad\.tar\.gz: tar header at byte 0 has checksum/,
      );
      return true;
    });
    assert.deepEqual(await listing(root), [
      "bad.tar.gz",
      "evil.zip",
      "other.tar.gz",
    ]);
  } finally {
    await removeDir(root);
  }
});

Deno.test("extract: old GNU tar headers keep times, not a name prefix, at byte 345", async () => {
  const tar = tarBytes({ "top/a.bin": Uint8Array.of(42) });
  const enc = new TextEncoder();
  // Turn every header into a GNU one with an access time where ustar keeps
  // its prefix, then fix the checksum.
  for (let at = 0; at < 1024; at += 512) {
    const h = tar.subarray(at, at + 512);
    h.set(enc.encode("ustar  \0"), 257);
    h.set(enc.encode("14567123456\0"), 345);
    h.set(enc.encode("        "), 148);
    const sum = h.reduce((a, b) => a + b, 0);
    h.set(enc.encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  }
  const root = await Deno.makeTempDir({ prefix: "trajbench-dl-test-" });
  try {
    const archive = path.join(root, "gnu.tar.gz");
    await Deno.writeFile(archive, gzip(tar));
    const top = await extractArchive(archive, root, "top");
    assert.equal(top, path.join(root, "top"));
    assert.deepEqual(
      await Deno.readFile(path.join(top, "a.bin")),
      Uint8Array.of(42),
    );
  } finally {
    await removeDir(root);
  }
});
