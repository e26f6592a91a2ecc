/**
 * Writers of tiny data files in the official formats (CIFAR binary batches,
 * idx, Tiny ImageNet JPEG folders, tar.gz and zip archives), each with a
 * known pixel pattern so tests can check layout, plus a raw loopback HTTP
 * server whose misbehaviour (dropped connections, ignored Range) tests can
 * choose.
 */
import * as path from "node:path";
import * as zlib from "node:zlib";
import jpeg from "jpeg-js";
import { zipSync } from "fflate";
import { writeFileAtomic } from "../../src/util/fs.ts";

/** A set of files by path relative to some root. */
export type FileTree = Record<string, Uint8Array>;

/** Write every file of `tree` under `root`. */
export async function writeTree(root: string, tree: FileTree): Promise<void> {
  for (const [rel, data] of Object.entries(tree)) {
    await writeFileAtomic(path.join(root, rel), data);
  }
}

/** A fresh temporary folder; remove it with {@link removeDir}. */
export function tempDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "trajbench-data-test-" });
}

/** Remove a folder made by {@link tempDir}. */
export async function removeDir(dir: string): Promise<void> {
  await Deno.remove(dir, { recursive: true });
}

/** The known value of channel `c` at (y, x) of image `i` in CIFAR fixtures. */
export function cifarPixel(i: number, y: number, x: number, c: number): number {
  return (i * 37 + y * 7 + x * 3 + c * 101) & 255;
}

function cifarRecord(
  header: number[],
  i: number,
): Uint8Array {
  const rec = new Uint8Array(header.length + 3072);
  rec.set(header);
  // CHW planes, as the binary format stores them.
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        rec[header.length + c * 1024 + y * 32 + x] = cifarPixel(i, y, x, c);
      }
    }
  }
  return rec;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Label of image `i` (split-wide index) in the CIFAR-10 fixture. */
export function cifar10Label(i: number): number {
  return (i * 3 + 1) % 10;
}

/**
 * CIFAR-10 fixture under `cifar-10-batches-bin/`: five train batches of
 * `perBatch` images and a test batch of `testCount`.
 */
export function cifar10Tree(perBatch = 4, testCount = 10): FileTree {
  const tree: FileTree = {};
  for (let b = 0; b < 5; b++) {
    const recs = [];
    for (let r = 0; r < perBatch; r++) {
      const i = b * perBatch + r;
      recs.push(cifarRecord([cifar10Label(i)], i));
    }
    tree[`cifar-10-batches-bin/data_batch_${b + 1}.bin`] = concat(recs);
  }
  const test = [];
  for (let i = 0; i < testCount; i++) {
    test.push(cifarRecord([cifar10Label(i)], i));
  }
  tree["cifar-10-batches-bin/test_batch.bin"] = concat(test);
  tree["cifar-10-batches-bin/batches.meta.txt"] = new TextEncoder().encode(
    "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n",
  );
  return tree;
}

/** Fine label of image `i` in the CIFAR-100 fixture (37 is coprime to 100). */
export function cifar100Fine(i: number): number {
  return (i * 37) % 100;
}

/** Coarse label of image `i` in the CIFAR-100 fixture. */
export function cifar100Coarse(i: number): number {
  return (i * 7) % 20;
}

/** CIFAR-100 fixture under `cifar-100-binary/`: 200 train, 100 test. */
export function cifar100Tree(): FileTree {
  const make = (n: number) => {
    const recs = [];
    for (let i = 0; i < n; i++) {
      recs.push(cifarRecord([cifar100Coarse(i), cifar100Fine(i)], i));
    }
    return concat(recs);
  };
  return {
    "cifar-100-binary/train.bin": make(200),
    "cifar-100-binary/test.bin": make(100),
  };
}

/** Big-endian idx bytes of unsigned bytes. */
export function idxBytes(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x0800 + dims.length);
  dims.forEach((d, k) => view.setUint32(4 + 4 * k, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** gzip bytes. */
export function gzip(data: Uint8Array): Uint8Array {
  return new Uint8Array(zlib.gzipSync(data));
}

/** The known value at (y, x) of image `i` in Fashion-MNIST fixtures. */
export function fashionPixel(i: number, y: number, x: number): number {
  return (i * 13 + y * 5 + x * 11) & 255;
}

/** Label of image `i` in Fashion-MNIST fixtures. */
export function fashionLabel(i: number): number {
  return (i * 7 + 2) % 10;
}

/** Raw (uncompressed) idx images and labels of a Fashion-MNIST fixture. */
export function fashionIdx(
  n: number,
): { images: Uint8Array; labels: Uint8Array } {
  const pixels = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = fashionLabel(i);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        pixels[i * 784 + y * 28 + x] = fashionPixel(i, y, x);
      }
    }
  }
  return {
    images: idxBytes([n, 28, 28], pixels),
    labels: idxBytes([n], labels),
  };
}

/** Fashion-MNIST fixture (gzipped, as published): 20 train, 10 test images. */
export function fashionTree(train = 20, test = 10): FileTree {
  const tr = fashionIdx(train);
  const te = fashionIdx(test);
  return {
    "train-images-idx3-ubyte.gz": gzip(tr.images),
    "train-labels-idx1-ubyte.gz": gzip(tr.labels),
    "t10k-images-idx3-ubyte.gz": gzip(te.images),
    "t10k-labels-idx1-ubyte.gz": gzip(te.labels),
  };
}

// ---------------------------------------------------------------- JPEG

class BitWriter {
  bytes: number[] = [];
  #acc = 0;
  #n = 0;
  write(code: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.#acc = (this.#acc << 1) | ((code >> i) & 1);
      if (++this.#n === 8) {
        this.bytes.push(this.#acc);
        // 0xFF in entropy-coded data must be followed by a stuffed zero.
        if (this.#acc === 0xff) this.bytes.push(0);
        this.#acc = 0;
        this.#n = 0;
      }
    }
  }
  flush(): void {
    while (this.#n !== 0) this.write(1, 1);
  }
}

function canonicalCodes(
  bits: number[],
  values: number[],
): Map<number, [number, number]> {
  const codes = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]!; i++) {
      codes.set(values[k++]!, [code++, len]);
    }
    code <<= 1;
  }
  return codes;
}

/**
 * A baseline greyscale (one-component) JPEG of an image that is constant on
 * each 8x8 block, so only DC coefficients are needed and decoding is exact.
 * jpeg-js can only write colour JPEGs; Tiny ImageNet contains greyscale ones.
 */
export function encodeGreyJpeg(
  width: number,
  height: number,
  value: (y: number, x: number) => number,
): Uint8Array {
  if (width % 8 !== 0 || height % 8 !== 0) {
    throw new RangeError("sides must be multiples of 8");
  }
  const dcBits = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
  const dcValues = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const acBits = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const acValues = [0x00]; // end-of-block only
  const dc = canonicalCodes(dcBits, dcValues);
  const eob = canonicalCodes(acBits, acValues).get(0)!;

  const w = new BitWriter();
  let previous = 0;
  for (let by = 0; by < height / 8; by++) {
    for (let bx = 0; bx < width / 8; bx++) {
      // With a quantiser of 1, a flat block's DC coefficient is 8·(v − 128).
      const coef = 8 * (value(by * 8, bx * 8) - 128);
      const diff = coef - previous;
      previous = coef;
      const size = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
      const [code, len] = dc.get(size)!;
      w.write(code, len);
      if (size > 0) w.write(diff > 0 ? diff : diff + (1 << size) - 1, size);
      w.write(eob[0], eob[1]);
    }
  }
  w.flush();

  const seg = (marker: number, body: number[]) => [
    0xff,
    marker,
    (body.length + 2) >> 8,
    (body.length + 2) & 255,
    ...body,
  ];
  return Uint8Array.from([
    0xff,
    0xd8,
    ...seg(0xdb, [0x00, ...new Array(64).fill(1)]),
    ...seg(0xc0, [
      8,
      height >> 8,
      height & 255,
      width >> 8,
      width & 255,
      1,
      1,
      0x11,
      0,
    ]),
    ...seg(0xc4, [0x00, ...dcBits, ...dcValues, 0x10, ...acBits, ...acValues]),
    ...seg(0xda, [1, 1, 0x00, 0, 63, 0]),
    ...w.bytes,
    0xff,
    0xd9,
  ]);
}

/** A colour JPEG (jpeg-js, quality 100) of `rgb(y, x)`. */
export function encodeColourJpeg(
  width: number,
  height: number,
  rgb: (y: number, x: number) => [number, number, number],
): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = rgb(y, x);
      data.set([r, g, b, 255], (y * width + x) * 4);
    }
  }
  return new Uint8Array(jpeg.encode({ data, width, height }, 100).data);
}

// ---------------------------------------------------------- Tiny ImageNet

/** What one fixture image should decode to. */
export interface TinyImage {
  /** Class index (sorted wnid order). */
  label: number;
  /** Blue value of every pixel; identifies the image. */
  blue: number;
  /** Stored as a one-component JPEG. */
  grey: boolean;
}

/**
 * Pixel value of a Tiny fixture image: constant on 8x8 blocks, red follows
 * the row block, green the column block, blue names the image; greyscale
 * images depend on both blocks and repeat in all channels.
 */
export function tinyPixel(
  img: TinyImage,
  y: number,
  x: number,
  c: number,
): number {
  const by = y >> 3;
  const bx = x >> 3;
  if (img.grey) return (by * 8 + bx) * 3 + 40;
  return [16 * by + 8, 16 * bx + 128, img.blue][c]!;
}

function tinyJpeg(img: TinyImage): Uint8Array {
  return img.grey
    ? encodeGreyJpeg(64, 64, (y, x) => tinyPixel(img, y, x, 0))
    : encodeColourJpeg(64, 64, (y, x) => [
      tinyPixel(img, y, x, 0),
      tinyPixel(img, y, x, 1),
      tinyPixel(img, y, x, 2),
    ]);
}

/** Fixture class ids, deliberately not in sorted order in wnids.txt. */
export const TINY_WNIDS = ["n03000003", "n01000001", "n02000002"];
/** The same, sorted: label k is TINY_SORTED[k]. */
export const TINY_SORTED = [...TINY_WNIDS].sort();
/** Labels of val_0 … val_5, not class-major, to check the loader sorts. */
export const TINY_VAL_LABELS = [2, 0, 1, 0, 2, 1];

/** Which validation layout a Tiny fixture uses. */
export type TinyFixtureLayout =
  | "flat"
  | "class-folders"
  | "images-class-folders";

/** A Tiny ImageNet fixture and the images it should load as. */
export interface TinyFixture {
  /** Files under `tiny-imagenet-200/`. */
  tree: FileTree;
  /** Expected train images, in load order. */
  train: TinyImage[];
  /** Expected validation images, in load order (class-major). */
  test: TinyImage[];
}

/**
 * Tiny ImageNet fixture: three classes, two train and two validation images
 * each; one train image is a greyscale JPEG.
 */
export function tinyFixture(layout: TinyFixtureLayout = "flat"): TinyFixture {
  const enc = new TextEncoder();
  const root = "tiny-imagenet-200";
  const tree: FileTree = {
    [`${root}/wnids.txt`]: enc.encode(TINY_WNIDS.join("\n") + "\n"),
    [`${root}/words.txt`]: enc.encode(
      "n00000000\tentity\n" +
        "n01000001\tgoldfish, Carassius auratus\n" +
        "n02000002\tfire salamander\n" +
        "n03000003\tbullfrog\n",
    ),
  };
  const train: TinyImage[] = [];
  for (const [label, id] of TINY_SORTED.entries()) {
    for (let k = 0; k < 2; k++) {
      const img = {
        label,
        blue: (label * 60 + k * 20 + 130) & 255,
        grey: label === 1 && k === 0,
      };
      train.push(img);
      tree[`${root}/train/${id}/images/${id}_${k}.JPEG`] = tinyJpeg(img);
    }
    tree[`${root}/train/${id}/${id}_boxes.txt`] = enc.encode(
      `${id}_0.JPEG\t0\t0\t63\t63\n`,
    );
  }
  const test: TinyImage[] = [];
  const annotations: string[] = [];
  for (const [j, label] of TINY_VAL_LABELS.entries()) {
    const img = { label, blue: (label * 60 + j * 20 + 10) & 255, grey: false };
    const id = TINY_SORTED[label]!;
    const name = `val_${j}.JPEG`;
    annotations.push(`${name}\t${id}\t0\t0\t63\t63`);
    const at = layout === "flat"
      ? `val/images/${name}`
      : layout === "class-folders"
      ? `val/${id}/images/${name}`
      : `val/images/${id}/${name}`;
    tree[`${root}/${at}`] = tinyJpeg(img);
    test.push(img);
  }
  if (layout !== "images-class-folders") {
    tree[`${root}/val/val_annotations.txt`] = enc.encode(
      annotations.join("\n") + "\n",
    );
  }
  test.sort((a, b) => a.label - b.label);
  return { tree, train, test };
}

// ---------------------------------------------------------------- archives

function tarHeader(name: string, size: number, type: "0" | "5"): Uint8Array {
  const h = new Uint8Array(512);
  const enc = new TextEncoder();
  const put = (text: string, at: number) => h.set(enc.encode(text), at);
  let prefix = "";
  let short = name;
  if (name.length > 100) {
    const cut = name.lastIndexOf("/", 155);
    prefix = name.slice(0, cut);
    short = name.slice(cut + 1);
  }
  put(short, 0);
  put("0000644\0", 100);
  put("0000000\0", 108);
  put("0000000\0", 116);
  put(size.toString(8).padStart(11, "0") + "\0", 124);
  put("14000000000\0", 136);
  put("        ", 148);
  put(type, 156);
  put("ustar\0", 257);
  put("00", 263);
  put(prefix, 345);
  const sum = h.reduce((a, b) => a + b, 0);
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return h;
}

/** A ustar archive (uncompressed) of `tree`, folders included. */
export function tarBytes(tree: FileTree): Uint8Array {
  const parts: Uint8Array[] = [];
  const dirs = new Set<string>();
  for (const [name, data] of Object.entries(tree)) {
    const segs = name.split("/");
    for (let k = 1; k < segs.length; k++) {
      const d = segs.slice(0, k).join("/") + "/";
      if (!dirs.has(d)) {
        dirs.add(d);
        parts.push(tarHeader(d, 0, "5"));
      }
    }
    parts.push(tarHeader(name, data.length, "0"));
    parts.push(data);
    const pad = (512 - (data.length % 512)) % 512;
    parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(1024));
  return concat(parts);
}

/** A `.tar.gz` of `tree`. */
export function tarGz(tree: FileTree): Uint8Array {
  return gzip(tarBytes(tree));
}

/** A `.zip` of `tree`. */
export function zipBytes(tree: FileTree): Uint8Array {
  return zipSync(tree, { level: 1 });
}

/** Hex MD5 of bytes. */
export async function md5(data: Uint8Array): Promise<string> {
  const { createHash } = await import("node:crypto");
  return createHash("md5").update(data).digest("hex");
}

// ------------------------------------------------------------ HTTP server

/** How the test server answers one path. */
export interface Route {
  /** The file's bytes. */
  body: Uint8Array;
  /** Answer `Range: bytes=N-` with 206. @default true */
  honourRange?: boolean;
  /**
   * For this many responses, close the connection after `cutAfter` body
   * bytes while announcing the full length.
   */
  cutTimes?: number;
  /** See `cutTimes`. */
  cutAfter?: number;
}

/** One request the server saw. */
export interface SeenRequest {
  /** Request path. */
  path: string;
  /** The Range header, if any. */
  range: string | undefined;
}

/** A loopback HTTP/1.1 server written on raw TCP, so tests control every byte. */
export class TestServer {
  /** Base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Requests in arrival order. */
  readonly requests: SeenRequest[] = [];
  readonly #listener: Deno.Listener;
  readonly #routes: Map<string, Route>;
  readonly #handlers = new Set<Promise<void>>();
  readonly #loop: Promise<void>;

  constructor(routes: Record<string, Route>) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const addr = this.#listener.addr as Deno.NetAddr;
    this.url = `http://127.0.0.1:${addr.port}`;
    this.#routes = new Map(Object.entries(routes));
    this.#loop = this.#accept();
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return;
      }
      const p: Promise<void> = this.#serve(conn).finally(() =>
        this.#handlers.delete(p)
      );
      this.#handlers.add(p);
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    try {
      let head = "";
      const buf = new Uint8Array(4096);
      while (!head.includes("\r\n\r\n")) {
        const n = await conn.read(buf);
        if (n === null) return;
        head += new TextDecoder().decode(buf.subarray(0, n));
      }
      const [requestLine = "", ...lines] = head.split("\r\n");
      const target = requestLine.split(" ")[1] ?? "/";
      const range = lines.find((l) => l.toLowerCase().startsWith("range:"))
        ?.slice(6).trim();
      this.requests.push({ path: target, range });
      const route = this.#routes.get(target);
      const enc = new TextEncoder();
      const send = async (
        status: string,
        headers: string[],
        body: Uint8Array,
        cut?: number,
      ) => {
        const text = `HTTP/1.1 ${status}\r\n${
          headers.map((h) => h + "\r\n").join("")
        }Connection: close\r\n\r\n`;
        await writeAll(conn, enc.encode(text));
        await writeAll(conn, cut === undefined ? body : body.subarray(0, cut));
      };
      if (!route) {
        await send("404 Not Found", ["Content-Length: 0"], new Uint8Array());
        return;
      }
      const total = route.body.length;
      const m = /^bytes=(\d+)-$/.exec(range ?? "");
      let start = 0;
      if (m && (route.honourRange ?? true)) {
        start = Number(m[1]);
        if (start >= total) {
          await send("416 Range Not Satisfiable", [
            `Content-Range: bytes */${total}`,
            "Content-Length: 0",
          ], new Uint8Array());
          return;
        }
      }
      const body = route.body.subarray(start);
      const headers = [
        `Content-Length: ${body.length}`,
        "Content-Type: application/octet-stream",
        "Accept-Ranges: bytes",
      ];
      if (start > 0) {
        headers.push(`Content-Range: bytes ${start}-${total - 1}/${total}`);
      }
      let cut: number | undefined;
      if ((route.cutTimes ?? 0) > 0) {
        route.cutTimes!--;
        cut = route.cutAfter ?? Math.floor(body.length / 2);
      }
      await send(
        start > 0 ? "206 Partial Content" : "200 OK",
        headers,
        body,
        cut,
      );
    } catch {
      // The client may hang up first; nothing to report.
    } finally {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  }

  /** Stop listening and wait for open connections to finish. */
  async close(): Promise<void> {
    this.#listener.close();
    await this.#loop;
    await Promise.all(this.#handlers);
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.length) at += await conn.write(data.subarray(at));
}

/** A loopback URL on which nothing listens. */
export function closedPortUrl(): string {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return `http://127.0.0.1:${port}`;
}
