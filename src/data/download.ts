/**
 * Fetching official archives into the cache folder and unpacking them.
 *
 * A download streams into `<file>.part`, so an interrupted one can resume
 * with an HTTP Range request; the finished file is checked against its MD5
 * and only then renamed into place, so a file with the final name is always
 * complete. Extraction likewise happens in a scratch folder that is renamed
 * into place at the end.
 *
 * @module
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import { unzipSync } from "fflate";
import {
  CorruptFileError,
  InputError,
  MissingDataError,
} from "../util/errors.ts";
import { exists, hashFile } from "../util/fs.ts";
import { Progress } from "../util/progress.ts";
import { readTar } from "./_tar.ts";

const gunzip = promisify(zlib.gunzip);

/** Options for {@link downloadFile}. */
export interface DownloadOptions {
  /** Expected MD5 (lowercase hex); when absent the file is not checked. */
  md5?: string;
  /**
   * Requests to make before giving up; a dropped connection resumes from the
   * bytes already on disk.
   * @default 3
   */
  attempts?: number;
  /** Silence the progress bar and warnings. @default false */
  quiet?: boolean;
}

/**
 * How to get a file by hand; every "missing" message ends with this.
 *
 * @example
 * ```ts
 * import { placementHint } from "./download.ts";
 * const hint = placementHint("https://x.org/a.zip", "/data/a.zip", "ab12");
 * if (!hint.includes("/data/a.zip")) throw new Error(hint);
 * ```
 */
export function placementHint(url: string, dest: string, md5?: string): string {
  const sum = md5 ? ` (md5 ${md5})` : "";
  return `download ${url}${sum} by hand and place it at ${dest}`;
}

/**
 * Streamed MD5 of a file, lowercase hex.
 *
 * @example
 * ```ts
 * import { md5File } from "./download.ts";
 * const file = await Deno.makeTempFile();
 * await Deno.writeTextFile(file, "abc");
 * if (await md5File(file) !== "900150983cd24fb0d6963f7d28e17f72") {
 *   throw new Error("wrong md5");
 * }
 * await Deno.remove(file);
 * ```
 */
export function md5File(file: string): Promise<string> {
  return hashFile(file, "md5");
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await fsp.stat(file)).size;
  } catch {
    return 0;
  }
}

function rangeStart(res: Response): number | undefined {
  const m = /^bytes (\d+)-/.exec(res.headers.get("content-range") ?? "");
  return m ? Number(m[1]) : undefined;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Download `url` to `dest`, resuming a `dest.part` left by an earlier try.
 *
 * A resumed download whose MD5 is wrong, and a server that ignores the Range
 * header, both lead to a clean download from byte 0; a clean download with
 * the wrong MD5, repeated once, is an error.
 *
 * @throws MissingDataError when the server cannot be reached, answers with
 *   an HTTP error, or keeps dropping the connection; the message says where
 *   to place the file by hand
 * @throws CorruptFileError when the server's file does not have the MD5
 */
export async function downloadFile(
  url: string,
  dest: string,
  options: DownloadOptions = {},
): Promise<void> {
  const { md5, quiet = false } = options;
  const attempts = options.attempts ?? 3;
  const part = `${dest}.part`;
  const hint = placementHint(url, dest, md5);
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  let lastProblem = "no attempt made";
  let corrupt = 0;

  for (let attempt = 1; attempt <= attempts; attempt++) {
    const have = await sizeOf(part);
    const headers: Record<string, string> = {
      // A server that gzips a .gz on the fly would change the bytes we hash.
      "accept-encoding": "identity",
    };
    if (have > 0) headers["range"] = `bytes=${have}-`;
    let res: Response;
    try {
      res = await fetch(url, { headers });
    } catch (err) {
      throw new MissingDataError(
        dest,
        `cannot reach ${url} (${describe(err)}); ${hint}`,
      );
    }

    let resumed = false;
    if (res.status === 206) {
      if (have > 0 && rangeStart(res) === have) {
        resumed = true;
      } else {
        await res.body?.cancel();
        await fsp.rm(part, { force: true });
        lastProblem = "the server answered a range that was not asked for";
        continue;
      }
    } else if (res.status === 416) {
      await res.body?.cancel();
      await fsp.rm(part, { force: true });
      lastProblem = "the server refused to resume the partial file";
      continue;
    } else if (!res.ok) {
      await res.body?.cancel();
      throw new MissingDataError(
        dest,
        `${url} answered HTTP ${res.status} ${res.statusText}; ${hint}`,
      );
    }
    const body = res.body;
    if (body === null) {
      lastProblem = "the server sent no body";
      continue;
    }
    if (have > 0 && !resumed && !quiet) {
      console.warn(`${url}: server ignored the resume request; restarting`);
    }

    const length = Number(res.headers.get("content-length") ?? NaN);
    const start = resumed ? have : 0;
    const total = Number.isFinite(length) ? start + length : 0;
    const progress = new Progress({
      label: `download ${path.basename(dest)}`,
      total,
      unit: "B",
      quiet,
    });
    let written = start;
    progress.update(written);
    const handle = await fsp.open(part, resumed ? "a" : "w");
    let dropped: string | undefined;
    try {
      for await (const chunk of body) {
        await handle.write(chunk);
        written += chunk.length;
        progress.update(written);
      }
      await handle.sync();
    } catch (err) {
      dropped = describe(err);
    } finally {
      await handle.close();
    }
    progress.finish();
    if (dropped !== undefined || (total > 0 && written < total)) {
      lastProblem = `connection dropped after ${written} of ${
        total || "?"
      } bytes (${dropped ?? "short response"})`;
      if (!quiet) console.warn(`${url}: ${lastProblem}; resuming`);
      continue;
    }
    if (total > 0 && written > total) {
      await fsp.rm(part, { force: true });
      lastProblem =
        `received ${written} bytes, more than the announced ${total}`;
      continue;
    }

    if (md5) {
      const got = await md5File(part);
      if (got !== md5.toLowerCase()) {
        await fsp.rm(part, { force: true });
        if (!resumed) corrupt++;
        lastProblem = `MD5 mismatch: expected ${md5}, got ${got}`;
        if (corrupt >= 2 || attempt === attempts) {
          throw new CorruptFileError(
            dest,
            `${lastProblem} for ${url}; the server did not deliver the ` +
              `official file (deleted the download); ${hint}`,
          );
        }
        if (!quiet) console.warn(`${url}: ${lastProblem}; retrying cleanly`);
        continue;
      }
    }
    await fsp.rename(part, dest);
    return;
  }
  throw new MissingDataError(
    dest,
    `download of ${url} failed after ${attempts} attempts (${lastProblem}); ` +
      `the partial file ${part} is kept for resuming; ${hint}`,
  );
}

/** Reject absolute paths and `..` so an archive cannot write outside. */
function safeRelative(name: string, archive: string): string {
  const norm = path.posix.normalize(name.replace(/\\/g, "/"));
  if (
    norm.startsWith("/") || norm === ".." || norm.startsWith("../") ||
    /^[a-zA-Z]:/.test(norm)
  ) {
    throw new CorruptFileError(
      archive,
      `member "${name}" would be written outside the extraction folder`,
    );
  }
  return norm.replace(/\/+$/, "");
}

async function writeMembers(
  dir: string,
  members: Iterable<{ path: string; type: "file" | "dir"; data: Uint8Array }>,
  archive: string,
): Promise<void> {
  const made = new Set<string>();
  const ensureDir = async (d: string) => {
    if (made.has(d)) return;
    await fsp.mkdir(d, { recursive: true });
    made.add(d);
  };
  // Many small files (Tiny ImageNet has 120k): write a few at a time.
  const pending = new Set<Promise<void>>();
  for (const m of members) {
    const rel = safeRelative(m.path, archive);
    if (rel === "" || rel === ".") continue;
    const target = path.join(dir, rel);
    if (m.type === "dir") {
      await ensureDir(target);
      continue;
    }
    await ensureDir(path.dirname(target));
    const p: Promise<void> = fsp.writeFile(target, m.data).then(() => {
      pending.delete(p);
    });
    pending.add(p);
    if (pending.size >= 16) await Promise.race(pending);
  }
  await Promise.all(pending);
}

function* zipMembers(
  files: Record<string, Uint8Array>,
): Generator<{ path: string; type: "file" | "dir"; data: Uint8Array }> {
  for (const [name, data] of Object.entries(files)) {
    yield { path: name, type: name.endsWith("/") ? "dir" : "file", data };
  }
}

/**
 * Unpack a `.tar.gz` or `.zip` archive into `root` and return the path of
 * `topFolder` inside it.
 *
 * The archive is unpacked into a scratch folder under `root` first and its
 * `topFolder` renamed into place, so an interrupted extraction never leaves
 * a half-filled data folder behind.
 *
 * @throws CorruptFileError for damaged or truncated archives, or when the
 *   archive has no `topFolder`
 */
export async function extractArchive(
  archive: string,
  root: string,
  topFolder: string,
): Promise<string> {
  const final = path.join(root, topFolder);
  const scratch = path.join(
    root,
    `.extract-${topFolder}-${crypto.randomUUID().slice(0, 8)}`,
  );
  await fsp.mkdir(scratch, { recursive: true });
  try {
    const bytes = new Uint8Array(await fsp.readFile(archive));
    if (archive.endsWith(".tar.gz") || archive.endsWith(".tgz")) {
      let tar: Uint8Array;
      try {
        tar = new Uint8Array(await gunzip(bytes));
      } catch (err) {
        throw new CorruptFileError(
          archive,
          `gzip data is damaged or truncated (${describe(err)})`,
        );
      }
      await writeMembers(scratch, readTar(tar, archive), archive);
    } else if (archive.endsWith(".zip")) {
      let files: Record<string, Uint8Array>;
      try {
        files = unzipSync(bytes);
      } catch (err) {
        throw new CorruptFileError(
          archive,
          `zip data is damaged or truncated (${describe(err)})`,
        );
      }
      await writeMembers(scratch, zipMembers(files), archive);
    } else {
      throw new InputError(
        archive,
        "unknown archive type (need .tar.gz or .zip)",
      );
    }
    const unpacked = path.join(scratch, topFolder);
    if (!(await exists(unpacked))) {
      throw new CorruptFileError(
        archive,
        `archive has no top folder "${topFolder}/"`,
      );
    }
    if (!(await exists(final))) await fsp.rename(unpacked, final);
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true });
  }
  return final;
}
